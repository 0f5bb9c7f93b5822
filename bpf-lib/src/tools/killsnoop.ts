/* killsnoop: who sends which signal to whom with kill(2), and did it work. The entry
 * (target, signal) is paired with the exit (result) by thread in the kernel. */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { pair } from "../probes/pair.js";
import { withNames } from "../analysis/names/with-names.js";
import { bar } from "../plot/bar.js";
import { KILLSNOOP } from "./catalog.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface KillsnoopOptions extends ToolFilter {
  /** Only failed kills (ret < 0): bcc's `killsnoop -x`. */
  failed?: boolean;
}

/** A row of killsnoop. */
export interface KillsnoopRow {
  ts: number;
  /** The sender. */
  pid: number;
  tid: number;
  comm: string;
  /** The signal number (0 only checks that the target exists). */
  sig: number;
  /** "SIGTERM", ...; "0" for signal 0. */
  sig_name: string | null;
  /** kill(2)'s pid argument: a process; 0 the caller's process group, -1 every process it may signal, -pgid a group. */
  target: number;
  /** 0, or the negative errno. */
  ret: number;
  /** "ESRCH", "EPERM"...; null for a success. */
  ret_name: string | null;
  latency: number;
}

/** Each kill(2): sender, signal, target, and result. */
export function killsnoop(options?: KillsnoopOptions): EventsTool<KillsnoopRow> {
  const o = toolOptions(options, KILLSNOOP);
  const where = filterOf(o);
  const source = pair(
    tracepoint("syscalls:sys_enter_kill", { fields: ["pid", "sig"], where }),
    tracepoint("syscalls:sys_exit_kill", { fields: ["ret"], where: o.failed ? { ...where, ret: { lt: 0 } } : where }),
  );
  const shape = (t: ColumnTable) => {
    const named = withNames(t, "syscalls:sys_enter_kill", ["sig"]);
    return withNames(named, "syscalls:sys_exit_kill", ["ret"]).rename({ args_pid: "target" }).select(...KILLSNOOP.columns);
  };
  return eventsTool<KillsnoopRow>(KILLSNOOP, source, shape, (t) => bar(t, { x: "sig_name", title: "signals sent with kill(2)", horizontal: true }));
}
