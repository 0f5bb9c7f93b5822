/* The options of sample() (kernel state read at each CPU sample) and of its
 * aggregations, and of the run-queue length preset built on it. */
import type { HistSpec } from "../../options/hist.js";

/** Keys every sampled aggregation has besides its reads: what was running, where. */
export const SAMPLE_STANDARD_KEYS = ["cpu", "pid", "tid", "comm", "cgroup"] as const;
export type SampleStandardKey = (typeof SAMPLE_STANDARD_KEYS)[number];

export interface SampleOptions<R extends string = string> {
  /** Samples per second on each CPU (default 99). */
  hz?: number;
  /** CPUs to sample (default: every online CPU). */
  cpus?: readonly number[];
  /** Only samples taken while this process (tgid) runs; the others are counted in stats.filtered. Default: every sample, the idle task's too. */
  pid?: number;
  /**
   * Values read at each sample, by the name they take as columns: a kernel path from the
   * current task (`"current.se.cfs_rq.nr_queued"`, bpftrace's `curtask->se.cfs_rq->nr_queued`;
   * see docs/kernel-paths.md). Integers can be keys and values; strings and addresses keys.
   */
  read?: { readonly [K in R]: string };
  /** Bytes kept of a string read through a `char *` (default 32, with its NUL). */
  stringBytes?: number;
}

export interface SampleAggregateOptions<R extends string = string> {
  /** Keys: cpu, pid, tid, comm, cgroup (of the task that was running) and reads. */
  by?: readonly (R | SampleStandardKey)[];
  /** The read aggregated (default: count samples). */
  value?: R;
  hist?: HistSpec;
  /** Distinct keys (× buckets) the kernel's map holds (default 10240); more are counted in stats.dropped. */
  maxKeys?: number;
}

/** sched.runqueueLength() / runqueueLength(). */
export interface RunqueueLengthOptions {
  /** Samples per second on each CPU (default 99, as bcc's runqlen). */
  hz?: number;
  cpus?: readonly number[];
  /** Keys: "cpu" for a histogram per CPU (bcc's `runqlen -C`). Default: one histogram. */
  by?: readonly ("cpu" | "pid" | "comm")[];
  /**
   * Which queue: "task" (default) the CFS queue of the task that was running, as bcc's
   * runqlen and bpftrace's runqlen.bt read it (its own task group's on that CPU: with
   * autogroups or the cpu cgroup controller, tasks of other groups are not in it);
   * "cpu" the CPU's whole run queue (`rq->nr_running`: every scheduling class and group).
   */
  queue?: "task" | "cpu";
  /** A linear { min, max, step } (default { min: 0, max: 32, step: 1 }), "log2", or "stats" (count/sum/min/max/avg). */
  hist?: HistSpec | "stats";
  maxKeys?: number;
}
