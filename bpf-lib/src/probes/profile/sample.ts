/* sample(): kernel state read at each CPU sample. The profiler's cpu-clock sampling
 * (one perf event per CPU at `hz`), but instead of stacks the program reads values
 * through kernel pointers from the task that was running (the run-queue length
 * `current.se.cfs_rq.nr_queued`, its priority, its cgroup's ...) and aggregates them in
 * the kernel: count, stats or a histogram per key. A description: nothing reaches the
 * kernel until start()/collect() of one of its aggregations. */
import { InvalidOptionError } from "../../errors.js";
import { AGGREGATION_EXAMPLE, integerIn, optionsObject } from "../../options/shapes.js";
import { cpuList } from "../../options/cpus.js";
import { processId } from "../../options/ranges.js";
import { linearRange, type HistSpec } from "../../options/hist.js";
import { onlineCpus } from "./perf.js";
import { planReads, type SampleRead } from "./reads.js";
import type { DerivedLayout } from "../../engine/derive.js";
import type { SampleAggregateOptions, SampleOptions, SampleStandardKey } from "./sample-types.js";
import { SampleAggregation, type SampleSource } from "./sample-aggregate.js";

type KeyOpts<R extends string> = { by?: readonly (R | SampleStandardKey)[]; maxKeys?: number };

/** What sample() returns: a description of the sampling; its aggregations start it. */
export class Sampler<R extends string = string> implements SampleSource {
  readonly source: string;
  readonly hz: number;
  readonly cpus: readonly number[];
  readonly pid: number | undefined;
  readonly reads: readonly SampleRead[];
  readonly layout: DerivedLayout;

  /** @internal use sample() */
  constructor(options: SampleOptions<R>) {
    const what = "sample()";
    const o = optionsObject(options, what, '{ hz: 99, read: { runqlen: "current.se.cfs_rq.nr_queued" } }');
    for (const k of Object.keys(o)) if (!["hz", "cpus", "pid", "read", "stringBytes"].includes(k)) throw new InvalidOptionError(what, k, (o as Record<string, unknown>)[k], "left out: sample() takes hz, cpus, pid, read and stringBytes (the aggregation takes by, value, hist, maxKeys; collect() takes seconds)");
    this.hz = integerIn(o.hz, "hz", what, 1, 100000) ?? 99;
    const online = onlineCpus();
    this.cpus = cpuList(o.cpus, online, what) ?? online;
    processId(o.pid, "pid", what);
    this.pid = o.pid;
    const { reads, layout } = planReads(o.read, o.stringBytes, what);
    this.reads = reads;
    this.layout = layout;
    const names = reads.map((r) => `${r.name} = current.${r.path.path}`);
    this.source = `sample ${this.hz} Hz${this.pid !== undefined ? ` pid ${this.pid}` : ""}${names.length ? ` (${names.join(", ")})` : ""}`;
  }

  /** Aggregates in the kernel: keys from `by`, an optional value (a read), an optional histogram. */
  aggregate(opts: SampleAggregateOptions<R> = {}): SampleAggregation {
    return new SampleAggregation(this, opts);
  }
  /** Samples per key (bpftrace's `profile:hz:99 { @[cpu] = count(); }`). */
  count(opts: KeyOpts<R> = {}): SampleAggregation {
    return this.aggregate(opts);
  }
  /** count, sum, min, max, avg of a read, per key. */
  stats(value: R, opts: KeyOpts<R> = {}): SampleAggregation {
    return this.aggregate({ ...optionsObject(opts, this.source, AGGREGATION_EXAMPLE), value });
  }
  /** A log2 histogram of a read, per key. */
  hist(value: R, opts: KeyOpts<R> = {}): SampleAggregation {
    return this.aggregate({ ...optionsObject(opts, this.source, AGGREGATION_EXAMPLE), value, hist: "log2" });
  }
  /** A linear histogram of a read, per key (bpftrace's lhist(): small integers such as queue lengths). */
  lhist(value: R, range: Exclude<HistSpec, "log2">, opts: KeyOpts<R> = {}): SampleAggregation {
    return this.aggregate({ ...optionsObject(opts, this.source, AGGREGATION_EXAMPLE), value, hist: linearRange(range, this.source) });
  }
}

/**
 * Samples every CPU at `hz` and reads kernel values from the task running at each
 * sample; aggregate them with count()/stats()/hist()/lhist():
 *
 *   sample({ hz: 99, read: { queued: "current.se.cfs_rq.nr_queued" } })
 *     .lhist("queued", { min: 0, max: 10, step: 1 }, { by: ["cpu"] })
 *     .collect({ seconds: 5 })
 */
export function sample<const R extends string = never>(options: SampleOptions<R> = {}): Sampler<R> {
  return new Sampler<R>(options);
}
