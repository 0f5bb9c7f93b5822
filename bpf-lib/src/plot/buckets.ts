/* The bucket axis shared by histograms and heatmaps: buckets sorted by lower bound, and
 * for log2 or evenly spaced buckets the empty ones in between put back, so a gap in the
 * data shows as a gap and not as two neighbouring bars. Under- and overflow buckets
 * (bounds of -Infinity / Infinity, as lhist() makes) sit at the ends. */
import { InvalidArgumentError } from "../errors.js";
import type { BucketFormat } from "./bucket-format.js";
import { formatCount } from "./numbers.js";

/** More buckets than this are not filled in: the data is then not a histogram we know. */
const MAX_FILLED = 1024;

export interface Buckets {
  /** Bounds in the input unit, sorted by `lows`; bucket i is [lows[i], highs[i]). */
  lows: number[];
  highs: number[];
  /** Every bucket is [0, 1) or [x, 2x). */
  log2: boolean;
  /** Position of the bucket whose lower bound is `low`, or -1. */
  index(low: number): number;
}

export function bucketAxis(lows: readonly number[], highs: readonly number[], chart: string): Buckets {
  const bounds = new Map<number, number>();
  for (let i = 0; i < lows.length; i++) {
    const lo = lows[i];
    const hi = highs[i];
    if (Number.isNaN(lo) || Number.isNaN(hi)) continue;
    if (!(hi > lo)) throw new InvalidArgumentError(`plot.${chart}: a bucket's high must be above its low, but row ${i} has low ${lo}, high ${hi}`);
    const seen = bounds.get(lo);
    if (seen !== undefined && seen !== hi) throw new InvalidArgumentError(`plot.${chart}: buckets with low ${lo} have different highs (${seen} and ${hi})`);
    bounds.set(lo, hi);
  }
  const all = [...bounds.keys()].sort((a, b) => (a === b ? 0 : a < b ? -1 : 1));
  const under = all.filter((lo) => lo === -Infinity);
  const over = all.filter((lo) => lo !== -Infinity && bounds.get(lo) === Infinity);
  const finite = all.filter((lo) => lo !== -Infinity && bounds.get(lo) !== Infinity);
  const log2 = finite.length > 0 && finite.every((lo) => (lo === 0 && bounds.get(lo) === 1) || (lo > 0 && bounds.get(lo) === 2 * lo));
  const from = under.length ? bounds.get(-Infinity) : undefined;
  const filled = (log2 ? fillLog2(finite) : fillLinear(finite, bounds, from, over[0])) ?? finite;
  const axisLows = [...under, ...filled, ...over];
  const width = finite.length > 0 ? (bounds.get(finite[0]) ?? 0) - finite[0] : 0;
  const axisHighs = axisLows.map((lo) => bounds.get(lo) ?? (log2 ? (lo === 0 ? 1 : 2 * lo) : lo + width));
  const at = new Map(axisLows.map((lo, i) => [lo, i]));
  return { lows: axisLows, highs: axisHighs, log2, index: (low) => at.get(low) ?? -1 };
}

/** 0, 1, 2, 4, … from the first to the last bucket, if the buckets are one such series. */
function fillLog2(lows: readonly number[]): number[] | undefined {
  const out: number[] = [];
  for (let lo = lows[0]; lo <= lows[lows.length - 1] && out.length < MAX_FILLED; lo = lo === 0 ? 1 : 2 * lo) out.push(lo);
  const have = new Set(out);
  // Buckets such as [1,2) and [3,6) are each log2-shaped but not one series.
  return lows.every((lo) => have.has(lo)) ? out : undefined;
}

/**
 * Every step from the first to the last bucket, if all buckets have one width on one
 * grid; the range reaches out to the under- and overflow buckets' finite bounds, which
 * are lhist()'s min and max.
 */
function fillLinear(lows: readonly number[], bounds: ReadonlyMap<number, number>, from?: number, to?: number): number[] | undefined {
  if (lows.length === 0 || (lows.length < 2 && from === undefined && to === undefined)) return undefined;
  const width = (bounds.get(lows[0]) ?? NaN) - lows[0];
  if (!(width > 0) || !lows.every((lo) => (bounds.get(lo) ?? NaN) - lo === width)) return undefined;
  const first = from !== undefined && from <= lows[0] ? from : lows[0];
  const last = to !== undefined && to - width >= lows[lows.length - 1] ? to - width : lows[lows.length - 1];
  const onGrid = (v: number) => Math.abs((v - first) / width - Math.round((v - first) / width)) < 1e-9;
  const count = Math.round((last - first) / width) + 1;
  if (count > MAX_FILLED || !lows.every(onGrid) || !onGrid(last)) return undefined;
  return Array.from({ length: count }, (_, i) => first + i * width);
}

/**
 * Tick marks on bucket edges (edge i is where bucket i starts; the last is the last
 * bucket's end), each labelled with its bound. Every k-th edge when there are more
 * than `maxLabels`, so labels never crowd.
 */
export function edgeTicks(b: Buckets, fmt: BucketFormat, maxLabels = 14): { tickvals: number[]; ticktext: string[] } {
  const n = b.lows.length;
  const step = Math.max(1, Math.ceil((n + 1) / maxLabels));
  const tickvals: number[] = [];
  const ticktext: string[] = [];
  for (let i = 0; i <= n; i += step) {
    tickvals.push(i);
    ticktext.push(fmt.format(i < n ? b.lows[i] : b.highs[n - 1]));
  }
  return { tickvals, ticktext };
}

/** "1.02 ms – 2.05 ms<br>[1,024, 2,048) µs": readable, then exact in the table's unit. */
export function bucketText(b: Buckets, i: number, fmt: BucketFormat): string {
  const lo = b.lows[i];
  const hi = b.highs[i];
  const unit = fmt.unit ? ` ${fmt.unit}` : "";
  if (lo === -Infinity) return `below ${fmt.format(hi)}<br>(-∞, ${formatCount(hi)})${unit}`;
  if (hi === Infinity) return `${fmt.format(lo)} and above<br>[${formatCount(lo)}, ∞)${unit}`;
  return `${fmt.format(lo)} – ${fmt.format(hi)}<br>[${formatCount(lo)}, ${formatCount(hi)})${unit}`;
}

export function bucketAxisTitle(b: Buckets, fmt: BucketFormat): string {
  return b.log2 ? `${fmt.quantity} (log2 buckets)` : `${fmt.quantity} (buckets)`;
}
