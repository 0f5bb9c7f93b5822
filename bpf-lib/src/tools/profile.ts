/* profile: what runs on the CPUs, sampled, as folded stacks. */
import type { ColumnTable } from "arquero";
import { startProfile } from "../probes/profile/profile.js";
import { flamegraph } from "../plot/flamegraph.js";
import { InvalidArgumentError } from "../errors.js";
import { PROFILE } from "./catalog.js";
import { toolColumns } from "./shared.js";
import { profileTool, toolOptions, type ProfileTool, type ToolFilter } from "./tool.js";

export interface ProfileToolOptions extends ToolFilter {
  /** Samples per second on each CPU (default 99). */
  hz?: number;
  /** Keep the idle task's samples (default false). */
  idle?: boolean;
}

/** CPU samples per stack (pid, comm, folded user;kernel stack, count), most samples first; a flame graph. */
export function profile(options?: ProfileToolOptions): ProfileTool {
  const o = toolOptions(options, PROFILE);
  if (o.hz !== undefined && (!Number.isInteger(o.hz) || o.hz <= 0)) throw new InvalidArgumentError(`tools.profile(): hz must be a positive integer, got ${String(o.hz)}`);
  if (o.idle !== undefined && typeof o.idle !== "boolean") throw new InvalidArgumentError(`tools.profile(): idle must be true or false, got ${JSON.stringify(o.idle)}`);
  const start = (stop: object) =>
    startProfile({ ...stop, ...(o.pid !== undefined ? { pid: o.pid } : {}), ...(o.hz !== undefined ? { hz: o.hz } : {}), ...(o.idle !== undefined ? { idle: o.idle } : {}) });
  // profile() filters by pid in the kernel; comm is kept here, on the folded rows
  const shape = (t: ColumnTable) => toolColumns(o.comm === undefined ? t : t.params({ comm: o.comm }).filter((d: { comm: string }, $: { comm: string }) => d.comm === $.comm), PROFILE);
  return profileTool(PROFILE, start, shape, (t) => flamegraph(t, { title: "CPU samples" }));
}
