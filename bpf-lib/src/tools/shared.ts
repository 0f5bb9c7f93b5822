/* Small pieces the tools share: a `by` option checked against its choices, a table's
 * columns in the order the tool's ToolInfo lists them, and the chart of a distribution. */
import type { ColumnTable } from "arquero";
import type { PlotFigure } from "../plot/figure.js";
import { heatmap } from "../plot/heatmap.js";
import { histogram } from "../plot/histogram.js";
import { InvalidArgumentError } from "../errors.js";
import type { ToolInfo } from "./tool-info.js";

/** The value of a string option with a fixed set of choices (the default when left out). */
export function choice<C extends string>(info: ToolInfo, option: string, given: unknown, choices: readonly C[], fallback: C): C {
  if (given === undefined) return fallback;
  if (typeof given !== "string" || !(choices as readonly string[]).includes(given)) {
    throw new InvalidArgumentError(`tools.${info.name}(): ${option} must be ${choices.map((c) => JSON.stringify(c)).join(", ")}; got ${JSON.stringify(given)}`);
  }
  return given as C;
}

/** The table's columns that the tool documents, in the documented order (keys absent under another `by` are skipped). */
export function toolColumns(t: ColumnTable, info: ToolInfo): ColumnTable {
  const have = new Set(t.columnNames());
  return t.select(...info.columns.filter((c) => have.has(c)));
}

/** A histogram of the buckets (one per key), or over time as a heatmap when the rows are per interval. */
export function distributionChart(t: ColumnTable, opts: { by?: string; title: string; unit?: "ns" | "none"; axisTitle?: string }): PlotFigure {
  if (t.columnNames().includes("time")) return heatmap(t, { time: "time", title: `${opts.title} per interval`, ...(opts.unit ? { unit: opts.unit } : {}), ...(opts.axisTitle ? { axisTitle: opts.axisTitle } : {}) });
  return histogram(t, { ...(opts.by ? { by: opts.by } : {}), title: opts.title, ...(opts.unit ? { unit: opts.unit } : { percentiles: true }), ...(opts.axisTitle ? { axisTitle: opts.axisTitle } : {}) });
}
