/* AggregationRun: reads back any aggregating program that uses bpf-lib/bpf/agg.h
 * (tracepoints, uprobes, kernel functions, XDP): flips the double-buffered maps per
 * interval, merges the CPUs, and makes Arquero tables with exact stats. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import type { BpfObject } from "../libbpf/object.js";
import type { Link } from "../libbpf/link.js";
import { possibleCpus } from "../libbpf/map.js";
import type { BpfMap } from "../libbpf/map.js";
import { track, untrack } from "../lifecycle.js";
import { releaseLinks, releaseLinksAsync, removeAbort } from "./release.js";
import { clocks } from "./stats.js";
import { Stat } from "./layout.js";
import { started, stopped, type Running, type RunningStats, type StoppedBy } from "./running.js";
import type { StopOptions } from "./trace.js";
import { keyColumns, type KeyPart, type KeyPlan } from "./keys.js";
import { appendRows, readRows, runInTurns, runNow, sortedOrder, RowStore, type ChunkedColumn, type RowsMeta } from "./aggregation-read.js";
import type { HistSpec } from "../options/hist.js";
import { programsSettled } from "./settled.js";
import { MAX_TIMER_MS } from "../options/durations.js";
import { keyPids, symbolizeStackKeys } from "./stack-columns.js";
import { StackSymbolizer } from "../symbols/stacks.js";

export type { HistSpec };

export interface AggCollectOptions extends StopOptions {
  /** Read and reset the totals every `interval` seconds: one row per interval and key. */
  interval?: number;
  /** Called with the rows so far after every interval (and the final table). */
  onInterval?: (table: AggTable, interval: number) => void;
  /** In a notebook: a chart (or any displayable) made from the rows so far, shown and updated live. */
  live?: (table: AggTable) => unknown;
}

export interface AggStats {
  source: string;
  /** Events counted into the map. */
  events: number;
  /** Events dropped by the in-kernel filters. */
  filtered: number;
  /** Events whose key did not fit in the map (maxKeys): counted, never silently lost. */
  dropped: number;
  /** Latency: end events with no start (started before the trace, or the start was dropped). */
  unmatched: number;
  /** Latency: start events that did not fit in the start map. */
  startDropped: number;
  /** Events of the tracer's own process left out (includeSelf; for latency, entries and exits each). */
  excludedSelf: number;
  /** Derived reads that faulted (their key or value part was zero). */
  readFailed: number;
  /** Latency/pairs: starts overwritten by a newer start of the same pair key before their end came. */
  evicted: number;
  /** Rows whose string key filled its slot (marked with a trailing "…"): each may stand for several longer strings; raise stringBytes. */
  truncated: number;
  /** Keyed by kstack/ustack: events whose stack was not recorded (stack map collision or full; also in readFailed), in rows whose stack says "[stack lost: ...]". */
  stacksLost?: number;
  /** Keyed by ustack: processes that exited before their mappings were read (their frames stay addresses). */
  stacksExited?: number;
  /** Columns holding bigint values: a 64-bit count, sum, min, max or key beyond 2^53, kept exact. */
  bigintColumns: string[];
  keys: number;
  intervals: number;
  seconds: number;
  startNs: number;
  epochOffsetNs: number;
  maxKeys: number;
  unit?: "ns";
  stoppedBy: StoppedBy;
}

export type AggTable = ColumnTable & { readonly stats: AggStats };

/**
 * What AggregationRun needs to know about an aggregation to read it back: any
 * aggregating program that uses bpf-lib/bpf/agg.h (tracepoints here; uprobes, XDP)
 * describes itself with one of these.
 */
export interface AggShape {
  source: string;
  hist?: HistSpec;
  /** Values are latencies in ns. */
  latency: boolean;
  /** Values are unsigned integers: merged unsigned, so 2^63 and more stay positive. */
  unsigned?: boolean;
  maxKeys: number;
  /** The result's columns, in order (see Aggregation.columns). */
  columns(interval: boolean): string[];
  decorate?: (t: ColumnTable) => ColumnTable;
}

/** The loaded objects of an aggregation; `end` holds the agg0/agg1/ctl/agg_cache/stats maps. */
export interface RunSetup {
  objects: BpfObject[];
  end: BpfObject;
  attach: () => Link[];
  plan: KeyPlan;
  /** Objects whose events, dropped and unmatched counters the stats sum (default: `end`): every probe of a group. */
  counted?: readonly BpfObject[];
}

