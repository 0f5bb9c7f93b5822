/* Errors as Jupyter shows them: plain text, positions in the cell's own lines. */
import { inspect } from "node:util";
import type { CellScript } from "./cell-script.js";
import type { CellDiagnostic } from "./compiler/index.js";
import type { CellError } from "./types.js";

function cellLabel(count: number): string {
  return `Cell In[${count}]`;
}

/** Type (and syntax) errors from the converter; a diagnostic's message chain follows it, indented. */
export function diagnosticsError(diagnostics: readonly CellDiagnostic[], count: number, source: string): CellError {
  const lines = source.split("\n");
  const traceback: string[] = [];
  const heads: CellDiagnostic[] = [];
  let prev: CellDiagnostic | undefined;
  for (const d of diagnostics) {
    const continues = prev !== undefined && d.fileName === undefined &&
      prev.start.offset === d.start.offset && prev.end.offset === d.end.offset;
    if (continues) {
      traceback.push(`    ${d.messageText}`);
      continue;
    }
    prev = d;
    heads.push(d);
    const where = d.fileName ? `${d.fileName}, line ${d.start.line + 1}` : `${cellLabel(count)}, line ${d.start.line + 1}`;
    traceback.push(`${where}: ${d.messageText} (TS${d.code})`);
    if (d.fileName) continue;
    // Columns in code points, as the line is displayed.
    const text = lines[d.start.line] ?? "";
    const from = [...text.slice(0, d.start.character)].length;
    const to = d.end.line === d.start.line ? [...text.slice(0, d.end.character)].length : [...text].length;
    traceback.push(`    ${text}`);
    traceback.push(`    ${" ".repeat(from)}${"^".repeat(Math.max(1, to - from))}`);
  }
  const first = heads[0]?.messageText ?? "type error";
  const more = heads.length > 1 ? ` (and ${heads.length - 1} more)` : "";
  return { ename: "TSError", evalue: first + more, traceback };
}

export function errorName(e: unknown): string {
  if (!(e instanceof Error)) return typeof e === "object" && e !== null ? (e.constructor?.name ?? "Error") : "Error";
  const ctor = e.constructor?.name;
  if ((!e.name || e.name === "Error") && ctor && ctor !== "Error") return ctor;
  return e.name || "Error";
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === "string" ? e : inspect(e, { colors: false, depth: 2 });
}

interface Frame {
  fn: string | undefined;
  file: string;
  line: number;
  column: number;
}

function parseFrame(text: string): Frame | undefined {
  const at = /^\s*at (.*)$/.exec(text);
  if (!at) return undefined;
  let fn: string | undefined;
  let location = at[1];
  const named = /^(.*?) \((.*)\)$/.exec(location);
  if (named) {
    fn = named[1].replace(/^async /, "").replace(/^(Object|Proxy)\./, "");
    location = named[2];
  } else {
    location = location.replace(/^async /, "");
  }
  const pos = /^(.*):(\d+):(\d+)$/.exec(location);
  if (!pos) return undefined;
  return { fn, file: pos[1], line: Number(pos[2]), column: Number(pos[3]) };
}

/** A thrown value: its first line, then the frames that are in cells, at the cells' own lines. */
export function runtimeError(e: unknown, scriptOf: (filename: string) => CellScript | undefined): CellError {
  const ename = errorName(e);
  const evalue = errorMessage(e);
  const stack = e instanceof Error && typeof e.stack === "string" ? e.stack.split("\n") : [];
  const firstFrame = stack.findIndex((l) => /^\s*at /.test(l));
  const traceback = `${ename}: ${evalue}`.split("\n");
  for (const text of firstFrame >= 0 ? stack.slice(firstFrame) : []) {
    const frame = parseFrame(text);
    const script = frame && scriptOf(frame.file);
    if (!frame || !script || script.isWrapperLine(frame.line)) continue;
    const line = script.sourceLine(frame.line, frame.column);
    const where = line === undefined ? cellLabel(script.count) : `${cellLabel(script.count)}, line ${line + 1}`;
    const fn = frame.fn ? `, in ${frame.fn}` : "";
    const code = line === undefined ? "" : `: ${script.sourceText(line).trim()}`;
    traceback.push(`${where}${fn}${code}`);
  }
  collapseRepeats(traceback);
  let cause = e instanceof Error ? e.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < 3; depth++) {
    traceback.push(`Caused by ${errorName(cause)}: ${errorMessage(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return { ename, evalue, traceback };
}

/** The count of the cell whose code is the innermost frame of `e`'s stack (where it was thrown), if any. */
export function originCell(e: unknown, scriptOf: (filename: string) => CellScript | undefined): number | undefined {
  const stack = e instanceof Error && typeof e.stack === "string" ? e.stack.split("\n") : [];
  for (const text of stack) {
    const frame = parseFrame(text);
    const script = frame && scriptOf(frame.file);
    if (script) return script.count;
  }
  return undefined;
}

/** Deep recursion would otherwise fill the traceback with one line. */
function collapseRepeats(lines: string[]): void {
  for (let i = 1; i < lines.length; i++) {
    let j = i;
    while (j < lines.length && lines[j] === lines[i - 1]) j++;
    if (j - i > 1) lines.splice(i, j - i, `[previous line repeated ${j - i} more times]`);
  }
}

export function interruptedError(how: "sync" | "async"): CellError {
  const evalue = how === "sync"
    ? "the cell was stopped"
    // The kernel stops every bpfbook trace on an interrupt (its rows go to partialResults()); nothing else the cell began is cancelled.
    : "the cell was interrupted while waiting: its bpfbook traces are stopped; other work it started (timers, child processes, pending promises) is not cancelled and may still run";
  return { ename: "KeyboardInterrupt", evalue, traceback: [`KeyboardInterrupt: ${evalue}`] };
}

export function internalError(e: unknown): CellError {
  const ename = errorName(e);
  const evalue = `bpfbook kernel: ${errorMessage(e)}`;
  return { ename, evalue, traceback: [`${ename}: ${evalue}`] };
}
