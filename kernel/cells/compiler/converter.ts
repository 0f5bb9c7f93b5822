/*
 * The cell compiler on the project's TypeScript: one language service per notebook, reused cell after cell
 * (only the two virtual files change, so the program and every parsed library file are reused). A cell is
 * checked with the earlier cells' names in scope (scope.ts), emitted through the cell transforms, turned
 * into CommonJS, and its declarations become part of what the next cell sees.
 */
import { join, relative } from "node:path";
import type * as TS from "typescript";
import { typescript } from "../typescript.js";
import { toCommonJS } from "./commonjs.js";
import { cellDiagnostics } from "./diagnostics.js";
import { cellCompilerOptions, createHost, VirtualFile } from "./host.js";
import { fileNames, prevModuleText, remainingDeclarations, scopeLine, statementNames, type DeclaredName, type Meaning } from "./scope.js";
import { nearestNamesHint } from "./suggestions.js";
import { hasTopLevelAwait } from "./top-level-await.js";
import { cellTransformers, type CellTransformState } from "./transforms.js";
import type { CompletionResult, Converter, ConvertResult, QuickInfo, SideOutput } from "./types.js";

const prevBase = "__bpfbook_prev__";
const cellBase = "__bpfbook_cell__";
/** How the cell's scope line names the earlier cells' module. */
const prevSpecifier = `./${prevBase}.js`;

/** Parsed library files are shared by the converters of the process (while one of them holds them). */
let registry: TS.DocumentRegistry | undefined;

interface Prepared {
  prefixLength: number;
  cell: TS.SourceFile;
  prev: TS.SourceFile;
  program: TS.Program;
  earlier: Map<string, DeclaredName>;
  cellNames: Set<string>;
}

