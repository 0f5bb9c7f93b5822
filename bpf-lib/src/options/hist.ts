/* Histogram kinds: "log2" or linear { min, max, step }. One check for every probe
 * kind that aggregates through agg.h (tracepoints, latency, uprobes, kernel functions, XDP). */
import { InvalidOptionError } from "../errors.js";

export type HistSpec = "log2" | { min: number; max: number; step: number };
export const MAX_LINEAR_BUCKETS = 10000;

const EXPECTED = `"log2" or a linear { min, max, step } with integers min < max, step > 0 and at most ${MAX_LINEAR_BUCKETS} buckets`;

export function histSpec(v: unknown, what: string, extra: readonly string[] = []): HistSpec | undefined {
  if (v === undefined || v === "log2") return v;
  if (typeof v === "string" && extra.includes(v)) return undefined;
  const also = extra.length ? ` (or ${extra.map((e) => JSON.stringify(e)).join(", ")})` : "";
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new InvalidOptionError(what, "hist", v, EXPECTED + also);
  const { min, max, step } = v as Record<string, unknown>;
  const int = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n);
  if (!int(min) || !int(max) || !int(step) || step <= 0 || max <= min || (max - min) / step > MAX_LINEAR_BUCKETS) {
    throw new InvalidOptionError(what, "hist", v, EXPECTED + also);
  }
  return { min, max, step };
}

/** lhist()'s range: only a linear { min, max, step } (hist() is the log2 one). */
export function linearRange(v: unknown, what: string): Exclude<HistSpec, "log2"> {
  const h = v === "log2" ? null : histSpec(v, what);
  if (h === undefined || h === null || h === "log2") throw new InvalidOptionError(what, "hist", v, `a linear { min, max, step } for lhist() (hist() makes log2 buckets)`);
  return h;
}
