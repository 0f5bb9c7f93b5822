/* Merging aggregation rows that came to share every key (container ids resolved from
 * cgroup ids, stacks whose distinct ids name the same frames): counts and sums add, min
 * and max take the extremes, avg is recomputed. In 64-bit integers: a sum past 2^53 stays
 * exact (a bigint), as the kernel's totals do. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { exact } from "./keys.js";

/** The value columns an aggregation table may have; every other column is a key. */
export const VALUE_COLUMNS: readonly string[] = ["count", "sum", "min", "max", "avg"];

type Num = number | bigint;
const big = (v: unknown): bigint => (typeof v === "bigint" ? v : BigInt(Math.trunc(Number(v ?? 0))));

/** Rows of `t` merged by every column that is not a value column, in first-seen order; the columns keep their order. */
export function mergeRows(t: ColumnTable): ColumnTable {
  const names = t.columnNames();
  const keys = names.filter((c) => !VALUE_COLUMNS.includes(c));
  const has = (c: string) => names.includes(c);
  const col = (c: string) => (has(c) ? (t.array(c) as ArrayLike<unknown>) : null);
  const [count, sum, min, max] = [col("count"), col("sum"), col("min"), col("max")];
  const keyCols = keys.map((k) => t.array(k) as ArrayLike<unknown>);
  const groups = new Map<string, { first: number; count: bigint; sum: bigint; min: bigint | null; max: bigint | null }>();
  const keyOf = (i: number) => JSON.stringify(keyCols.map((c) => { const v = c[i]; return typeof v === "bigint" ? `${v}n` : v; }));
  for (let i = 0; i < t.numRows(); i++) {
    const k = keyOf(i);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { first: i, count: 0n, sum: 0n, min: null, max: null }));
    if (count) g.count += big(count[i]);
    if (sum) g.sum += big(sum[i]);
    if (min) { const v = big(min[i]); if (g.min === null || v < g.min) g.min = v; }
    if (max) { const v = big(max[i]); if (g.max === null || v > g.max) g.max = v; }
  }
  const rows = [...groups.values()];
  const out: Record<string, unknown[]> = {};
  keys.forEach((k, j) => (out[k] = rows.map((g) => keyCols[j]![g.first])));
  const col64 = (vals: bigint[]): Num[] => {
    const e = vals.map(exact);
    // one bigint makes the whole column bigint, as the aggregation's own tables do
    return e.some((v) => typeof v === "bigint") ? vals : (e as number[]);
  };
  if (count) out.count = col64(rows.map((g) => g.count));
  if (sum) out.sum = col64(rows.map((g) => g.sum));
  if (min) out.min = col64(rows.map((g) => g.min ?? 0n));
  if (max) out.max = col64(rows.map((g) => g.max ?? 0n));
  if (has("avg")) out.avg = rows.map((g) => (g.count ? Number(g.sum) / Number(g.count) : 0));
  return aq.table(Object.fromEntries(names.map((n) => [n, out[n]!])));
}
