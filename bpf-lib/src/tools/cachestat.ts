/* cachestat: page cache insertions (misses that read or write a new folio), removals and
 * dirtyings, per interval. bcc's hit ratio counts accesses with kprobes on
 * folio_mark_accessed()/mark_buffer_dirty(); no tracepoint marks a page cache hit, so
 * there is no hit ratio here. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { tracepoints } from "../probes/tracepoint/group.js";
import { listTracepoints } from "../tracefs/catalog.js";
import { bar } from "../plot/bar.js";
import { timeseries } from "../plot/timeseries.js";
import { NotSupportedError } from "../errors.js";
import { CACHESTAT } from "./catalog.js";
import { toolColumns } from "./shared.js";
import { aggregationTool, filterOf, toolOptions, type AggregationTool, type ToolFilter } from "./tool.js";

export type CachestatOptions = ToolFilter;

const ADD = "filemap:mm_filemap_add_to_page_cache";
const DELETE = "filemap:mm_filemap_delete_from_page_cache";
/** The dirtying tracepoint: folios since 5.17, pages before. */
const DIRTY = ["writeback:writeback_dirty_folio", "writeback:writeback_dirty_page"];

/**
 * Folios added to the page cache, removed from it and dirtied, counted in the kernel (per
 * interval with `collect({ interval })`); one row per interval (or one in all). pid and comm
 * keep the events of that task: a removal is counted in the task that evicts or truncates.
 */
export function cachestat(options?: CachestatOptions): AggregationTool {
  const o = toolOptions(options, CACHESTAT);
  const all = new Set(listTracepoints());
  for (const n of [ADD, DELETE]) if (!all.has(n)) throw new NotSupportedError("tools.cachestat()", `this kernel has no ${n} tracepoint`);
  const dirty = DIRTY.find((n) => all.has(n));
  if (dirty === undefined) throw new NotSupportedError("tools.cachestat()", `this kernel has no ${DIRTY.join(" or ")} tracepoint`);
  const agg = tracepoints([ADD, DELETE, dirty], { fields: [], where: filterOf(o) }).count({ by: ["probe"] });
  const shape = (t: ColumnTable) => {
    const keys = t.columnNames().includes("interval") ? ["interval", "time"] : [];
    // totals with no event at all are zeros (a sum over no rows is undefined in Arquero)
    if (keys.length === 0 && t.numRows() === 0) return aq.table({ added: [0], removed: [0], dirtied: [0] });
    const sums = t
      .params({ add: ADD, del: DELETE, dirty })
      .groupby(...keys)
      .rollup({
        added: (d: { probe: string; count: number }, $: { add: string }) => aq.op.sum(d.probe === $.add ? d.count : 0),
        removed: (d: { probe: string; count: number }, $: { del: string }) => aq.op.sum(d.probe === $.del ? d.count : 0),
        dirtied: (d: { probe: string; count: number }, $: { dirty: string }) => aq.op.sum(d.probe === $.dirty ? d.count : 0),
      });
    return toolColumns(sums, CACHESTAT);
  };
  const chart = (t: ColumnTable) => {
    const long = t.fold(["added", "removed", "dirtied"], { as: ["event", "folios"] });
    return t.columnNames().includes("time")
      ? timeseries(long, { time: "time", y: "folios", by: "event", title: "page cache folios per interval" })
      : bar(long, { x: "event", y: "folios", title: "page cache folios" });
  };
  return aggregationTool(CACHESTAT, agg, shape, chart);
}
