/* What histogram and heatmap buckets measure: durations (the usual case, latency), sizes
 * in bytes, or plain numbers. Each has its own labels and axis title. */
import { InvalidArgumentError } from "../errors.js";
import { formatBytes, formatCompact } from "./numbers.js";
import { UNIT_NS, formatDuration, type DurationUnit, type InputUnit } from "./units.js";

/** A duration unit, "bytes", or "none" for plain numbers. */
export type BucketUnit = InputUnit | "bytes" | "none";

export interface BucketFormat {
  /** A bound (in the table's unit) for a tick label: "1.02 ms", "4 KiB", "1.02K". */
  format(v: number): string;
  /** The table's unit after exact numbers in hover text ("ns", "bytes"), or "". */
  unit: string;
  /** What the buckets measure, for the axis title. */
  quantity: string;
}

export function bucketFormat(unit: BucketUnit, chart: string): BucketFormat {
  if (unit === "bytes") return { format: formatBytes, unit: "bytes", quantity: "size" };
  if (unit === "none") return { format: formatCompact, unit: "", quantity: "value" };
  const u: DurationUnit | undefined = unit === "us" ? "µs" : unit in UNIT_NS ? unit : undefined;
  if (u === undefined) throw new InvalidArgumentError(`plot.${chart}: unit must be "ns", "us" (or "µs"), "ms", "s", "bytes" or "none", not ${JSON.stringify(unit)}`);
  const ns = UNIT_NS[u];
  return { format: (v) => formatDuration(v * ns), unit: u, quantity: "latency" };
}
