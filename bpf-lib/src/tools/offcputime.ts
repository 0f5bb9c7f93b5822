/* offcputime: where threads block, and for how long: the time off the CPU per stack. */
import type { ColumnTable } from "arquero";
import { startOffcpu } from "../probes/profile/profile.js";
import { flamegraph } from "../plot/flamegraph.js";
import { InvalidArgumentError } from "../errors.js";
import { OFFCPUTIME } from "./catalog.js";
import { toolColumns } from "./shared.js";
import { profileTool, toolOptions, type ProfileTool, type ToolFilter } from "./tool.js";

export interface OffcputimeOptions extends ToolFilter {
  /** Also count time spent runnable but preempted, not only blocked (default false). */
  preempted?: boolean;
  /** Ignore off-CPU periods shorter than this many ns (default 1000). */
  minNs?: number;
}

/** Off-CPU time per stack (pid, comm, folded stack, ns, count), most time first; a flame graph weighted by ns. */
export function offcputime(options?: OffcputimeOptions): ProfileTool {
  const o = toolOptions(options, OFFCPUTIME);
  if (o.preempted !== undefined && typeof o.preempted !== "boolean") throw new InvalidArgumentError(`tools.offcputime(): preempted must be true or false, got ${JSON.stringify(o.preempted)}`);
  if (o.minNs !== undefined && (!Number.isInteger(o.minNs) || o.minNs < 0)) throw new InvalidArgumentError(`tools.offcputime(): minNs must be an integer ns >= 0, got ${String(o.minNs)}`);
  const start = (stop: object) =>
    startOffcpu({ ...stop, ...(o.pid !== undefined ? { pid: o.pid } : {}), ...(o.preempted !== undefined ? { preempted: o.preempted } : {}), ...(o.minNs !== undefined ? { minNs: o.minNs } : {}) });
  // offcpu() filters by pid in the kernel; comm is kept here, on the folded rows
  const shape = (t: ColumnTable) => toolColumns(o.comm === undefined ? t : t.params({ comm: o.comm }).filter((d: { comm: string }, $: { comm: string }) => d.comm === $.comm), OFFCPUTIME);
  return profileTool(OFFCPUTIME, start, shape, (t) => flamegraph(t, { value: "ns", title: "off-CPU time" }));
}
