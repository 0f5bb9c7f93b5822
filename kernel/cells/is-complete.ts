/*
 * Whether a console should run the code or ask for another line. A parse error only more input could fix
 * (an unclosed block, paren, string, template or comment: the error sits at the very end) means incomplete;
 * any error before the end means invalid.
 */
import type { Diagnostic } from "typescript";
import { typescript } from "./typescript.js";

export interface Completeness {
  status: "complete" | "incomplete" | "invalid";
  indent: string;
}

function parseDiagnostics(code: string): readonly Diagnostic[] {
  const ts = typescript();
  const file = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  // Parse errors are kept on the source file (internal but stable); a program is not worth building for them.
  return (file as unknown as { parseDiagnostics?: readonly Diagnostic[] }).parseDiagnostics ?? [];
}

export function isComplete(code: string): Completeness {
  const diagnostics = parseDiagnostics(code);
  if (diagnostics.length === 0) return { status: "complete", indent: "" };
  const end = code.trimEnd().length;
  if (diagnostics.some((d) => (d.start ?? 0) < end)) return { status: "invalid", indent: "" };
  // A blank last line means "run it anyway" (tslab's, and IPython's, convention).
  if (/(^|\n)[ \t]*\n[ \t]*$/.test(code)) return { status: "complete", indent: "" };
  return { status: "incomplete", indent: indentOnEnter(code) };
}

/** The next line's indent: one level deeper after an opening bracket, one shallower on a closing one (VS Code's rules). */
export function indentOnEnter(code: string): string {
  const line = /[^\n]*$/.exec(code)?.[0] ?? "";
  const current = /^[ \t]*/.exec(line)?.[0] ?? "";
  if (/^((?!.*?\/\*).*\*\/)?\s*[}\]].*$/.test(line)) {
    if (current.endsWith("  ")) return current.slice(0, -2);
    return current.endsWith("\t") || current.endsWith(" ") ? current.slice(0, -1) : current;
  }
  if (/^((?!\/\/).)*(\{[^}"'`]*|\([^)"'`]*|\[[^\]"'`]*)$/.test(line)) return current + "  ";
  return current;
}
