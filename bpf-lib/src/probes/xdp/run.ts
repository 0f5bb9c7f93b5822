/* XdpRun: a running XDP aggregation on the shared AggregationRun, with the program's
 * own totals and rule counters. */
import type { ColumnTable } from "arquero";
import type { BpfObject } from "../../libbpf/object.js";
import type { Link } from "../../libbpf/link.js";
import { AggregationRun, type AggCollectOptions, type AggTable } from "../../engine/aggregation-run.js";
import type { XdpAttachedMode } from "./attach.js";
import { TotalsReader, type RuleInfo, type XdpTotals } from "./totals.js";
import type { XdpAggregationSource, XdpInfo, XdpStats, XdpTable } from "./types.js";
import { packetColumns, ruleTable, withStats } from "./tables.js";

/** A running XDP aggregation: attached until stop() (or its stop condition). */
export class XdpRun implements Disposable {
  readonly source: string;
  readonly interface: string;
  readonly rules: readonly RuleInfo[];
  readonly #run: AggregationRun;
  readonly #totals: TotalsReader;
  readonly #info: XdpInfo;
  readonly #done: Promise<XdpTable>;

  /** @internal use XdpAggregation.start() */
  constructor(agg: XdpAggregationSource, obj: BpfObject, totals: TotalsReader, opts: AggCollectOptions) {
    const probe = agg.probe;
    this.source = agg.source;
    this.interface = probe.interface;
    this.rules = probe.rules;
    this.#totals = totals;
    const info: XdpInfo = { interface: probe.interface, ifindex: probe.ifindex, mode: "native", programId: 0, dryRun: Boolean(probe.options.dryRun) };
    this.#info = info;
    const wrap = (t: AggTable): XdpTable => this.#wrap(t);
    const attach = (): Link[] => {
      const a = probe.attach(obj);
      info.mode = a.mode;
      info.programId = a.programId;
      return [a.link];
    };
    const runOpts: AggCollectOptions = {
      ...opts,
      onInterval: opts.onInterval && ((t, n) => opts.onInterval!(wrap(t), n)),
      live: opts.live && ((t) => opts.live!(wrap(t))),
    };
    try {
      this.#run = new AggregationRun(agg.shape(opts.interval), { objects: [obj], end: obj, attach, plan: agg.keyPlan().plan }, runOpts);
    } catch (e) {
      totals.close();
      throw e;
    }
    this.#done = this.#run.finished().then(
      (t) => {
        this.#totals.close();
        return wrap(t);
      },
      (e) => {
        this.#totals.close();
        throw e;
      },
    );
    this.#done.catch(() => {}); // reported to whoever awaits finished()
  }

  #wrap(t: AggTable): XdpTable {
    const table = packetColumns(t);
    return withStats<XdpStats>(table, { ...t.stats, ...this.#totals.read(), ...this.#info });
  }

  get running(): boolean {
    return this.#run.running;
  }

  /** How the program is attached ("native" or "generic"). */
  get mode(): XdpAttachedMode {
    return this.#info.mode;
  }

  get programId(): number {
    return this.#info.programId;
  }

  /** The rows so far without stopping (see AggregationRun.snapshot). */
  snapshot(): XdpTable {
    return this.#wrap(this.#run.snapshot());
  }

  /** The program's counters now: packets seen, rule matches and drops. */
  totals(): XdpTotals {
    return this.#totals.read();
  }

  /** Rule counters as a table: rule, name, action, match, packets, bytes. */
  ruleCounts(): ColumnTable {
    return ruleTable(this.#totals.read().rules);
  }

  /** Detaches (the rules stop acting at once) and resolves when the table is final. */
  async stop(): Promise<void> {
    await this.#run.stop();
    await this.#done.catch(() => {});
  }

  /** Waits for a stop condition, then returns the table. */
  finished(): Promise<XdpTable> {
    return this.#done;
  }

  describe(): string {
    const t = this.#totals.read();
    return `${this.#run.describe()}; ${t.packetsSeen} packets seen on ${this.interface} (${this.mode})${t.xdpDropped ? `, ${t.xdpDropped} dropped by rules` : ""}${t.wouldDrop ? `, ${t.wouldDrop} would be dropped` : ""}`;
  }

  [Symbol.dispose](): void {
    this.#run[Symbol.dispose]();
  }
}
