/* cachestat: page cache insertions (misses that read or write a new folio), removals and
 * dirtyings from tracepoints, per interval; and where kernel functions can be traced, bcc's
 * hits, misses and hit ratio from the functions that mark accesses (cachestat-hits.ts).
 * No tracepoint marks a page cache hit: elsewhere the tool's notice says why there is no
 * hit ratio. The tracepoints are one aggregation run (the run start() returns); the
 * functions' counters run beside it and are read at its interval boundaries, so each
 * interval's hits belong to the same time as its insertions. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { tracepoints } from "../probes/tracepoint/group.js";
import { listTracepoints } from "../tracefs/catalog.js";
import type { AggCollectOptions, AggStats, AggTable, AggregationRun } from "../engine/aggregation-run.js";
import { aggregateRunOptions, collectOptions } from "../options/durations.js";
import { bar } from "../plot/bar.js";
import { timeseries } from "../plot/timeseries.js";
import { NotSupportedError } from "../errors.js";
import { UntraceableKernelFunctionError } from "../probes/fentry/errors.js";
import { CACHESTAT } from "./catalog.js";
import { toolColumns } from "./shared.js";
import { aggregationTool, filterOf, toolOptions, type AggregationTool, type ToolFilter } from "./tool.js";
import { HitCounters, hitDelta, hitPlan, hitRatio, noHitRatio, NO_HITS, type HitCounts, type HitFunctions } from "./cachestat-hits.js";

export type CachestatOptions = ToolFilter;
export type { HitFunctions } from "./cachestat-hits.js";

/** cachestat: an aggregation tool that says whether, and from what, it counts hits. */
export interface CachestatTool extends AggregationTool {
  /**
   * Why this machine's tables have no hits, misses and ratio (the kernel's reasons), or null
   * when they have them. Reading it asks the doctor's probes of fentry and kprobes (once per
   * process); a start that the kernel refused anyway leaves its NotSupportedError's words here.
   */
  readonly notice: string | null;
  /** The kernel functions counted for the hit ratio here, or null (see notice). */
  readonly hitFunctions: HitFunctions | null;
  /** The counters of the last start, as their runs name them ("fentry:folio_mark_accessed", ...); [] before one, or without a hit ratio. */
  readonly hitSources: readonly string[];
}

const ADD = "filemap:mm_filemap_add_to_page_cache";
const DELETE = "filemap:mm_filemap_delete_from_page_cache";
/** The dirtying tracepoint: folios since 5.17, pages before. */
const DIRTY = ["writeback:writeback_dirty_folio", "writeback:writeback_dirty_page"];

/** One start with a hit ratio: its tracepoint run, the counters beside it, and their reads at its interval boundaries. */
interface HitRun {
  main: AggregationRun;
  counters: HitCounters;
  /** The counters at the end of each interval read (by interval index), and the run's seconds then. */
  marks: HitCounts[];
  seconds: number[];
  /** The counters when the run finished. */
  final: HitCounts | null;
}

interface Sums {
  added: number;
  removed: number;
  dirtied: number;
}

/**
 * Folios added to the page cache, removed from it and dirtied, counted in the kernel (per
 * interval with `collect({ interval })`); one row per interval (or one in all). Where kernel
 * functions can be traced, also `hits`, `misses` and `ratio` (hits / accesses, null without
 * accesses) as bcc's cachestat computes them. pid and comm keep the events of that task: a
 * removal is counted in the task that evicts or truncates.
 */
