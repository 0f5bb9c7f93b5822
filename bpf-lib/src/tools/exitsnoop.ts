/* exitsnoop: which processes exit, how (status or signal), and how old they were. The
 * 6.18 tracepoint has no exit code, but it fires in the exiting task after do_exit() has
 * stored it, so the code and the start time are read from the current task (as bcc does). */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { fieldNames } from "../analysis/names/names.js";
import { bar } from "../plot/bar.js";
import { EXITSNOOP } from "./catalog.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface ExitsnoopOptions extends ToolFilter {
  /** Only processes that failed: a non-zero status or a signal (bcc's `exitsnoop -x`). */
  failed?: boolean;
  /** Every thread's exit, not only the last one's (the process's). */
  threads?: boolean;
}

/** A row of exitsnoop. */
export interface ExitsnoopRow {
  ts: number;
  pid: number;
  tid: number;
  ppid: number;
  comm: string;
  /** The exit status (exit(3)'s argument), 0 when a signal ended it. */
  status: number;
  /** The signal that ended it, 0 for a normal exit. */
  signal: number;
  /** The signal's name ("SIGTERM"), null for a normal exit. */
  signal_name: string | null;
  /** It dumped core. */
  core: boolean;
  /** ms from the process's start (its leader's) to its exit. */
  age_ms: number;
}

/** Each process exit: pid, parent, status or signal, and age. */
export function exitsnoop(options?: ExitsnoopOptions): EventsTool<ExitsnoopRow> {
  const o = toolOptions(options, EXITSNOOP);
  const source = tracepoint("sched:sched_process_exit", {
    fields: ["group_dead"],
    columns: ["ppid"],
    // the process's age is its leader's: the last thread out may have started later
    read: { exit_code: "current.exit_code", start_time: "current.group_leader.start_time" },
    where: {
      ...filterOf(o),
      // the last thread out is the process's exit
      ...(o.threads ? {} : { group_dead: 1 }),
      ...(o.failed ? { exit_code: { ne: 0 } } : {}),
    },
  });
  const sigName = fieldNames("syscalls:sys_enter_kill", "sig");
  const shape = (t: ColumnTable) => {
    const code = Array.from(t.array("exit_code") as ArrayLike<number>);
    const ts = t.array("ts") as ArrayLike<number>;
    const start = t.array("start_time") as ArrayLike<number>;
    const signal = code.map((c) => c & 0x7f);
    return t
      .assign({
        status: code.map((c) => (c & 0x7f ? 0 : (c >> 8) & 0xff)),
        signal,
        signal_name: signal.map((s) => (s && sigName ? String(sigName(s)) : null)),
        core: code.map((c) => (c & 0x80) !== 0),
        age_ms: code.map((_, i) => (Number(ts[i]) - Number(start[i])) / 1e6),
      })
      .select(...EXITSNOOP.columns);
  };
  return eventsTool<ExitsnoopRow>(EXITSNOOP, source, shape, (t) => bar(t, { x: "comm", title: "exits by program", horizontal: true }));
}
