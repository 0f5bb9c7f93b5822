/*
 * `{ name }` where `name` is an earlier cell's: tslab's converter rewrites each reference to an earlier
 * cell's name as `exports.name`, but not a shorthand property, whose identifier is the property's name too;
 * the converted cell then reads an undefined variable ("disk is not defined"). Such shorthands are written
 * out (`{ name: name }`, the same value) before conversion. Only names earlier cells declared are expanded,
 * so other lines keep their columns for diagnostics.
 */
import { typescript } from "./typescript.js";

/** The top-level names the earlier cells' declarations (the converter's prevDecl) give. */
export function declaredNames(prevDecl: string): Set<string> {
  const names = new Set<string>();
  if (!prevDecl) return names;
  const ts = typescript();
  const file = ts.createSourceFile("prev.d.ts", prevDecl, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const bind = (n: import("typescript").BindingName): void => {
    if (ts.isIdentifier(n)) names.add(n.text);
    else for (const e of n.elements) if (!ts.isOmittedExpression(e)) bind(e.name);
  };
  for (const s of file.statements) {
    if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) bind(d.name);
    else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isEnumDeclaration(s)) && s.name) names.add(s.name.text);
    else if (ts.isImportDeclaration(s) && s.importClause && !s.importClause.isTypeOnly) {
      const c = s.importClause;
      if (c.name) names.add(c.name.text);
      const b = c.namedBindings;
      if (b && ts.isNamespaceImport(b)) names.add(b.name.text);
      else if (b) for (const e of b.elements) if (!e.isTypeOnly) names.add(e.name.text);
    }
  }
  return names;
}

/** `code` with every shorthand property naming an earlier cell's name written out. */
export function expandShorthands(code: string, earlier: ReadonlySet<string>): string {
  if (earlier.size === 0 || !code.includes("{")) return code;
  const ts = typescript();
  const file = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const at: { end: number; name: string }[] = [];
  const visit = (node: import("typescript").Node): void => {
    if (ts.isShorthandPropertyAssignment(node) && earlier.has(node.name.text)) at.push({ end: node.name.end, name: node.name.text });
    ts.forEachChild(node, visit);
  };
  visit(file);
  let out = code;
  // from the end, so earlier offsets stay right
  for (const { end, name } of at.sort((a, b) => b.end - a.end)) out = `${out.slice(0, end)}: ${name}${out.slice(end)}`;
  return out;
}
