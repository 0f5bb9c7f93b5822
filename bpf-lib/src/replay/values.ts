/* What a call returned, as JSON with markers, and back: tables go to their own Arrow
 * files (types and stats kept), objects bpfbook hands back (probes, running traces)
 * become handles whose later calls are recorded in their turn, and plain data stays
 * data (with bigints, typed arrays, Maps, Sets and Dates marked). */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { traceFromArrow, traceToArrow } from "../engine/persist.js";

export type Encoded = null | boolean | number | string | Encoded[] | { [k: string]: Encoded };

export function isTable(v: unknown): v is ColumnTable {
  return v instanceof aq.ColumnTable;
}

/** Plain data: what is copied into the recording rather than kept as a handle. */
export function isData(v: unknown): boolean {
  if (v === null || typeof v !== "object") return typeof v !== "function";
  if (Array.isArray(v) || isTable(v) || ArrayBuffer.isView(v) || v instanceof Map || v instanceof Set || v instanceof Date) return true;
  const proto = Object.getPrototypeOf(v);
  // an object of functions (a tool, a namespace) is something to call, not data
  return (proto === Object.prototype || proto === null) && !Object.values(v).some((x) => typeof x === "function");
}

const TYPED: Record<string, new (a: ArrayLike<number> & ArrayLike<bigint>) => ArrayBufferView> = {
  Float64Array, Float32Array, Int32Array, Uint32Array, Int16Array, Uint16Array, Int8Array, Uint8Array, Uint8ClampedArray,
  BigInt64Array: BigInt64Array as never, BigUint64Array: BigUint64Array as never,
};

/** Writes a table into the recording folder, with its stats; rows as JSON when Arrow cannot hold a column. */
export function saveTable(dir: string, name: string, t: ColumnTable): Encoded {
  try {
    writeFileSync(join(dir, `${name}.arrow`), traceToArrow(t));
    return { $table: `${name}.arrow` };
  } catch {
    const stats = (t as unknown as { stats?: unknown }).stats;
    const cols: Record<string, Encoded> = {};
    for (const c of t.columnNames()) cols[c] = Array.from(t.array(c) as ArrayLike<unknown>, (v) => encodeData(v, () => null));
    return { $rows: cols, ...(stats === undefined ? {} : { stats: encodeData(stats, () => null) }) };
  }
}

export function loadTable(dir: string, enc: { $table?: string; $rows?: Record<string, Encoded[]>; stats?: Encoded }): ColumnTable {
  if (enc.$table) return traceFromArrow(readFileSync(join(dir, enc.$table)));
  const t = aq.table(Object.fromEntries(Object.entries(enc.$rows ?? {}).map(([k, v]) => [k, v.map((x) => decodeData(x, () => undefined))])));
  if (enc.stats !== undefined) Object.defineProperty(t, "stats", { value: Object.freeze(decodeData(enc.stats, () => undefined)), enumerable: false });
  return t;
}

/** Plain data as JSON with markers; `other` encodes what is not data (tables, handles). */
export function encodeData(v: unknown, other: (v: object) => Encoded | null): Encoded {
  if (v === undefined) return { $undefined: 1 };
  if (v === null || typeof v === "boolean" || typeof v === "string") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : { $number: String(v) };
  if (typeof v === "bigint") return { $bigint: v.toString() };
  if (typeof v !== "object" && typeof v !== "function") return { $unknown: String(v) };
  const o = v as object;
  if (!isData(o) || isTable(o)) return other(o) ?? { $unknown: Object.prototype.toString.call(o) };
  if (Array.isArray(o)) return o.map((x) => encodeData(x, other));
  if (ArrayBuffer.isView(o)) return { $typed: o.constructor.name, values: Array.from(o as unknown as ArrayLike<number | bigint>, (x) => (typeof x === "bigint" ? x.toString() : x)) };
  if (o instanceof Map) return { $map: [...o].map(([k, x]) => [encodeData(k, other), encodeData(x, other)]) };
  if (o instanceof Set) return { $set: [...o].map((x) => encodeData(x, other)) };
  if (o instanceof Date) return { $date: o.toISOString() };
  const out: Record<string, Encoded> = {};
  for (const [k, x] of Object.entries(o)) out[k.startsWith("$") ? `$$${k}` : k] = encodeData(x, other);
  return out;
}

/** The reverse of encodeData; `other` decodes the markers it does not know (tables, handles). */
export function decodeData(e: Encoded, other: (e: Record<string, Encoded>) => unknown): unknown {
  if (e === null || typeof e !== "object") return e;
  if (Array.isArray(e)) return e.map((x) => decodeData(x, other));
  if ("$undefined" in e) return undefined;
  if ("$number" in e) return Number(e.$number);
  if ("$bigint" in e) return BigInt(e.$bigint as string);
  if ("$typed" in e) {
    const C = TYPED[e.$typed as string] ?? Float64Array;
    const big = C === (BigInt64Array as unknown) || C === (BigUint64Array as unknown);
    return new C((e.values as Encoded[]).map((x) => (big ? BigInt(x as string) : x)) as never);
  }
  if ("$map" in e) return new Map((e.$map as Encoded[][]).map(([k, x]) => [decodeData(k!, other), decodeData(x!, other)]));
  if ("$set" in e) return new Set((e.$set as Encoded[]).map((x) => decodeData(x, other)));
  if ("$date" in e) return new Date(e.$date as string);
  if (Object.keys(e).some((k) => k.startsWith("$") && !k.startsWith("$$"))) return other(e);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(e)) out[k.startsWith("$$") ? k.slice(1) : k] = decodeData(x, other);
  return out;
}