/** Map entries per batch read: one pause of the loop per batch. */
const READ_BATCH = 1024;

/** How often the processes of user stack keys get their mappings read while aggregating. */
const STACK_PIDS_MS = 500;

export class AggregationRun implements Running, Disposable {
  readonly source: string;
  readonly #agg: AggShape;
  readonly #setup: RunSetup;
  readonly #opts: AggCollectOptions;
  readonly #links: Link[];
  readonly #start = clocks();
  /** Interval rows so far, in interval and key order (the table's order). */
  readonly #rows: RowStore;
  readonly #meta: RowsMeta = { bigint: new Set(), truncated: 0 };
  /** Reading work under way (an interval, or the last read), run a few ms per turn; a synchronous finish completes it at once. */
  #job: Generator<void, unknown> | null = null;
  /** The last read, once begun: its rows make the final table. */
  #finalJob: Generator<void, RowStore> | null = null;
  /** The last read's rows, once it is complete. */
  #finalRows: RowStore | null = null;
  /** Interval rows of completed intervals: what a table of the rows so far shows (an interval being appended is not in it yet). */
  #committed = 0;
  /** The interval being read and handed to onInterval; stop waits for it. */
  #ticking: Promise<void> | null = null;
  #active = 0;
  #interval = 0;
  #timers: NodeJS.Timeout[] = [];
  #tickTimer: NodeJS.Timeout | null = null;
  /** A flip whose old map is not read yet (its programs are settling). */
  #flip: { map: "agg0" | "agg1"; index: number; time: number; settled: Promise<void> } | null = null;
  #stopping: Promise<void> | null = null;
  #stopNs = 0;
  #stoppedBy: StoppedBy = "stop";
  #finished = false;
  #table: AggTable | null = null;
  #error: unknown = null;
  #done: Promise<void>;
  #resolveDone!: () => void;
  #live: { update(v: unknown): void } | null = null;
  #onAbort = () => void this.stop("signal");
  /** Names stack keys; null unless the key has a stack part. */
  readonly #stacks: StackSymbolizer | null;

  constructor(agg: AggShape, setup: RunSetup, opts: AggCollectOptions) {
    this.#agg = agg;
    this.#setup = setup;
    this.#opts = opts;
    this.source = agg.source;
    // hidden key parts (a pid that names user stacks) are read like the others, dropped from the table
    const hidden = setup.plan.parts.filter((p) => p.hidden).map((p) => p.column);
    this.#rows = new RowStore([...agg.columns(opts.interval !== undefined), ...hidden]);
    this.#done = new Promise((r) => (this.#resolveDone = r));
    this.#stacks = setup.plan.parts.some((p) => p.stack) ? new StackSymbolizer() : null;
    try {
      this.#links = setup.attach();
    } catch (e) {
      for (const o of [...setup.objects].reverse()) o.dispose();
      throw e;
    }
    this.#start = clocks();
    track(this);
    // From here on anything that throws (a "start" listener, a bad signal object, the live callback) detaches before it propagates.
    try {
      started(this);
      if (opts.interval !== undefined) this.#scheduleTick();
      const pidPart = setup.plan.parts.find((p) => p.column === "pid" && p.src === 1);
      // user stacks are named from the mappings of processes that may be gone by the end: read them while they run
      if (pidPart && setup.plan.parts.some((p) => p.stack === "user")) this.#timers.push(setInterval(() => this.#guard(() => this.#notePids(pidPart)), STACK_PIDS_MS));
      if (opts.seconds !== undefined) this.#timers.push(setTimeout(() => void this.stop("seconds"), opts.seconds * 1000));
      if (opts.events !== undefined) this.#timers.push(setInterval(() => this.#guard(() => { if (this.#counters().events >= opts.events!) void this.stop("events"); }), 50));
      if (opts.signal?.aborted) void this.stop("signal");
      opts.signal?.addEventListener("abort", this.#onAbort, { once: true });
      if (opts.live) {
        const display = (globalThis as { display?: (v: unknown) => { update(v: unknown): void } }).display;
        if (typeof display === "function") this.#live = display(opts.live(this.snapshot()));
      }
    } catch (e) {
      this.#fail(e);
      throw e;
    }
  }

  /** Runs timer work; an exception there (a user callback) ends the run instead of the process. */
  #guard(work: () => void): void {
    try {
      work();
    } catch (e) {
      this.#fail(e);
    }
  }

