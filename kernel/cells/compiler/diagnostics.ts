/*
 * TypeScript's diagnostics in the cell's own terms: positions relative to the cell (its scope line above it
 * taken off), message chains flattened as the traceback prints them, errors of the notebook's own .ts files
 * named by their path relative to the notebook. Assigning to an earlier cell's `let` is allowed: the earlier
 * names reach the cell as imports, which TypeScript would refuse to assign.
 */
import { relative } from "node:path";
import type * as TS from "typescript";
import type { TypeScript } from "../typescript.js";
import type { CellDiagnostic, DiagnosticPos } from "./types.js";
import type { DeclaredName } from "./scope.js";

/** TS2632: "Cannot assign to 'x' because it is an import." */
const assignToImport = 2632;
/** TS2588: "Cannot assign to 'x' because it is a constant." */
const assignToConstant = 2588;

export interface DiagnosticContext {
  ts: TypeScript;
  cwd: string;
  cellFile: TS.SourceFile;
  /** Length of the scope line above the cell's code. */
  prefixLength: number;
  /** The earlier names the cell imported. */
  earlier: ReadonlyMap<string, DeclaredName>;
  /** Extra text for a diagnostic (did-you-mean suggestions), if any. */
  hint?: (d: TS.Diagnostic) => string | undefined;
}

function position(ts: TypeScript, file: TS.SourceFile, offset: number, prefixLength: number): DiagnosticPos {
  const { line, character } = ts.getLineAndCharacterOfPosition(file, offset);
  // the scope line is a whole line, so only lines shift
  return prefixLength > 0 ? { offset: offset - prefixLength, line: line - 1, character } : { offset, line, character };
}

function flatten(d: TS.DiagnosticMessageChain, start: DiagnosticPos, end: DiagnosticPos, out: CellDiagnostic[]): void {
  out.push({ start, end, messageText: d.messageText, category: d.category, code: d.code });
  for (const next of d.next ?? []) flatten(next, start, end, out);
}

/** The name a TS2632 is about, from the assignment target at its position. */
function assignedName(file: TS.SourceFile, start: number): string | undefined {
  return /^[\p{L}\p{Nl}$_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$_\u200c\u200d]*/u.exec(file.text.slice(start))?.[0];
}

export function cellDiagnostics(ctx: DiagnosticContext, diagnostics: readonly TS.Diagnostic[]): CellDiagnostic[] {
  const { ts, cellFile, prefixLength } = ctx;
  const out: CellDiagnostic[] = [];
  for (const d of diagnostics) {
    if (!d.file || d.start === undefined) continue;
    const inCell = d.file === cellFile;
    let code = d.code;
    let message: string | TS.DiagnosticMessageChain = d.messageText;
    if (inCell) {
      // the scope line is ours: nothing there is the user's doing
      if (d.start < prefixLength) continue;
      if (code === assignToImport) {
        const name = assignedName(cellFile, d.start);
        const earlier = name === undefined ? undefined : ctx.earlier.get(name);
        if (earlier?.mutable) continue;
        if (earlier) {
          code = assignToConstant;
          message = `Cannot assign to '${name}' because it is a constant.`;
        }
      }
    }
    let fileName: string | undefined;
    if (!inCell) {
      fileName = relative(ctx.cwd, d.file.fileName);
      if (fileName.startsWith("..")) continue;
    }
    const shift = inCell ? prefixLength : 0;
    const start = position(ts, d.file, d.start, shift);
    const end = position(ts, d.file, d.start + (d.length ?? 0), shift);
    const head = typeof message === "string" ? message : message.messageText;
    // TypeScript suggests a name itself for some near misses
    const hint = inCell && !head.includes("Did you mean") ? ctx.hint?.(d) : undefined;
    if (typeof message === "string") {
      out.push({ start, end, messageText: hint ? `${message} ${hint}` : message, category: d.category, code, fileName });
      continue;
    }
    const chain: CellDiagnostic[] = [];
    flatten(message, start, end, chain);
    chain[0] = { ...chain[0]!, code, fileName };
    if (hint) chain[0] = { ...chain[0], messageText: `${chain[0].messageText} ${hint}` };
    out.push(...chain);
  }
  return out;
}
