/* Saving and reloading what was collected, so a published notebook can replay its
 * traces on a machine without root. Arrow IPC (via Arquero and flechette) keeps
 * column types (dictionary strings, bigint addresses); the stats ride along in the
 * schema's metadata. */
import { readFileSync, writeFileSync } from "node:fs";
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { tableFromIPC, tableToIPC } from "@uwdata/flechette";
import type { TraceStats } from "./stats.js";
import type { TraceTable } from "./table.js";
import { BpfbookError } from "../errors.js";

const STATS_KEY = "bpfbook.stats";
const VERSION_KEY = "bpfbook.version";

/** Arrow IPC bytes of a table (a TraceTable keeps its stats). */
export function traceToArrow(table: ColumnTable): Uint8Array {
  const arrow = aq.toArrow(table);
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
  const t = aq.fromArrow(arrow as unknown as Parameters<typeof aq.fromArrow>[0]);
  const stats = raw ? (JSON.parse(raw) as TraceStats) : undefined;
  Object.defineProperty(t, "stats", { value: stats ? Object.freeze(stats) : undefined, enumerable: false });
  return t as TraceTable<Row>;
}

/** Writes a collected table to an .arrow file. */
export function saveTrace(table: ColumnTable, path: string): void {
  writeFileSync(path, traceToArrow(table));
}

/** Reads a table written by saveTrace(); needs no privileges and no kernel. */
export function loadTrace<Row extends object = Record<string, unknown>>(path: string): TraceTable<Row> {
  return traceFromArrow<Row>(readFileSync(path));
}