  /** Ends the run with an error: detached and released, and finished() rejects with it. */
  #fail(e: unknown): void {
    if (this.#finished) return;
    this.#error ??= e;
    this.#finish("error");
  }

  get running(): boolean {
    return !this.#finished;
  }

  #counters(): { events: number; filtered: number; dropped: number; unmatched: number; startDropped: number; excludedSelf: number; readFailed: number; evicted: number } {
    const ncpu = possibleCpus();
    const sum = (maps: BpfMap[], idx: number) => {
      let s = 0;
      const key = new Uint8Array(4);
      new DataView(key.buffer).setUint32(0, idx, true);
      for (const m of maps) {
        const v = m.lookup(key);
        if (!v) continue;
        const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
        for (let c = 0; c < ncpu; c++) s += Number(dv.getBigUint64(c * 8, true));
      }
      return s;
    };
    if (this.#finished && this.#table) {
      const t = this.#table.stats;
      return { events: t.events, filtered: t.filtered, dropped: t.dropped, unmatched: t.unmatched, startDropped: t.startDropped, excludedSelf: t.excludedSelf, readFailed: t.readFailed, evicted: t.evicted };
    }
    const all = this.#setup.objects.map((o) => o.map("stats"));
    const end = (this.#setup.counted ?? [this.#setup.end]).map((o) => o.map("stats"));
    return { events: sum(end, Stat.produced), filtered: sum(all, Stat.filtered), dropped: sum(end, Stat.dropped), unmatched: sum(end, Stat.unmatched), startDropped: sum(all, Stat.startDropped), excludedSelf: sum(all, Stat.excludedSelf), readFailed: sum(all, Stat.readFailed), evicted: sum(all, Stat.evicted) };
  }

  /** Reads the mappings of processes newly seen in the live map's keys. */
  #notePids(pidPart: KeyPart): void {
    if (this.#finished || !this.#stacks) return;
    const map = this.#setup.end.map(this.#active ? "agg1" : "agg0");
    for (const pid of keyPids(map.entries(Math.min(map.maxEntries, 4096)).keys, pidPart)) this.#stacks.notePid(pid);
  }

  /** Empty columns, one per result column (and hidden key part). */
  #emptyRows(): RowStore {
    return new RowStore(this.#rows.names);
  }

