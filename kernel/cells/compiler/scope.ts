/*
 * The scope a cell sees: every top-level name of the earlier cells. Their declarations (prevDecl) live in a
 * module of their own that exports every name; the cell imports them all on a line of its own above its code
 * (names the cell declares itself are left out, so a later cell may declare a name again). This is public
 * TypeScript: no parent-chained source files, as tslab's fork did.
 */
import type * as TS from "typescript";
import type { TypeScript } from "../typescript.js";

/** What a declaration declares a name as: a value, a type, or both (class, enum, namespace, most imports). */
export interface Meaning {
  value: boolean;
  type: boolean;
}

export interface DeclaredName {
  name: string;
  meaning: Meaning;
  /** let/var: later cells may assign it. */
  mutable: boolean;
}

const both: Meaning = { value: true, type: true };

function bindingNames(ts: TypeScript, name: TS.BindingName, out: string[]): void {
  if (ts.isIdentifier(name)) out.push(name.text);
  else for (const e of name.elements) if (!ts.isOmittedExpression(e)) bindingNames(ts, e.name, out);
}

/** The names one top-level statement declares. `importMeaning` says what an import brings (a checker knows). */
export function statementNames(
  ts: TypeScript,
  s: TS.Statement,
  importMeaning: (id: TS.Identifier, typeOnly: boolean) => Meaning = (_id, typeOnly) => (typeOnly ? { value: false, type: true } : both),
): DeclaredName[] {
  const out: DeclaredName[] = [];
  const add = (name: string, meaning: Meaning, mutable = false) => out.push({ name, meaning, mutable });
  if (ts.isVariableStatement(s)) {
    const names: string[] = [];
    for (const d of s.declarationList.declarations) bindingNames(ts, d.name, names);
    const constant = (s.declarationList.flags & (ts.NodeFlags.Const | ts.NodeFlags.Using | ts.NodeFlags.AwaitUsing)) !== 0;
    for (const n of names) add(n, { value: true, type: false }, !constant);
  } else if (ts.isFunctionDeclaration(s) && s.name) add(s.name.text, { value: true, type: false });
  else if ((ts.isClassDeclaration(s) || ts.isEnumDeclaration(s)) && s.name) add(s.name.text, both);
  else if ((ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s))) add(s.name.text, { value: false, type: true });
  else if (ts.isModuleDeclaration(s) && ts.isIdentifier(s.name)) add(s.name.text, both);
  else if (ts.isImportEqualsDeclaration(s)) add(s.name.text, importMeaning(s.name, s.isTypeOnly));
  else if (ts.isImportDeclaration(s) && s.importClause) {
    const c = s.importClause;
    if (c.name) add(c.name.text, importMeaning(c.name, c.isTypeOnly));
    const b = c.namedBindings;
    if (b && ts.isNamespaceImport(b)) add(b.name.text, importMeaning(b.name, c.isTypeOnly));
    else if (b) for (const e of b.elements) add(e.name.text, importMeaning(e.name, c.isTypeOnly || e.isTypeOnly));
  }
  return out;
}

/** Every top-level name of a file, by name (a name declared twice, as function overloads are, merges). */
export function fileNames(ts: TypeScript, file: TS.SourceFile): Map<string, DeclaredName> {
  const names = new Map<string, DeclaredName>();
  for (const s of file.statements) {
    for (const d of statementNames(ts, s)) {
      const seen = names.get(d.name);
      if (!seen) names.set(d.name, d);
      else names.set(d.name, { name: d.name, meaning: { value: seen.meaning.value || d.meaning.value, type: seen.meaning.type || d.meaning.type }, mutable: seen.mutable || d.mutable });
    }
  }
  return names;
}

/** The earlier cells' module: their declarations, every name exported (which also makes it a module). */
export function prevModuleText(prevDecl: string, names: Iterable<string>): string {
  return `${prevDecl}\nexport { ${[...names].join(", ")} };\n`;
}

/** The cell's first line: imports of the earlier names it does not declare itself. Ends with a newline. */
export function scopeLine(prevSpecifier: string, prevNames: Iterable<string>, cellNames: ReadonlySet<string>): string {
  const imported = [...prevNames].filter((n) => !cellNames.has(n));
  const line = imported.length > 0 ? `import { ${imported.join(", ")} } from ${JSON.stringify(prevSpecifier)}; ` : "";
  return `${line}export {};\n`;
}

/**
 * The earlier declarations the cell left standing: a name the cell declares again loses its earlier
 * declarations of the same meaning (a new `const x` replaces an old `let x`; a new `interface x` leaves an old value `x`).
 */
export function remainingDeclarations(ts: TypeScript, prev: TS.SourceFile, redeclared: ReadonlyMap<string, Meaning>, printer: TS.Printer): string {
  const replaced = (d: DeclaredName): boolean => {
    const m = redeclared.get(d.name);
    return m !== undefined && ((m.value && d.meaning.value) || (m.type && d.meaning.type));
  };
  const out: string[] = [];
  for (const s of prev.statements) {
    // exports are ours (the module's export list); they are made anew for every cell
    if (ts.isExportDeclaration(s)) continue;
    const names = statementNames(ts, s);
    if (names.length === 0 || !names.some(replaced)) {
      out.push(s.getFullText(prev).replace(/^\n+/, ""));
      continue;
    }
    const kept = names.filter((d) => !replaced(d)).map((d) => d.name);
    if (kept.length === 0) continue;
    const partial = keepOnly(ts, s, new Set(kept));
    if (partial) out.push(printer.printNode(ts.EmitHint.Unspecified, partial, prev));
  }
  return out.join("\n");
}

/** A variable statement or import with only the given names; undefined for kinds that declare one name. */
function keepOnly(ts: TypeScript, s: TS.Statement, keep: ReadonlySet<string>): TS.Statement | undefined {
  const f = ts.factory;
  if (ts.isVariableStatement(s)) {
    const decls = s.declarationList.declarations.filter((d) => ts.isIdentifier(d.name) && keep.has(d.name.text));
    if (decls.length === 0) return undefined;
    return f.updateVariableStatement(s, s.modifiers, f.updateVariableDeclarationList(s.declarationList, decls));
  }
  if (ts.isImportDeclaration(s) && s.importClause) {
    const c = s.importClause;
    const name = c.name && keep.has(c.name.text) ? c.name : undefined;
    let bindings = c.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) bindings = keep.has(bindings.name.text) ? bindings : undefined;
    else if (bindings) {
      const elements = bindings.elements.filter((e) => keep.has(e.name.text));
      bindings = elements.length > 0 ? f.updateNamedImports(bindings, elements) : undefined;
    }
    if (!name && !bindings) return undefined;
    return f.updateImportDeclaration(s, s.modifiers, f.updateImportClause(c, c.isTypeOnly, name, bindings), s.moduleSpecifier, s.attributes);
  }
  return undefined;
}
