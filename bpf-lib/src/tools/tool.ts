/* What a tool of the collection is: a named, documented composition of the public API
 * that returns tables (an event stream or an in-kernel aggregation) and draws its
 * chart. The notebook calls it as a function (`tools.opensnoop({ pid })`); the shell
 * (`bpfbook opensnoop --pid N`) reads the same description to parse flags and print. */
import type { ColumnTable } from "arquero";
import type { Trace, CollectOptions, StopOptions } from "../engine/trace.js";
import type { StreamOptions } from "../engine/consume.js";
import type { TraceTable } from "../engine/table.js";
import type { AggCollectOptions, AggTable, AggregationRun } from "../engine/aggregation-run.js";
import type { PlotFigure } from "../plot/figure.js";
import type { ProfileRun } from "../probes/profile/run.js";
import type { ProfileTable } from "../probes/profile/types.js";
import { InvalidArgumentError } from "../errors.js";
import { optionsObject } from "../options/shapes.js";
import { collectOptions } from "../options/durations.js";
import { FILTER_OPTIONS, type ToolFilter, type ToolInfo } from "./tool-info.js";

export { FILTER_OPTIONS, type ToolFilter, type ToolInfo, type ToolOption } from "./tool-info.js";

/** A tool whose result is one row per event (the *snoop tools). */
export interface EventsTool<Row extends object = Record<string, unknown>> {
  readonly kind: "events";
  readonly info: ToolInfo;
  /** Loads, attaches and starts collecting; stop with stop()/table(), or dispose. */
  start(stop?: StopOptions): Trace;
  /** Collects until a stop condition; the table has the tool's columns. */
  collect(opts: CollectOptions): Promise<TraceTable<Row>>;
  /** Yields the events batch by batch, as tables with the tool's columns. */
  stream(opts?: StreamOptions): AsyncGenerator<TraceTable<Row>>;
  /** The tool's table from a raw table of its probe (names added, columns chosen). */
  shape(t: ColumnTable): ColumnTable;
  /** A chart of a collected table. */
  chart(t: ColumnTable): PlotFigure;
}

/** A tool whose result is counted in the kernel (per key, per interval). */
export interface AggregationTool {
  readonly kind: "aggregation";
  readonly info: ToolInfo;
  start(opts?: AggCollectOptions): AggregationRun;
  collect(opts: AggCollectOptions): Promise<AggTable>;
  shape(t: ColumnTable): ColumnTable;
  chart(t: ColumnTable): PlotFigure;
}

/** A tool whose result is folded stacks counted in the kernel (profile, offcputime). */
export interface ProfileTool {
  readonly kind: "profile";
  readonly info: ToolInfo;
  /** Starts sampling; stop it with stop()/table(), or let `seconds`/`signal` end it. */
  start(stop?: StopOptions): ProfileRun;
  /** Samples until a stop condition (seconds or signal); the table has the tool's columns. */
  collect(opts: StopOptions): Promise<ProfileTable>;
  shape(t: ColumnTable): ColumnTable;
  chart(t: ColumnTable): PlotFigure;
}

export type Tool = EventsTool<object> | AggregationTool | ProfileTool;

/** Something that streams events: a probe, a group, a pair. */
interface EventSource<Row extends object> {
  start(stop?: StopOptions): Trace;
  collect(opts: CollectOptions): Promise<TraceTable<Row>>;
  stream(opts?: StreamOptions): AsyncGenerator<TraceTable<Row>>;
}

/** Something that aggregates in the kernel. */
interface AggregationSource {
  start(opts?: AggCollectOptions): AggregationRun;
  collect(opts: AggCollectOptions): Promise<AggTable>;
}

/** Keeps a table's stats on a table derived from it (Arquero verbs return plain tables). */
function keepStats<T extends object>(from: object, to: ColumnTable): T {
  const stats = (from as { stats?: unknown }).stats;
  if (stats !== undefined) Object.defineProperty(to, "stats", { value: stats, enumerable: false });
  return to as unknown as T;
}

