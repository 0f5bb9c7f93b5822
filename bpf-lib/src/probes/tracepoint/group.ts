/* tracepoints(pattern | names[], options): several tracepoints traced as one, with a
 * `probe` column. A description until start()/collect()/stream()/count()...: then one
 * program per tracepoint (their records differ), all writing into one ring buffer
 * (or counting into one set of aggregation maps), each stamping its probe id. */
import { readdirSync, readFileSync } from "node:fs";
import { listTracepoints, readFormat } from "../../tracefs/catalog.js";
import { nearest } from "../../tracefs/nearest.js";
import type { TracepointFormat } from "../../tracefs/format.js";
import { InvalidOptionError } from "../../errors.js";
import { requireTracingPrivileges } from "../../privileges.js";
import { Trace, type CollectOptions, type StopOptions, type StreamSetup } from "../../engine/trace.js";
import { collect, stream, type StreamOptions } from "../../engine/consume.js";
import type { TraceTable } from "../../engine/table.js";
import { GroupDecoder } from "../../engine/group-decoder.js";
import { Aggregation, type AggregateOptions } from "../../engine/aggregation.js";
import { AggregationGroup } from "../../engine/aggregation-group.js";
import type { HistSpec } from "../../engine/aggregation-run.js";
import { linearRange } from "../../options/hist.js";
import { AGGREGATION_EXAMPLE, integerIn, nameList, objectOption, optionsObject } from "../../options/shapes.js";
import { stopOptions } from "../../options/durations.js";
import { anyTracepoint, type NamesOption, type NamesRow, type ReadRow, type Reads, type TracepointOptions, type TracepointPlan, type TracepointProbe } from "./probe.js";
import type { ExtraColumn, ExtraRow } from "./reads.js";
import { isPattern, matchNames, patternStem } from "./glob.js";
import { commonFields, requireCommon } from "./common.js";
import { NoMatchingTracepointError, TooManyTracepointsError } from "./errors.js";
import type { CommonField, GroupKeyName, GroupNames, GroupWhere, TracepointGroupRow } from "./group-types.js";

/** At most this many tracepoints per group unless maxProbes says otherwise: each is a program, its maps and a link. */
export const DEFAULT_MAX_PROBES = 64;
const MAX_PROBES = 1024;
/** Open files one probe of a group takes: program, maps and link (measured: 9 streaming, 14 aggregating). */
const FDS_PER_PROBE = 16;
/** Open files left for everything else (the notebook's sockets, files the cell opens). */
const FD_RESERVE = 64;

export interface TracepointGroupOptions<N extends string, F extends string, R extends Reads = Reads, C extends ExtraColumn = ExtraColumn, M extends NamesOption = NamesOption>
  extends Omit<TracepointOptions<string, string, R, C, M>, "fields" | "where"> {
  /** Fields to decode; each must be common to every match (default: every common field). */
  fields?: readonly F[];
  /** Filters evaluated in the kernel: pid, tid, comm, and comparisons on common fields. */
  where?: GroupWhere<N>;
  /** Most tracepoints the group may attach (default 64, at most 1024): a wide pattern is refused rather than loading hundreds of programs. */
  maxProbes?: number;
}

export interface TracepointGroupPlan {
  /** The pattern or list, as given. */
  source: string;
  /** Every match, in probe id order (the `probe` column's values). */
  tracepoints: string[];
  /** Fields every match has with the same shape. */
  commonFields: string[];
  /** Each match's own plan (its record layout differs). */
  probes: TracepointPlan[];
}

type GroupAggOptions<N extends string> = { by?: readonly GroupKeyName<N>[]; maxKeys?: number; stringBytes?: number };

/** Open files this process may still open (the soft limit less those open now). */
function freeFds(): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
  if (!m || m[1] === "unlimited") return Infinity;
  return Number(m[1]) - readdirSync("/proc/self/fd").length;
}

/** "syscalls:sys_enter_*" → how to narrow it, for TooManyTracepointsError. */
function narrowingHint(names: readonly string[]): string {
  const groups = new Map<string, number>();
  for (const n of names) groups.set(n.split(":")[0], (groups.get(n.split(":")[0]) ?? 0) + 1);
  const byGroup = groups.size > 1 ? ` (${[...groups].map(([g, k]) => `${g}: ${k}`).join(", ")})` : "";
  const syscalls = names.every((n) => n.startsWith("syscalls:"))
    ? "; for every syscall at once, one tracepoint does it: raw_syscalls:sys_enter (or sys_exit), keyed by `syscall`" : "";
  return `Narrow the pattern${byGroup}, or raise maxProbes${syscalls}`;
}

