/* cpudist: how long tasks run on a CPU each time they get one, as a log2 histogram. Each
 * sched_switch ends the on-CPU time of the task leaving (prev_pid) and starts that of
 * the task coming in (next_pid): a latency() from one switch to the next of the same thread. */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { latency } from "../probes/latency.js";
import { listTracepoints } from "../tracefs/catalog.js";
import { NotSupportedError } from "../errors.js";
import { CPUDIST } from "./catalog.js";
import { choice, distributionChart, toolColumns } from "./shared.js";
import { aggregationTool, filterOf, toolOptions, type AggregationTool, type ToolFilter } from "./tool.js";

export interface CpudistOptions extends ToolFilter {
  /** One histogram (default), one per process ("pid": bcc's cpudist -P), or per command name ("comm"). */
  by?: "none" | "pid" | "comm";
}

const KEYS = { none: [], pid: ["pid"], comm: ["comm"] } as const;

/** On-CPU time per scheduling, as a log2 histogram of ns (bcc's cpudist); the idle task is left out. */
export function cpudist(options?: CpudistOptions): AggregationTool {
  const o = toolOptions(options, CPUDIST);
  const by = choice(CPUDIST, "by", o.by, ["none", "pid", "comm"], "none");
  if (!listTracepoints().includes("sched:sched_switch")) throw new NotSupportedError("tools.cpudist()", "this kernel has no sched:sched_switch tracepoint");
  const agg = latency({
    // The task switched in is a field, not the current task (that is the one leaving):
    // filtering by current task here would drop other tasks' starts.
    start: tracepoint("sched:sched_switch", { fields: [], where: { next_pid: { ne: 0 } }, includeSelf: true }),
    // At the switch out the current task is the one measured: pid, comm and the filter are its own.
    // The idle task (pid 0) is one key for every CPU's swapper: left out.
    end: tracepoint("sched:sched_switch", { fields: [], where: { ...filterOf(o), prev_pid: { ne: 0 } } }),
    match: { start: ["next_pid"], end: ["prev_pid"] },
    carry: [],
    by: KEYS[by],
  });
  const shape = (t: ColumnTable) => toolColumns(t, CPUDIST);
  const chart = (t: ColumnTable) => distributionChart(t, { ...(by === "none" ? {} : { by }), title: "on-CPU time per run" });
  return aggregationTool(CPUDIST, agg, shape, chart);
}
