/* capable: which capability checks happen, by whom, and which are refused. This kernel has
 * a capability:cap_capable tracepoint in cap_capable() itself, so no kprobe is needed. */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { withNames } from "../analysis/names/with-names.js";
import { errnoName } from "../errors.js";
import { bar } from "../plot/bar.js";
import { CAPABLE } from "./catalog.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface CapableOptions extends ToolFilter {
  /** Only refused checks (ret < 0). */
  failed?: boolean;
}

/** A row of capable. */
export interface CapableRow {
  ts: number;
  pid: number;
  tid: number;
  comm: string;
  uid: number;
  cap: number;
  /** "CAP_SYS_ADMIN", ... */
  cap_name: string | null;
  /** 0 granted, -1 (EPERM) refused. */
  ret: number;
  ret_name: string | null;
}

/** Each capability check: the task, the capability by name, granted or not. */
export function capable(options?: CapableOptions): EventsTool<CapableRow> {
  const o = toolOptions(options, CAPABLE);
  const source = tracepoint("capability:cap_capable", {
    fields: ["cap", "ret"],
    columns: ["uid"],
    where: { ...filterOf(o), ...(o.failed ? { ret: { lt: 0 } } : {}) },
  });
  const shape = (t: ColumnTable) => {
    const ret = Array.from(t.array("ret") as ArrayLike<number>, (r) => (r < 0 ? errnoName(-r) : null));
    return withNames(t, "capability:cap_capable", ["cap"]).assign({ ret_name: ret }).select(...CAPABLE.columns);
  };
  return eventsTool<CapableRow>(CAPABLE, source, shape, (t) => bar(t, { x: "cap_name", title: "capability checks", horizontal: true }));
}
