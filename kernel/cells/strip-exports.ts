/*
 * `export` on a cell's top-level declarations (code pasted from a module) would clash with the converter's
 * own export of every top-level name. Every name is shared with later cells anyway, so the keyword is blanked
 * out (same length, so positions in diagnostics and stack traces stay right).
 */
import { typescript } from "./typescript.js";

export function blankExportModifiers(code: string): string {
  if (!/\bexport\b/.test(code)) return code;
  const ts = typescript();
  const file = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  let out = code;
  for (const statement of file.statements) {
    if (ts.isExportAssignment(statement) || ts.isExportDeclaration(statement) || !ts.canHaveModifiers(statement)) continue;
    const modifiers = ts.getModifiers(statement) ?? [];
    // `export default function f` would leave `default` dangling; leave it to the type checker to refuse.
    if (modifiers.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword)) continue;
    for (const m of modifiers) {
      if (m.kind !== ts.SyntaxKind.ExportKeyword) continue;
      const start = m.getStart(file);
      out = out.slice(0, start) + " ".repeat(m.end - start) + out.slice(m.end);
    }
  }
  return out;
}
