/* Log2 latency histograms (rows of low, high, count), one small chart per key so
 * distributions of very different sizes each keep their shape, with optional
 * percentile marks. */
import type { ColumnTable } from "arquero";
import { InvalidArgumentError } from "../errors.js";
import { bucketFormat, type BucketUnit } from "./bucket-format.js";
import { bucketAxis, bucketAxisTitle, bucketText, edgeTicks, type Buckets } from "./buckets.js";
import { amountsOrOnes, byTitle, keyLabels, toNumber, values } from "./columns.js";
import { baseLayout, emptyFigure, makeFigure, type PlotFigure, type PlotTrace } from "./figure.js";
import { escapeText } from "./escape.js";
import { formatCount, formatShare } from "./numbers.js";
import { seriesColor } from "./palette.js";
import { locatePercentile } from "./percentile.js";
import { OTHER_COLOR, checkTop, otherLabel, rankKeys } from "./top.js";

export interface PercentileMarks {
  /** Percentiles (0..100) to draw as vertical lines. Default [50, 90, 99]. */
  marks?: readonly number[];
}

export interface HistogramOptions {
  /** The unit of `low` and `high`: "ns" (default), "us", "ms", "s", "bytes" or "none" (plain numbers). */
  unit?: BucketUnit;
  /** Key column(s): one small chart per key; several are joined with " · ". */
  by?: string | readonly string[];
  /** Keys shown before the rest are merged into "other". Default 6. */
  top?: number;
  title?: string;
  /** Vertical lines at percentiles computed from the buckets; `true` means p50, p90, p99. */
  percentiles?: boolean | PercentileMarks;
  /** Column names. Defaults "low", "high", "count" (a table without "count" counts rows). */
  low?: string;
  high?: string;
  count?: string;
  /** The bucket axis's title. Default "latency (log2 buckets)", or "size" / "value" for other units. */
  axisTitle?: string;
}

const DEFAULT_MARKS: readonly number[] = [50, 90, 99];
/** Height of one key's chart, and the gap above it for its heading. */
const ROW_PX = 150;
const ROW_GAP_PX = 40;
const MARGIN = { t: 64, r: 24, b: 56, l: 72 };

interface Group {
  name: string;
  counts: Float64Array;
  total: number;
  other: boolean;
}

