/* Saving and reloading what was collected, so a published notebook can replay its
 * traces on a machine without root. Arrow IPC (via Arquero and flechette) keeps
 * column types (dictionary strings, bigint addresses); the stats ride along in the
 * schema's metadata. */
import { closeSync, constants, fchmodSync, openSync, readFileSync, writeSync } from "node:fs";
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import {
  dictionary, float32, float64, int16, int32, int64, int8, tableFromIPC, tableToIPC, uint16, uint32, uint64, uint8, utf8,
} from "@uwdata/flechette";
import type { DataType } from "@uwdata/flechette";
import { DictColumn } from "./columns.js";
import type { TraceStats } from "./stats.js";
import type { TraceTable } from "./table.js";
import { BpfbookError } from "../errors.js";

const STATS_KEY = "bpfbook.stats";
const VERSION_KEY = "bpfbook.version";

/** Arrow IPC bytes of a table (a TraceTable keeps its stats). */
export function traceToArrow(table: ColumnTable): Uint8Array {
  const arrow = aq.toArrow(table, { types: arrowTypes(table) });
  const meta = new Map<string, string>([[VERSION_KEY, "1"]]);
  const stats = (table as unknown as { stats?: TraceStats }).stats;
  if (stats) meta.set(STATS_KEY, JSON.stringify(stats));
  arrow.schema.metadata = meta;
  const bytes = tableToIPC(arrow, { format: "file" });
  if (!bytes) throw new BpfbookError("ESAVE", "could not encode the table as Arrow");
  return bytes;
}

/** A table (with its stats, when it had some) from Arrow IPC bytes. */
export function traceFromArrow<Row extends object = Record<string, unknown>>(bytes: Uint8Array): TraceTable<Row> {
  const arrow = tableFromIPC(bytes, { useBigInt: true });
  const raw = arrow.schema.metadata?.get(STATS_KEY);
  arrow.schema.metadata = undefined; // Arquero's input type has no room for it; we read it above
  // Arquero's dictionary reader needs a record batch, and a table with no rows has none.
  let t = arrow.numRows === 0
    ? aq.table(Object.fromEntries(arrow.names.map((n) => [n, arrow.getChild(n).toArray() as ArrayLike<unknown>])))
    : aq.fromArrow(arrow as unknown as Parameters<typeof aq.fromArrow>[0]);
  // dictionary strings come back as DictColumns, as they were collected (same types, same display)
  const dicts = arrow.schema.fields.filter((f) => (f.type as { typeId?: number }).typeId === -1).map((f) => f.name);
  if (dicts.length && t.numRows() > 0) t = t.assign(aq.table(Object.fromEntries(dicts.map((n) => [n, dictColumnOf(t.array(n) as ArrayLike<string>)]))));
  const stats = raw ? (JSON.parse(raw) as TraceStats) : undefined;
  Object.defineProperty(t, "stats", { value: stats ? Object.freeze(stats) : undefined, enumerable: false });
  return t as TraceTable<Row>;
}


function dictColumnOf(values: ArrayLike<string>): DictColumn {
  const dict: string[] = [];
  const index = new Map<string, number>();
  const codes = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    let c = index.get(v);
    if (c === undefined) index.set(v, (c = dict.push(v) - 1));
    codes[i] = c;
  }
  return new DictColumn(codes, dict);
}

/**
 * Column types named from the columns themselves: Arrow infers types from values,
 * so a table with no rows had nothing to infer from and could not be saved, and a
 * BigInt64Array must stay int64 rather than whatever its values suggest.
 */
function arrowTypes(table: ColumnTable): Record<string, DataType> {
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
      // plain strings stay plain (Arrow would infer a dictionary, and they would come back as one)
      Array.isArray(col) && typeof col.find((v) => v !== null && v !== undefined) === "string" ? utf8() :
      // nothing to infer from: a string column is the common case (paths, __data_loc)
      empty ? utf8() : undefined;
    if (t) types[name] = t;
  }
  return types;
}

/**
 * Writes a collected table to an .arrow file, readable by its owner only (mode
 * 0600 unless `mode` says otherwise): traces hold paths, arguments and command
 * lines. An existing file keeps its owner but gets the mode too.
 */
export function saveTrace(table: ColumnTable, path: string, opts: { mode?: number } = {}): void {
  const mode = opts.mode ?? 0o600;
  const bytes = traceToArrow(table);
  // O_NOFOLLOW: a symlink planted at the path must not redirect a root-owned write.
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode);
  try {
    fchmodSync(fd, mode); // open() applies the mode only when it creates the file
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } finally {
    closeSync(fd);
  }
}

/** Reads a table written by saveTrace(); needs no privileges and no kernel. */
export function loadTrace<Row extends object = Record<string, unknown>>(path: string): TraceTable<Row> {
  return traceFromArrow<Row>(readFileSync(path));
}
