/* libbpf's print callback, captured rather than sprayed on stderr. Loads open a
 * capture window so a failure can quote what libbpf and the verifier said. */
import * as ffi from "../ffi/libbpf.js";
import { vsnprintf } from "../ffi/libc.js";

export const enum LogLevel { Warn = 0, Info = 1, Debug = 2 }

let installed = false;
const captures: string[][] = [];
let verbose = process.env.BPFBOOK_LIBBPF_LOG === "debug" ? LogLevel.Debug : process.env.BPFBOOK_LIBBPF_LOG === "info" ? LogLevel.Info : -1;

function sink(level: number, line: string): void {
  for (const c of captures) c.push(line);
  if (level <= verbose) process.stderr.write(line);
}

export function installLogCapture(): void {
  if (installed) return;
  installed = true;
  ffi.setPrint((level) => captures.length > 0 || level <= verbose, sink, vsnprintf);
}

/** A line told as if libbpf had printed it: the verifier's log, which libbpf leaves in bpfbook's buffer (ffi/libbpf.ts) rather than printing. */
export function tellLine(line: string): void {
  sink(LogLevel.Warn, line);
}

/** Runs fn while recording every libbpf log line; returns its result and the lines. */
export function captureLog<T>(fn: () => T): { result: T; lines: string[] } {
  installLogCapture();
  const lines: string[] = [];
  captures.push(lines);
  try {
    return { result: fn(), lines };
  } finally {
    captures.splice(captures.indexOf(lines), 1);
  }
}

export function setLibbpfLogLevel(level: "off" | "warn" | "info" | "debug"): void {
  verbose = level === "off" ? -1 : level === "warn" ? LogLevel.Warn : level === "info" ? LogLevel.Info : LogLevel.Debug;
}

/** The verifier's words, trimmed to the point: the failing instruction's context and the reason. */
export function verifierExcerpt(lines: string[], maxLines = 24): string | null {
  const text = lines.join("");
  const m = /-- BEGIN PROG LOAD LOG --\n([\s\S]*?)(?:-- END PROG LOAD LOG --|$)/.exec(text);
  if (!m) return null;
  const log = m[1].split("\n").filter((l) => l.trim() !== "");
  // The reason is the last lines before "processed N insns"; keep a little context before it.
  let end = log.findIndex((l) => /^processed \d+ insns/.test(l));
  if (end < 0) end = log.length;
  const start = Math.max(0, end - maxLines);
  return (start > 0 ? "  ...\n" : "") + log.slice(start, end).map((l) => "  " + l).join("\n");
}

/** libbpf's own warning lines (level 0/"libbpf: ..."), without the dump. */
export function warnings(lines: string[]): string {
  return lines
    .filter((l) => l.startsWith("libbpf: ") && !/BEGIN PROG LOAD LOG|END PROG LOAD LOG/.test(l))
    .slice(-6)
    .map((l) => l.trim())
    .join("\n");
}
