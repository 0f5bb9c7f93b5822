/* Lines over time, one per key: the top N keys by total and one "other" line for the
 * rest, so a legend of hundreds of processes does not swamp the chart. */
import type { ColumnTable } from "arquero";
import { amountsOrOnes, byTitle, keyLabels } from "./columns.js";
import { baseLayout, emptyFigure, makeFigure, type PlotFigure, type PlotTrace } from "./figure.js";
import { escapeText } from "./escape.js";
import { seriesColor } from "./palette.js";
import { scaledTitle, valueScale, type ValueScale } from "./scale.js";
import { axisValues, defaultTimeColumn, readTimes, timeGrid, timeTitle } from "./time-axis.js";
import { OTHER_COLOR, checkTop, otherLabel, rankKeys } from "./top.js";
import type { InputUnit } from "./units.js";

export interface TimeseriesOptions {
  /** Dates, epoch milliseconds, or seconds from the start. Default "time" (or "interval" when a table has only that). */
  time?: string;
  /** The value column, summed per time and key. Default "count"; a table without one counts rows. */
  y?: string;
  /** Key column(s), one line per key; several are joined with " · ". Default: one line. */
  by?: string | readonly string[];
  /** Lines before the rest are summed into "other". Default 8. */
  top?: number;
  /** Stacked areas instead of lines. Default false. */
  stacked?: boolean;
  title?: string;
  /** `y` holds durations in this unit: drawn in ns/µs/ms/s as suits their size. */
  unit?: InputUnit;
}

export function timeseries(table: ColumnTable, opts: TimeseriesOptions = {}): PlotFigure {
  const timeName = opts.time ?? defaultTimeColumn(table);
  const yName = opts.y ?? "count";
  const top = checkTop(opts.top ?? 8, "timeseries");
  const stacked = opts.stacked ?? false;
  const title = opts.title ?? (opts.by ? `${yName} over time by ${byTitle(opts.by)}` : `${yName} over time`);
  const times = readTimes(table, timeName, "timeseries");
  const amounts = amountsOrOnes(table, opts.y, "count", "timeseries");
  const keys = opts.by ? keyLabels(table, opts.by, "timeseries") : undefined;
  const grid = timeGrid(times.keys);
  if (grid.values.length === 0) return emptyFigure(title);

  // Missing (time, key) points are zeros: y is a count or a sum, and stacking needs them.
  const series = new Map<string, Float64Array>();
  const totals = new Map<string, number>();
  for (let i = 0; i < amounts.length; i++) {
    const slot = grid.slot(times.keys[i]);
    if (slot < 0) continue;
    const key = keys ? keys[i] : yName;
    let s = series.get(key);
    if (!s) series.set(key, (s = new Float64Array(grid.values.length)));
    s[slot] += amounts[i];
    totals.set(key, (totals.get(key) ?? 0) + amounts[i]);
  }
  const ranked = rankKeys(totals, top);
  const lines: { name: string; ys: Float64Array; other: boolean }[] = ranked.top.map((k) => ({ name: k, ys: series.get(k) ?? new Float64Array(0), other: false }));
  if (ranked.rest.length > 0) {
    const ys = new Float64Array(grid.values.length);
    for (const k of ranked.rest) series.get(k)?.forEach((v, i) => (ys[i] += v));
    lines.push({ name: otherLabel(ranked.rest.length), ys, other: true });
  }

  let max = 0;
  for (const l of lines) for (const v of l.ys) max = Math.max(max, Math.abs(v));
  if (stacked) {
    let sum = 0;
    for (let i = 0; i < grid.values.length; i++) sum = Math.max(sum, lines.reduce((s, l) => s + Math.abs(l.ys[i]), 0));
    max = sum;
  }
  const scale = valueScale(opts.unit, max, "timeseries");
  const x = axisValues(grid.values, times.dates);
  const data = lines.map((l, i) => line(l.name, x, l.ys, scale, stacked, l.other ? OTHER_COLOR : seriesColor(i)));

  const xaxis: Record<string, unknown> = { title: { text: timeTitle(timeName, times) }, automargin: true };
  if (times.dates) Object.assign(xaxis, { type: "date", hoverformat: "%Y-%m-%d %H:%M:%S.%L" });
  const layout: Record<string, unknown> = {
    ...baseLayout(title),
    xaxis,
    yaxis: { title: { text: scaledTitle(yName, scale) }, rangemode: "tozero", automargin: true, separatethousands: true },
    // One box listing every line at the hovered time: comparing lines is the point.
    hovermode: "x unified",
    showlegend: keys !== undefined,
    // Stacks are drawn bottom-up; list the legend the same way.
    legend: { title: { text: keys ? escapeText(byTitle(opts.by ?? [])) : "" }, traceorder: stacked ? "reversed" : "normal" },
  };
  return makeFigure(data, layout);
}

function line(name: string, x: (number | string)[], ys: Float64Array, scale: ValueScale, stacked: boolean, color: string): PlotTrace {
  const other = color === OTHER_COLOR;
  const unit = scale.shown ? ` ${scale.shown}` : "";
  const trace: PlotTrace = {
    type: "scatter",
    mode: "lines",
    name: escapeText(name),
    x,
    y: Array.from(ys, scale.apply),
    hovertemplate: `%{y:,}${unit}`,
    line: { width: stacked ? 0.5 : 2, color, ...(other && !stacked ? { dash: "dot" } : {}) },
  };
  if (stacked) trace.stackgroup = "one";
  return trace;
}
