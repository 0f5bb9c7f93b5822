/* The bucket axis shared by histograms and heatmaps: buckets sorted by lower bound, and
 * for log2 buckets the empty ones in between put back, so a gap in the data shows as a
 * gap and not as two neighbouring bars. */
import { InvalidArgumentError } from "../errors.js";
import { formatCount } from "./numbers.js";
import { formatDuration } from "./units.js";

/** Beyond this many log2 buckets the bounds exceed any duration worth plotting. */
const MAX_LOG2_BUCKETS = 128;

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
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) continue;
    if (!(hi > lo)) throw new InvalidArgumentError(`plot.${chart}: a bucket's high must be above its low, but row ${i} has low ${lo}, high ${hi}`);
    const seen = bounds.get(lo);
    if (seen !== undefined && seen !== hi) throw new InvalidArgumentError(`plot.${chart}: buckets with low ${lo} have different highs (${seen} and ${hi})`);
    bounds.set(lo, hi);
  }
  const sorted = [...bounds.keys()].sort((a, b) => a - b);
  const log2 = sorted.length > 0 && sorted.every((lo) => (lo === 0 && bounds.get(lo) === 1) || (lo > 0 && bounds.get(lo) === 2 * lo));
  let axisLows = sorted;
  if (log2) {
    const filled: number[] = [];
    for (let lo = sorted[0]; lo <= sorted[sorted.length - 1] && filled.length < MAX_LOG2_BUCKETS; lo = lo === 0 ? 1 : 2 * lo) filled.push(lo);
    const have = new Set(filled);
    // Buckets such as [1,2) and [3,6) are each log2-shaped but not one series: keep them as given.
    if (sorted.every((lo) => have.has(lo))) axisLows = filled;
  }
  const axisHighs = axisLows.map((lo) => bounds.get(lo) ?? (lo === 0 ? 1 : 2 * lo));
  const at = new Map(axisLows.map((lo, i) => [lo, i]));
  return { lows: axisLows, highs: axisHighs, log2, index: (low) => at.get(low) ?? -1 };
}

/**
 * Tick marks on bucket edges (edge i is where bucket i starts; the last is the last
 * bucket's end), each labelled with its duration. Every k-th edge when there are more
 * than `maxLabels`, so labels never crowd.
 */
export function edgeTicks(b: Buckets, unitNs: number, maxLabels = 14): { tickvals: number[]; ticktext: string[] } {
  const n = b.lows.length;
  const step = Math.max(1, Math.ceil((n + 1) / maxLabels));
  const tickvals: number[] = [];
  const ticktext: string[] = [];
  for (let i = 0; i <= n; i += step) {
    tickvals.push(i);
    ticktext.push(formatDuration((i < n ? b.lows[i] : b.highs[n - 1]) * unitNs));
  }
  return { tickvals, ticktext };
}

/** "1.02 ms – 2.05 ms<br>[1,024, 2,048) µs": readable, then exact in the table's unit. */
export function bucketText(b: Buckets, i: number, unitNs: number, unit: string): string {
  const lo = b.lows[i];
  const hi = b.highs[i];
  return `${formatDuration(lo * unitNs)} – ${formatDuration(hi * unitNs)}<br>[${formatCount(lo)}, ${formatCount(hi)}) ${unit}`;
}

export function bucketAxisTitle(b: Buckets): string {
  return b.log2 ? "latency (log2 buckets)" : "latency (buckets)";
}
