/* latency(): the time from a start event to the matching end event (by default on
 * the same thread), aggregated in the kernel from tracepoints, with start fields
 * carried to the end (see pair.ts for one row per pair). */
import { columnName, TracepointProbe, type SomeTracepoint } from "./tracepoint/probe.js";
import { Aggregation } from "../engine/aggregation.js";
import type { HistSpec } from "../engine/aggregation-run.js";
import { InvalidOptionError } from "../errors.js";
import { nameList, objectOption, optionsObject } from "../options/shapes.js";
import type { ReadSpec } from "./tracepoint/reads.js";

const PROBE = "a tracepoint probe, e.g. tracepoint(\"sched:sched_wakeup\")";
/** Bytes of a carried user string when the start probe does not say (its stringBytes). */
const CARRY_STRING = 64;

function probeOption(v: unknown, option: string, what: string): TracepointProbe<string, string> {
  if (!(v instanceof TracepointProbe)) throw new InvalidOptionError(what, option, v, PROBE);
  return v as TracepointProbe<string, string>;
}

export interface LatencyOptions {
  /** The event(s) that start the clock. */
  start: SomeTracepoint | readonly SomeTracepoint[];
  /** The event that stops it; keys (`by`) are read here. */
  end: SomeTracepoint;
  /** What pairs a start with its end: key names on each side (default: the thread, ["tid"] on both). */
  match?: { start: readonly string[]; end: readonly string[] };
  /**
   * Start fields brought to the end, in the kernel: fields (or reads) of the start event,
   * or "pid", "tid", "comm" of the task that started it (a field of one of those names is args_<name>). Keys (`by`) may name them; pair
   * rows have them as columns (start_<name> where the end has a column of that name).
   * User-string arguments (openat's filename) are read at the start. At most 512 bytes.
   * Default: the start probe's own `fields`, when it names them.
   */
  carry?: readonly string[];
  /** End fields in pair rows (collectEvents/startEvents). Default: the end probe's own `fields`. */
  fields?: readonly string[];
  /** Key columns (of the end event, or carried ones). */
  by?: readonly string[];
  /** log2 (default) or linear buckets in ns; or "stats" for count/sum/min/max/avg per key. */
  hist?: HistSpec | "stats";
  maxKeys?: number;
}

/** Built-ins name their key columns as documented, whatever the tracepoint calls the field. */
export type Renamed = { keyColumns?: Readonly<Record<string, string>> };

/**
 * The start probe reading the carried user strings at the start: a read named after its
 * pointer field replaces it, so the carried value is the string, not the address.
 */
function readingStrings(p: TracepointProbe<string, string>, carry: readonly string[]): TracepointProbe<string, string> {
  const strings = carry.filter((n) => p.format.fields.some((f) => f.name === n && f.decl.kind === "pointer" && f.decl.userString));
  if (strings.length === 0) return p;
  const o = p.options;
  const bytes = Math.min(o.stringBytes ?? CARRY_STRING, 256);
  const read: Record<string, ReadSpec> = { ...(o.read ?? {}) };
  for (const n of strings) read[n] ??= { from: n, user: true, string: bytes };
  return new TracepointProbe<string, string>(p.name, { ...o, read });
}

/** The names a probe was asked to decode (its `fields` option), and the values it derives (columns, read). */
function ownFields(p: TracepointProbe<string, string>): readonly string[] {
  const own = ((p.options.fields ?? []) as readonly string[]).map(columnName);
  return [...own, ...p.derivedColumns.filter((c) => !own.includes(c))];
}

export function latency(options: LatencyOptions & Renamed): Aggregation {
  const o = optionsObject(options, "latency()");
  const given = (Array.isArray(o.start) ? o.start : [o.start]).map((p) => probeOption(p, "start", "latency()"));
  if (given.length === 0) throw new InvalidOptionError("latency()", "start", o.start, PROBE);
  const end = probeOption(o.end, "end", "latency()");
  const m = objectOption(o.match, "match", "latency()", "{ start: [keys], end: [keys] }, e.g. { start: [\"tid\"], end: [\"tid\"] }");
  const match = o.match === undefined ? { start: ["tid"], end: ["tid"] } : { start: nameList(m.start, "match.start", "latency()") ?? [], end: nameList(m.end, "match.end", "latency()") ?? [] };
  const carry = nameList(o.carry, "carry", "latency()") ?? (given.length === 1 ? ownFields(given[0]!) : []);
  const fields = nameList(o.fields, "fields", "latency()") ?? ownFields(end);
  const starts = given.map((p) => readingStrings(p, carry));
  return new Aggregation({
    source: `${starts.map((s) => s.source).join(" | ")} → ${end.source}`,
    probe: end,
    options: { by: o.by ?? [], hist: o.hist === "stats" ? undefined : o.hist ?? "log2", maxKeys: o.maxKeys },
    latency: { starts, startKey: match.start, endKey: match.end, carry, fields },
    keyColumns: o.keyColumns,
  });
}
