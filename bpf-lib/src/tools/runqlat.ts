/* runqlat: how long runnable tasks wait for a CPU, from wakeup to running, as a log2
 * histogram (per woken task or program with `by`). */
import type { ColumnTable } from "arquero";
import { sched } from "../probes/presets.js";
import { RUNQLAT } from "./catalog.js";
import { choice, distributionChart, toolColumns } from "./shared.js";
import { aggregationTool, filterOf, toolOptions, type AggregationTool, type ToolFilter } from "./tool.js";

export interface RunqlatOptions extends ToolFilter {
  /** One histogram (default), one per woken thread ("pid": bcc's runqlat -P), or per command name ("comm"). */
  by?: "none" | "pid" | "comm";
}

const KEYS = { none: [], pid: ["pid"], comm: ["comm"] } as const;

/**
 * Run-queue latency as a log2 histogram of ns (sched_wakeup/sched_wakeup_new → sched_switch).
 * pid and comm are the woken task's: pid is a thread id, as the sched tracepoints carry it.
 */
export function runqlat(options?: RunqlatOptions): AggregationTool {
  const o = toolOptions(options, RUNQLAT);
  const by = choice(RUNQLAT, "by", o.by, ["none", "pid", "comm"], "none");
  const agg = sched.runqueueLatency({ by: KEYS[by], where: filterOf(o) });
  const shape = (t: ColumnTable) => toolColumns(t, RUNQLAT);
  const chart = (t: ColumnTable) => distributionChart(t, { ...(by === "none" ? {} : { by }), title: "run-queue latency" });
  return aggregationTool(RUNQLAT, agg, shape, chart);
}
