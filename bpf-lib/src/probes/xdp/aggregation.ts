/* XdpAggregation: packets and bytes (or a size histogram) per key, counted in the
 * kernel; a description until start(). */
import type { BpfObject } from "../../libbpf/object.js";
import { InvalidArgumentError } from "../../errors.js";
import { histSpec } from "../../options/hist.js";
import { nameList, optionsObject } from "../../options/shapes.js";
import { maxKeys as checkMaxKeys } from "../../options/sizes.js";
import { aggregateRunOptions, collectOptions } from "../../options/durations.js";
import type { AggCollectOptions, AggShape, HistSpec } from "../../engine/aggregation-run.js";
import { planXdpKey, type XdpKey, type XdpKeyPlan } from "./keys.js";
import { RunMode } from "./layout.js";
import { TotalsReader } from "./totals.js";
import type { XdpAggregationSource, XdpCountOptions, XdpTable, XdpTarget } from "./types.js";
import { DEFAULT_MAX_KEYS, requireXdpPrivileges } from "./program.js";
import { packetColumns } from "./tables.js";
import { XdpRun } from "./run.js";

export class XdpAggregation implements XdpAggregationSource {
  readonly probe: XdpTarget;
  readonly by: readonly XdpKey[];
  readonly hist: HistSpec | undefined;
  readonly maxKeys: number;
  readonly #plan: XdpKeyPlan;

  /** Validates keys and sizes up front. */
  constructor(probe: XdpTarget, options: XdpCountOptions, hist: HistSpec | undefined) {
    const opts = optionsObject(options, probe.describe());
    nameList(opts.by, "by", probe.describe());
    histSpec(hist, probe.describe());
    for (const k of Object.keys(opts)) if (!["by", "maxKeys", "hist"].includes(k)) throw new InvalidArgumentError(`unknown option "${k}" (options: by, maxKeys${hist ? ", hist" : ""})`);
    this.probe = probe;
    this.hist = hist;
    this.#plan = planXdpKey(opts.by ?? (hist ? [] : ["protocol"]), { bucket: Boolean(hist), ruleNames: probe.rules.map((r) => r.name) });
    this.by = this.#plan.columns;
    this.maxKeys = opts.maxKeys ?? DEFAULT_MAX_KEYS;
    checkMaxKeys(this.maxKeys, probe.describe());
  }

  get source(): string {
    return `${this.probe.describe()} ${this.hist ? "sizes" : "packets"}${this.by.length ? ` by ${this.by.join(", ")}` : ""}`;
  }

  /** The engine's columns (before packetColumns renames them). */
  columns(interval: boolean): string[] {
    const vals = this.hist ? ["bucket", "low", "high", "count"] : ["count", "sum", "min", "max", "avg"];
    return [...(interval ? ["interval", "time"] : []), ...this.by, ...vals];
  }

  shape(interval?: number): AggShape {
    return {
      source: this.source, hist: this.hist, latency: false, maxKeys: this.maxKeys,
      columns: (iv) => this.columns(iv), decorate: (t) => packetColumns(t, interval),
    };
  }

  /** @internal Sets the key layout, histogram and map sizes on an opened object. */
  configure(obj: BpfObject): void {
    const p = this.#plan;
    obj.setConstant("cfg_ncopies", p.ncopies);
    obj.setConstant("cfg_copies", p.copies);
    obj.setConstant("cfg_key_end", p.keyEnd);
    obj.setConstant("cfg_bucket_koff", p.bucketKoff);
    const h = this.hist;
    obj.setConstant("cfg_hist", !h ? 0 : h === "log2" ? 1 : 2);
    if (h && h !== "log2") {
      obj.setConstant("cfg_lmin", BigInt(h.min));
      obj.setConstant("cfg_lmax", BigInt(h.max));
      obj.setConstant("cfg_lstep", BigInt(h.step));
    }
    for (const m of ["agg0", "agg1"]) {
      obj.map(m).setKeySize(p.plan.size);
      obj.map(m).setMaxEntries(this.maxKeys);
    }
    obj.map("events").setMaxEntries(4096);
  }

  /** Loads and attaches; the run stops on its own with seconds/events/signal, or with stop(). */
  start(options: AggCollectOptions = {}): XdpRun {
    const opts = aggregateRunOptions(options, "start()");
    requireXdpPrivileges(`counting packets on ${this.probe.interface}`);
    const obj = this.probe.open(RunMode.aggregate);
    let totals: TotalsReader | null = null;
    try {
      this.configure(obj);
      obj.load();
      totals = new TotalsReader(obj.map("xdp_totals"), this.probe.rules);
    } catch (e) {
      obj.dispose();
      throw e;
    }
    return new XdpRun(this, obj, totals, opts);
  }

  /** Counts until a stop condition; returns the table (one row per key, or per interval and key). */
  async collect(options: AggCollectOptions): Promise<XdpTable> {
    const opts = collectOptions(aggregateRunOptions(options, "collect()"), "collect()");
    return this.start(opts).finished();
  }

  /** @internal */
  keyPlan(): XdpKeyPlan {
    return this.#plan;
  }
}
