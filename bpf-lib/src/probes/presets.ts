/* Built-in aggregations: syscall latency, errors and counts, run-queue latency, block
 * I/O latency, each on this kernel's tracepoints with documented column names; block
 * I/O requests as pairs (biosnoop); and the run-queue length, sampled (profile/runqueue.ts). */
import { anyTracepoint, type Where } from "./tracepoint/probe.js";
import { Aggregation } from "../engine/aggregation.js";
import type { HistSpec } from "../engine/aggregation-run.js";
import { listTracepoints } from "../tracefs/catalog.js";
import { InvalidOptionError, NotSupportedError } from "../errors.js";
import { withErrno } from "../analysis/errno.js";
import { integerIn, nameList, objectOption, optionsObject } from "../options/shapes.js";
import { latency } from "./latency.js";
import { pair, type Pair } from "./pair.js";
import type { TracepointProbe } from "./tracepoint/probe.js";
import { runqueueLength } from "./profile/runqueue.js";

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
   * `where` keeps one woken task: pid is its thread id (the sched tracepoints carry the
   * woken task's thread id and comm, not its process), comm its command name.
   */
  runqueueLatency(options: { by?: readonly ("comm" | "pid" | "cpu")[]; where?: { pid?: number; comm?: string }; hist?: HistSpec | "stats"; maxKeys?: number } = {}): Aggregation {
    const opts = optionsObject(options, "sched.runqueueLatency()");
    requireTracepoints("run-queue latency", ["sched:sched_wakeup", "sched:sched_wakeup_new", "sched:sched_switch"]);
    const by = (nameList(opts.by, "by", "sched.runqueueLatency()") ?? []).map((k) => (k === "comm" ? "next_comm" : k === "pid" ? "next_pid" : k));
    const w = objectOption(opts.where, "where", "sched.runqueueLatency()", "{ pid, comm } of the woken task") as { pid?: number; comm?: string };
    for (const k of Object.keys(w)) if (k !== "pid" && k !== "comm") throw new InvalidOptionError("sched.runqueueLatency()", `where.${k}`, (w as Record<string, unknown>)[k], "left out: where takes pid and comm (of the woken task)");
    // the woken task is a field of each record (the current task is someone else)
    const woken = { ...(w.pid !== undefined ? { args_pid: w.pid } : {}), ...(w.comm !== undefined ? { args_comm: w.comm } : {}) } as Where<string>;
    const next = { ...(w.pid !== undefined ? { next_pid: w.pid } : {}), ...(w.comm !== undefined ? { next_comm: w.comm } : {}) } as Where<string>;
    return latency({
      // The current task here is the waker and the task switched out, not the task
      // measured: excluding the tracer by current task would drop other tasks' pairs.
      start: [anyTracepoint("sched:sched_wakeup", { fields: [], where: woken, includeSelf: true }), anyTracepoint("sched:sched_wakeup_new", { fields: [], where: woken, includeSelf: true })],
      end: anyTracepoint("sched:sched_switch", { fields: [], where: next, includeSelf: true }),
      match: { start: ["args_pid"], end: ["next_pid"] },
      by,
      hist: opts.hist,
      maxKeys: opts.maxKeys,
      keyColumns: { next_comm: "comm", next_pid: "pid" },
    });
  },
  /**
   * Run-queue length: how many tasks wait behind the running one, sampled on every CPU
   * (99 Hz), as a linear histogram; bcc's runqlen (`by: ["cpu"]`: runqlen -C).
   */
  runqueueLength,
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
  /**
   * Block I/O requests, one row each (biosnoop): issue → completion matched by device and
   * sector. Rows: the completion's dev, sector, nr_sector, error, rwbs; from the issue, its
   * bytes and the issuing task as start_pid and start_comm (completions run in whatever
   * task the interrupt hit); `latency` in ns. `dev` keeps one device (dev_t as the block
   * tracepoints carry it: major << 20 | minor).
   */
  requests(options: { dev?: number; bufferBytes?: number } = {}): Pair<TracepointProbe<"block:block_rq_issue", "bytes">, TracepointProbe<"block:block_rq_complete", "dev" | "sector" | "nr_sector" | "error" | "rwbs">, "pid" | "comm"> {
    const opts = optionsObject(options, "block.requests()");
    requireTracepoints("block I/O requests", ["block:block_rq_issue", "block:block_rq_complete"]);
    integerIn(opts.dev, "dev", "block.requests()", 0, 0xffffffff);
    const where = (opts.dev === undefined ? {} : { dev: opts.dev }) as Where<string>;
    // completions run in whatever task the interrupt hit: never filter by current task
    const issue = anyTracepoint("block:block_rq_issue", { fields: ["bytes"], where, includeSelf: true }) as unknown as TracepointProbe<"block:block_rq_issue", "bytes">;
    const complete = anyTracepoint("block:block_rq_complete", { fields: ["dev", "sector", "nr_sector", "error", "rwbs"], where, includeSelf: true }) as unknown as TracepointProbe<"block:block_rq_complete", "dev" | "sector" | "nr_sector" | "error" | "rwbs">;
    return pair(issue, complete, { match: { start: ["dev", "sector"], end: ["dev", "sector"] }, startTask: ["pid", "comm"], bufferBytes: opts.bufferBytes });
  },
};