export function createConverter(cwd: string): Converter {
  const ts = typescript();
  const options = cellCompilerOptions(ts, cwd);
  const prevFile = new VirtualFile(join(cwd, `${prevBase}.d.ts`));
  const cellFile = new VirtualFile(join(cwd, `${cellBase}.ts`));
  registry ??= ts.createDocumentRegistry(true, cwd);
  let transformers: TS.CustomTransformers | undefined;
  const service = ts.createLanguageService(createHost(ts, cwd, options, [prevFile, cellFile], () => transformers), registry);
  const printer = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed });
  /** The text each of the notebook's own .ts files had when last converted. */
  const converted = new Map<string, string>();
  let prevCache: { decl: string; names: Map<string, DeclaredName> } | undefined;

  function prevNames(prevDecl: string): Map<string, DeclaredName> {
    if (prevCache?.decl !== prevDecl) {
      const parsed = ts.createSourceFile(prevFile.path, prevDecl, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
      prevCache = { decl: prevDecl, names: fileNames(ts, parsed) };
    }
    return prevCache.names;
  }

  /** Puts the earlier declarations and the cell into the virtual files; `exported` adds the cell's export list. */
  function prepare(prevDecl: string, src: string, exported: boolean): Prepared {
    const names = prevNames(prevDecl);
    const parsed = ts.createSourceFile(cellFile.path, src, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const cellNames = new Set<string>();
    const shared: string[] = [];
    for (const s of parsed.statements) {
      // `using` resources are disposed at the end of the cell: nothing to share
      const disposed = ts.isVariableStatement(s) && (s.declarationList.flags & ts.NodeFlags.Using) !== 0;
      for (const d of statementNames(ts, s)) {
        cellNames.add(d.name);
        if (!disposed) shared.push(d.name);
      }
    }
    const line = scopeLine(prevSpecifier, names.keys(), cellNames);
    const exports = exported && shared.length > 0 ? `\nexport { ${[...new Set(shared)].join(", ")} };\n` : "";
    prevFile.set(prevModuleText(prevDecl, names.keys()));
    cellFile.set(line + src + exports);
    const program = service.getProgram();
    const cell = program?.getSourceFile(cellFile.path);
    const prev = program?.getSourceFile(prevFile.path);
    if (!program || !cell || !prev) throw new Error("the cell compiler lost its virtual files");
    const earlier = new Map([...names].filter(([n]) => !cellNames.has(n)));
    return { prefixLength: line.length, cell, prev, program, earlier, cellNames };
  }

  /** The notebook's own source files the program holds (the cell's imports, transitively). */
  function localFiles(program: TS.Program): TS.SourceFile[] {
    return program.getSourceFiles().filter((f) => !f.isDeclarationFile && f.fileName !== cellFile.path &&
      !f.fileName.includes("/node_modules/") && !relative(cwd, f.fileName).startsWith(".."));
  }

  /** What each name the cell declares means, imports as the checker resolves them. */
  function cellMeanings(p: Prepared, checker: TS.TypeChecker): Map<string, Meaning> {
    const meanings = new Map<string, Meaning>();
    const importMeaning = (id: TS.Identifier): Meaning => {
      let symbol = checker.getSymbolAtLocation(id);
      if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      if (!symbol || symbol.flags & ts.SymbolFlags.Alias) return { value: true, type: true };
      return { value: (symbol.flags & ts.SymbolFlags.Value) !== 0, type: (symbol.flags & ts.SymbolFlags.Type) !== 0 };
    };
    for (const s of p.cell.statements) {
      if (ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier) && s.moduleSpecifier.text === prevSpecifier) continue;
      for (const d of statementNames(ts, s, importMeaning)) {
        const m = meanings.get(d.name);
        meanings.set(d.name, m ? { value: m.value || d.meaning.value, type: m.type || d.meaning.type } : d.meaning);
      }
    }
    return meanings;
  }

  function convert(prevDecl: string, src: string): ConvertResult {
    const p = prepare(prevDecl, src, true);
    const { program, cell } = p;
    const checker = program.getTypeChecker();
    const locals = localFiles(program);
    const raw = [cell, ...locals].flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)])
      .filter((d) => d.category === ts.DiagnosticCategory.Error);
    const diagnostics = cellDiagnostics({
      ts, cwd, cellFile: cell, prefixLength: p.prefixLength, earlier: p.earlier,
      hint: (d) => nearestNamesHint(ts, checker, cell, d),
    }, raw);
    if (diagnostics.length > 0) return { diagnostics };

    const state: CellTransformState = { prevSpecifier, cellNames: p.cellNames };
    let output = "";
    let declarations = "";
    // Forced: a type the notebook's directory can only name by a path into a package (TS2742, "likely not
    // portable") is still written, by that path, which resolves from the same directory for the next cell.
    transformers = cellTransformers(ts, checker, cell, state);
    try {
      for (const o of service.getEmitOutput(cellFile.path, false, true).outputFiles) {
        if (o.name.endsWith(".d.ts")) declarations = o.text;
        else if (o.name.endsWith(".js")) output = o.text;
      }
    } finally {
      transformers = undefined;
    }

    const outDir = options.outDir ?? cwd;
    let sideOutputs: SideOutput[] | undefined;
    for (const file of locals) {
      if (converted.get(file.fileName) === file.text) continue;
      converted.set(file.fileName, file.text);
      program.emit(file, (name, text) => {
        if (!name.endsWith(".js")) return;
        (sideOutputs ??= []).push({ path: join(cwd, relative(outDir, name)), data: toCommonJS(ts, text) });
      });
    }
    sideOutputs?.sort((a, b) => a.path.localeCompare(b.path));

    const remaining = remainingDeclarations(ts, p.prev, cellMeanings(p, checker), printer);
    return {
      output: toCommonJS(ts, output),
      declOutput: `${declarations.trimEnd()}\n${remaining}`.trim() + "\n",
      diagnostics: [],
      lastExpressionVar: state.lastExpressionVar,
      hasToplevelAwait: hasTopLevelAwait(ts, cell),
      sideOutputs,
    };
  }

  function inspect(prevDecl: string, src: string, position: number): QuickInfo | undefined {
    const p = prepare(prevDecl, src, false);
    const info = service.getQuickInfoAtPosition(cellFile.path, position + p.prefixLength);
    if (!info) return undefined;
    return { ...info, textSpan: { start: info.textSpan.start - p.prefixLength, length: info.textSpan.length } };
  }

  function complete(prevDecl: string, src: string, position: number): CompletionResult {
    const p = prepare(prevDecl, src, false);
    const at = position + p.prefixLength;
    const info = service.getCompletionsAtPosition(cellFile.path, at, { includeCompletionsWithInsertText: false });
    const span = info?.optionalReplacementSpan;
    const start = span ? span.start - p.prefixLength : position;
    const end = span ? span.start + span.length - p.prefixLength : position;
    // Every candidate, in TypeScript's ranking (sortText: locals before globals ...), alphabetical within a
    // rank as editors show them; narrowing by what was typed is completion/'s job.
    const entries = [...(info?.entries ?? [])].sort((a, b) => a.sortText.localeCompare(b.sortText) || a.name.localeCompare(b.name));
    return { start, end, candidates: entries.map((e) => e.name) };
  }

  return {
    convert,
    inspect,
    complete,
    close: () => service.dispose(),
  };
}
