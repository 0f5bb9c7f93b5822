/* biolatency: how long block I/Os take, from issue to completion, as a log2 histogram. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { block } from "../probes/presets.js";
import { InvalidArgumentError } from "../errors.js";
import { BIOLATENCY } from "./catalog.js";
import { diskDevt, diskName } from "./disks.js";
import { choice, distributionChart, toolColumns } from "./shared.js";
import { aggregationTool, toolOptions, type AggregationTool, type ToolFilter } from "./tool.js";

export interface BiolatencyOptions extends ToolFilter {
  /**
   * One histogram (default), per disk ("disk": bcc's biolatency -D), per operation ("rwbs": "R", "WS", ...),
   * or per issuing process ("comm": the task that issued the request, carried from issue to completion).
   */
  by?: "none" | "disk" | "rwbs" | "comm";
  /** Only this disk, as lsblk names it ("sda", "loop0"). */
  disk?: string;
}

/** Block I/O latency (block_rq_issue → block_rq_complete, by device and sector) as a log2 histogram of ns. */
export function biolatency(options?: BiolatencyOptions): AggregationTool {
  const o = toolOptions(options, BIOLATENCY);
  // A completion runs in whatever task the interrupt hit: there is no process to filter on.
  for (const k of ["pid", "comm"] as const) if (o[k] !== undefined) throw new InvalidArgumentError(`tools.biolatency(): ${k} is not supported: block I/O completes in whatever task the interrupt hit; by: "comm" keys the histograms by the issuing process, tools.biosnoop({ ${k} }) keeps one issuer's requests`);
  const by = choice(BIOLATENCY, "by", o.by, ["none", "disk", "rwbs", "comm"], "none");
  const devt = o.disk === undefined ? undefined : diskDevt(o.disk, "tools.biolatency()");
  // By issuer: the completion runs in whatever task the interrupt hit, so the issuing task's
  // comm is carried from the issue (block.requests() pairs them, with the disk filter in the kernel).
  // Otherwise the disk filter is kept on the device key (block.ioLatency() takes no filter).
  const keys: ("dev" | "rwbs")[] = [...(by === "disk" || (devt !== undefined && by !== "comm") ? ["dev" as const] : []), ...(by === "rwbs" ? ["rwbs" as const] : [])];
  const agg = by === "comm" ? block.requests(devt === undefined ? {} : { dev: devt }).latency({ by: ["start_comm"] }) : block.ioLatency({ by: keys });
  const shape = (t: ColumnTable) => {
    let r = t;
    if (by === "comm") r = r.rename({ start_comm: "comm" });
    else if (devt !== undefined) r = r.params({ devt }).filter((d: { dev: number }, $: { devt: number }) => d.dev === $.devt);
    if (by === "disk" && r.numRows()) r = r.derive({ disk: aq.escape((d: { dev: number }) => diskName(d.dev)) });
    return toolColumns(r, BIOLATENCY);
  };
  const chart = (t: ColumnTable) => distributionChart(t, { ...(by === "none" ? {} : { by }), title: "block I/O latency" });
  return aggregationTool(BIOLATENCY, agg, shape, chart);
}
