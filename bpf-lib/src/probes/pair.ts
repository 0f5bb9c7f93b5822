/* pair(start, end): one row per matched start/end pair (opensnoop, biosnoop), joined in
 * the kernel: the end event's columns and fields, the start's fields carried across,
 * and the latency between them. Or an aggregation of the pairs keyed by any of those. */
import { columnName, TracepointProbe, type FieldName, type Reads, type StandardRow, type TracepointRow } from "./tracepoint/probe.js";
import { latency } from "./latency.js";
import type { Aggregation } from "../engine/aggregation.js";
import type { HistSpec } from "../engine/aggregation-run.js";
import type { CollectOptions, StopOptions, Trace } from "../engine/trace.js";
import type { TraceTable } from "../engine/table.js";
import { collect, stream, type StreamOptions } from "../engine/consume.js";
import { InvalidOptionError } from "../errors.js";
import { nameList, objectOption, optionsObject } from "../options/shapes.js";

/** Columns of the task that started a pair (the end event's own pid/tid/comm are the task that ended it). */
export type StartTaskColumn = "pid" | "tid" | "comm";

export interface PairOptions<T extends StartTaskColumn = never> {
  /** What pairs a start with its end: key names on each side (default: the thread, ["tid"] on both). */
  match?: { start: readonly string[]; end: readonly string[] };
  /** Also carry the starting task's columns, as start_pid, start_tid, start_comm (a completion in interrupt context runs in another task). */
  startTask?: readonly T[];
  /** Ring buffer bytes for the pair rows (a power of two), default 16 MiB. */
  bufferBytes?: number;
}

type Fields<P> = P extends TracepointProbe<infer N, infer F, infer R, infer X> ? Omit<TracepointRow<N, F, R, X>, keyof StandardRow> : never;
type Prefixed<T, Taken> = { [K in keyof T as K extends Taken ? `start_${K & string}` : K]: T[K] };
type StartTask<T extends StartTaskColumn> = { [K in T as `start_${K}`]: K extends "comm" ? string : number };

/** One matched pair: the end's standard columns and fields, `latency` (ns), the start's fields (start_<name> on a clash). */
export type PairRow<S, E, T extends StartTaskColumn = never> = StandardRow & { latency: number } & Fields<E> & Prefixed<Fields<S>, keyof Fields<E> | keyof StandardRow | "latency"> & StartTask<T>;

const PROBE = "a tracepoint probe, e.g. tracepoint(\"syscalls:sys_enter_openat\", { fields: [\"filename\"] })";

export class Pair<S, E, T extends StartTaskColumn = never> {
  readonly #start: TracepointProbe<string, string>;
  readonly #end: TracepointProbe<string, string>;
  readonly #match: PairOptions["match"];
  readonly #carry: readonly string[];
  readonly #bufferBytes: number | undefined;

  /** Validates both probes and the layout of the carried fields up front. */
  constructor(start: TracepointProbe<string, string>, end: TracepointProbe<string, string>, options: PairOptions<T> = {}) {
    if (!(start instanceof TracepointProbe)) throw new InvalidOptionError("pair()", "start", start, PROBE);
    if (!(end instanceof TracepointProbe)) throw new InvalidOptionError("pair()", "end", end, PROBE);
    const o = optionsObject(options, "pair()");
    objectOption(o.match, "match", "pair()", "{ start: [keys], end: [keys] }, e.g. { start: [\"dev\", \"sector\"], end: [\"dev\", \"sector\"] }");
    const task = nameList(o.startTask, "startTask", "pair()") ?? [];
    for (const t of task) if (t !== "pid" && t !== "tid" && t !== "comm") throw new InvalidOptionError("pair()", "startTask", o.startTask, `a list of "pid", "tid", "comm"`);
    this.#start = start;
    this.#end = end;
    this.#match = o.match;
    // a record field named like a task column is args_<name>, as in rows; the bare name is the task's
    const own = ((start.options.fields ?? []) as readonly string[]).map(columnName);
    // and what the start derives in the kernel (columns, read): carried like fields
    this.#carry = [...own, ...start.derivedColumns.filter((c) => !own.includes(c)), ...task];
    this.#bufferBytes = o.bufferBytes;
    this.latency(); // lays everything out now: a bad field or size throws here
  }

  /** Latency of the pairs aggregated in the kernel, keyed by end or carried columns (log2 histogram by default). */
  latency(opts: { by?: readonly string[]; hist?: HistSpec | "stats"; maxKeys?: number } = {}): Aggregation {
    const o = optionsObject(opts, "pair().latency()");
    return latency({ start: this.#start, end: this.#end, match: this.#match, carry: this.#carry, by: o.by, hist: o.hist, maxKeys: o.maxKeys });
  }

  /** Pairs per key (count, sum, min, max, avg of the latency). */
  count(opts: { by?: readonly string[]; maxKeys?: number } = {}): Aggregation {
    return this.latency({ ...optionsObject(opts, "pair().count()"), hist: "stats" });
  }

  /** Loads and attaches; one row per matched pair. Stop it with stop() / table(), or dispose it. */
  start(stop: StopOptions = {}): Trace<PairRow<S, E, T>> {
    // the latency program's events are the pairs; their row type is only known here
    return this.latency().startEvents(stop, { bufferBytes: this.#bufferBytes }) as Trace<PairRow<S, E, T>>;
  }

  /** Collects pairs until a stop condition; the table's stats count unmatched ends and evicted starts. */
  collect(opts: CollectOptions): Promise<TraceTable<PairRow<S, E, T>>> {
    return collect<PairRow<S, E, T>>((o) => this.start(o), opts);
  }

  /** Yields pairs as tables, one per batch, as they arrive. */
  stream(opts: StreamOptions = {}): AsyncGenerator<TraceTable<PairRow<S, E, T>>> {
    return stream<PairRow<S, E, T>>((o) => this.start(o), opts);
  }
}

/**
 * Pairs each start event with its end (by thread, or by `match` keys) in the kernel. The
 * start probe's `fields` are carried to the end (user strings read at the start); the end
 * probe's `fields` are read at the end.
 */
export function pair<NS extends string, FS extends FieldName<NS>, RS extends Reads, XS extends object, NE extends string, FE extends FieldName<NE>, RE extends Reads, XE extends object, T extends StartTaskColumn = never>(
  start: TracepointProbe<NS, FS, RS, XS>,
  end: TracepointProbe<NE, FE, RE, XE>,
  options: PairOptions<T> = {},
): Pair<TracepointProbe<NS, FS, RS, XS>, TracepointProbe<NE, FE, RE, XE>, T> {
  return new Pair(start as unknown as TracepointProbe<string, string>, end as unknown as TracepointProbe<string, string>, options);
}
