/* biotop: who does block I/O, on which disk, how many requests and bytes. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { listTracepoints } from "../tracefs/catalog.js";
import { bar } from "../plot/bar.js";
import { timeseries } from "../plot/timeseries.js";
import { NotSupportedError } from "../errors.js";
import { BIOTOP } from "./catalog.js";
import { diskDevt, diskName } from "./disks.js";
import { toolColumns } from "./shared.js";
import { aggregationTool, filterOf, toolOptions, type AggregationTool, type ToolFilter } from "./tool.js";

export interface BiotopOptions extends ToolFilter {
  /** Only this disk, as lsblk names it ("sda", "loop0"); filtered in the kernel. */
  disk?: string;
}

/** Requests and bytes per process, disk and operation at block_rq_issue (collect with `interval` for bcc's refreshing top). */
export function biotop(options?: BiotopOptions): AggregationTool {
  const o = toolOptions(options, BIOTOP);
  const devt = o.disk === undefined ? undefined : diskDevt(o.disk, "tools.biotop()");
  if (!listTracepoints().includes("block:block_rq_issue")) throw new NotSupportedError("tools.biotop()", "this kernel has no block:block_rq_issue tracepoint");
  // the issue runs in the task that submits the request (buffered writes: the flusher kworker)
  const agg = tracepoint("block:block_rq_issue", { where: { ...filterOf(o), ...(devt !== undefined ? { dev: devt } : {}) } }).stats("bytes", { by: ["pid", "comm", "dev", "rwbs"] });
  const shape = (t: ColumnTable) => {
    if (!t.numRows()) return toolColumns(t.derive({ disk: () => "", bytes: (d: { sum: number }) => d.sum }), BIOTOP);
    const named = t.derive({ disk: aq.escape((d: { dev: number }) => diskName(d.dev)), bytes: (d: { sum: number }) => d.sum });
    // most bytes first (within each interval, as bcc's biotop refreshes)
    return toolColumns(t.columnNames().includes("interval") ? named.orderby("interval", aq.desc("bytes")) : named.orderby(aq.desc("bytes")), BIOTOP);
  };
  const chart = (t: ColumnTable) =>
    t.columnNames().includes("time")
      ? timeseries(t, { time: "time", y: "bytes", by: "comm", title: "block I/O bytes by process per interval" })
      : bar(t, { x: "comm", y: "bytes", title: "block I/O bytes by process", horizontal: true });
  return aggregationTool(BIOTOP, agg, shape, chart);
}
