/* Working with aggregation tables: percentiles from histogram buckets, and
 * comparing two runs key by key. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { InvalidArgumentError } from "../errors.js";
import { percentileFromBuckets } from "../plot/percentile.js";

export { percentileFromBuckets };

/** Percentiles per key from a histogram table (columns low, high, count, plus keys). */
export function percentiles(hist: ColumnTable, ps: readonly number[] = [50, 90, 99], opts: { by?: readonly string[] } = {}): ColumnTable {
  for (const c of ["low", "high", "count"]) if (!hist.columnNames().includes(c)) throw new InvalidArgumentError(`percentiles() needs a histogram table with low, high and count columns; this one has ${hist.columnNames().join(", ")}`);
  const by = opts.by ?? hist.columnNames().filter((c) => !["low", "high", "count", "bucket", "interval", "time"].includes(c));
  const groups = new Map<string, { key: Record<string, unknown>; lows: number[]; highs: number[]; counts: number[] }>();
  const rows = hist.objects() as Record<string, unknown>[];
  for (const r of rows) {
    const id = JSON.stringify(by.map((k) => r[k]));
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { key: Object.fromEntries(by.map((k) => [k, r[k]])), lows: [], highs: [], counts: [] }));
    g.lows.push(Number(r.low));
    g.highs.push(Number(r.high));
    g.counts.push(Number(r.count));
  }
  const out = [...groups.values()].map((g) => ({
    ...g.key,
    count: g.counts.reduce((a, b) => a + b, 0),
    ...Object.fromEntries(ps.map((p) => [`p${p}`, percentileFromBuckets(g.lows, g.highs, g.counts, p)])),
  }));
  return aq.from(out);
}

/**
 * Joins two aggregation tables on their key columns: before, after, delta and ratio
 * of a value column (default "count"). Keys present on one side only get 0 on the other.
 */
export function compare(before: ColumnTable, after: ColumnTable, opts: { by?: readonly string[]; value?: string } = {}): ColumnTable {
  const value = opts.value ?? "count";
  const by = opts.by ?? before.columnNames().filter((c) => after.columnNames().includes(c) && !["count", "sum", "min", "max", "avg", "low", "high", "interval", "time"].includes(c));
  const sums = (t: ColumnTable) => {
    const m = new Map<string, { key: Record<string, unknown>; v: number }>();
    for (const r of t.objects() as Record<string, unknown>[]) {
      const id = JSON.stringify(by.map((k) => r[k]));
      const e = m.get(id) ?? { key: Object.fromEntries(by.map((k) => [k, r[k]])), v: 0 };
      e.v += Number(r[value]);
      m.set(id, e);
    }
    return m;
  };
  const a = sums(before), b = sums(after);
  const ids = new Set([...a.keys(), ...b.keys()]);
  const rows = [...ids].map((id) => {
    const x = a.get(id)?.v ?? 0, y = b.get(id)?.v ?? 0;
    return { ...(a.get(id) ?? b.get(id))!.key, before: x, after: y, delta: y - x, ratio: x === 0 ? (y === 0 ? 1 : Infinity) : y / x };
  });
  return aq.from(rows).orderby(aq.desc("delta"));
}
