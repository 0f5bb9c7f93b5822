/* Aggregations of several record sources into one table (a group of tracepoints):
 * one aggregate program per source, all counting into the first one's agg0/agg1/ctl
 * maps under keys laid out alike, read back by one AggregationRun whose stats sum
 * every program's counters. */
import type { BpfObject } from "../libbpf/object.js";
import type { Link } from "../libbpf/link.js";
import { InvalidArgumentError } from "../errors.js";
import { requireTracingPrivileges } from "../privileges.js";
import { aggregateRunOptions, collectOptions } from "../options/durations.js";
import type { Aggregation } from "./aggregation.js";
import { AggregationRun, type AggCollectOptions, type AggTable, type RunSetup } from "./aggregation-run.js";
import type { KeyPlan } from "./keys.js";

/** The key bytes a plan lays out: every member must agree, or their counts would mix. */
const layoutOf = (p: KeyPlan) => `${p.size}:${p.parts.map((x) => `${x.column}@${x.koff}+${x.size}`).join(",")}`;

export class AggregationGroup {
  readonly source: string;
  readonly members: readonly Aggregation[];

  /** @internal `members` aggregate one source each with the same options (tracepoints(...).count() makes them). */
  constructor(source: string, members: readonly Aggregation[]) {
    this.source = source;
    this.members = members;
  }

  /** The table's columns, in order. */
  columns(interval: boolean): string[] {
    return this.members[0].columns(interval);
  }

  /** Loads every member, attaches them all; the run stops on its own with seconds/events/signal, or with stop(). */
  start(options: AggCollectOptions = {}): AggregationRun {
    const opts = aggregateRunOptions(options, "start()");
    requireTracingPrivileges(`aggregating ${this.source}`);
    const setups: RunSetup[] = [];
    try {
      for (const m of this.members) {
        const s = m.loadShared(setups[0]?.end);
        setups.push(s);
        if (layoutOf(s.plan) !== layoutOf(setups[0].plan)) {
          throw new InvalidArgumentError(`${this.source}: ${m.spec.probe.source} lays its key out as ${layoutOf(s.plan)}, ${this.members[0].spec.probe.source} as ${layoutOf(setups[0].plan)}; key by fields every tracepoint has with the same size`);
        }
      }
    } catch (e) {
      for (const s of setups.reverse()) for (const o of [...s.objects].reverse()) o.dispose();
      throw e;
    }
    const objects: BpfObject[] = setups.flatMap((s) => s.objects);
    const attach = (): Link[] => {
      const links: Link[] = [];
      try {
        for (const s of setups) links.push(...s.attach());
      } catch (e) {
        for (const l of links.reverse()) l.dispose();
        throw e;
      }
      return links;
    };
    return new AggregationRun(this.members[0].shape(), { objects, end: setups[0].end, attach, plan: setups[0].plan, counted: setups.map((s) => s.end) }, opts);
  }

  /** Aggregates until a stop condition; returns the table (one row per key, or per interval and key). */
  async collect(options: AggCollectOptions): Promise<AggTable> {
    const opts = collectOptions(aggregateRunOptions(options, "collect()"), "collect()");
    return this.start(opts).finished();
  }
}
