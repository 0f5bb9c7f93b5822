/* Latency: the time from a start event to the matching end event (by default on
 * the same thread), aggregated in the kernel. Built in: syscall latency, run-queue
 * latency, block I/O latency. */
import { anyTracepoint, TracepointProbe, type Where } from "./tracepoint/probe.js";
import { Aggregation, type HistSpec } from "../engine/aggregation.js";
import { listTracepoints } from "../tracefs/catalog.js";
import { NotSupportedError } from "../errors.js";
import { withErrno } from "../analysis/errno.js";
import { InvalidOptionError } from "../errors.js";
import { nameList, objectOption, optionsObject } from "../options/shapes.js";

const PROBE = "a tracepoint probe, e.g. tracepoint(\"sched:sched_wakeup\")";

function probeOption(v: unknown, option: string): TracepointProbe<string, string> {
  if (!(v instanceof TracepointProbe)) throw new InvalidOptionError("latency()", option, v, PROBE);
  return v as TracepointProbe<string, string>;
}

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

export function latency(options: LatencyOptions & Renamed): Aggregation {
  const o = optionsObject(options, "latency()");
  const starts = (Array.isArray(o.start) ? o.start : [o.start]).map((p) => probeOption(p, "start"));
  if (starts.length === 0) throw new InvalidOptionError("latency()", "start", o.start, PROBE);
  probeOption(o.end, "end");
  const m = objectOption(o.match, "match", "latency()", "{ start: [keys], end: [keys] }, e.g. { start: [\"tid\"], end: [\"tid\"] }");
  const match = o.match === undefined ? { start: ["tid"], end: ["tid"] } : { start: nameList(m.start, "match.start", "latency()") ?? [], end: nameList(m.end, "match.end", "latency()") ?? [] };
  return new Aggregation({
    source: `${starts.map((s) => s.source).join(" | ")} → ${o.end.source}`,
    probe: o.end,
    options: { by: o.by ?? [], hist: o.hist === "stats" ? undefined : o.hist ?? "log2", maxKeys: o.maxKeys },
    latency: { starts, startKey: match.start, endKey: match.end },
    keyColumns: o.keyColumns,
  });
}

type Filter = { pid?: number; tid?: number; comm?: string };
/** includeSelf: keep this process's own syscalls (left out by default, see probes/self.ts). */
type Self = { includeSelf?: boolean };

function requireTracepoints(what: string, names: string[]): void {
  const all = new Set(listTracepoints());
  const missing = names.filter((n) => !all.has(n));
  if (missing.length) throw new NotSupportedError(what, `this kernel has no ${missing.join(", ")} tracepoint${missing.length > 1 ? "s" : ""}`);
}

export const syscalls = {
  /** Time from each syscall's entry to its exit, per key: by "syscall" (named), "comm", "pid", "tid", "cgroup". */
  latency(options: { by?: readonly ("syscall" | "comm" | "pid" | "tid" | "cgroup" | "cpu")[]; where?: Filter; hist?: HistSpec | "stats"; maxKeys?: number } & Self = {}): Aggregation {
    const opts = optionsObject(options, "syscalls.latency()");
    const where = (opts.where ?? {}) as Where<string>;
    return latency({
      start: anyTracepoint("raw_syscalls:sys_enter", { fields: [], where, includeSelf: opts.includeSelf }),
      end: anyTracepoint("raw_syscalls:sys_exit", { fields: [], where, includeSelf: opts.includeSelf }),
      by: opts.by ?? ["syscall"],
      hist: opts.hist,
      maxKeys: opts.maxKeys,
    });
  },
  /** Failed syscalls (negative return) per key, with the error's name: columns keys…, ret, count, errno. */
  errors(options: { by?: readonly ("syscall" | "comm" | "pid" | "tid" | "cgroup" | "cpu")[]; where?: Filter; maxKeys?: number } & Self = {}): Aggregation {
    const opts = optionsObject(options, "syscalls.errors()");
    nameList(opts.by, "by", "syscalls.errors()");
    objectOption(opts.where, "where", "syscalls.errors()", "an object of filters, e.g. { pid: 1234 }");
    const probe = anyTracepoint("raw_syscalls:sys_exit", { fields: [], where: { ...(opts.where ?? {}), ret: { lt: 0 } } as Where<string>, includeSelf: opts.includeSelf });
    return new Aggregation({
      source: "raw_syscalls:sys_exit (ret < 0)",
      probe,
      options: { by: [...(opts.by ?? ["syscall"]), "ret"], maxKeys: opts.maxKeys },
      decorate: (t) => withErrno(t, "ret"),
    });
  },
  /** Syscalls per key (default: per syscall name). */
  count(options: { by?: readonly ("syscall" | "comm" | "pid" | "tid" | "cgroup" | "cpu")[]; where?: Filter; maxKeys?: number } & Self = {}): Aggregation {
    const opts = optionsObject(options, "syscalls.count()");
    return anyTracepoint("raw_syscalls:sys_enter", { fields: [], where: (opts.where ?? {}) as Where<string>, includeSelf: opts.includeSelf }).count({ by: opts.by ?? ["syscall"], maxKeys: opts.maxKeys });
  },
};

export const sched = {
  /**
   * Run-queue latency: from a task's wakeup to when it runs (sched_wakeup/sched_wakeup_new →
   * sched_switch), per key of the task that runs: "comm" and "pid" here mean the woken task.
   */
  runqueueLatency(options: { by?: readonly ("comm" | "pid" | "cpu")[]; hist?: HistSpec | "stats"; maxKeys?: number } = {}): Aggregation {
    const opts = optionsObject(options, "sched.runqueueLatency()");
    requireTracepoints("run-queue latency", ["sched:sched_wakeup", "sched:sched_wakeup_new", "sched:sched_switch"]);
    const by = (nameList(opts.by, "by", "sched.runqueueLatency()") ?? []).map((k) => (k === "comm" ? "next_comm" : k === "pid" ? "next_pid" : k));
    return latency({
      // The current task here is the waker and the task switched out, not the task
      // measured: excluding the tracer by current task would drop other tasks' pairs.
      start: [anyTracepoint("sched:sched_wakeup", { fields: [], includeSelf: true }), anyTracepoint("sched:sched_wakeup_new", { fields: [], includeSelf: true })],
      end: anyTracepoint("sched:sched_switch", { fields: [], includeSelf: true }),
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
  ioLatency(options: { by?: readonly ("dev" | "rwbs")[]; hist?: HistSpec | "stats"; maxKeys?: number } = {}): Aggregation {
    const opts = optionsObject(options, "block.ioLatency()");
    requireTracepoints("block I/O latency", ["block:block_rq_issue", "block:block_rq_complete"]);
    return latency({
      // completions run in whatever task the interrupt hit: never filter by current task
      start: anyTracepoint("block:block_rq_issue", { fields: [], includeSelf: true }),
      end: anyTracepoint("block:block_rq_complete", { fields: [], includeSelf: true }),
      match: { start: ["dev", "sector"], end: ["dev", "sector"] },
      by: opts.by ?? [],
      hist: opts.hist,
      maxKeys: opts.maxKeys,
    });
  },
};