  /** The columns rows are ordered by within a read (an interval's rows share their interval). */
  #orderColumns(): string[] {
    return [...keyColumns(this.#setup.plan), ...(this.#agg.hist ? ["bucket"] : [])];
  }

  /**
   * Reads one of the two maps (deleting what it read when `drain`) and appends its rows,
   * ordered by key, to `into`; pauses between slices of work (see aggregation-read.ts).
   */
  *#readInto(mapName: "agg0" | "agg1", drain: boolean, into: RowStore, meta: RowsMeta, interval?: { index: number; time: number }): Generator<void, void> {
    const map = this.#setup.end.map(mapName);
    const end = this.#setup.end;
    const fresh = this.#emptyRows();
    // this read's own findings: `meta` (what tables of `into` believe) takes them once the rows are in
    const found: RowsMeta = { bigint: new Set(meta.bigint), truncated: 0 };
    const n = yield* readRows({
      map, drain,
      // batches no larger than the map, and small enough to read and merge in a few ms
      // (a per-CPU hash copies every CPU's value); the buffers are reused from batch to batch
      batch: Math.min(map.maxEntries, READ_BATCH),
      ...(end.maps.has("agg_cache") ? { cache: { map: end.map("agg_cache"), index: mapName === "agg1" ? 1 : 0 } } : {}),
      ncpu: possibleCpus(), unsigned: Boolean(this.#agg.unsigned), parts: this.#setup.plan.parts, hist: this.#agg.hist,
      scalar: !this.#agg.hist && this.#rows.has("sum"), interval,
    }, fresh, found);
    const order = yield* sortedOrder(fresh, this.#orderColumns(), n);
    yield* appendRows(into, fresh, order, found);
    for (const c of found.bigint) meta.bigint.add(c);
    meta.truncated += found.truncated;
    if (into === this.#rows) this.#committed = into.length;
  }

  /** Runs `g` a few ms per turn as the run's job; undefined when a synchronous finish took it over. */
  async #drive<T>(g: Generator<void, T>): Promise<T | undefined> {
    this.#job = g;
    const r = await runInTurns(g, () => this.#job !== g || this.#finished);
    if (this.#job !== g) return undefined;
    this.#job = null;
    return r;
  }

  /** The last read: the live map's rows (and the rows of the intervals before it). */
  *#lastRead(): Generator<void, RowStore> {
    const live = this.#active ? "agg1" : "agg0";
    if (this.#opts.interval !== undefined) {
      yield* this.#readInto(live, true, this.#rows, this.#meta, { index: this.#interval++, time: (this.#stopNs - this.#start.monoNs) / 1e9 });
      return (this.#finalRows = this.#rows);
    }
    const rows = this.#emptyRows();
    yield* this.#readInto(live, false, rows, this.#meta);
    return (this.#finalRows = rows);
  }

  /**
   * Arms the timer for the next interval boundary (start + k·interval). Boundaries
   * missed while a flip settled are skipped, never caught up in a burst, so a tiny
   * interval costs at most one flip per settle and never spins.
   */
  #scheduleTick(): void {
    if (this.#finished || this.#stopping || this.#opts.interval === undefined) return;
    const periodMs = this.#opts.interval * 1000;
    const elapsedMs = (clocks().monoNs - this.#start.monoNs) / 1e6;
    const next = (Math.floor(elapsedMs / periodMs) + 1) * periodMs;
    const delay = next - elapsedMs;
    if (!Number.isFinite(delay)) return;
    this.#tickTimer = setTimeout(() => {
      this.#tickTimer = null;
      if ((clocks().monoNs - this.#start.monoNs) / 1e6 < next - 1) this.#scheduleTick();
      // an interval callback that throws ends the run (released), not the process
      else {
        const ticking: Promise<void> = this.#tick().catch((e: unknown) => this.#fail(e)).finally(() => {
          if (this.#ticking === ticking) this.#ticking = null;
        });
        this.#ticking = ticking;
      }
    }, Math.min(Math.max(delay, 1), MAX_TIMER_MS));
  }

  async #tick(): Promise<void> {
    if (this.#finished || this.#stopping || this.#flip) return;
    const old = this.#active;
    this.#active = 1 - old;
    const ctl = this.#setup.end.map("ctl");
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, this.#active, true);
    ctl.update(new Uint8Array(4), v);
    const time = (clocks().monoNs - this.#start.monoNs) / 1e9;
    const flip = { map: old ? "agg1" as const : "agg0" as const, index: this.#interval++, time, settled: programsSettled() };
    this.#flip = flip;
    await flip.settled;
    // #finish may have read this flip already (a synchronous dispose while settling)
    if (this.#flip !== flip) return;
    this.#flip = null;
    await this.#drive(this.#readInto(flip.map, true, this.#rows, this.#meta, flip));
    if (this.#finished) return;
    if (this.#opts.onInterval || this.#live) {
      const t = this.#makeTable(this.#rows.columns(this.#committed), this.#meta);
      this.#opts.onInterval?.(t, this.#interval);
      if (this.#live && this.#opts.live) this.#live.update(this.#opts.live(t));
    }
    this.#scheduleTick();
  }

  /**
   * The table of `cols` (rows in interval and key order, bigint columns bigint
   * throughout; the table owns them): stacks named, hidden parts dropped, decorated.
   */
  #makeTable(cols: Record<string, ChunkedColumn>, meta: RowsMeta): AggTable {
    const bigintColumns = Object.keys(cols).filter((c) => meta.bigint.has(c));
    const truncated = meta.truncated;
    let t = aq.table(cols);
    let stacksLost: number | undefined;
    if (this.#stacks) {
      // the last look at processes still running (libraries loaded since); exited ones keep their last read
      if (cols.pid) for (const pid of new Set(cols.pid as Iterable<number>)) this.#stacks.notePid(pid, true);
      ({ table: t, stacksLost } = symbolizeStackKeys(t, this.#setup.plan.parts, this.#setup.end.map("stacks"), this.#stacks));
    }
    const hidden = this.#setup.plan.parts.filter((p) => p.hidden).map((p) => p.column);
    if (hidden.some((c) => t.columnNames().includes(c))) t = t.select(t.columnNames().filter((c) => !hidden.includes(c)));
    // named stacks order differently from their ids (and may have merged rows)
    if (this.#stacks && t.numRows()) t = t.orderby(...(cols.interval ? ["interval"] : []), ...this.#orderColumns());
    const c = this.#counters();
    const stats: AggStats = {
      source: this.source, ...c, keys: t.numRows(), intervals: this.#interval, seconds: ((this.#stopNs || clocks().monoNs) - this.#start.monoNs) / 1e9,
      startNs: this.#start.monoNs, epochOffsetNs: this.#start.epochOffsetNs, maxKeys: this.#agg.maxKeys,
      stoppedBy: this.#stoppedBy, truncated, bigintColumns, ...(this.#agg.latency ? { unit: "ns" as const } : {}),
      ...(stacksLost !== undefined ? { stacksLost, stacksExited: this.#stacks!.exited.size } : {}),
    };
    if (this.#agg.decorate && t.numRows()) t = this.#agg.decorate(t);
    Object.defineProperty(t, "stats", { value: Object.freeze(stats), enumerable: false });
    return t as AggTable;
  }

  /** The totals so far, without stopping (interval rows, plus the current interval's when not using intervals). */
  snapshot(): AggTable {
    if (this.#table) return this.#table;
    // an interval still being appended is not in it: the table is of the intervals read so far
    if (this.#opts.interval !== undefined) return this.#makeTable(this.#rows.columns(this.#committed), { bigint: new Set(this.#meta.bigint), truncated: this.#meta.truncated });
    const rows = this.#emptyRows();
    const meta: RowsMeta = { bigint: new Set(), truncated: 0 };
    runNow(this.#readInto(this.#active ? "agg1" : "agg0", false, rows, meta));
    return this.#makeTable(rows.columns(), meta);
  }

  /**
   * snapshot(), with the maps read in turns of the event loop (a few ms each): a run of many
   * keys (a read of 100,000 takes a few hundred ms) never holds the notebook while it is read.
   * A run that finishes meanwhile gives its final table.
   */
  async snapshotAsync(): Promise<AggTable> {
    if (this.#table || this.#opts.interval !== undefined) return this.snapshot();
    const rows = this.#emptyRows();
    const meta: RowsMeta = { bigint: new Set(), truncated: 0 };
    const map = this.#active ? "agg1" : "agg0";
    const self = this;
    const read = await runInTurns((function* () { yield* self.#readInto(map, false, rows, meta); return true; })(), () => this.#finished);
    if (read !== true || this.#finished) {
      await this.#done.catch(() => {});
      return this.snapshot();
    }
    return this.#makeTable(rows.columns(), meta);
  }

  /**
   * Stops (idempotent): detaches, waits until program runs that began before the
   * detach have finished, then reads the maps, so no event is counted after the
   * last read.
   */
  async stop(by: StoppedBy = "stop"): Promise<void> {
    if (!this.#finished && !this.#stopping) {
      this.#stoppedBy = by;
      this.#stopping = (async () => {
        // the links go on the thread pool (a tracepoint's detach waits for an RCU grace period)
        const detachError = await this.#detachAsync();
        if (detachError) {
          this.#error ??= detachError;
          this.#stoppedBy = "error";
        }
        await programsSettled();
        // an interval under way is read to its end first (in turns), then the last read
        await this.#ticking;
        await this.#flip?.settled;
        if (this.#finished) return;
        const last = this.#lastRead();
        this.#finalJob = last;
        const rows = await this.#drive(last);
        if (!this.#finished) this.#finish(by, rows);
      })().catch((e: unknown) => this.#fail(e));
    }
    await this.#done;
  }

  /** Clears the timers and detaches the links; returns the first error a link's release threw. */
  #detach(): unknown {
    this.#quiet();
    const error = releaseLinks(this.#links);
    this.#stopNs ||= clocks().monoNs;
    return error;
  }

  /** #detach with the links released on the thread pool. */
  async #detachAsync(): Promise<unknown> {
    this.#quiet();
    this.#stopNs ||= clocks().monoNs;
    return releaseLinksAsync(this.#links);
  }

  /** No timer or abort listener acts on the run any more. */
  #quiet(): void {
    for (const t of this.#timers) clearInterval(t);
    if (this.#tickTimer) clearTimeout(this.#tickTimer);
    this.#tickTimer = null;
    removeAbort(this.#opts.signal, this.#onAbort);
  }

  /** Detaches, reads the last counts, releases; then the final callbacks. Settles finished() whatever throws. */
  #finish(by: StoppedBy, rows?: RowStore): void {
    if (this.#finished) return;
    try {
      this.#finishWork(by, rows);
    } finally {
      // whatever threw above (a dispose, a "stop" listener), stop() and finished() settle
      this.#finished = true;
      this.#resolveDone();
    }
  }

  #finishWork(by: StoppedBy, given?: RowStore): void {
    this.#stoppedBy = this.#error ? "error" : by;
    const note = (e: unknown) => {
      this.#error ??= e;
      this.#stoppedBy = "error";
    };
    const detachError = this.#detach();
    if (detachError) note(detachError);
    try {
      let rows = given;
      if (!rows) {
        // a synchronous finish (dispose, an error): what was under way completes at once
        const job = this.#job;
        this.#job = null;
        // (a generator that already ran to its end just ends again: the last read keeps its rows in #finalRows)
        if (job) runNow(job);
        if (!this.#finalRows) {
          // a flip still settling: read its interval first
          const flip = this.#flip;
          this.#flip = null;
          if (flip) runNow(this.#readInto(flip.map, true, this.#rows, this.#meta, flip));
          runNow(this.#finalJob ?? this.#lastRead());
        }
        rows = this.#finalRows!;
      }
      // interval rows are appended to as they come: the table gets them as they stand now
      this.#table = this.#makeTable(rows.columns(), this.#meta);
    } catch (e) {
      note(e);
    } finally {
      const error = releaseLinks([...this.#setup.objects].reverse());
      if (error) note(error);
      untrack(this);
      this.#finished = true;
    }
    // After a failure (often the user's own callback) no callback runs again.
    const table = this.#error ? null : this.#table;
    try {
      if (table && table.stats.dropped > 0) {
        process.emitWarning(`${this.source}: ${table.stats.dropped} events were not counted because the map was full (${table.stats.maxKeys} keys); raise maxKeys`, { code: "BPFBOOK_KEYS_DROPPED" });
      }
      if (table && table.stats.stacksLost) {
        process.emitWarning(`${this.source}: ${table.stats.stacksLost} events lost their stack (a hash collision in the stack map, or the map was full); their rows say "[stack lost: ...]": raise stackEntries`, { code: "BPFBOOK_STACKS_LOST" });
      }
      if (table && table.stats.truncated > 0) {
        process.emitWarning(`${this.source}: ${table.stats.truncated} string keys filled their slot and were cut (marked "…"); each may stand for several longer strings: raise stringBytes (up to 120)`, { code: "BPFBOOK_KEYS_TRUNCATED" });
      }
      if (table && this.#live && this.#opts.live) this.#live.update(this.#opts.live(table));
      if (table) this.#opts.onInterval?.(table, this.#interval);
    } catch (e) {
      // The run is already released: the callback's error is what finished() reports.
      this.#error ??= e;
    }
    try {
      stopped(this);
    } catch (e) {
      // a throwing "stop" listener: released already; finished() reports it
      this.#error ??= e;
    }
  }

  /** Waits for a stop condition, then returns the table (rejects with the error that ended the run, if any). */
  async finished(): Promise<AggTable> {
    await this.#done;
    if (this.#error) throw this.#error;
    return this.#table!;
  }

  /** The error that ended the run, if any. */
  get error(): unknown {
    return this.#error;
  }

  result(): ColumnTable | null {
    return this.#table;
  }

  progressStats(): RunningStats {
    if (this.#finished && !this.#table) return { source: this.source, received: 0, lost: 0, seconds: (this.#stopNs - this.#start.monoNs) / 1e9, stoppedBy: this.#stoppedBy };
    const c = this.#counters();
    return { source: this.source, received: c.events, lost: c.dropped, seconds: ((this.#stopNs || clocks().monoNs) - this.#start.monoNs) / 1e9, stoppedBy: this.#stoppedBy };
  }

  describe(): string {
    const s = this.#table?.stats;
    if (!s) return `${this.source}: aggregating`;
    const extra = [s.dropped ? `${s.dropped} dropped (map full)` : "", s.truncated ? `${s.truncated} truncated keys (raise stringBytes)` : "", s.unmatched ? `${s.unmatched} unmatched` : "", s.filtered ? `${s.filtered} filtered in kernel` : "", s.excludedSelf ? `${s.excludedSelf} of its own left out` : "", s.readFailed ? `${s.readFailed} reads failed` : "", s.evicted ? `${s.evicted} starts evicted` : ""].filter(Boolean);
    return `${s.source}: ${s.events} events into ${s.keys} rows${extra.length ? ", " + extra.join(", ") : ""}, ${s.seconds.toFixed(2)} s`;
  }

  [Symbol.dispose](): void {
    if (!this.#finished) this.#finish("stop");
  }
}
