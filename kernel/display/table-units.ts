/* Which columns hold durations, and in what unit, so the tables show "4.04 s" rather than
 * 4037269000. Tables carry no per-column units, so this follows the names the library gives:
 *   - `latency`, `duration` and names ending in `_latency`/`_duration`: nanoseconds (pairs,
 *     latency(), the tools' shaped tables: opensnoop's latency, tcplife's duration);
 *   - a unit suffix: `_ns`, `_us`, `_ms` (notebooks' own `p50_us`, exitsnoop's `age_ms`);
 *   - percentiles() columns `p50`, `p99.9`: nanoseconds, the unit charts assume for histograms;
 *   - in a latency aggregation (stats.unit "ns"): its buckets and values, `low`, `high`,
 *     `sum`, `min`, `max`, `avg`.
 * Only the text changes: the table's values stay the numbers they were. */
import { formatDuration, UNIT_NS, type DurationUnit } from "../../bpf-lib/src/plot/units.js";

const SUFFIX: Readonly<Record<string, DurationUnit>> = { _ns: "ns", _us: "µs", _ms: "ms" };
const NS_NAMES = /^(latency|duration)$|_(latency|duration)$|^p\d+(\.\d+)?$/;
const LATENCY_AGG_VALUES = new Set(["low", "high", "sum", "min", "max", "avg"]);

/** The unit of column `name`'s durations, or undefined when it is not a duration column. */
export function durationUnit(name: string, tableUnit: string | undefined): DurationUnit | undefined {
  if (name === "ns") return "ns";
  for (const [suffix, unit] of Object.entries(SUFFIX)) if (name.endsWith(suffix) && name.length > suffix.length) return unit;
  if (NS_NAMES.test(name)) return "ns";
  if (tableUnit === "ns" && LATENCY_AGG_VALUES.has(name)) return "ns";
  return undefined;
}

/** A duration in `unit` as text with the unit that suits its size: 4037269000 ns → "4.04 s". */
export function formatDurationIn(v: number | bigint, unit: DurationUnit): string {
  return formatDuration(Number(v) * UNIT_NS[unit]);
}
