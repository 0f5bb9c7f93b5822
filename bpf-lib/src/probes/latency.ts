/* latency(): the time from a start event to the matching end event (by default on
 * the same thread), aggregated in the kernel from tracepoints. */
import { TracepointProbe } from "./tracepoint/probe.js";
import { Aggregation } from "../engine/aggregation.js";
import type { HistSpec } from "../engine/aggregation-run.js";
import { InvalidOptionError } from "../errors.js";
import { nameList, objectOption, optionsObject } from "../options/shapes.js";

const PROBE = "a tracepoint probe, e.g. tracepoint(\"sched:sched_wakeup\")";

function probeOption(v: unknown, option: string): TracepointProbe<string, string> {
  if (!(v instanceof TracepointProbe)) throw new InvalidOptionError("latency()", option, v, PROBE);
  return v as TracepointProbe<string, string>;
}

export interface LatencyOptions {
  /** The event(s) that start the clock. */
  start: TracepointProbe<string, string> | TracepointProbe<string, string>[];
  /** The event that stops it; keys (`by`) are read here. */
  end: TracepointProbe<string, string>;
  /** What pairs a start with its end: key names on each side (default: the thread, ["tid"] on both). */
  match?: { start: readonly string[]; end: readonly string[] };
  /** Key columns (of the end event). */
  by?: readonly string[];
  /** log2 (default) or linear buckets in ns; or "stats" for count/sum/min/max/avg per key. */
  hist?: HistSpec | "stats";
  maxKeys?: number;
}

/** Built-ins name their key columns as documented, whatever the tracepoint calls the field. */
export type Renamed = { keyColumns?: Readonly<Record<string, string>> };

export function latency(options: LatencyOptions & Renamed): Aggregation {
  const o = optionsObject(options, "latency()");
  const starts = (Array.isArray(o.start) ? o.start : [o.start]).map((p) => probeOption(p, "start"));
  if (starts.length === 0) throw new InvalidOptionError("latency()", "start", o.start, PROBE);
  probeOption(o.end, "end");
  const m = objectOption(o.match, "match", "latency()", "{ start: [keys], end: [keys] }, e.g. { start: [\"tid\"], end: [\"tid\"] }");
  const match = o.match === undefined ? { start: ["tid"], end: ["tid"] } : { start: nameList(m.start, "match.start", "latency()") ?? [], end: nameList(m.end, "match.end", "latency()") ?? [] };
  return new Aggregation({
    source: `${starts.map((s) => s.source).join(" | ")} → ${o.end.source}`,
    probe: o.end,
    options: { by: o.by ?? [], hist: o.hist === "stats" ? undefined : o.hist ?? "log2", maxKeys: o.maxKeys },
    latency: { starts, startKey: match.start, endKey: match.end },
    keyColumns: o.keyColumns,
  });
}
