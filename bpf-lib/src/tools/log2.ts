/* Log2 buckets of a per-event duration column, so an events tool's latencies draw as the
 * same histogram an in-kernel latency aggregation does. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";

/** low, high, count of `column` (ns) in power-of-two buckets; a 0 lands in [0, 1). */
export function log2Buckets(t: ColumnTable, column: string): ColumnTable {
  const counts = new Map<number, number>();
  for (const v of Array.from(t.array(column) as ArrayLike<number>)) {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) continue;
    const b = n < 1 ? -1 : Math.floor(Math.log2(n));
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  const keys = [...counts.keys()].sort((a, b) => a - b);
  return aq.table({
    low: keys.map((b) => (b < 0 ? 0 : 2 ** b)),
    high: keys.map((b) => (b < 0 ? 1 : 2 ** (b + 1))),
    count: keys.map((b) => counts.get(b)!),
  });
}