export function cachestat(options?: CachestatOptions): CachestatTool {
  const o = toolOptions(options, CACHESTAT);
  const all = new Set(listTracepoints());
  for (const n of [ADD, DELETE]) if (!all.has(n)) throw new NotSupportedError("tools.cachestat()", `this kernel has no ${n} tracepoint`);
  const dirty = DIRTY.find((n) => all.has(n));
  if (dirty === undefined) throw new NotSupportedError("tools.cachestat()", `this kernel has no ${DIRTY.join(" or ")} tracepoint`);
  const agg = tracepoints([ADD, DELETE, dirty], { fields: [], where: filterOf(o) }).count({ by: ["probe"] });

  /** Runs with a hit ratio, by their tables' stats.startNs (every table of a run carries it). */
  const runs = new Map<number, HitRun>();
  /** A start's NotSupportedError from the kernel, which overrides what the plan expected. */
  let refused: string | null = null;
  let sources: readonly string[] = [];

  /** Reads the counters at the end of interval `n - 1` (and at the end of the run). */
  const mark = (h: HitRun, t: AggTable, n: number) => {
    if (!h.main.running) {
      h.final ??= h.counters.read();
      void h.counters.stop();
    }
    if (n > 0 && h.marks[n - 1] === undefined) {
      h.marks[n - 1] = h.final ?? h.counters.read();
      h.seconds[n - 1] = t.stats.seconds;
    }
  };

  const start = (options?: AggCollectOptions): AggregationRun => {
    const opts = aggregateRunOptions(options, "tools.cachestat().start()");
    const p = refused === null ? hitPlan() : { missing: refused };
    if (!p.functions) return agg.start(opts);
    // the counters first: loading them is the tracer's own page cache use, which the tracepoints would count alone
    let counters: HitCounters;
    try {
      counters = new HitCounters(p.functions, filterOf(o));
    } catch (e) {
      if (!(e instanceof NotSupportedError || e instanceof UntraceableKernelFunctionError)) throw e;
      // the kernel refused what its lists allowed (all kernel functions, or one of these): the run goes on without a hit ratio, and says why
      refused = noHitRatio(e.message);
      return agg.start(opts);
    }
    let h: HitRun | null = null;
    const user = opts.onInterval;
    let main: AggregationRun;
    try {
      // every interval read (and the last read) takes the counters' reading with it
      main = agg.start({
        ...opts,
        onInterval: (t, n) => {
          if (h) mark(h, t, n);
          user?.(t, n);
        },
      });
    } catch (e) {
      counters.dispose();
      throw e;
    }
    sources = counters.sources;
    h = { main, counters, marks: [], seconds: [], final: null };
    runs.set(main.snapshot().stats.startNs, h);
    // a run that ends in an error reads no last interval: the counters stop with it all the same
    void main.finished().catch(() => {}).finally(() => counters.stop());
    return main;
  };

  const source = {
    start,
    async collect(opts: AggCollectOptions): Promise<AggTable> {
      return start(collectOptions(opts, "tools.cachestat().collect()")).finished();
    },
  };

  /** The tracepoint counts per interval (or in all). */
  const sumsOf = (t: ColumnTable, keys: string[]) =>
    t
      .params({ add: ADD, del: DELETE, dirty })
      .groupby(...keys)
      .rollup({
        added: (d: { probe: string; count: number }, $: { add: string }) => aq.op.sum(d.probe === $.add ? d.count : 0),
        removed: (d: { probe: string; count: number }, $: { del: string }) => aq.op.sum(d.probe === $.del ? d.count : 0),
        dirtied: (d: { probe: string; count: number }, $: { dirty: string }) => aq.op.sum(d.probe === $.dirty ? d.count : 0),
      });

  /** The counters' reading at the end of interval i: read then, or (not read yet) now. */
  const at = (h: HitRun, i: number): HitCounts => (i < 0 ? NO_HITS : h.marks[i] ?? h.final ?? h.counters.read());

  const shape = (t: ColumnTable) => {
    const interval = t.columnNames().includes("interval");
    const stats = (t as { stats?: AggStats }).stats;
    const h = stats ? runs.get(stats.startNs) : undefined;
    if (!h) {
      // totals with no event at all are zeros (a sum over no rows is undefined in Arquero)
      if (!interval && t.numRows() === 0) return aq.table({ added: [0], removed: [0], dirtied: [0] });
      return toolColumns(sumsOf(t, interval ? ["interval", "time"] : []), CACHESTAT);
    }
    if (!interval) {
      const s: Sums = t.numRows() ? (sumsOf(t, []).objects()[0] as Sums) : { added: 0, removed: 0, dirtied: 0 };
      const c = h.final ?? h.counters.read();
      const r = hitRatio(c, s.dirtied);
      return toolColumns(aq.table({ added: [s.added], removed: [s.removed], dirtied: [s.dirtied], hits: [r.hits], misses: [r.misses], ratio: [r.ratio] }), CACHESTAT);
    }
    // every interval read has a row: one with hits but no insertion is still an interval of the run
    const byInterval = new Map((sumsOf(t, ["interval", "time"]).objects() as (Sums & { interval: number; time: number })[]).map((r) => [r.interval, r]));
    const n = Math.max(stats!.intervals, byInterval.size ? Math.max(...byInterval.keys()) + 1 : 0);
    const cols: Record<string, (number | null)[]> = { interval: [], time: [], added: [], removed: [], dirtied: [], hits: [], misses: [], ratio: [] };
    for (let i = 0; i < n; i++) {
      const s = byInterval.get(i);
      const r = hitRatio(hitDelta(at(h, i), at(h, i - 1)), s?.dirtied ?? 0);
      const row = { interval: i, time: s?.time ?? h.seconds[i] ?? stats!.seconds, added: s?.added ?? 0, removed: s?.removed ?? 0, dirtied: s?.dirtied ?? 0, ...r };
      for (const [k, v] of Object.entries(row)) cols[k]!.push(v);
    }
    return toolColumns(aq.table(cols), CACHESTAT);
  };

  const chart = (t: ColumnTable) => {
    const names = t.columnNames();
    const from = sources.length ? ` (${sources.join(", ")})` : "";
    if (names.includes("ratio")) {
      if (names.includes("time")) {
        const known = t.filter((d: { ratio: number | null }) => d.ratio !== null);
        return timeseries(known, { time: "time", y: "ratio", title: `page cache hit ratio per interval${from}` });
      }
      const ratio = t.numRows() ? (t.get("ratio", 0) as number | null) : null;
      const long = t.fold(["hits", "misses", "added", "removed", "dirtied"], { as: ["event", "folios"] });
      return bar(long, { x: "event", y: "folios", title: `page cache: hit ratio ${ratio === null ? "n/a (no access)" : `${(ratio * 100).toFixed(1)}%`}${from}` });
    }
    const long = t.fold(["added", "removed", "dirtied"], { as: ["event", "folios"] });
    return names.includes("time")
      ? timeseries(long, { time: "time", y: "folios", by: "event", title: "page cache folios per interval" })
      : bar(long, { x: "event", y: "folios", title: "page cache folios" });
  };

  const tool = aggregationTool(CACHESTAT, source, shape, chart);
  return {
    ...tool,
    get notice() {
      return refused ?? hitPlan().missing ?? null;
    },
    get hitFunctions() {
      return refused === null ? hitPlan().functions ?? null : null;
    },
    get hitSources() {
      return sources;
    },
  };
}
