/* Saving and reloading what was collected, so a published notebook can replay its
 * traces on a machine without root. Arrow IPC (via Arquero and flechette) keeps
 * column types (dictionary strings, bigint addresses); the stats ride along in the
 * schema's metadata. */
import { readFileSync } from "node:fs";
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { tableFromIPC, tableToIPC } from "@uwdata/flechette";
import { DictColumn } from "./columns.js";
import type { TraceStats } from "./stats.js";
import { STATS_KEY, toArrowTable } from "./arrow-types.js";
import { writePrivate } from "./write-private.js";
import type { TraceTable } from "./table.js";
import { BpfbookError } from "../errors.js";

/** Arrow IPC bytes of a table (a TraceTable keeps its stats). */
export function traceToArrow(table: ColumnTable): Uint8Array {
  const bytes = tableToIPC(toArrowTable(table), { format: "file" });
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
 * Writes a collected table to an .arrow file, readable by its owner only (mode
 * 0600 unless `mode` says otherwise): traces hold paths, arguments and command
 * lines. An existing file keeps its owner but gets the mode too.
 */
export function saveTrace(table: ColumnTable, path: string, opts: { mode?: number } = {}): void {
  writePrivate(path, traceToArrow(table), opts);
}

/** Reads a table written by saveTrace(); needs no privileges and no kernel. */
export function loadTrace<Row extends object = Record<string, unknown>>(path: string): TraceTable<Row> {
  return traceFromArrow<Row>(readFileSync(path));
}
