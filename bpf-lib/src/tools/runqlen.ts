/* runqlen: how many tasks wait behind the running one, sampled on every CPU. */
import type { ColumnTable } from "arquero";
import { sched } from "../probes/presets.js";
import { InvalidArgumentError } from "../errors.js";
import { RUNQLEN } from "./catalog.js";
import { choice, distributionChart, toolColumns } from "./shared.js";
import { aggregationTool, toolOptions, type AggregationTool, type ToolFilter } from "./tool.js";

export interface RunqlenOptions extends ToolFilter {
  /** One histogram (default), or one per CPU ("cpu": bcc's runqlen -C). */
  by?: "none" | "cpu";
  /** "task" (default): the running task's CFS queue, as bcc reads it; "cpu": the CPU's whole run queue. */
  queue?: "task" | "cpu";
  /** Samples per second on each CPU (default 99). */
  hz?: number;
}

/** The run-queue length at each sample, as a linear histogram 0..32 (bcc's runqlen). */
export function runqlen(options?: RunqlenOptions): AggregationTool {
  const o = toolOptions(options, RUNQLEN);
  const by = choice(RUNQLEN, "by", o.by, ["none", "cpu"], "none");
  const queue = choice(RUNQLEN, "queue", o.queue, ["task", "cpu"], "task");
  if (o.hz !== undefined && (!Number.isInteger(o.hz) || o.hz <= 0)) throw new InvalidArgumentError(`tools.runqlen(): hz must be a positive integer, got ${String(o.hz)}`);
  // A sample sees whoever runs; the filter keeps the samples taken while the process ran.
  const keys: ("cpu" | "pid" | "comm")[] = [...(by === "cpu" ? ["cpu" as const] : []), ...(o.pid !== undefined ? ["pid" as const] : []), ...(o.comm !== undefined ? ["comm" as const] : [])];
  const agg = sched.runqueueLength({ by: keys, queue, ...(o.hz !== undefined ? { hz: o.hz } : {}) });
  const shape = (t: ColumnTable) => {
    let r = t;
    if (o.pid !== undefined) r = r.params({ pid: o.pid }).filter((d: { pid: number }, $: { pid: number }) => d.pid === $.pid);
    if (o.comm !== undefined) r = r.params({ comm: o.comm }).filter((d: { comm: string }, $: { comm: string }) => d.comm === $.comm);
    return toolColumns(r, RUNQLEN);
  };
  const chart = (t: ColumnTable) => distributionChart(t, { ...(by === "cpu" ? { by: "cpu" } : {}), unit: "none", title: "run-queue length", axisTitle: "tasks waiting" });
  return aggregationTool(RUNQLEN, agg, shape, chart);
}
