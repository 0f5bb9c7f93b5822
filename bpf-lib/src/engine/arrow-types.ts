/* The Arrow column types of a table (saveTrace(), recordings, Parquet exports), named from the columns themselves ( typed arrays keep their width, dictionary strings stay
 * dictionaries, a 0-row column is a string column), plus what plain-array columns
 * hold: numbers as doubles (what a JS number is, whatever its value), 64-bit bigints
 * (unsigned when a value needs it: an aggregation's u64 sum can pass 2^63) and byte
 * buffers (binary, not lists of numbers). */
import type { ColumnTable } from "arquero";
import * as aq from "arquero";
import {
  binary, dictionary, float32, float64, int16, int32, int64, int8, uint16, uint32, uint64, uint8, utf8, type DataType, type Table as ArrowTable,
} from "@uwdata/flechette";
import { DictColumn } from "./columns.js";

const INT64_MAX = 2n ** 63n - 1n;

/** The Arrow type of a plain array column, when its values say more than Arquero would infer. */
function plainType(values: ArrayLike<unknown>): DataType | undefined {
  let bigints = 0, big = false, negative = false, bytes = 0, numbers = 0, strings = 0, other = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    if (typeof v === "bigint") {
      bigints++;
      if (v > INT64_MAX) big = true;
      if (v < 0n) negative = true;
    } else if (v instanceof Uint8Array) bytes++;
    else if (typeof v === "number") numbers++;
    else if (typeof v === "string") strings++;
    else other++;
  }
  // a JS number is a double: as such it loses nothing and keeps one type whatever the values (Arrow would pick int8 for small counts)
  if (numbers > 0 && bigints === 0 && bytes === 0 && other === 0) return float64();
  if (bigints > 0 && bytes === 0 && other === 0) return big && !negative ? uint64() : int64();
  if (bytes > 0 && bigints === 0 && other === 0) return binary();
  // plain strings stay plain (Arquero would make a dictionary, which comes back as one)
  if (strings > 0 && numbers === 0 && bigints === 0 && bytes === 0 && other === 0) return utf8();
  return undefined;
}

/** Arrow types for every column Arquero should not guess (typed arrays, dictionaries, bigints, bytes, 0-row columns). */
export function arrowTypes(table: ColumnTable): Record<string, DataType> {
  const types: Record<string, DataType> = {};
  const empty = table.numRows() === 0;
  for (const name of table.columnNames()) {
    const col: unknown = table.column(name);
    const t =
      col instanceof Float64Array ? float64() :
      col instanceof Float32Array ? float32() :
      col instanceof Int32Array ? int32() :
      col instanceof Uint32Array ? uint32() :
      col instanceof Int16Array ? int16() :
      col instanceof Uint16Array ? uint16() :
      col instanceof Int8Array ? int8() :
      col instanceof Uint8Array ? uint8() :
      col instanceof BigInt64Array ? int64() :
      col instanceof BigUint64Array ? uint64() :
      col instanceof DictColumn ? dictionary(utf8()) :
      // nothing to infer from: a string column is the common case (paths, __data_loc)
      empty ? utf8() :
      plainType(table.array(name) as ArrayLike<unknown>);
    if (t) types[name] = t;
  }
  return types;
}

/** Schema metadata keys, as saveTrace() writes them: the stats as JSON, and the format's version. */
export const STATS_KEY = "bpfbook.stats";
export const VERSION_KEY = "bpfbook.version";

/** The table as an Arrow table, its stats (when it has them) in the schema metadata as saveTrace() keeps them. */
export function toArrowTable(table: ColumnTable): ArrowTable {
  const types = arrowTypes(table);
  // A typed array's own type needs no conversion: without a type Arquero hands it to Arrow as it is
  // (no copy), where a given type makes it visit every value (85-117 ms against under 1 ms for
  // a million doubles). Only for a full scan:
  // a filtered or ordered table is visited row by row, and then the type must be given (and a
  // column of no rows has no values to take a type from).
  if (table.numRows() > 0 && !table.isFiltered() && !table.isOrdered()) {
    for (const name of Object.keys(types)) if (ArrayBuffer.isView(table.column(name))) delete types[name];
  }
  const arrow = aq.toArrow(table, { types });
  const meta = new Map<string, string>([[VERSION_KEY, "1"]]);
  const stats = (table as unknown as { stats?: unknown }).stats;
  if (stats) meta.set(STATS_KEY, JSON.stringify(stats));
  arrow.schema.metadata = meta;
  return arrow;
}