/** An events tool from its source, its shaping of the raw table and its chart. */
export function eventsTool<Row extends object>(info: ToolInfo, source: EventSource<object>, shape: (t: ColumnTable) => ColumnTable, chart: (t: ColumnTable) => PlotFigure): EventsTool<Row> {
  return {
    kind: "events",
    info,
    start: (stop) => source.start(stop),
    async collect(opts) {
      const t = await source.collect(opts);
      return keepStats<TraceTable<Row>>(t, shape(t));
    },
    async *stream(opts) {
      for await (const t of source.stream(opts)) yield keepStats<TraceTable<Row>>(t, shape(t));
    },
    shape,
    chart,
  };
}

/** An aggregation tool from its aggregation, its shaping of the result and its chart. */
export function aggregationTool(info: ToolInfo, source: AggregationSource, shape: (t: ColumnTable) => ColumnTable, chart: (t: ColumnTable) => PlotFigure): AggregationTool {
  return {
    kind: "aggregation",
    info,
    start: (opts) => source.start(opts),
    async collect(opts) {
      const t = await source.collect(opts);
      return keepStats<AggTable>(t, shape(t));
    },
    shape,
    chart,
  };
}

/** A profiling tool from how it starts its run, its shaping of the folded stacks and its chart. */
export function profileTool(info: ToolInfo, start: (stop: StopOptions) => ProfileRun, shape: (t: ColumnTable) => ColumnTable, chart: (t: ColumnTable) => PlotFigure): ProfileTool {
  return {
    kind: "profile",
    info,
    start: (stop) => start(stop ?? {}),
    async collect(opts) {
      // a run without seconds or signal would never end: refuse it as profile() does
      const t = await start(collectOptions(opts, `tools.${info.name}().collect()`, "{ seconds: 5 } or { signal }")).finished();
      return keepStats<ProfileTable>(t, shape(t));
    },
    shape,
    chart,
  };
}

/** A tool's options object, checked: an object, and only the options it knows (nearest named). */
export function toolOptions<O extends object>(given: O | undefined, info: ToolInfo): O {
  const o = optionsObject(given ?? ({} as O), `tools.${info.name}()`) as O;
  const known = new Set([...FILTER_OPTIONS, ...info.options].map((x) => x.name));
  for (const k of Object.keys(o)) {
    if (!known.has(k)) throw new InvalidArgumentError(`tools.${info.name}(): unknown option "${k}"; it takes ${[...known].join(", ")}`);
  }
  // The catalog says each option's type: a wrong one is named here, not met as odd behaviour later.
  for (const opt of info.options) {
    const v = (o as Record<string, unknown>)[opt.name];
    if (v === undefined || opt.type === "list") continue;
    const ok = opt.type === "number" ? typeof v === "number" && Number.isFinite(v) : typeof v === opt.type;
    const want = opt.type === "boolean" ? "true or false" : `a ${opt.type}`;
    if (!ok) throw new InvalidArgumentError(`tools.${info.name}(): ${opt.name} must be ${want}, got ${JSON.stringify(v) ?? String(v)}`);
  }
  const f = o as ToolFilter;
  if (f.pid !== undefined && (!Number.isInteger(f.pid) || f.pid <= 0)) throw new InvalidArgumentError(`tools.${info.name}(): pid must be a positive integer, got ${String(f.pid)}`);
  if (f.comm !== undefined && (typeof f.comm !== "string" || f.comm === "")) throw new InvalidArgumentError(`tools.${info.name}(): comm must be a non-empty string, got ${JSON.stringify(f.comm)}`);
  return o;
}

/** The kernel filter of the common options. */
export function filterOf(o: ToolFilter): { pid?: number; comm?: string } {
  return { ...(o.pid !== undefined ? { pid: o.pid } : {}), ...(o.comm !== undefined ? { comm: o.comm } : {}) };
}
