/* Percentiles from bucketed counts. Only the bucket a percentile falls in is known;
 * the position inside it assumes the bucket's events are spread evenly, so results are
 * approximate within one bucket's width (for log2 buckets, within a factor of 2). */
import { InvalidArgumentError } from "../errors.js";

export interface BucketPosition {
  /** Index (into the arrays as given) of the bucket the percentile falls in. */
  index: number;
  /** How far into that bucket, 0..1. */
  fraction: number;
  value: number;
}

/** Where percentile `p` (0..100) falls, or undefined when the counts sum to 0. */
export function locatePercentile(lows: ArrayLike<number>, highs: ArrayLike<number>, counts: ArrayLike<number>, p: number): BucketPosition | undefined {
  if (!(p >= 0 && p <= 100)) throw new InvalidArgumentError(`percentile must be within 0..100, not ${p}`);
  if (lows.length !== highs.length || lows.length !== counts.length) throw new InvalidArgumentError(`lows, highs and counts differ in length (${lows.length}, ${highs.length}, ${counts.length})`);
  const order = Array.from({ length: lows.length }, (_, i) => i).sort((a, b) => lows[a] - lows[b]);
  let total = 0;
  for (const i of order) if (counts[i] > 0) total += counts[i];
  if (total === 0) return undefined;
  const target = (p / 100) * total;
  let below = 0;
  let last = -1;
  for (const i of order) {
    const c = counts[i];
    if (!(c > 0)) continue;
    last = i;
    if (below + c >= target) {
      const fraction = Math.min(1, Math.max(0, (target - below) / c));
      // Under- and overflow buckets have one finite bound, which is all that is known.
      const lo = Number.isFinite(lows[i]) ? lows[i] : highs[i];
      const hi = Number.isFinite(highs[i]) ? highs[i] : lows[i];
      return { index: i, fraction, value: lo + fraction * (hi - lo) };
    }
    below += c;
  }
  // Only rounding in the running sum gets here (p = 100): the top of the last bucket.
  return { index: last, fraction: 1, value: Number.isFinite(highs[last]) ? highs[last] : lows[last] };
}

/**
 * Percentile `p` (0..100) of a bucketed distribution, interpolated linearly inside the
 * bucket it falls in: approximate within that bucket's resolution. Buckets may come in
 * any order; empty ones are skipped. NaN when the counts sum to 0.
 *
 *   percentileFromBuckets([0, 10], [10, 20], [10, 10], 50)  // 10
 *   percentileFromBuckets([0, 10], [10, 20], [10, 10], 75)  // 15
 */
export function percentileFromBuckets(lows: ArrayLike<number>, highs: ArrayLike<number>, counts: ArrayLike<number>, p: number): number {
  return locatePercentile(lows, highs, counts, p)?.value ?? NaN;
}