export function histogram(table: ColumnTable, opts: HistogramOptions = {}): PlotFigure {
  const fmt = bucketFormat(opts.unit ?? "ns", "histogram");
  const top = checkTop(opts.top ?? 6, "histogram");
  const marks = percentileMarks(opts.percentiles);
  const title = opts.title ?? (opts.by ? `${fmt.quantity} by ${byTitle(opts.by)}` : fmt.quantity);
  const lows = values(table, opts.low ?? "low", "histogram").map(toNumber);
  const highs = values(table, opts.high ?? "high", "histogram").map(toNumber);
  const counts = amountsOrOnes(table, opts.count, "count", "histogram");
  const keys = opts.by ? keyLabels(table, opts.by, "histogram") : undefined;
  const buckets = bucketAxis(lows, highs, "histogram");
  if (buckets.lows.length === 0) return emptyFigure(title);

  const groups = groupCounts(buckets, lows, counts, keys, top);
  const n = groups.length;
  const single = keys === undefined;
  const plotPx = n * ROW_PX + (n - 1) * ROW_GAP_PX;
  const gap = single ? 0 : ROW_GAP_PX / plotPx;
  const rowFrac = single ? 1 : ROW_PX / plotPx;
  const ticks = edgeTicks(buckets, fmt);

  const data: PlotTrace[] = [];
  const shapes: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = { ...baseLayout(title), bargap: 0.1, showlegend: false, margin: MARGIN };
  groups.forEach((g, r) => {
    const sfx = r === 0 ? "" : String(r + 1);
    const xa = `x${sfx}`;
    const ya = `y${sfx}`;
    const rowTop = 1 - r * (rowFrac + gap);
    const bottom = Math.max(0, rowTop - rowFrac);
    const color = g.other ? OTHER_COLOR : seriesColor(r);
    data.push({
      type: "bar",
      name: escapeText(g.name),
      // Bucket i spans i..i+1 on the axis, so its ticks sit on the bounds they name.
      x: buckets.lows.map((_, i) => i + 0.5),
      y: Array.from(g.counts),
      xaxis: xa,
      yaxis: ya,
      marker: { color },
      hovertext: buckets.lows.map((_, i) => `${bucketText(buckets, i, fmt)}<br>count: ${formatCount(g.counts[i])} (${formatShare(g.counts[i], g.total)})`),
      hovertemplate: single ? "%{hovertext}<extra></extra>" : "%{hovertext}<extra>%{fullData.name}</extra>",
    });
    const last = r === n - 1;
    layout[`xaxis${sfx}`] = {
      anchor: ya,
      range: [0, buckets.lows.length],
      tickmode: "array",
      ...ticks,
      showticklabels: last,
      ticks: "outside",
      showgrid: true,
      zeroline: false,
      ...(last ? { title: { text: opts.axisTitle ?? bucketAxisTitle(buckets, fmt) } } : {}),
      ...(r > 0 ? { matches: "x" } : {}),
    };
    layout[`yaxis${sfx}`] = { domain: [bottom, rowTop], anchor: xa, title: { text: "count" }, rangemode: "tozero", separatethousands: true, automargin: true, ...countTicks(g.counts) };

    const summary = [`${formatCount(g.total)} ${g.total === 1 ? "event" : "events"}`];
    marks.forEach((p, j) => {
      const at = locatePercentile(buckets.lows, buckets.highs, g.counts, p);
      if (!at) return;
      const x = at.index + at.fraction;
      const text = `p${p} ${fmt.format(at.value)}`;
      summary.push(text);
      shapes.push({ type: "line", xref: xa, yref: `${ya} domain`, x0: x, x1: x, y0: 0, y1: 1, line: { color: "#333", width: 1.5, dash: "dash" } });
      // Staggered so the labels of nearby percentiles do not sit on each other, and
      // left of the line near the right edge, where they would be cut off.
      const right = x > 0.75 * buckets.lows.length;
      annotations.push({ xref: xa, yref: `${ya} domain`, x, y: 1 - 0.14 * j, text, showarrow: false, xanchor: right ? "right" : "left", yanchor: "top", xshift: right ? -3 : 3, font: { size: 11, color: "#333" }, bgcolor: "rgba(255,255,255,0.75)" });
    });
    if (single) {
      (layout.title as Record<string, unknown>).subtitle = { text: summary.join(" · ") };
    } else {
      annotations.push({ xref: "paper", yref: "paper", x: 0, y: rowTop, yanchor: "bottom", xanchor: "left", showarrow: false, align: "left", text: `<b>${escapeText(g.name)}</b>  ${summary.join(" · ")}` });
    }
  });
  layout.shapes = shapes;
  layout.annotations = annotations;
  if (single) layout.margin = { ...MARGIN, t: 80 };
  else layout.height = plotPx + MARGIN.t + MARGIN.b;
  return makeFigure(data, layout);
}

/** Counts are whole: a chart of a few events gets ticks 0, 1, 2 rather than 0, 0.5, 1. */
function countTicks(counts: Float64Array): Record<string, unknown> {
  let max = 0;
  for (const c of counts) max = Math.max(max, c);
  return max <= 5 && counts.every(Number.isInteger) ? { dtick: 1 } : {};
}

function percentileMarks(opt: HistogramOptions["percentiles"]): readonly number[] {
  if (opt === undefined || opt === false) return [];
  const marks = opt === true ? DEFAULT_MARKS : (opt.marks ?? DEFAULT_MARKS);
  for (const p of marks) if (!(p >= 0 && p <= 100)) throw new InvalidArgumentError(`plot.histogram: percentile marks must be within 0..100, not ${p}`);
  return marks;
}

function groupCounts(b: Buckets, lows: readonly number[], counts: readonly number[], keys: readonly string[] | undefined, top: number): Group[] {
  const byKey = new Map<string, Float64Array>();
  const totals = new Map<string, number>();
  for (let i = 0; i < lows.length; i++) {
    const at = b.index(lows[i]);
    if (at < 0) continue;
    const key = keys ? keys[i] : "";
    let c = byKey.get(key);
    if (!c) byKey.set(key, (c = new Float64Array(b.lows.length)));
    c[at] += counts[i];
    totals.set(key, (totals.get(key) ?? 0) + counts[i]);
  }
  const ranked = rankKeys(totals, top);
  const groups: Group[] = ranked.top.map((k) => ({ name: k, counts: byKey.get(k) ?? new Float64Array(b.lows.length), total: totals.get(k) ?? 0, other: false }));
  if (ranked.rest.length > 0) {
    const c = new Float64Array(b.lows.length);
    let total = 0;
    for (const k of ranked.rest) {
      byKey.get(k)?.forEach((v, i) => (c[i] += v));
      total += totals.get(k) ?? 0;
    }
    groups.push({ name: otherLabel(ranked.rest.length), counts: c, total, other: true });
  }
  return groups;
}
