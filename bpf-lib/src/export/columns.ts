/* What every export checks first: the argument is an Arquero table that has the
 * columns the format needs; if not, a named error saying which it needs and which
 * it has. And the column values every format meets: bigints, dictionary strings. */
import type { ColumnTable } from "arquero";
import { InvalidArgumentError } from "../errors.js";
import { shown } from "../options/describe.js";

/** The table argument: an Arquero table (or a bpfbook table, which is one). */
export function tableArgument(t: unknown, what: string): ColumnTable {
  const ok = typeof t === "object" && t !== null && typeof (t as ColumnTable).columnNames === "function" && typeof (t as ColumnTable).numRows === "function";
  if (!ok) throw new InvalidArgumentError(`${what}: the first argument must be a table (what collect() returns, or any Arquero table); got ${shown(t)}`);
  return t as ColumnTable;
}

/**
 * Throws an InvalidArgumentError unless the table has every column in `needs`
 * (`kind` says what such a table is, e.g. "a profile() or offcpu() table").
 */
export function requireColumns(t: ColumnTable, what: string, needs: readonly string[], kind: string): void {
  const has = t.columnNames();
  const missing = needs.filter((c) => !has.includes(c));
  if (missing.length === 0) return;
  throw new InvalidArgumentError(
    `${what} needs ${kind}: columns ${needs.join(", ")}; this table lacks ${missing.join(", ")} (it has ${has.length ? has.join(", ") : "no columns"})`,
  );
}

/** The stats a bpfbook table carries (undefined after a verb: Arquero verbs return plain tables). */
export function statsOf<S extends object>(t: ColumnTable): Partial<S> | undefined {
  return (t as unknown as { stats?: Partial<S> }).stats;
}

/** A bigint as a number when a double holds it exactly, else its decimal string. */
export function exactNumber(v: number | bigint): number | string {
  if (typeof v === "number") return v;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

/** Bytes as lowercase hex (a byte-buffer read). */
export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

/** A value as JSON can hold it: bigints exact (numbers, or decimal strings beyond 2^53), bytes as hex, dates as ISO text. */
export function jsonValue(v: unknown): unknown {
  if (typeof v === "bigint") return exactNumber(v);
  if (v instanceof Uint8Array) return hex(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) return v.map(jsonValue);
  return v;
}
