/* Aggregations of a uprobe's calls in the kernel (agg.h), read back by the shared
 * AggregationRun. */
import { InvalidArgumentError } from "../../errors.js";
import { histSpec } from "../../options/hist.js";
import { AGGREGATION_EXAMPLE, nameList, optionsObject } from "../../options/shapes.js";
import { maxKeys as checkMaxKeys } from "../../options/sizes.js";
import { aggregateRunOptions, collectOptions } from "../../options/durations.js";
import type { TracepointField } from "../../tracefs/format.js";
import { AggregationRun, type AggCollectOptions, type AggShape, type AggTable } from "../../engine/aggregation-run.js";
import { keyColumns, planKey, type KeyPlan } from "../../engine/keys.js";
import type { UprobeAggregateOptions } from "./types.js";
import type { Layout, UprobeSource } from "./plan.js";

/** An in-kernel aggregation of a uprobe's calls; read back by the shared AggregationRun. */
export class UprobeAggregation {
  readonly source: string;
  readonly #probe: UprobeSource;
  readonly #opts: UprobeAggregateOptions;
  readonly #latency: boolean;
  readonly #plan: KeyPlan;
  readonly #value: TracepointField | null;
  readonly #layout: Layout;
  readonly #maxKeys: number;

  constructor(source: UprobeSource, options: UprobeAggregateOptions, latency: boolean) {
    const opts = optionsObject(options, source.source, AGGREGATION_EXAMPLE);
    const by = nameList(opts.by, "by", source.source) ?? [];
    // Keys by uid, ppid... derive them in the kernel.
    const probe = source.withColumns(by);
    this.#probe = probe;
    this.#opts = opts;
    this.#latency = latency;
    histSpec(opts.hist, probe.source, latency ? ["stats"] : []);
    const hasReturn = probe.retprobe || latency;
    const probeKey = (k: string) => k === "probe" && probe.probeNames !== undefined;
    for (const k of by) if (!["pid", "tid", "comm", "cpu", "cgroup"].includes(k) && !probeKey(k)) probe.field(k, hasReturn, "key");
    if (opts.value === "latency" && !latency) throw new InvalidArgumentError("latency is aggregated with probe.latency()");
    this.#value = opts.value ? probe.field(opts.value, hasReturn, "value") : null;
    if (opts.hist && !opts.value) throw new InvalidArgumentError("a histogram needs a value: an argument (arg0..), ret, or use latency()");
    this.#plan = planKey(by, probe.format, { bucket: Boolean(opts.hist), ...(probe.probeNames ? { probeNames: probe.probeNames } : {}) });
    this.#maxKeys = opts.maxKeys ?? 10240;
    checkMaxKeys(opts.maxKeys, probe.source);
    // On return when anything needs the return (or the time since entry); paired when the return needs the entry.
    const ret = hasReturn;
    const paired = latency || (ret && (probe.nargs > 0 || probe.readsAtEntry));
    this.#layout = { entry: !ret || paired, ret, paired, first: 0, nslots: 0 };
    this.source = `${latency ? "latency " : ""}${probe.source}`;
  }

  /** The table's columns, in order. */
  columns(interval: boolean): string[] {
    const keys = keyColumns(this.#plan);
    const vals = this.#opts.hist ? ["bucket", "low", "high", "count"] : this.#value ? ["count", "sum", "min", "max", "avg"] : ["count"];
    return [...(interval ? ["interval", "time"] : []), ...keys, ...vals];
  }

  shape(): AggShape {
    return { source: this.source, hist: this.#opts.hist, latency: this.#latency, unsigned: this.#value !== null && !this.#value.signed, maxKeys: this.#maxKeys, columns: (i) => this.columns(i) };
  }

  /** Loads and attaches; the run stops on its own with seconds/events/signal, or with stop(). */
  start(options: AggCollectOptions = {}): AggregationRun {
    const opts = aggregateRunOptions(options, "start()");
    const { obj, attach } = this.#probe.configure(this.#layout, { aggregate: { plan: this.#plan, value: this.#value, hist: this.#opts.hist, maxKeys: this.#maxKeys } });
    return new AggregationRun(this.shape(), { objects: [obj], end: obj, attach, plan: this.#plan }, opts);
  }

  /** Aggregates until a stop condition; returns the table (one row per key, or per interval and key). */
  async collect(options: AggCollectOptions): Promise<AggTable> {
    const opts = collectOptions(aggregateRunOptions(options, "collect()"), "collect()");
    return this.start(opts).finished();
  }
}
