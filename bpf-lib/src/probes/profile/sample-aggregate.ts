/* Aggregations of sampled kernel state (sample()): profile.bpf.c's on_sample_read
 * counts into agg.h's maps, read back by the shared AggregationRun. */
import { InvalidArgumentError } from "../../errors.js";
import { histSpec, type HistSpec } from "../../options/hist.js";
import { AGGREGATION_EXAMPLE, nameList, optionsObject } from "../../options/shapes.js";
import { maxKeys as checkMaxKeys } from "../../options/sizes.js";
import { aggregateRunOptions, collectOptions } from "../../options/durations.js";
import { nearest } from "../../tracefs/nearest.js";
import { AggregationRun, type AggCollectOptions, type AggShape, type AggTable } from "../../engine/aggregation-run.js";
import { KeyLayout, keyColumns, type KeyPlan } from "../../engine/keys.js";
import type { DerivedLayout } from "../../engine/derive.js";
import type { SampleRead } from "./reads.js";
import { SAMPLE_STANDARD_KEYS, type SampleAggregateOptions } from "./sample-types.js";
import { loadSampleObject, type ValueAdjust } from "./sample-object.js";

/** What an aggregation needs of its sampler: Sampler implements it, so this file never imports sample.ts. */
export interface SampleSource {
  readonly source: string;
  readonly hz: number;
  readonly cpus: readonly number[];
  readonly pid: number | undefined;
  readonly reads: readonly SampleRead[];
  readonly layout: DerivedLayout;
}

/** For presets: a value transformed in the kernel before it is counted, and the run's name. */
export interface SampleInternals {
  adjust?: ValueAdjust;
  source?: string;
}

/** The key of a sampled aggregation: standard columns of the running task, and reads. */
function planSampleKey(by: readonly string[], reads: readonly SampleRead[], bucket: boolean, what: string): KeyPlan {
  const key = new KeyLayout(by);
  for (const name of by) {
    key.name(name);
    if (key.standard(name)) continue;
    const r = reads.find((x) => x.name === name);
    if (!r) {
      const known = [...SAMPLE_STANDARD_KEYS, ...reads.map((x) => x.name)];
      const near = nearest(name, known, 3);
      throw new InvalidArgumentError(`${what}: unknown key ${JSON.stringify(name)}${near.length ? ` (did you mean ${near.map((n) => JSON.stringify(n)).join(", ")}?)` : ""}; keys are ${known.join(", ")}; add a kernel path to read for it`);
    }
    const doff = r.field.doff;
    if (r.kind.kind === "int") key.int(name, doff, r.kind.size, r.kind.signed);
    else if (r.kind.kind === "string") key.chars(name, doff, r.kind.bytes);
    else key.pointer(name, doff);
  }
  return key.finish(bucket);
}

/** An in-kernel aggregation of sampled kernel state; start()/collect() load and attach it. */
export class SampleAggregation {
  readonly source: string;
  readonly #sampler: SampleSource;
  readonly #hist: HistSpec | undefined;
  readonly #plan: KeyPlan;
  readonly #value: SampleRead | null;
  readonly #maxKeys: number;
  readonly #adjust: ValueAdjust;

  /** @internal use sample(...).count() / stats() / hist() / lhist() / aggregate() */
  constructor(sampler: SampleSource, options: SampleAggregateOptions, internals: SampleInternals = {}) {
    const what = sampler.source;
    const opts = optionsObject(options, what, AGGREGATION_EXAMPLE);
    this.#sampler = sampler;
    const by = nameList(opts.by, "by", what) ?? [];
    this.#hist = histSpec(opts.hist, what);
    this.#value = null;
    if (opts.value !== undefined) {
      const r = sampler.reads.find((x) => x.name === opts.value);
      const ints = sampler.reads.filter((x) => x.kind.kind === "int").map((x) => x.name);
      if (!r) throw new InvalidArgumentError(`${what}: value ${JSON.stringify(opts.value)} is not one of the reads (${ints.join(", ") || "there are none: add one to sample({ read })"})`);
      if (r.kind.kind !== "int") throw new InvalidArgumentError(`${what}: value ${JSON.stringify(opts.value)} reads ${r.path.type}, not an integer; ${r.kind.kind === "string" ? "strings" : "addresses"} can be keys (by) but not values${ints.length ? `; integer reads: ${ints.join(", ")}` : ""}`);
      this.#value = r;
    }
    if (this.#hist && !this.#value) throw new InvalidArgumentError(`${what}: a histogram needs a value: one of the integer reads`);
    this.#plan = planSampleKey(by, sampler.reads, Boolean(this.#hist), what);
    this.#maxKeys = checkMaxKeys(opts.maxKeys, what);
    this.#adjust = internals.adjust ?? "none";
    const kind = !this.#value ? "count" : !this.#hist ? "stats" : this.#hist === "log2" ? "hist" : "lhist";
    this.source = internals.source ?? `${what}: ${kind}${this.#value ? ` of ${this.#value.name}` : ""}`;
  }

  /** The table's columns, in order. */
  columns(interval: boolean): string[] {
    const keys = keyColumns(this.#plan);
    const vals = this.#hist ? ["bucket", "low", "high", "count"] : this.#value ? ["count", "sum", "min", "max", "avg"] : ["count"];
    return [...(interval ? ["interval", "time"] : []), ...keys, ...vals];
  }

  shape(): AggShape {
    const v = this.#value?.kind;
    return { source: this.source, hist: this.#hist, latency: false, unsigned: v?.kind === "int" && !v.signed, maxKeys: this.#maxKeys, columns: (i) => this.columns(i) };
  }

  /** Loads and attaches (a perf event per CPU); the run stops with seconds/events/signal, or stop(). */
  start(options: AggCollectOptions = {}): AggregationRun {
    const opts = aggregateRunOptions(options, "start()");
    const s = this.#sampler;
    const v = this.#value;
    const { obj, attach } = loadSampleObject({
      source: this.source, hz: s.hz, cpus: s.cpus, pid: s.pid, derived: s.layout, plan: this.#plan,
      value: v && v.kind.kind === "int" ? { woff: v.field.doff, size: v.kind.size, signed: v.kind.signed } : null,
      adjust: this.#adjust, hist: this.#hist, maxKeys: this.#maxKeys,
    });
    return new AggregationRun(this.shape(), { objects: [obj], end: obj, attach, plan: this.#plan }, opts);
  }

  /** Samples until a stop condition (seconds, events, signal); returns the table (one row per key, or per interval and key). */
  async collect(options: AggCollectOptions): Promise<AggTable> {
    const opts = collectOptions(aggregateRunOptions(options, "collect()"), "collect()");
    return this.start(opts).finished();
  }
}
