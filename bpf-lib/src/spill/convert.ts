/* A DuckDB result as an Arquero table, exactly: every column is converted by its SQL
 * type, never guessed from its values.
 *   - 64-bit and wider integers (BIGINT, UBIGINT, HUGEINT, UHUGEINT; count(*) and
 *     sum() of integers are among them) become numbers when every value of the column
 *     is a safe integer (|v| <= 2^53 - 1), else stay bigints, so nothing is rounded;
 *     `bigint: true` keeps them bigints always.
 *   - Narrower integers and floats become typed arrays of their width (plain arrays
 *     with null where the column has NULLs); DECIMAL the nearest double.
 *   - VARCHAR, ENUM and UUID become strings; BLOB Uint8Array (as readParquet() gives); BOOLEAN booleans; lists,
 *     structs and maps arrays and objects (their items converted by DuckDB's own JS
 *     rules).
 *   - Timestamps become Dates (what Arquero's date functions and charts take). A Date
 *     holds milliseconds: a column whose values have finer parts is rounded down and a
 *     BPFBOOK_IMPRECISE warning names it; `timestamps: "epoch"` gives the exact count
 *     of the column's unit since the epoch instead (numbers when safe, else bigints). */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import type { DuckDBResultReader, DuckDBType, DuckDBValue, DuckDBValueConverter, JS } from "@duckdb/node-api";

/** How query() turns values JavaScript has no exact type for into columns. */
export interface ResultOptions {
  /** Keep every 64-bit (and wider) integer column as bigints, even when its values fit in a number (default false: numbers when every value is safe). */
  bigint?: boolean;
  /** Timestamps as Dates ("date", default; rounded down to the millisecond) or as the exact count of their unit since the epoch ("epoch": s, ms, µs or ns, as the column's type says). */
  timestamps?: "date" | "epoch";
}

/** DuckDB's type ids used here (the enum of @duckdb/node-api, which is loaded only when a query runs). */
const T = {
  BOOLEAN: 1, TINYINT: 2, SMALLINT: 3, INTEGER: 4, BIGINT: 5, UTINYINT: 6, USMALLINT: 7, UINTEGER: 8, UBIGINT: 9, FLOAT: 10, DOUBLE: 11,
  TIMESTAMP: 12, HUGEINT: 16, BLOB: 18, UHUGEINT: 32, TIMESTAMP_S: 20, TIMESTAMP_MS: 21, TIMESTAMP_NS: 22, TIMESTAMP_TZ: 31, BIGNUM: 35,
} as const;

type TypedCtor = Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor | Uint16ArrayConstructor | Uint32ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor;
const NARROW: Record<number, TypedCtor> = {
  [T.TINYINT]: Int8Array, [T.SMALLINT]: Int16Array, [T.INTEGER]: Int32Array, [T.UTINYINT]: Uint8Array, [T.USMALLINT]: Uint16Array, [T.UINTEGER]: Uint32Array, [T.FLOAT]: Float32Array, [T.DOUBLE]: Float64Array,
};
const WIDE = new Set<number>([T.BIGINT, T.UBIGINT, T.HUGEINT, T.UHUGEINT, T.BIGNUM]);
/** Each timestamp type: how to read its count from DuckDB's value object, and that count's units per millisecond. */
const STAMPS: Record<number, { count: (v: Record<string, bigint>) => bigint; perMs: bigint }> = {
  [T.TIMESTAMP_S]: { count: (v) => v.seconds, perMs: 0n },
  [T.TIMESTAMP_MS]: { count: (v) => v.millis, perMs: 1n },
  [T.TIMESTAMP]: { count: (v) => v.micros, perMs: 1000n },
  [T.TIMESTAMP_TZ]: { count: (v) => v.micros, perMs: 1000n },
  [T.TIMESTAMP_NS]: { count: (v) => v.nanos, perMs: 1000000n },
};

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const safe = (v: bigint) => v <= MAX_SAFE && v >= -MAX_SAFE;

/** A column of possibly-NULL values: a typed array when there are none, else the values with null. */
function numbers(values: readonly (number | null)[], C: TypedCtor): ArrayLike<number | null> {
  return values.includes(null) ? values : C.from(values as number[]);
}

/** 64-bit integers: numbers when every one is safe (and bigint is not asked for), else bigints (a typed array of 64 bits when it fits and has no NULLs). */
function wide(values: readonly (bigint | null)[], typeId: number, keepBigint: boolean): ArrayLike<unknown> {
  const nulls = values.includes(null);
  if (!keepBigint && values.every((v) => v === null || safe(v))) {
    return nulls ? values.map((v) => (v === null ? null : Number(v))) : Float64Array.from(values as bigint[], Number);
  }
  if (!nulls && typeId === T.BIGINT) return BigInt64Array.from(values as bigint[]);
  if (!nulls && typeId === T.UBIGINT) return BigUint64Array.from(values as bigint[]);
  return values;
}

/** Timestamps: Dates (rounded down to the ms; `rounded` counts values that had finer parts), or the exact counts. */
function stamps(values: readonly unknown[], typeId: number, mode: "date" | "epoch", rounded: { n: number }): ArrayLike<unknown> {
  const { count, perMs } = STAMPS[typeId]!;
  const counts = values.map((v) => (v === null ? null : count(v as Record<string, bigint>)));
  if (mode === "epoch") return wide(counts, T.BIGINT, false);
  return counts.map((c) => {
    if (c === null) return null;
    if (perMs === 0n) return new Date(Number(c * 1000n));
    // floor division, so an instant before the epoch rounds down too
    let ms = c / perMs;
    if (c % perMs !== 0n) {
      rounded.n++;
      if (c < 0n) ms -= 1n;
    }
    return new Date(Number(ms));
  });
}

/** The result as an Arquero table; column names as DuckDB gives them (duplicates numbered: a, a_1). */
export function resultTable(reader: DuckDBResultReader, js: DuckDBValueConverter<JS>, opts: ResultOptions = {}): ColumnTable {
  const names = reader.deduplicatedColumnNames();
  const types: DuckDBType[] = reader.columnTypes();
  const raw = reader.getColumns();
  const cols: Record<string, ArrayLike<unknown>> = {};
  const imprecise: string[] = [];
  names.forEach((name, i) => {
    const type = types[i]!;
    const id = type.typeId as number;
    const values: readonly DuckDBValue[] = raw[i] ?? [];
    if (NARROW[id]) cols[name] = numbers(values as (number | null)[], NARROW[id]);
    else if (WIDE.has(id)) cols[name] = wide(values as (bigint | null)[], id, opts.bigint === true);
    else if (STAMPS[id]) {
      const rounded = { n: 0 };
      cols[name] = stamps(values, id, opts.timestamps ?? "date", rounded);
      if (rounded.n) imprecise.push(`${name} (${rounded.n} values)`);
    } else if (id === T.BLOB) {
      // as readParquet() gives bytes: a Uint8Array (DuckDB's converter makes Buffers)
      cols[name] = values.map((v) => { const b = v === null ? null : (js(v, type, js) as Uint8Array); return b && new Uint8Array(b.buffer, b.byteOffset, b.byteLength); });
    } else cols[name] = values.map((v) => (v === null ? null : js(v, type, js)));
  });
  if (imprecise.length) {
    process.emitWarning(`query(): timestamps with parts finer than a millisecond were rounded down to Dates in ${imprecise.join(", ")}; use { timestamps: "epoch" } for the exact counts`, { code: "BPFBOOK_IMPRECISE" });
  }
  return aq.table(cols);
}
