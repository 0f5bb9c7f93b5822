/* sockstat: TCP state changes counted in the kernel, per state entered or per transition;
 * with an interval, per interval (how many connections open and close, second by second). */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { withNames } from "../analysis/names/with-names.js";
import { bar } from "../plot/bar.js";
import { timeseries } from "../plot/timeseries.js";
import { InvalidArgumentError } from "../errors.js";
import { SOCKSTAT } from "./catalog.js";
import { IPPROTO_TCP, SOCK_STATE, requireTracepoints } from "./inet.js";
import { aggregationTool, filterOf, toolOptions, type AggregationTool, type ToolFilter } from "./tool.js";

export interface SockstatOptions extends ToolFilter {
  /** Count per state entered (default), or per transition (from → to). */
  by?: "state" | "transition";
}

/** TCP state changes counted per state entered (named: "TCP_ESTABLISHED"), or per transition; `interval` gives one row per interval. */
export function sockstat(options?: SockstatOptions): AggregationTool {
  const o = toolOptions(options, SOCKSTAT);
  const by = o.by ?? "state";
  if (by !== "state" && by !== "transition") throw new InvalidArgumentError(`tools.sockstat(): by must be "state" or "transition", got ${JSON.stringify(by)}`);
  requireTracepoints(SOCKSTAT, [SOCK_STATE]);
  const agg = tracepoint(SOCK_STATE, { where: { ...filterOf(o), protocol: IPPROTO_TCP } }).count({ by: by === "state" ? ["newstate"] : ["oldstate", "newstate"] });
  const shape = (t: ColumnTable) => {
    const named = withNames(t, SOCK_STATE, by === "state" ? ["newstate"] : ["oldstate", "newstate"]).rename(by === "state" ? { newstate_name: "state" } : { oldstate_name: "from", newstate_name: "state" });
    const cols = SOCKSTAT.columns.filter((c) => named.columnNames().includes(c));
    const out = named.select(...cols);
    if (!out.numRows()) return out;
    return cols.includes("interval") ? out.orderby("interval", (d: { count: number }) => -d.count) : out.orderby((d: { count: number }) => -d.count);
  };
  const chart = (t: ColumnTable) => {
    const key = t.columnNames().includes("from") ? t.derive({ transition: (d: { from: string; state: string }) => d.from + " → " + d.state }) : t;
    const x = key.columnNames().includes("transition") ? "transition" : "state";
    return t.columnNames().includes("time")
      ? timeseries(key, { time: "time", by: x, title: "TCP state changes per interval" })
      : bar(key, { x, title: "TCP state changes", horizontal: true });
  };
  return aggregationTool(SOCKSTAT, agg, shape, chart);
}
