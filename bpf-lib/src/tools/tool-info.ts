/* A tool's description and the options every tool takes: plain data and types, no probes. */

/** One option of a tool, as the shell shows and parses it (`--pid 42`). */
export interface ToolOption {
  name: string;
  type: "number" | "string" | "boolean" | "list";
  help: string;
}

/** What a tool is, for docs, `bpfbook help`, and `bpfbook doctor`-like checks. */
export interface ToolInfo {
  name: string;
  /** One line: the question it answers. */
  summary: string;
  /** The bcc tool or bpftrace script it stands for. */
  counterpart: string;
  /** What it is built on (tracepoints, uprobes, sampling), and what the kernel must allow. */
  builtOn: string;
  /** The options beyond the common ones. */
  options: readonly ToolOption[];
  /** Columns of its table, in order (the shell prints these). */
  columns: readonly string[];
}

/** Options every tool takes: which processes it watches. */
export interface ToolFilter {
  /** Only this process (its threads too). */
  pid?: number;
  /** Only tasks with this command name (up to 15 bytes, as the kernel keeps it). */
  comm?: string;
}

/** The common options, as the shell shows them. */
export const FILTER_OPTIONS: readonly ToolOption[] = [
  { name: "pid", type: "number", help: "only this process" },
  { name: "comm", type: "string", help: "only tasks with this command name" },
];
