/* Bundles go out as JSON, and JSON.stringify turns a Float64Array into {"0":..} and
 * throws on bigint. Trace columns are exactly those, so charts built straight from
 * them are converted here. */
import { isKernelAddress } from "./format.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A JSON-safe copy: typed arrays and other iterables (dictionary columns) become arrays,
 * bigints numbers (kernel addresses hex strings: labels, and too big for a double),
 * Dates ISO strings, non-finite numbers null, cycles null; functions and symbols are dropped.
 */
export function toJsonSafe(value: unknown): Json {
  return convert(value, new Set<object>()) ?? null;
}

function convert(v: unknown, path: Set<object>): Json | undefined {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return Number.isFinite(v) ? v : null;
    case "bigint":
      return isKernelAddress(v) ? `0x${v.toString(16)}` : Number(v);
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (v === null) return null;
  const obj = v as object;
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
  if (path.has(obj)) return null;
  path.add(obj);
  try {
    if (ArrayBuffer.isView(obj)) {
      if (obj instanceof DataView) return null;
      return Array.from(obj as unknown as ArrayLike<number | bigint>, (x) => convert(x, path) ?? null);
    }
    if (Array.isArray(obj)) return obj.map((x) => convert(x, path) ?? null);
    const withJson = obj as { toJSON?: unknown };
    if (typeof withJson.toJSON === "function") return convert((withJson.toJSON as () => unknown).call(obj), path);
    if (obj instanceof Map) return convertEntries(obj.entries(), path);
    if (Symbol.iterator in obj) return Array.from(obj as Iterable<unknown>, (x) => convert(x, path) ?? null);
    return convertEntries(Object.entries(obj), path);
  } finally {
    path.delete(obj);
  }
}

function convertEntries(entries: Iterable<[unknown, unknown]>, path: Set<object>): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [k, x] of entries) {
    const j = convert(x, path);
    if (j !== undefined) out[String(k)] = j;
  }
  return out;
}
