/* Many hosts' tables as one. Streams: every host's rows, a `host` column first, `ts`
 * moved from the host's monotonic clock to wall-clock epoch ns with that host's own
 * offset, so hosts line up (as doubles: 256 ns steps at today's epoch, far finer than
 * any two hosts' clocks agree). Aggregations: exact, as one machine would have counted
 * them: counts and sums add, min/max take the extremes, avg is recomputed, histogram
 * buckets add by bucket (so percentiles() works on the result) and interval series
 * merge by interval index (engine/merge-rows.ts). The stats add up the same way. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { DictColumn } from "../engine/columns.js";
import { mergeRows, VALUE_COLUMNS } from "../engine/merge-rows.js";

export interface HostTable { host: string; table: ColumnTable; stats: Record<string, unknown>; epochOffsetNs: number }

type Typed = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | BigInt64Array | BigUint64Array;

function isTyped(a: unknown): a is Typed {
  return ArrayBuffer.isView(a) && !(a instanceof DataView);
}

/** One column out of the same column of several tables: typed arrays stay typed (of one kind), dictionary strings stay dictionaries. */
function concatColumn(parts: unknown[], lengths: number[]): unknown {
  if (parts.every((p) => p instanceof DictColumn)) return DictColumn.concat(parts as DictColumn[]);
  const ctor = isTyped(parts[0]) ? (parts[0] as Typed).constructor : null;
  if (ctor && parts.every((p) => isTyped(p) && p.constructor === ctor)) {
    const out = new (ctor as new (n: number) => Typed)(lengths.reduce((a, b) => a + b, 0));
    let at = 0;
    for (const p of parts as Typed[]) {
      (out as unknown as { set(a: Typed, o: number): void }).set(p, at);
      at += p.length;
    }
    return out;
  }
  const out: unknown[] = [];
  parts.forEach((p, i) => {
    if (p === undefined) for (let k = 0; k < lengths[i]!; k++) out.push(null);
    else for (const v of p instanceof DictColumn ? p.toArray() : Array.from(p as ArrayLike<unknown>)) out.push(v);
  });
  return out;
}

/** A table's column as it is held: a DictColumn when the table keeps one, else its values. */
function columnOf(t: ColumnTable, name: string): unknown {
  if (!t.columnNames().includes(name)) return undefined;
  const c: unknown = t.column(name);
  return c instanceof DictColumn ? c : t.array(name);
}

/** The tables' rows in one table with a `host` column first (columns in first-seen order; a column a table lacks is null there). */
export function withHostColumn(parts: readonly { host: string; table: ColumnTable }[], adjust?: (name: string, values: unknown, part: number) => unknown): ColumnTable {
  const names: string[] = [];
  for (const p of parts) for (const n of p.table.columnNames()) if (!names.includes(n) && n !== "host") names.push(n);
  const lengths = parts.map((p) => p.table.numRows());
  const hosts = [...new Set(parts.map((p) => p.host))];
  const codes = new Uint32Array(lengths.reduce((a, b) => a + b, 0));
  let at = 0;
  parts.forEach((p, i) => codes.fill(hosts.indexOf(p.host), at, (at += lengths[i]!)));
  const cols: Record<string, unknown> = { host: new DictColumn(codes, hosts) };
  for (const n of names) cols[n] = concatColumn(parts.map((p, i) => { const c = columnOf(p.table, n); return adjust && c !== undefined ? adjust(n, c, i) : c; }), lengths);
  return aq.table(cols as Record<string, ArrayLike<unknown>>);
}

/** Streams: one table of every host's rows, `ts` in wall-clock epoch ns. */
export function mergeEvents(parts: readonly HostTable[]): ColumnTable {
  return withHostColumn(parts, (name, values, i) => {
    if (name !== "ts") return values;
    const off = parts[i]!.epochOffsetNs;
    const src = values as ArrayLike<number | bigint>;
    const out = new Float64Array(src.length);
    for (let k = 0; k < src.length; k++) out[k] = Number(src[k]) + off;
    return out;
  });
}

/** Aggregations: the merged table (same columns as one host's), exact. */
export function mergeAggregations(parts: readonly HostTable[]): ColumnTable {
  const all = withHostColumn(parts).select(aq.not("host"));
  const names = all.columnNames();
  if (all.numRows() === 0) return all;
  const interval = names.includes("interval") && names.includes("time");
  // intervals line up by index: interval i is each host's i-th, counted from its own start (hosts start as their
  // connections come up, up to seconds apart over ssh), so the first host's `time` stands; perHost keeps each host's
  const times = new Map<unknown, unknown>();
  if (interval) {
    const iv = all.array("interval") as ArrayLike<unknown>, tm = all.array("time") as ArrayLike<unknown>;
    for (let i = 0; i < iv.length; i++) if (!times.has(iv[i])) times.set(iv[i], tm[i]);
  }
  let merged = mergeRows(interval ? all.select(aq.not("time")) : all);
  if (interval) {
    const iv = merged.array("interval") as ArrayLike<unknown>;
    merged = merged.assign({ time: Array.from(iv, (x) => times.get(x)) }).select(names);
  }
  // the order one host's table has: interval, keys, bucket
  const order = names.filter((n) => !VALUE_COLUMNS.includes(n) && n !== "time" && n !== "low" && n !== "high");
  return order.length ? merged.orderby(...order) : merged;
}

const MAX_FIELDS = new Set(["seconds", "stopNs", "intervals", "maxKeys", "bufferBytes", "keys"]);
const MIN_FIELDS = new Set(["startNs"]);

/** The hosts' stats as one: counters add, durations take the longest, the rest is the first host's. */
export function mergeStats(list: readonly Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of list) {
    for (const [k, v] of Object.entries(s)) {
      const prev = out[k];
      if (prev === undefined) out[k] = Array.isArray(v) ? [...(v as unknown[])] : v;
      else if (typeof v === "number" && typeof prev === "number") out[k] = MAX_FIELDS.has(k) ? Math.max(prev, v) : MIN_FIELDS.has(k) ? Math.min(prev, v) : prev + v;
      else if (Array.isArray(v) && Array.isArray(prev)) for (const x of v) if (!prev.includes(x)) prev.push(x);
    }
  }
  return out;
}
