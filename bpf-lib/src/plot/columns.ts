/* Reading table columns. Columns arrive as typed arrays, plain arrays or dictionary-
 * encoded strings; table.array() resolves filters and orderings and gives a plain array. */
import type { ColumnTable } from "arquero";
import { InvalidArgumentError } from "../errors.js";

/** Kernel addresses read as hex (what symbolizers print); other bigints as numbers. */
const KERNEL_ADDRESS = 0xffff000000000000n;

export function hasColumn(table: ColumnTable, name: string): boolean {
  return table.columnNames().includes(name);
}

export function requireColumn(table: ColumnTable, name: string, chart: string): void {
  if (hasColumn(table, name)) return;
  const names = table.columnNames();
  throw new InvalidArgumentError(`plot.${chart}: the table has no column "${name}" (its columns: ${names.length ? names.join(", ") : "none"})`);
}

export function values(table: ColumnTable, name: string, chart: string): unknown[] {
  requireColumn(table, name, chart);
  return Array.from(table.array(name) as ArrayLike<unknown>);
}

export function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return v.getTime();
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string" && v.trim() !== "") return Number(v);
  return NaN;
}

/** Counts or sums: a null or non-numeric cell adds nothing. */
export function amounts(table: ColumnTable, name: string, chart: string): number[] {
  return values(table, name, chart).map((v) => {
    const n = toNumber(v);
    return Number.isFinite(n) ? n : 0;
  });
}

/**
 * The value column, or 1 per row when the caller left the default name and the table has
 * no such column: raw events (one row each) then chart as counts.
 */
export function amountsOrOnes(table: ColumnTable, name: string | undefined, fallback: string, chart: string): number[] {
  if (name === undefined && !hasColumn(table, fallback)) return new Array<number>(table.numRows()).fill(1);
  return amounts(table, name ?? fallback, chart);
}

export function label(v: unknown): string {
  if (v === null || v === undefined) return "(null)";
  if (typeof v === "bigint") return v >= KERNEL_ADDRESS ? `0x${v.toString(16)}` : v.toString();
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

export function labels(table: ColumnTable, name: string, chart: string): string[] {
  return values(table, name, chart).map(label);
}

/** Joins the cells of several key columns into one legend label per row. */
export function keyLabels(table: ColumnTable, by: string | readonly string[], chart: string): string[] {
  const names = typeof by === "string" ? [by] : [...by];
  if (names.length === 0) throw new InvalidArgumentError(`plot.${chart}: "by" names no columns`);
  const cols = names.map((n) => labels(table, n, chart));
  if (cols.length === 1) return cols[0];
  return cols[0].map((_, i) => cols.map((c) => c[i]).join(" · "));
}

export function byTitle(by: string | readonly string[]): string {
  return typeof by === "string" ? by : by.join(" · ");
}
