/* Columns + stats → an Arquero table that carries its stats along. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import type { Columns } from "./decoder.js";
import type { TraceStats } from "./stats.js";
import type { TypedTable } from "./typed-table.js";

/**
 * An Arquero table of events, typed by its rows (typed-table.ts), with the collection's stats.
 * Only the table the collection returns has them: verbs make new tables without.
 */
export type TraceTable<Row extends object = Record<string, unknown>> = TypedTable<Row> & { readonly stats: TraceStats };

/** `decorate` adds derived columns (names for numbers, ...) to the events' table; the stats stay. */
export function toTraceTable<Row extends object>(cols: Columns, stats: TraceStats, decorate?: (t: ColumnTable) => ColumnTable): TraceTable<Row> {
  let t = aq.table(cols as Record<string, ArrayLike<unknown>>);
  if (decorate) t = decorate(t);
  Object.defineProperty(t, "stats", { value: Object.freeze({ ...stats }), enumerable: false, configurable: true });
  return t as TraceTable<Row>;
}

/** Adds a `time` column (JS Date, wall clock) computed from `ts` and the stats' clock offset. */
export function withTime(t: ColumnTable & { readonly stats: TraceStats }): ColumnTable {
  const off = t.stats.epochOffsetNs;
  const ts = t.array("ts") as ArrayLike<number>;
  const time = new Array<Date>(ts.length);
  for (let i = 0; i < ts.length; i++) time[i] = new Date((ts[i] + off) / 1e6);
  return t.assign({ time });
}

export function formatStats(s: TraceStats): string {
  const parts = [`${s.received} received`, `${s.lost} lost`];
  if (s.filtered) parts.push(`${s.filtered} filtered in kernel`);
  if (s.excludedSelf) parts.push(`${s.excludedSelf} of its own left out`);
  if (s.readFailed) parts.push(`${s.readFailed} reads failed (zero in the table)`);
  if (s.truncated) parts.push(`${s.truncated} values truncated`);
  if (s.imprecise) parts.push(`${s.imprecise} 64-bit values rounded (${s.impreciseColumns?.join(", ")}; use bigint: true)`);
  parts.push(`${s.seconds.toFixed(2)} s`);
  return `${s.source}: ${parts.join(", ")}`;
}
