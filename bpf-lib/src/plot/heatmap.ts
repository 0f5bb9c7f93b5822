/* Latency heatmap: time across, log2 latency buckets up, colour = how many events
 * fell in each (time, bucket) cell. Shows what a histogram averages away: modes that
 * come and go, outliers clustered in time. */
import type { ColumnTable } from "arquero";
import { bucketFormat, type BucketUnit } from "./bucket-format.js";
import { bucketAxis, bucketAxisTitle, bucketText, edgeTicks } from "./buckets.js";
import { amountsOrOnes, toNumber, values } from "./columns.js";
import { baseLayout, emptyFigure, makeFigure, type PlotFigure } from "./figure.js";
import { formatCount } from "./numbers.js";
import { axisValues, defaultTimeColumn, readTimes, timeGrid, timeText, timeTitle } from "./time-axis.js";

export interface HeatmapOptions {
  /** Seconds from the start, epoch milliseconds, Dates or interval numbers. Default "time" when the table has it (aggregations with `interval` do), else "interval". */
  time?: string;
  /** The unit of `low` and `high`: "ns" (default), "us", "ms", "s", "bytes" or "none" (plain numbers). */
  unit?: BucketUnit;
  title?: string;
  /** Colour by log10(count + 1): a few busy cells then no longer wash out the rest. Default false. */
  logColor?: boolean;
  /** Column names. Defaults "low", "high", "count" (a table without "count" counts rows). */
  low?: string;
  high?: string;
  count?: string;
  /** The bucket axis's title. Default "latency (log2 buckets)", or "size" / "value" for other units. */
  axisTitle?: string;
}

/** White for empty cells, then light yellow to dark red: an empty cell never looks like a small count. */
const COLORSCALE: readonly [number, string][] = [
  [0, "#ffffff"],
  [1e-9, "#ffeda0"],
  [0.25, "#feb24c"],
  [0.5, "#fc4e2a"],
  [0.75, "#bd0026"],
  [1, "#800026"],
];

export function heatmap(table: ColumnTable, opts: HeatmapOptions = {}): PlotFigure {
  const timeName = opts.time ?? defaultTimeColumn(table);
  const fmt = bucketFormat(opts.unit ?? "ns", "heatmap");
  const title = opts.title ?? `${fmt.quantity} heatmap`;
  const times = readTimes(table, timeName, "heatmap");
  const lows = values(table, opts.low ?? "low", "heatmap").map(toNumber);
  const highs = values(table, opts.high ?? "high", "heatmap").map(toNumber);
  const counts = amountsOrOnes(table, opts.count, "count", "heatmap");
  const buckets = bucketAxis(lows, highs, "heatmap");
  const grid = timeGrid(times.keys);
  if (buckets.lows.length === 0 || grid.values.length === 0) return emptyFigure(title);

  const nx = grid.values.length;
  const ny = buckets.lows.length;
  const z = Array.from({ length: ny }, () => new Array<number>(nx).fill(0));
  for (let i = 0; i < counts.length; i++) {
    const xi = grid.slot(times.keys[i]);
    const yi = buckets.index(lows[i]);
    if (xi >= 0 && yi >= 0) z[yi][xi] += counts[i];
  }
  let max = 0;
  for (const row of z) for (const v of row) if (v > max) max = v;

  const rowText = buckets.lows.map((_, yi) => bucketText(buckets, yi, fmt));
  const hovertext = z.map((row, yi) => row.map((c, xi) => `${timeText(timeName, times, grid.values[xi])}<br>${rowText[yi]}<br>count: ${formatCount(c)}`));
  const log = opts.logColor ?? false;
  const colorbar: Record<string, unknown> = { title: { text: log ? "count (log)" : "count" }, separatethousands: true };
  if (log) Object.assign(colorbar, logTicks(max));

  const trace = {
    type: "heatmap",
    x: axisValues(grid.values, times.dates),
    // Row edges, not centres: bucket i spans i..i+1, so ticks sit on the bounds they name.
    y: Array.from({ length: ny + 1 }, (_, i) => i),
    z: log ? z.map((row) => row.map((c) => Math.log10(1 + Math.max(0, c)))) : z,
    zmin: 0,
    zmax: log ? Math.log10(1 + max) : Math.max(max, 1),
    colorscale: COLORSCALE,
    colorbar,
    hovertext,
    hovertemplate: "%{hovertext}<extra></extra>",
  };
  const xaxis: Record<string, unknown> = { title: { text: timeTitle(timeName, times) }, automargin: true, showgrid: false };
  if (times.dates) xaxis.type = "date";
  const layout = {
    ...baseLayout(title),
    xaxis,
    yaxis: { title: { text: opts.axisTitle ?? bucketAxisTitle(buckets, fmt) }, tickmode: "array", ...edgeTicks(buckets, fmt), range: [0, ny], automargin: true, showgrid: false, ticks: "outside" },
  };
  return makeFigure([trace], layout);
}

/** Colour bar ticks at 0, 1, 10, 100, … placed on the log10(count + 1) scale. */
function logTicks(max: number): { tickvals: number[]; ticktext: string[] } {
  const tickvals = [0];
  const ticktext = ["0"];
  for (let v = 1; v <= max; v *= 10) {
    tickvals.push(Math.log10(1 + v));
    ticktext.push(formatCount(v));
  }
  return { tickvals, ticktext };
}
