/* signals: every signal the kernel generates, whatever sent it (kill, tgkill, sigqueue,
 * a fault, a timer, the kernel itself), with the sender, the target and what became of it. */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { withNames } from "../analysis/names/with-names.js";
import { bar } from "../plot/bar.js";
import { InvalidArgumentError } from "../errors.js";
import { SIGNALS } from "./catalog.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface SignalsOptions extends ToolFilter {
  /** Only signals to this process (pid and comm filter the sender). */
  target?: number;
  /** Only this signal number. */
  signal?: number;
}

/** A row of signals. */
export interface SignalsRow {
  ts: number;
  /** The sender: the task running when the signal was generated. */
  pid: number;
  tid: number;
  comm: string;
  sig: number;
  sig_name: string | null;
  /** The target task. */
  target_pid: number;
  target_comm: string;
  /** si_code: SI_USER (0), SI_QUEUE (-1), SI_TKILL (-6), SI_KERNEL (128), ... */
  code: number;
  /** 0 delivered, 1 ignored, 2 already pending, 3 queue overflow, 4 info lost. */
  result: number;
  result_name: string;
}

// enum trace_signal_result (include/trace/events/signal.h): not in BTF, not in the print fmt.
const RESULTS = ["DELIVERED", "IGNORED", "ALREADY_PENDING", "OVERFLOW_FAIL", "LOSE_INFO"];

/** Each generated signal: sender, signal name, target, and whether it was delivered. */
export function signals(options?: SignalsOptions): EventsTool<SignalsRow> {
  const o = toolOptions(options, SIGNALS);
  if (o.target !== undefined && (!Number.isInteger(o.target) || o.target <= 0)) throw new InvalidArgumentError(`tools.signals(): target must be a positive pid, got ${String(o.target)}`);
  if (o.signal !== undefined && (!Number.isInteger(o.signal) || o.signal < 1 || o.signal > 64)) throw new InvalidArgumentError(`tools.signals(): signal must be a signal number from 1 to 64, got ${String(o.signal)}`);
  const source = tracepoint("signal:signal_generate", {
    fields: ["sig", "pid", "comm", "code", "result"],
    where: { ...filterOf(o), ...(o.target !== undefined ? { args_pid: o.target } : {}), ...(o.signal !== undefined ? { sig: o.signal } : {}) },
  });
  const shape = (t: ColumnTable) => {
    const result = Array.from(t.array("result") as ArrayLike<number>, (r) => RESULTS[r] ?? String(r));
    return withNames(t, "signal:signal_generate", ["sig"])
      .rename({ args_pid: "target_pid", args_comm: "target_comm" })
      .assign({ result_name: result })
      .select(...SIGNALS.columns);
  };
  return eventsTool<SignalsRow>(SIGNALS, source, shape, (t) => bar(t, { x: "sig_name", title: "signals generated", horizontal: true }));
}
