/* Aggregations of a kernel function probe in the kernel (agg.h), read back by the
 * shared AggregationRun. */
import { InvalidArgumentError } from "../../errors.js";
import { Trace, type CollectOptions, type StopOptions } from "../../engine/trace.js";
import type { TraceTable } from "../../engine/table.js";
import { collect } from "../../engine/consume.js";
import { AggregationRun, type AggCollectOptions, type AggShape, type AggTable } from "../../engine/aggregation-run.js";
import { encodeParts, keyColumns, type KeyPlan } from "../../engine/keys.js";
import { histSpec } from "../../options/hist.js";
import { AGGREGATION_EXAMPLE, nameList, optionsObject, stringOption } from "../../options/shapes.js";
import { maxKeys as checkMaxKeys } from "../../options/sizes.js";
import { aggregateRunOptions, collectOptions } from "../../options/durations.js";
import type { KernelFunctionAggregateOptions } from "./types.js";
import { HIST, type Col, type KernelFunctionSource, planKey, woffOf } from "./plan.js";

/** An aggregation of a kernel function probe: a spec until start()/collect(), then an AggregationRun. */
export class KernelFunctionAggregation {
  readonly probe: KernelFunctionSource;
  readonly options: KernelFunctionAggregateOptions;
  /** Values are entry → return latencies (ns). */
  readonly isLatency: boolean;
  readonly #plan: KeyPlan;
  readonly #keyCols: Col[];
  readonly #value: Col | null;

  constructor(source: KernelFunctionSource, options: KernelFunctionAggregateOptions, latency: boolean) {
    const what = source.label;
    const opts = optionsObject(options, what, AGGREGATION_EXAMPLE);
    // Keys by uid, ppid... derive them in the kernel.
    const probe = Array.isArray(opts.by) ? source.withColumns(opts.by as readonly string[]) : source;
    this.probe = probe;
    this.options = opts;
    this.isLatency = latency;
    nameList(opts.by, "by", what);
    const h = histSpec(opts.hist, what, latency ? ["stats"] : []);
    if (opts.value !== undefined) stringOption(opts.value, "value", what, "the name of an integer argument, ret or latency");
    let value: Col | null = null;
    if (latency) value = probe.column("latency");
    else if (opts.value !== undefined) {
      value = probe.column(opts.value);
      if (value.decl.kind !== "int" || value.string) throw new InvalidArgumentError(`value "${opts.value}" must be an integer argument, ret or latency; it is ${value.type}`);
    }
    if (h && !value) throw new InvalidArgumentError("a histogram needs a value: { value: <integer argument, ret or latency> } (or use latency())");
    this.#value = value;
    const { plan, cols } = planKey(opts.by ?? [], probe, { stringBytes: opts.stringBytes, bucket: Boolean(h) });
    this.#plan = plan;
    this.#keyCols = cols;
    const maxKeys = opts.maxKeys ?? 10240;
    checkMaxKeys(maxKeys, what);
  }

  /** The table's columns, in order. */
  columns(interval: boolean): string[] {
    const keys = keyColumns(this.#plan);
    const vals = this.options.hist ? ["bucket", "low", "high", "count"] : this.#value ? ["count", "sum", "min", "max", "avg"] : ["count"];
    return [...(interval ? ["interval", "time"] : []), ...keys, ...vals];
  }

  shape(source: string): AggShape {
    return { source, hist: this.options.hist, latency: this.isLatency, unsigned: this.#value !== null && this.#value.decl.kind === "int" && !this.#value.decl.signed, maxKeys: this.options.maxKeys ?? 10240, columns: (interval) => this.columns(interval) };
  }

  /** Loads and attaches; the run stops on its own with seconds/events/signal, or with stop(). */
  start(options: AggCollectOptions = {}): AggregationRun {
    const opts = aggregateRunOptions(options, "start()");
    const o = this.options;
    const value = this.#value;
    const uses = [...this.#keyCols, ...(value ? [value] : [])];
    const opened = this.probe.openAggregate(uses, uses.some((c) => c.column === "latency"), (obj) => {
      obj.setConstant("cfg_aggregate", 1);
      obj.map("events").setMaxEntries(4096);
      obj.setConstant("cfg_nparts", this.#plan.parts.length);
      obj.setConstant("cfg_parts", encodeParts(this.#plan.parts));
      obj.setConstant("cfg_key_words", this.#plan.size / 8);
      obj.setConstant("cfg_cache", 1); // AggregationRun merges agg_cache into the maps' rows
      for (const m of ["agg0", "agg1"]) {
        obj.map(m).setKeySize(this.#plan.size);
        obj.map(m).setMaxEntries(o.maxKeys ?? 10240);
      }
      obj.setConstant("cfg_value_src", value ? 1 : 0);
      if (value && value.decl.kind === "int") {
        obj.setConstant("cfg_value_woff", woffOf(value));
        obj.setConstant("cfg_value_size", value.decl.size);
        obj.setConstant("cfg_value_signed", value.decl.signed ? 1 : 0);
      }
      const h = o.hist;
      obj.setConstant("cfg_hist", !h ? HIST.none : h === "log2" ? HIST.log2 : HIST.linear);
      if (h && h !== "log2") {
        obj.setConstant("cfg_lmin", BigInt(h.min));
        obj.setConstant("cfg_lmax", BigInt(h.max));
        obj.setConstant("cfg_lstep", BigInt(h.step));
      }
    });
    const source = this.isLatency ? `latency ${opened.source}` : opened.source;
    return new AggregationRun(this.shape(source), { objects: [opened.obj], end: opened.obj, attach: () => opened.links, plan: this.#plan }, opts);
  }

  /** Aggregates until a stop condition; returns the table (one row per key, or per interval and key). */
  async collect(options: AggCollectOptions): Promise<AggTable> {
    const opts = collectOptions(aggregateRunOptions(options, "collect()"), "collect()");
    return this.start(opts).finished();
  }

  /** Latency as events instead of an aggregate: one row per call with the standard columns and `latency` (ns). */
  startEvents(stop: StopOptions = {}): Trace {
    if (!this.isLatency) throw new InvalidArgumentError("startEvents() streams latency pairs; for other aggregations use the probe's own start()/collect()");
    return this.probe.latencyEvents().start(stop);
  }

  /** Collects latency pairs as rows (see startEvents). */
  collectEvents(opts: CollectOptions): Promise<TraceTable> {
    return collect((o) => this.startEvents(o), opts);
  }
}