/** The matches of a pattern or a list of names and patterns, in order, each once. */
export function resolveGroup(spec: string | readonly string[], catalog: () => readonly string[] = listTracepoints): string[] {
  const items = typeof spec === "string" ? [spec] : spec;
  const out = new Set<string>();
  for (const item of items) {
    if (typeof item !== "string" || item === "") throw new InvalidOptionError("tracepoints()", "names", item, `a "group:name" string or a pattern such as "syscalls:sys_enter_*stat*"`);
    if (!isPattern(item)) {
      const f = readFormat(item);
      out.add(`${f.group}:${f.name}`);
      continue;
    }
    const all = catalog();
    const matched = matchNames(item, all);
    if (!matched.length) throw new NoMatchingTracepointError(item, nearest(patternStem(item), all));
    for (const m of matched) out.add(m);
  }
  return [...out];
}

/** X: the columns its options add besides the fields (reads, standard columns, names), only a type. */
export class TracepointGroup<N extends string, F extends string, X extends object = {}> {
  /** The pattern or list as given, e.g. "syscalls:sys_enter_*stat*" (the stats' `source`). */
  readonly source: string;
  /** The tracepoints, in probe id order. */
  readonly names: readonly string[];
  /** Fields every match has with the same shape. */
  readonly commonFields: readonly string[];
  readonly #opts: TracepointGroupOptions<N, F>;
  readonly #formats: TracepointFormat[];
  readonly #probes: TracepointProbe<string, string>[];
  readonly #fields: readonly string[];

