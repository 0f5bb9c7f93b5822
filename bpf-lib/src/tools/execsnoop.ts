/* execsnoop: which programs start, with their arguments, parent and result. execve's entry
 * (filename, argv read from user memory, ppid) is paired with its exit by thread in the
 * kernel, so a row has the arguments and what the exec returned. The filters apply at
 * entry: after a successful exec the task has the new program's comm. An exec from a
 * thread other than the leader takes the leader's tid on success, so its exit finds no
 * start: it is counted in stats.unmatched, not shown. */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { pair } from "../probes/pair.js";
import { withNames } from "../analysis/names/with-names.js";
import { bar } from "../plot/bar.js";
import { InvalidArgumentError } from "../errors.js";
import { EXECSNOOP } from "./catalog.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface ExecsnoopOptions extends ToolFilter {
  /** Only failed execs (ret < 0): bcc's `execsnoop -x`. */
  failed?: boolean;
  /** Arguments kept per exec (1 to 8, default 8); more are left out. */
  maxArgs?: number;
}

/** A row of execsnoop. */
export interface ExecsnoopRow {
  /** When execve returned (ns, CLOCK_MONOTONIC). */
  ts: number;
  pid: number;
  tid: number;
  /** The command name after the exec (the new program's), or the old one if it failed. */
  comm: string;
  /** The parent's pid. */
  ppid: number;
  /** 0, or the negative errno. */
  ret: number;
  /** The errno's name ("ENOENT") for a failure, else null. */
  ret_name: string | null;
  /** The path given to execve. */
  filename: string;
  /** The arguments, argv[0] first (each cut at 48 bytes, counted in stats.truncated). */
  argv: string[];
  /** ns from entry to exit. */
  latency: number;
}

// The 512 bytes a start carries hold the filename (64), ppid (8) and 8 × 48 argument bytes.
const ARG_BYTES = 48;
const MAX_ARGS = 8;

/** Each execve(2): the program, its arguments, its parent, and the result. */
export function execsnoop(options?: ExecsnoopOptions): EventsTool<ExecsnoopRow> {
  const o = toolOptions(options, EXECSNOOP);
  const args = o.maxArgs ?? MAX_ARGS;
  if (!Number.isInteger(args) || args < 1 || args > MAX_ARGS) throw new InvalidArgumentError(`tools.execsnoop(): maxArgs must be an integer from 1 to ${MAX_ARGS}, got ${String(o.maxArgs)}`);
  const source = pair(
    tracepoint("syscalls:sys_enter_execve", {
      fields: ["filename", "argv"],
      columns: ["ppid"],
      read: { argv: { from: "argv", array: args, string: ARG_BYTES } },
      where: filterOf(o),
    }),
    tracepoint("syscalls:sys_exit_execve", { fields: ["ret"], ...(o.failed ? { where: { ret: { lt: 0 } } } : {}) }),
  );
  const shape = (t: ColumnTable) => withNames(t, "syscalls:sys_exit_execve", ["ret"]).select(...EXECSNOOP.columns);
  return eventsTool<ExecsnoopRow>(EXECSNOOP, source, shape, (t) => bar(t, { x: "comm", title: "execs by program", horizontal: true }));
}
