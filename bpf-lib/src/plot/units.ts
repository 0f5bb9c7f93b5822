/* Durations for labels and axes. Each label picks its own unit, so a run of log2
 * buckets reads "512 ns", "1.02 µs", … "1.05 ms" rather than a column of 0.000s. */
import { InvalidArgumentError } from "../errors.js";

export type DurationUnit = "ns" | "µs" | "ms" | "s";
/** Units accepted in options; "us" is "µs" for keyboards without µ. */
export type InputUnit = DurationUnit | "us";

export const UNIT_NS: Readonly<Record<DurationUnit, number>> = { ns: 1, "µs": 1e3, ms: 1e6, s: 1e9 };
const ORDER: readonly DurationUnit[] = ["ns", "µs", "ms", "s"];

export function normalizeUnit(unit: InputUnit, chart: string): DurationUnit {
  const u = unit === "us" ? "µs" : unit;
  if (!(u in UNIT_NS)) throw new InvalidArgumentError(`plot.${chart}: unit must be "ns", "us" (or "µs"), "ms" or "s", not ${JSON.stringify(unit)}`);
  return u;
}

/** The largest unit in which `maxNs` is at least 1: 999 → "ns", 1000 → "µs", 2.5e9 → "s". */
export function pickUnit(maxNs: number): DurationUnit {
  const a = Math.abs(maxNs);
  if (!(a >= 1e3)) return "ns"; // also NaN and 0
  if (a < 1e6) return "µs";
  if (a < 1e9) return "ms";
  return "s";
}

/** 3 significant digits and the unit that suits the value: 1024000 → "1.02 ms", 1000 → "1 µs". */
export function formatDuration(ns: number, digits = 3): string {
  if (!Number.isFinite(ns)) return ns > 0 ? "∞" : ns < 0 ? "−∞" : "NaN";
  if (ns === 0) return "0 ns";
  const sign = ns < 0 ? "-" : "";
  const a = Math.abs(ns);
  let i = ORDER.indexOf(pickUnit(a));
  let v = Number((a / UNIT_NS[ORDER[i]]).toPrecision(digits));
  // 999.7 ns rounds to 1000 ns, which should read 1 µs.
  if (v >= 1000 && i < ORDER.length - 1) v = Number((a / UNIT_NS[ORDER[++i]]).toPrecision(digits));
  return `${sign}${v} ${ORDER[i]}`;
}
