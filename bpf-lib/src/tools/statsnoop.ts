/* statsnoop: which paths are stat'ed, by whom, through which call. One program per stat
 * syscall that takes a path, one ring, and a `probe` column (tracepoints()). */
import type { ColumnTable } from "arquero";
import { tracepoints } from "../probes/tracepoint/group.js";
import { bar } from "../plot/bar.js";
import { STATSNOOP } from "./catalog.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface StatsnoopOptions extends ToolFilter {}

/** A row of statsnoop. */
export interface StatsnoopRow {
  ts: number;
  pid: number;
  tid: number;
  comm: string;
  /** "newstat" (stat), "newlstat" (lstat), "newfstatat", "statx". */
  syscall: string;
  /** The path as given (relative ones are relative to the cwd or the dirfd). */
  filename: string;
}

const CALLS = ["syscalls:sys_enter_newstat", "syscalls:sys_enter_newlstat", "syscalls:sys_enter_newfstatat", "syscalls:sys_enter_statx"] as const;

/** Each stat-family call with a path: stat, lstat, newfstatat, statx. */
export function statsnoop(options?: StatsnoopOptions): EventsTool<StatsnoopRow> {
  const o = toolOptions(options, STATSNOOP);
  const source = tracepoints(CALLS, { fields: ["filename"], where: filterOf(o) });
  const shape = (t: ColumnTable) => {
    const syscall = Array.from(t.array("probe") as ArrayLike<string>, (p) => String(p).replace(/^syscalls:sys_enter_/, ""));
    return t.assign({ syscall }).select(...STATSNOOP.columns);
  };
  return eventsTool<StatsnoopRow>(STATSNOOP, source, shape, (t) => bar(t, { x: "filename", title: "stat calls by path", horizontal: true }));
}
