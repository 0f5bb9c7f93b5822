/* The footer under a table: what the run that made it saw, read from the table's
 * non-enumerable `stats`. A trace counts events received and lost in the ring buffer;
 * an aggregation counts events into a map and what the map could not hold exactly; a
 * profile counts samples (or off-CPU periods) and the stacks and periods it missed.
 * Both say loudly (red, ⚠) whatever means rows are missing or values are not exact. */
import { formatCount, plural } from "./format.js";

/** The counters of a bpfbook TraceTable (bpf-lib's TraceStats), read defensively. */
export interface TraceStatsLike {
  kind: "trace";
  received: number;
  lost: number;
  filtered?: number;
  truncated?: number;
  excludedSelf?: number;
  /** Pairs (latency events) only. */
  unmatched?: number;
  evicted?: number;
  startDropped?: number;
  imprecise?: number;
  impreciseColumns?: string[];
  seconds?: number;
  source?: string;
}

/** The counters of a bpfbook AggTable (bpf-lib's AggStats), read defensively. */
export interface AggStatsLike {
  kind: "aggregation";
  events: number;
  dropped: number;
  filtered?: number;
  truncated?: number;
  excludedSelf?: number;
  unmatched?: number;
  startDropped?: number;
  evicted?: number;
  bigintColumns?: string[];
  /** Only latency aggregations have a unit; they pair starts with ends. */
  unit?: string;
  seconds?: number;
  source?: string;
}

/** The counters of a bpfbook ProfileTable (profile() and offcpu(): bpf-lib's ProfileStats), read defensively. */
export interface ProfileStatsLike {
  kind: "profile";
  /** "cpu": samples; "offcpu": off-CPU periods. */
  profile: "cpu" | "offcpu";
  samples: number;
  /** offcpu: ns off the CPU in the table. */
  ns?: number;
  /** Samples whose stack could not be recorded. */
  lost: number;
  /** Samples not counted (the counts map was full). */
  dropped: number;
  filtered?: number;
  /** offcpu: periods whose return the kernel never reported, rebuilt (in the table). */
  recovered?: number;
  /** offcpu: such periods not rebuilt (not in the table). */
  unseen?: number;
  seconds?: number;
  source?: string;
  truncated?: undefined;
  excludedSelf?: undefined;
}

export type StatsLike = TraceStatsLike | AggStatsLike | ProfileStatsLike;

export interface StatsPart {
  text: string;
  /** Rows missing or values not exact: drawn red with a ⚠. */
  loud: boolean;
}

const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.map(String) : undefined);

/** Only looked for by name: the stats property is non-enumerable and Arquero's verbs drop it. */
export function tableStats(table: object): StatsLike | undefined {
  const s = (table as { stats?: unknown }).stats;
  if (typeof s !== "object" || s === null) return undefined;
  const r = s as Record<string, unknown>;
  const common = { filtered: num(r.filtered), truncated: num(r.truncated), excludedSelf: num(r.excludedSelf), seconds: num(r.seconds), source: str(r.source) };
  if (typeof r.received === "number" && typeof r.lost === "number")
    return { kind: "trace", received: r.received, lost: r.lost, unmatched: num(r.unmatched), evicted: num(r.evicted), startDropped: num(r.startDropped), imprecise: num(r.imprecise), impreciseColumns: strings(r.impreciseColumns), ...common };
  if ((r.kind === "cpu" || r.kind === "offcpu") && typeof r.samples === "number" && typeof r.lost === "number" && typeof r.dropped === "number")
    return {
      kind: "profile", profile: r.kind, samples: r.samples, ns: num(r.ns), lost: r.lost, dropped: r.dropped, filtered: num(r.filtered),
      recovered: num(r.recovered), unseen: num(r.unseen), seconds: num(r.seconds), source: str(r.source),
    };
  if (typeof r.events === "number" && typeof r.dropped === "number")
    return {
      kind: "aggregation", events: r.events, dropped: r.dropped, unmatched: num(r.unmatched), startDropped: num(r.startDropped), evicted: num(r.evicted),
      bigintColumns: strings(r.bigintColumns), unit: str(r.unit), ...common,
    };
  return undefined;
}

/** The tracer's own events, left out on purpose: said, so that nothing is left out silently. */
const selfLeftOut = (n: number) => `${formatCount(n)} of the tracer's own left out (includeSelf: true keeps them)`;

/** Pairs whose start or end went missing: rows (or counts) that are not there, said loudly. */
function pairParts(s: { unmatched?: number; evicted?: number; startDropped?: number }, loud: (text: string) => void): void {
  if (s.unmatched) loud(`${plural(s.unmatched, "unmatched latency end")} (no start seen)`);
  if (s.evicted) loud(`${plural(s.evicted, "latency start")} evicted (a newer start of the same key came before its end)`);
  if (s.startDropped) loud(`${plural(s.startDropped, "latency start")} dropped (start map full)`);
}

/** The footer's parts, in order. */
export function statsParts(s: StatsLike): StatsPart[] {
  const parts: StatsPart[] = [];
  const quiet = (text: string) => parts.push({ text, loud: false });
  const loud = (text: string) => parts.push({ text, loud: true });
  if (s.source) quiet(s.source);
  if (s.kind === "trace") {
    quiet(`${formatCount(s.received)} received`);
    parts.push({ text: `${formatCount(s.lost)} lost`, loud: s.lost > 0 });
    if (s.filtered) quiet(`${formatCount(s.filtered)} filtered in kernel`);
    if (s.truncated) quiet(`${formatCount(s.truncated)} values truncated`);
    if (s.excludedSelf) quiet(selfLeftOut(s.excludedSelf));
    pairParts(s, loud);
    // 64-bit values a double rounded are as untrustworthy as lost events: said as loudly
    if (s.imprecise) loud(`${formatCount(s.imprecise)} rounded 64-bit values (${(s.impreciseColumns ?? []).join(", ")}); bigint: true keeps them exact`);
  } else if (s.kind === "profile") {
    quiet(s.profile === "cpu" ? plural(s.samples, "sample") : `${plural(s.samples, "off-CPU period")}${s.ns !== undefined ? `, ${(s.ns / 1e9).toFixed(3)} s off CPU` : ""}`);
    if (s.lost) loud(`${plural(s.lost, "sample")} without a stack ([lost stack]; raise maxStacks)`);
    if (s.dropped) loud(`${formatCount(s.dropped)} not counted (map full; raise maxKeys)`);
    if (s.unseen) loud(`${plural(s.unseen, "off-CPU period")} not counted: the kernel never reported the return, and rebuilding it needs kernel reads`);
    // in the table, but measured from the thread's CPU time rather than a switch: said
    if (s.recovered) quiet(`${plural(s.recovered, "return")} the kernel never reported, rebuilt from CPU time`);
    if (s.filtered) quiet(`${formatCount(s.filtered)} of other processes left out`);
  } else {
    quiet(plural(s.events, "event"));
    if (s.dropped > 0) loud(`${formatCount(s.dropped)} dropped (map full; raise maxKeys)`);
    else quiet("0 dropped");
    if (s.truncated) loud(`${plural(s.truncated, "truncated string key")} (… marks them; raise stringBytes)`);
    pairParts(s, loud);
    if (s.filtered) quiet(`${formatCount(s.filtered)} filtered in kernel`);
    if (s.excludedSelf) quiet(selfLeftOut(s.excludedSelf));
    if (s.bigintColumns?.length) quiet(`bigint (exact 64-bit): ${s.bigintColumns.join(", ")}`);
  }
  if (typeof s.seconds === "number") quiet(`${s.seconds.toFixed(2)} s`);
  return parts;
}