  /** Resolves the matches and validates fields, filters and sizes for every one, before the kernel is touched. */
  constructor(spec: string | readonly string[], options: TracepointGroupOptions<N, F> = {}) {
    if (typeof spec !== "string" && !Array.isArray(spec)) throw new InvalidOptionError("tracepoints()", "names", spec, `a pattern such as "syscalls:sys_enter_*stat*", or an array of names and patterns`);
    if (Array.isArray(spec) && spec.length === 0) throw new InvalidOptionError("tracepoints()", "names", spec, "at least one name or pattern");
    const source = typeof spec === "string" ? spec : spec.join(", ");
    const opts = optionsObject(options, `tracepoints(${JSON.stringify(source)})`);
    this.source = source;
    this.#opts = opts;
    const names = resolveGroup(spec);
    const limit = integerIn(opts.maxProbes, "maxProbes", source, 1, MAX_PROBES) ?? DEFAULT_MAX_PROBES;
    if (names.length > limit) throw new TooManyTracepointsError(source, names, limit, `a group loads one program per tracepoint, and maxProbes${opts.maxProbes === undefined ? ` (default ${DEFAULT_MAX_PROBES})` : ""} caps them`, narrowingHint(names));
    const room = Math.floor((freeFds() - FD_RESERVE) / FDS_PER_PROBE);
    if (names.length > room) throw new TooManyTracepointsError(source, names, Math.max(0, room), `each takes about ${FDS_PER_PROBE} open files, and the open-file limit (ulimit -n) leaves room for that many`, "Narrow the pattern, or raise the limit (ulimit -n, LimitNOFILE=)");
    this.names = names;
    this.#formats = names.map((n) => readFormat(n));
    this.commonFields = commonFields(this.#formats);

    // Everything a member would check on its own, checked first as a group: a field some match lacks is named as such.
    const fields = nameList(opts.fields, "fields", source);
    for (const f of fields ?? []) requireCommon(source, this.#formats, this.commonFields, f);
    const where = objectOption(opts.where, "where", source, "an object of filters, e.g. { pid: 1234, comm: \"bash\" }");
    for (const k of Object.keys(where)) if (k !== "pid" && k !== "tid" && k !== "comm") requireCommon(source, this.#formats, this.commonFields, fieldOf(k));
    this.#fields = fields ?? this.commonFields;
    const { maxProbes: _, ...member } = opts;
    this.#probes = names.map((n) => anyTracepoint(n, { ...(member as TracepointOptions<string, string>), fields: this.#fields }));
  }

  /** What will be loaded: the matches, the common fields, and each match's plan. */
  plan(): TracepointGroupPlan {
    return { source: this.source, tracepoints: [...this.names], commonFields: [...this.commonFields], probes: this.#probes.map((p) => p.plan()) };
  }

  #setup(): StreamSetup {
    requireTracingPrivileges(`tracing ${this.source}`);
    const setups: StreamSetup[] = [];
    try {
      this.#probes.forEach((p, i) => {
        const first = setups[0]?.object;
        setups.push(p.streamSetup((obj) => {
          obj.setConstant("cfg_probe_id", i);
          // one ring and one set of counters for the whole group: one reader, and received + lost == produced over all of it
          if (first) for (const m of ["events", "stats"]) obj.map(m).reuse(first.map(m));
        }));
      });
    } catch (e) {
      for (const s of setups.reverse()) for (const o of [s.object, ...(s.others ?? [])]) o.dispose();
      throw e;
    }
    // the members' own column names (a field named `probe` would hide the group's: args_probe)
    const columns = setups[0].fields.map((f) => (f.name === "probe" ? "args_probe" : f.name));
    const names = this.names;
    return {
      source: this.source,
      object: setups[0].object,
      others: setups.slice(1).flatMap((s) => [s.object, ...(s.others ?? [])]),
      eventSize: setups[0].eventSize,
      bufferBytes: setups[0].bufferBytes,
      wakeupBytes: setups[0].wakeupBytes,
      fields: [],
      attach: () => {
        const links = [];
        try {
          for (const s of setups) links.push(...s.attach());
        } catch (e) {
          for (const l of links.reverse()) l.dispose();
          throw e;
        }
        return links;
      },
      decoder: (view) => new GroupDecoder(view, setups.map((s) => ({ eventSize: s.eventSize, fields: s.fields })), names, columns),
    };
  }

  /** Loads, attaches and starts collecting; stop it with stop() / table(), or dispose it. */
  start(stop: StopOptions = {}): Trace<TracepointGroupRow<N, F> & X> {
    const opts = stopOptions(stop, "start()");
    return new Trace<TracepointGroupRow<N, F> & X>(this.#setup(), opts);
  }

  /** Collects until a stop condition and returns the events of every match as one table, with a `probe` column. */
  collect(opts: CollectOptions): Promise<TraceTable<TracepointGroupRow<N, F> & X>> {
    return collect<TracepointGroupRow<N, F> & X>((o) => this.start(o), opts);
  }

  /** Yields the events as tables, one per batch, as they arrive. Breaking out of the loop stops the trace. */
  stream(opts: StreamOptions = {}): AsyncGenerator<TraceTable<TracepointGroupRow<N, F> & X>> {
    return stream<TracepointGroupRow<N, F> & X>((o) => this.start(o), opts);
  }

  /** Aggregates in the kernel over every match; `probe` in `by` keys by tracepoint name. */
  aggregate(opts: AggregateOptions & { by?: readonly GroupKeyName<N>[]; value?: CommonField<N> }): AggregationGroup {
    const o = optionsObject(opts, this.source, AGGREGATION_EXAMPLE);
    const by = nameList(o.by, "by", this.source) ?? [];
    for (const k of by) if (!["pid", "tid", "comm", "cpu", "cgroup", "syscall", "probe"].includes(k)) requireCommon(this.source, this.#formats, this.commonFields, fieldOf(k));
    if (typeof o.value === "string") requireCommon(this.source, this.#formats, this.commonFields, o.value);
    const members = this.#probes.map((p, id) => new Aggregation({ source: this.source, probe: p, options: o, group: { id, names: this.names } }));
    return new AggregationGroup(this.source, members);
  }
  /** Events per key (bpftrace's count()); `by: ["probe"]` counts per tracepoint, like bpftrace's @[probe]. */
  count(opts: GroupAggOptions<N> = {}): AggregationGroup {
    return this.aggregate(opts);
  }
  /** count, sum, min, max and avg of a common integer field per key. */
  stats(value: CommonField<N>, opts: GroupAggOptions<N> = {}): AggregationGroup {
    return this.aggregate({ ...opts, value });
  }
  /** A log2 histogram of a common integer field per key. */
  hist(value: CommonField<N>, opts: GroupAggOptions<N> = {}): AggregationGroup {
    return this.aggregate({ ...opts, value, hist: "log2" });
  }
  /** A linear histogram of a common integer field per key. */
  lhist(value: CommonField<N>, range: Exclude<HistSpec, "log2">, opts: GroupAggOptions<N> = {}): AggregationGroup {
    return this.aggregate({ ...opts, value, hist: linearRange(range, this.source) });
  }
}

/** The field a `where`/`by` column names (`args_pid` → `pid`). */
function fieldOf(column: string): string {
  return /^args_(ts|cpu|pid|tid|comm|probe)$/.test(column) ? column.slice(5) : column;
}

/**
 * Several tracepoints as one: a wildcard over "group:name" (`*`, `?`, `{a,b}`, as in
 * bpftrace: "syscalls:sys_enter_*stat*") or a list of names and patterns. Rows get a
 * `probe` column; fields common to every match are typed.
 */
export function tracepoints<const P extends string | readonly string[], F extends CommonField<GroupNames<P>> = CommonField<GroupNames<P>>,
  const R extends Reads = {}, C extends ExtraColumn = never, const M extends NamesOption = false>(
  names: P,
  // `P & {}`: P is inferred from the names only; inferring it back through the options' mapped
  // types too cost ~44000 type instantiations per call (a `where` made a cell 5x slower to check)
  opts: TracepointGroupOptions<GroupNames<P & {}>, F, R, C, M> = {},
): TracepointGroup<GroupNames<P>, F, ReadRow<R> & ExtraRow<C> & NamesRow<M>> {
  return new TracepointGroup<GroupNames<P>, F, ReadRow<R> & ExtraRow<C> & NamesRow<M>>(names, opts);
}

