/* Top-N bar chart: the largest keys, largest first, and one "other" bar for the rest. */
import type { ColumnTable } from "arquero";
import { amountsOrOnes, labels } from "./columns.js";
import { baseLayout, emptyFigure, makeFigure, type PlotFigure } from "./figure.js";
import { escapeText } from "./escape.js";
import { formatCount, formatShare } from "./numbers.js";
import { maxAbs, scaledTitle, valueScale } from "./scale.js";
import { OTHER_COLOR, checkTop, otherLabel, rankKeys } from "./top.js";
import { formatDuration, UNIT_NS, type InputUnit } from "./units.js";

export interface BarOptions {
  /** The category column (strings, numbers: anything; shown as text). */
  x: string;
  /** The value column, summed per category. Default "count"; a table without one counts rows. */
  y?: string;
  /** Bars before the rest are summed into "other". Default 20. */
  top?: number;
  title?: string;
  /** Bars across, categories down the side: better for long names. Default false. */
  horizontal?: boolean;
  /** `y` holds durations in this unit: drawn in ns/µs/ms/s as suits their size. */
  unit?: InputUnit;
}

const BAR_COLOR = "#4c78a8";
/** Tick labels longer than this are cut (the hover text keeps the whole name). */
const MAX_TICK_CHARS = 40;

export function bar(table: ColumnTable, opts: BarOptions): PlotFigure {
  const top = checkTop(opts.top ?? 20, "bar");
  const yName = opts.y ?? "count";
  const title = opts.title ?? `${yName} by ${opts.x}`;
  const keys = labels(table, opts.x, "bar");
  const amounts = amountsOrOnes(table, opts.y, "count", "bar");
  if (keys.length === 0) return emptyFigure(title);

  const totals = new Map<string, number>();
  for (let i = 0; i < keys.length; i++) totals.set(keys[i], (totals.get(keys[i]) ?? 0) + amounts[i]);
  const ranked = rankKeys(totals, top);
  const names = [...ranked.top];
  const sums = ranked.top.map((k) => totals.get(k) ?? 0);
  if (ranked.rest.length > 0) {
    names.push(otherLabel(ranked.rest.length));
    sums.push(ranked.rest.reduce((s, k) => s + (totals.get(k) ?? 0), 0));
  }
  const grand = sums.reduce((s, v) => s + v, 0);
  const scale = valueScale(opts.unit, maxAbs(sums), "bar");
  const shown = sums.map(scale.apply);
  const exact = (v: number): string =>
    scale.given ? `${formatCount(v)} ${scale.given} (${formatDuration(v * UNIT_NS[scale.given])})` : formatCount(v);
  const hovertext = names.map((n, i) => {
    const what = i < ranked.top.length ? escapeText(n) : `other: ${ranked.rest.length} ${opts.x} values`;
    return `${what}<br>${escapeText(yName)}: ${exact(sums[i])}<br>${formatShare(sums[i], grand)} of total`;
  });
  const categories = names.map(escapeText);
  const colors = names.map((_, i) => (i < ranked.top.length ? BAR_COLOR : OTHER_COLOR));

  const horizontal = opts.horizontal ?? false;
  const categoryAxis: Record<string, unknown> = { title: { text: opts.x }, type: "category", automargin: true };
  if (names.some((n) => n.length > MAX_TICK_CHARS)) {
    // Two long names cut to the same text must stay two bars, so the categories stay whole.
    categoryAxis.tickvals = categories;
    categoryAxis.ticktext = names.map((n) => escapeText(n.length > MAX_TICK_CHARS ? `${n.slice(0, MAX_TICK_CHARS - 1)}…` : n));
  }
  const valueAxis = { title: { text: scaledTitle(yName, scale) }, rangemode: "tozero", automargin: true, separatethousands: true };
  const trace = {
    type: "bar",
    x: horizontal ? shown : categories,
    y: horizontal ? categories : shown,
    orientation: horizontal ? "h" : "v",
    marker: { color: colors },
    hovertext,
    hovertemplate: "%{hovertext}<extra></extra>",
  };
  const layout: Record<string, unknown> = {
    ...baseLayout(title),
    xaxis: horizontal ? valueAxis : categoryAxis,
    // Largest at the top: Plotly lists categories bottom-up.
    yaxis: horizontal ? { ...categoryAxis, autorange: "reversed", ticklabelstandoff: 6 } : valueAxis,
    bargap: 0.2,
  };
  if (horizontal) layout.height = Math.max(360, 120 + 26 * names.length);
  return makeFigure([trace], layout);
}
