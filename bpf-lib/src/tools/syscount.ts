/* syscount: which syscalls run, how often, by whom; with `errors`, the failures by errno. */
import type { ColumnTable } from "arquero";
import { syscalls } from "../probes/presets.js";
import { bar } from "../plot/bar.js";
import { InvalidArgumentError } from "../errors.js";
import { SYSCOUNT } from "./catalog.js";
import { aggregationTool, filterOf, toolOptions, type AggregationTool, type ToolFilter } from "./tool.js";

export interface SyscountOptions extends ToolFilter {
  /** Count per syscall (default), per process, or per process and syscall. */
  by?: "syscall" | "process" | "both";
  /** Count failed calls only, with the errno's name. */
  errors?: boolean;
}

const KEYS = { syscall: ["syscall"], process: ["pid", "comm"], both: ["pid", "comm", "syscall"] } as const;

/** Syscalls counted in the kernel per syscall (named), per process, or both; with `errors`, failed ones per errno. */
export function syscount(options?: SyscountOptions): AggregationTool {
  const o = toolOptions(options, SYSCOUNT);
  const by = o.by ?? "syscall";
  if (!(by in KEYS)) throw new InvalidArgumentError(`tools.syscount(): by must be "syscall", "process" or "both", got ${JSON.stringify(by)}`);
  const keys = KEYS[by];
  const agg = o.errors ? syscalls.errors({ by: keys, where: filterOf(o) }) : syscalls.count({ by: keys, where: filterOf(o) });
  const x = by === "process" ? "comm" : "syscall";
  // most calls first (within each interval, when counted per interval)
  const shape = (t: ColumnTable) => (!t.numRows() ? t : t.columnNames().includes("interval") ? t.orderby("interval", (d: { count: number }) => -d.count) : t.orderby((d: { count: number }) => -d.count));
  return aggregationTool(SYSCOUNT, agg, shape, (t) => bar(t, { x, title: o.errors ? "failed syscalls" : "syscalls", horizontal: true }));
}
