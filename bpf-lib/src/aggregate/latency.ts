/* Latency: the time from a start event to the matching end event (by default on
 * the same thread), aggregated in the kernel. Built in: syscall latency, run-queue
 * latency, block I/O latency. */
import { anyTracepoint, type TracepointProbe, type Where } from "../probes/tracepoint.js";
import { Aggregation, type HistSpec } from "./aggregation.js";
import { listTracepoints } from "../tracefs/catalog.js";
import { NotSupportedError } from "../errors.js";
import { withErrno } from "./errno.js";

export interface LatencyOptions {
  /** The event(s) that start the clock. */
  start: TracepointProbe<string, string> | TracepointProbe<string, string>[];
  /** The event that stops it; keys (`by`) are read here. */
  end: TracepointProbe<string, string>;
  /** What pairs a start with its end: key names on each side (default: the thread, ["tid"] on both). */
  match?: { start: readonly string[]; end: readonly string[] };
  /** Key columns (of the end event). */
  by?: readonly string[];
  /** log2 (default) or linear buckets in ns; or "stats" for count/sum/min/max/avg per key. */
  hist?: HistSpec | "stats";
  maxKeys?: number;
}

/** Built-ins name their key columns as documented, whatever the tracepoint calls the field. */
type Renamed = { keyColumns?: Readonly<Record<string, string>> };

export function latency(o: LatencyOptions & Renamed): Aggregation {
  const starts = Array.isArray(o.start) ? o.start : [o.start];
  const match = o.match ?? { start: ["tid"], end: ["tid"] };
  return new Aggregation({
    source: `${starts.map((s) => s.source).join(" | ")} → ${o.end.source}`,
    probe: o.end,
    options: { by: o.by ?? [], hist: o.hist === "stats" ? undefined : o.hist ?? "log2", maxKeys: o.maxKeys },
    latency: { starts, startKey: match.start, endKey: match.end },
    keyColumns: o.keyColumns,
  });
}

type Filter = { pid?: number; tid?: number; comm?: string };

function requireTracepoints(what: string, names: string[]): void {
  const all = new Set(listTracepoints());
  const missing = names.filter((n) => !all.has(n));
  if (missing.length) throw new NotSupportedError(what, `this kernel has no ${missing.join(", ")} tracepoint${missing.length > 1 ? "s" : ""}`);
}

export const syscalls = {
  /** Time from each syscall's entry to its exit, per key: by "syscall" (named), "comm", "pid", "tid", "cgroup". */
  latency(opts: { by?: readonly ("syscall" | "comm" | "pid" | "tid" | "cgroup" | "cpu")[]; where?: Filter; hist?: HistSpec | "stats"; maxKeys?: number } = {}): Aggregation {
    const where = (opts.where ?? {}) as Where<string>;
    return latency({
      start: anyTracepoint("raw_syscalls:sys_enter", { fields: [], where }),
      end: anyTracepoint("raw_syscalls:sys_exit", { fields: [], where }),
      by: opts.by ?? ["syscall"],
      hist: opts.hist,
      maxKeys: opts.maxKeys,
    });
  },
  /** Failed syscalls (negative return) per key, with the error's name: columns keys…, ret, count, errno. */
  errors(opts: { by?: readonly ("syscall" | "comm" | "pid" | "tid" | "cgroup" | "cpu")[]; where?: Filter; maxKeys?: number } = {}): Aggregation {
    const probe = anyTracepoint("raw_syscalls:sys_exit", { fields: [], where: { ...(opts.where ?? {}), ret: { lt: 0 } } as Where<string> });
    return new Aggregation({
      source: "raw_syscalls:sys_exit (ret < 0)",
      probe,
      options: { by: [...(opts.by ?? ["syscall"]), "ret"], maxKeys: opts.maxKeys },
      decorate: (t) => withErrno(t, "ret"),
    });
  },
  /** Syscalls per key (default: per syscall name). */
  count(opts: { by?: readonly ("syscall" | "comm" | "pid" | "tid" | "cgroup" | "cpu")[]; where?: Filter; maxKeys?: number } = {}): Aggregation {
    return anyTracepoint("raw_syscalls:sys_enter", { fields: [], where: (opts.where ?? {}) as Where<string> }).count({ by: opts.by ?? ["syscall"], maxKeys: opts.maxKeys });
  },
};

export const sched = {
  /**
   * Run-queue latency: from a task's wakeup to when it runs (sched_wakeup/sched_wakeup_new →
   * sched_switch), per key of the task that runs: "comm" and "pid" here mean the woken task.
   */
  runqueueLatency(opts: { by?: readonly ("comm" | "pid" | "cpu")[]; hist?: HistSpec | "stats"; maxKeys?: number } = {}): Aggregation {
    requireTracepoints("run-queue latency", ["sched:sched_wakeup", "sched:sched_wakeup_new", "sched:sched_switch"]);
    const by = (opts.by ?? []).map((k) => (k === "comm" ? "next_comm" : k === "pid" ? "next_pid" : k));
    return latency({
      start: [anyTracepoint("sched:sched_wakeup", { fields: [] }), anyTracepoint("sched:sched_wakeup_new", { fields: [] })],
      end: anyTracepoint("sched:sched_switch", { fields: [] }),
      match: { start: ["args_pid"], end: ["next_pid"] },
      by,
      hist: opts.hist,
      maxKeys: opts.maxKeys,
      keyColumns: { next_comm: "comm", next_pid: "pid" },
    });
  },
};

export const block = {
  /** Block I/O latency: request issue → completion, matched by device and sector; by "dev" optionally. */
  ioLatency(opts: { by?: readonly ("dev" | "rwbs")[]; hist?: HistSpec | "stats"; maxKeys?: number } = {}): Aggregation {
    requireTracepoints("block I/O latency", ["block:block_rq_issue", "block:block_rq_complete"]);
    return latency({
      start: anyTracepoint("block:block_rq_issue", { fields: [] }),
      end: anyTracepoint("block:block_rq_complete", { fields: [] }),
      match: { start: ["dev", "sector"], end: ["dev", "sector"] },
      by: opts.by ?? [],
      hist: opts.hist,
      maxKeys: opts.maxKeys,
    });
  },
};
