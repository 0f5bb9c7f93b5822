/* readParquet: a Parquet file written by writeParquet() (or any Parquet file) back
 * into a table, with its stats when it has them: exports can be replayed like saved
 * traces, without root or a kernel. */
import { readFileSync } from "node:fs";
import * as aq from "arquero";
import { tableFromIPC } from "@uwdata/flechette";
import type { TraceTable } from "../engine/table.js";
import { InvalidArgumentError } from "../errors.js";
import { shown } from "../options/describe.js";
import { STATS_KEY } from "../engine/arrow-types.js";
import { parquetWasm } from "./parquet.js";

/**
 * Reads a Parquet file (a path, or its bytes) into a table: 64-bit integers as
 * bigints, timestamps as Dates, lists as arrays, binary as Uint8Array; a file from
 * writeParquet() gets its `stats` back.
 */
export function readParquet<Row extends object = Record<string, unknown>>(source: string | Uint8Array): TraceTable<Row> {
  if (typeof source !== "string" && !(source instanceof Uint8Array)) throw new InvalidArgumentError(`readParquet(): the source must be a file name or the file's bytes; got ${shown(source)}`);
  const bytes = typeof source === "string" ? readFileSync(source) : source;
  const arrow = tableFromIPC(parquetWasm().readParquet(bytes).intoIPCStream(), { useBigInt: true, useDate: true });
  const raw = arrow.schema.metadata?.get(STATS_KEY);
  arrow.schema.metadata = undefined; // Arquero's input type has no room for it; read above
  // Arquero's dictionary reader needs a record batch, and a table with no rows has none.
  const t = arrow.numRows === 0
    ? aq.table(Object.fromEntries(arrow.names.map((n) => [n, arrow.getChild(n).toArray() as ArrayLike<unknown>])))
    : aq.fromArrow(arrow as unknown as Parameters<typeof aq.fromArrow>[0]);
  Object.defineProperty(t, "stats", { value: raw ? Object.freeze(JSON.parse(raw) as object) : undefined, enumerable: false });
  return t as TraceTable<Row>;
}
