/* A running collection: a loaded object whose programs are attached, a ring
 * buffer reader pumping events into the decoder, and the stop conditions.
 * Stopping detaches first, waits out program runs already under way, then drains
 * what the kernel queued, then reads the counters, so received + lost == produced
 * holds exactly. */
import type { ColumnTable } from "arquero";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import type { BpfObject } from "../libbpf/object.js";
import type { Link } from "../libbpf/link.js";
import type { BpfMap } from "../libbpf/map.js";
import { RingBufferReader } from "../ringbuf/reader.js";
import { programsSettled } from "./settled.js";
import { EventDecoder, type FieldDecoder, type Columns, type StreamDecoder } from "./decoder.js";
import { concatAll, concatColumns } from "./concat.js";
import { readCounters, clocks, pairStats, type Counters, type TraceStats } from "./stats.js";
import { toTraceTable, formatStats, type TraceTable } from "./table.js";
import { track, untrack } from "../lifecycle.js";
import { releaseLinks, releaseLinksAsync, removeAbort } from "./release.js";
import { InvalidArgumentError } from "../errors.js";
import { started, stopped, type Running, type RunningStats, type StoppedBy } from "./running.js";

export interface StopOptions {
  /** Stop after this many seconds (above 0, at most 2147483 = 24.8 days; leave it out to run until stopped). */
  seconds?: number;
  /** Stop once at least this many events were received (all received events are kept). */
  events?: number;
  /** Stop when this signal aborts. */
  signal?: AbortSignal;
}

export interface Progress {
  received: number;
  lost: number;
  seconds: number;
  /** 0..1 when a duration or event count bounds the collection. */
  fraction?: number;
}

export interface CollectOptions extends StopOptions {
  /** Called about every progressMs with counts so far. */
  onProgress?: (p: Progress, trace: Trace) => void;
  progressMs?: number;
}

/** What a probe hands the engine: a configured, loaded object and how to attach and decode it. */
export interface StreamSetup {
  source: string;
  object: BpfObject;
  eventSize: number;
  bufferBytes: number;
  fields: FieldDecoder[];
  attach: () => Link[];
  /** Other objects the stream's programs need (latency start events), released with it. */
  others?: BpfObject[];
  /** Adds derived columns to every table of this trace (names for enum and flag fields, ...). */
  decorate?: (t: ColumnTable) => ColumnTable;
  /** The program's cfg_wakeup_bytes (default: a quarter of the buffer, at most 1 MiB). */
  wakeupBytes?: number;
  /** Events of several layouts in one ring (a group of tracepoints): decodes them instead of an EventDecoder of eventSize and fields. */
  decoder?: (view: { u8: Uint8Array; u32: Uint32Array; dv: DataView }) => StreamDecoder;
  /** The ring buffer map (default: the object's map "events"). */
  ring?: BpfMap;
  /** The per-CPU counters map (default: the object's map "stats"); null when the program keeps none (then lost is 0 and produced is what was received). */
  counters?: BpfMap | null;
  /** Releases the kernel objects at stop (default: disposes the object and the others). Returns the first error, or null. */
  release?: () => unknown;
}

/** Least time between two drains unless the wakeup threshold is crossed: bounds wakeups per second. */
const POLL_MS = 20;
/** Longest sleep without a wakeup, when the ring was empty after the drain (so its next record wakes us). */
const IDLE_MS = 500;
/** Records decoded per drain at first; then sized so one drain takes about DRAIN_TARGET_MS. */
const DRAIN_CHUNK = 1 << 16;
const DRAIN_MIN = 1 << 10;
const DRAIN_MAX = 1 << 18;
const DRAIN_TARGET_MS = 5;
/**
 * Rows decoded into the decoder's working columns before they are sealed into a
 * right-sized chunk. Growing one contiguous column would copy everything collected so
 * far at each doubling (hundreds of ms at tens of millions of rows, all on the event
 * loop); sealing copies at most a chunk, and the table is joined from the chunks at
 * the end in slices that yield (engine/concat.ts).
 */
const CHUNK_ROWS = 1 << 15;
/** The largest `events` stop that sizes the decoder up front (its columns are allocated lazily: pages are touched as rows arrive). */
const PRESIZE_MAX = 1 << 26;

/**
 * Row: the type of the rows its tables hold (only a type: the probe that starts it knows them). It is
 * only ever a type parameter's default, so a Trace of any rows is still a `Trace`.
 */
export class Trace<Row extends object = Record<string, unknown>> implements Disposable, AsyncDisposable, Running {
  readonly source: string;
  readonly #setup: StreamSetup;
  readonly #reader: RingBufferReader;
  #decoder: StreamDecoder;
  /** Sealed chunks of rows, oldest first; the decoder holds the rows after them. */
  #chunks: Columns[] = [];
  #drainMax = DRAIN_CHUNK;
  /** The last drain took as many records as it was allowed: more are likely queued. */
  #drainedFull = false;
  /** Rows the decoder was sized for up front (a stop at a known event count), else 0. */
  #presized = 0;
  #links: Link[] = [];
  #received = 0;
  #start = clocks();
  #stopNs = 0;
  #stoppedBy: TraceStats["stoppedBy"] = "stop";
  #stopRequested = false;
  #done: Promise<void>;
  #finished = false;
  #error: unknown = null;
  #final: { stats: TraceStats } | null = null;
  #batches: Columns[] = [];
  #batchMode = false;
  #wake: (() => void) | null = null;

  /** @internal use a probe's start()/collect()/stream() */
  constructor(setup: StreamSetup, stop: StopOptions = {}) {
    this.source = setup.source;
    this.#setup = setup;
    let reader: RingBufferReader | null = null;
    try {
      reader = new RingBufferReader((setup.ring ?? setup.object.map("events")).fd, setup.bufferBytes);
      this.#reader = reader;
      // A trace that stops at a known number of events decodes into columns of that size, with
      // room for a few more (events already in the ring when the count is reached are kept too):
      // nothing is sealed or joined, and the table takes the decoder's columns as they are.
      this.#presized = !setup.decoder && stop.events !== undefined && stop.events <= PRESIZE_MAX ? stop.events + (stop.events >> 7) + 64 : 0;
      this.#decoder = setup.decoder ? setup.decoder(reader) : new EventDecoder(reader, setup.eventSize, setup.fields, this.#presized || CHUNK_ROWS);
      this.#links = setup.attach();
    } catch (e) {
      // nothing half-attached stays: close what was made, links first (the object owns them)
      reader?.close();
      if (setup.release) setup.release();
      else {
        setup.object.dispose();
        for (const o of setup.others ?? []) o.dispose();
      }
      throw e;
    }
    this.#start = clocks();
    track(this);
    try {
      started(this);
    } catch (e) {
      // a throwing "start" listener: nothing stays attached or tracked
      this.#error = e;
      this.#stoppedBy = "error";
      this.#stopRequested = true;
      this.#finish();
      throw e;
    }
    this.#done = this.#pump(stop);
  }

  get running(): boolean {
    return !this.#finished;
  }

  /** Events received so far. */
  get received(): number {
    return this.#received + 0;
  }

  get links(): readonly Link[] {
    return this.#links;
  }

  progress(fraction?: number): Progress {
    return { received: this.#received, lost: this.#final?.stats.lost ?? this.#counters().lost, seconds: this.elapsed(), fraction };
  }

  elapsed(): number {
    return ((this.#stopNs || clocks().monoNs) - this.#start.monoNs) / 1e9;
  }

  async #pump(stop: StopOptions): Promise<void> {
    const deadline = stop.seconds !== undefined ? this.#start.monoNs + stop.seconds * 1e9 : Infinity;
    const onAbort = () => this.#requestStop("signal");
    // Everything after attach runs inside try, so whatever throws (a bad signal object too) still detaches.
    try {
      if (stop.signal?.aborted) this.#requestStop("signal");
      stop.signal?.addEventListener("abort", onAbort, { once: true });
      // wakeupBytes 0: no size threshold, the poll period alone paces the drains
      const threshold = this.#setup.wakeupBytes === 0 ? Infinity : this.#setup.wakeupBytes ?? Math.min(this.#setup.bufferBytes / 4, 1 << 20);
      const msLeft = () => Math.max(1, (deadline - clocks().monoNs) / 1e6);
      while (!this.#stopRequested) {
        if (this.#hold?.()) {
          // The batches' consumer is behind (a spill's writer): the events wait in the ring, which
          // holds them (or counts them lost once full) instead of this process's memory.
          if (clocks().monoNs >= deadline) this.#requestStop("seconds");
          else await new Promise((r) => setTimeout(r, Math.min(POLL_MS, msLeft())));
          continue;
        }
        this.#drainSome();
        const drainedAt = clocks().monoNs;
        if (stop.events !== undefined && this.#received >= stop.events) this.#requestStop("events");
        else if (drainedAt >= deadline) this.#requestStop("seconds");
        if (this.#stopRequested) break;
        if (this.#drainedFull) {
          // a full chunk: more is queued, keep up without sleeping (but let the loop breathe)
          await yieldToLoop();
          continue;
        }
        // The producer wakes us only for a record committed at the consumer position
        // (or past the threshold). A record committed while the drain ran, or one still
        // being written, was not at that position then and sent no wakeup, nor will any
        // record after it: with bytes pending, come back after a poll period instead.
        // Never sooner because bytes are pending: they could be this process's own
        // syscalls (includeSelf), and every wait would cause the next event.
        const timeout = this.#reader.pending() > 0 ? POLL_MS : IDLE_MS;
        await this.#reader.wait(Math.min(timeout, msLeft()));
        // Then hold off until a poll period since the drain, unless the threshold is crossed.
        for (;;) {
          const hold = (drainedAt - clocks().monoNs) / 1e6 + POLL_MS;
          if (this.#stopRequested || hold <= 0 || this.#reader.pending() >= threshold || clocks().monoNs >= deadline) break;
          await this.#reader.wait(Math.min(hold, msLeft()));
        }
      }
      // A program run already past its filter when the links went away may still
      // reserve and commit: wait those runs out, so the last drain sees every event.
      await this.#detachAsync();
      await programsSettled();
      // A ring that filled while the loop was blocked (a cell spinning after start()) holds
      // millions of records: drain it in chunks that let the event loop run, so #finish's
      // synchronous drain only sees the last few and the loop never looks stuck.
      // (A synchronous dispose may finish, and unmap the ring, between two chunks.)
      while (!this.#finished && this.#reader.pending() > 0 && this.#drainSome() > 0) await yieldToLoop();
    } catch (e) {
      this.#error ??= e;
      this.#stoppedBy = "error";
    } finally {
      removeAbort(stop.signal, onAbort);
      this.#finish();
    }
  }

  /** Decodes up to #drainMax records; a full drain retunes #drainMax so no drain holds the event loop for long (strings decode slower than numbers). */
  #drainSome(): number {
    if (this.#presized && this.#decoder.n >= this.#presized) {
      // the count the decoder was sized for is in (its columns are handed over whole); rows past it go on in chunks
      this.#chunks.push(this.#decoder.take(CHUNK_ROWS));
      this.#presized = 0;
    }
    // Never past a chunk's rows between seals: a drain of a backlog (a ring that filled while the
    // loop was blocked) would otherwise grow the working columns far past a chunk, fresh pages
    // and copies in one step.
    // Exactly up to the chunk's end: a decoder filled to its capacity hands its columns over
    // without a copy, and one filled past it would regrow (doubling) and then copy.
    const room = this.#presized ? this.#presized - this.#decoder.n : CHUNK_ROWS - this.#decoder.n;
    const max = Math.min(this.#drainMax, room);
    const t0 = performance.now();
    const n = this.#reader.drainSpan(this.#decoder, max);
    this.#drainedFull = n >= max;
    this.#received += n;
    // retuned only from drains that the size limit cut, not the chunk's end
    if (this.#drainedFull && n > 0 && max === this.#drainMax) {
      const ms = performance.now() - t0;
      this.#drainMax = Math.max(DRAIN_MIN, Math.min(DRAIN_MAX, ms > 0 ? Math.round((n * DRAIN_TARGET_MS) / ms) : DRAIN_MAX));
    }
    if (n > 0 && this.#batchMode) this.#cutBatch();
    else if (!this.#presized && this.#decoder.n >= CHUNK_ROWS) this.#chunks.push(this.#decoder.take(CHUNK_ROWS));
    return n;
  }

  #cutBatch(): void {
    if (this.#decoder.n === 0) return;
    this.#batches.push(this.#decoder.take());
    this.#wake?.();
  }

  /** @internal Ends the trace because something acting on it (a user callback) threw: it detaches, and finished() rejects with that error. */
  fail(error: unknown): void {
    if (this.#finished) return;
    this.#error ??= error;
    this.#requestStop("error");
  }

  #requestStop(by: TraceStats["stoppedBy"]): void {
    if (this.#stopRequested) return;
    this.#stopRequested = true;
    this.#stoppedBy = by;
    this.#reader.cancelWait();
    this.#wake?.();
  }

  #detach(): void {
    if (this.#stopNs) return;
    const error = releaseLinks(this.#links);
    if (error) this.#error ??= error;
    this.#stopNs = clocks().monoNs;
  }

  /** #detach off the event loop (the kernel's detach may wait for an RCU grace period). */
  async #detachAsync(): Promise<void> {
    if (this.#stopNs) return;
    this.#stopNs = clocks().monoNs;
    const error = await releaseLinksAsync(this.#links);
    if (error) this.#error ??= error;
  }

  /** Detach, drain what is queued, read counters, release the kernel objects. */
  #finish(): void {
    if (this.#finished) return;
    this.#detach();
    let counters: Counters = { produced: this.#received, lost: 0, filtered: 0, excludedSelf: 0, readFailed: 0, unmatched: 0, evicted: 0, startDropped: 0 };
    try {
      // Producers that reserved before detach commit within microseconds; drain until the ring is empty.
      for (let spins = 0; spins < 10000; spins++) {
        this.#drainSome();
        if (this.#reader.pending() === 0) break;
      }
      counters = this.#counters();
    } catch (e) {
      // Still released below; the error ends the trace and finished() reports it.
      this.#error ??= e;
      this.#stoppedBy = "error";
    } finally {
      this.#reader.close();
      const error = this.#setup.release ? this.#setup.release() : releaseLinks([this.#setup.object, ...(this.#setup.others ?? [])]);
      if (error) this.#error ??= error;
      untrack(this);
    }
    this.#final = {
      stats: {
        received: this.#received, lost: counters.lost, produced: counters.produced, filtered: counters.filtered, excludedSelf: counters.excludedSelf, ...(counters.readFailed ? { readFailed: counters.readFailed } : {}), ...pairStats(counters, Boolean(this.#setup.others?.length)),
        truncated: this.#decoder.truncated(), ...this.#decoder.precision(), ...this.#decoder.stackStats(), seconds: (this.#stopNs - this.#start.monoNs) / 1e9,
        startNs: this.#start.monoNs, stopNs: this.#stopNs, epochOffsetNs: this.#start.epochOffsetNs,
        bufferBytes: this.#setup.bufferBytes, stoppedBy: this.#stoppedBy, source: this.source,
      },
    };
    this.#finished = true;
    if (this.#batchMode) this.#cutBatch();
    this.#wake?.();
    if (counters.lost > 0) {
      process.emitWarning(`${formatStats(this.#final.stats)}: ${counters.lost} events were lost because the ring buffer was full; use a larger bufferBytes or filter more in the kernel`, { code: "BPFBOOK_LOST_EVENTS" });
    }
    if (this.#final.stats.stacksLost) {
      process.emitWarning(`${this.source}: ${this.#final.stats.stacksLost} events lost their stack (a hash collision in the stack map, or the map was full); their stack column says so: raise stackEntries`, { code: "BPFBOOK_STACKS_LOST" });
    }
    const { imprecise, impreciseColumns = [] } = this.#final.stats;
    if (imprecise) {
      const cols = impreciseColumns.map((c) => JSON.stringify(c)).join(", ");
      process.emitWarning(`${this.source}: ${imprecise} 64-bit values beyond 2^53 were rounded to the nearest double in ${impreciseColumns.length === 1 ? "column" : "columns"} ${impreciseColumns.join(", ")}; use the bigint option for exact values (bigint: true, bigint: [${cols}] or bigint: "auto")`, { code: "BPFBOOK_IMPRECISE" });
    }
    try {
      stopped(this);
    } catch (e) {
      // a throwing "stop" listener: released already; finished() reports it
      this.#error ??= e;
    }
  }

  progressStats(): RunningStats {
    const s = this.stats();
    return { source: s.source, received: s.received, lost: s.lost, seconds: s.seconds, stoppedBy: s.stoppedBy };
  }

  describe(): string {
    return formatStats(this.stats());
  }

  /** Stops the collection (idempotent) and resolves when it has fully stopped. */
  async stop(by: StoppedBy = "stop"): Promise<void> {
    this.#requestStop(by);
    await this.#done;
  }

  /** Stops now and returns everything collected as a table (with stats). */
  async table<R extends object = Row>(): Promise<TraceTable<R>> {
    await this.stop();
    return this.#resultAsync<R>();
  }

  /** Waits for a stop condition (seconds, events, signal, or stop() elsewhere), then returns the table. */
  async finished<R extends object = Row>(): Promise<TraceTable<R>> {
    await this.#done;
    return this.#resultAsync<R>();
  }

  #table: TraceTable | null = null;

  #result<Row extends object>(): TraceTable<Row> {
    if (this.#batchMode) throw new InvalidArgumentError("this trace is being read as a stream of batches; its rows were handed to the batches");
    if (this.#error) throw this.#error;
    // Built once: collect() and an interrupt may both ask for it. A join under way is finished here.
    if (!this.#table) {
      const join = this.#join ?? concatAll(this.#takeAll());
      let r = join.next();
      while (!r.done) r = join.next();
      this.#table = this.#finalTable(r.value);
      this.#join = null;
    }
    return this.#table as TraceTable<Row>;
  }

  /** The join of the chunks into the final table while it is under way (resultAsync). */
  #join: Generator<void, Columns> | null = null;

  #building: Promise<void> | null = null;

  /** The same table as #result, joined from the chunks in slices that let the event loop run. */
  async #resultAsync<Row extends object>(): Promise<TraceTable<Row>> {
    if (!this.#batchMode && !this.#error) {
      this.#building ??= this.#buildTable();
      await this.#building;
    }
    return this.#result<Row>();
  }

  async #buildTable(): Promise<void> {
    if (this.#table) return;
    const join = (this.#join = concatAll(this.#takeAll()));
    // a synchronous result() may finish the join meanwhile (an interrupt's partialResults())
    while (!this.#table) {
      const r = join.next();
      if (r.done) {
        this.#table = this.#finalTable(r.value);
        this.#join = null;
        break;
      }
      await yieldToLoop();
    }
  }

  /** Every row collected, as column sets in order; the trace no longer holds them. */
  #takeAll(): Columns[] {
    const parts = [...this.#chunks, this.#decoder.take()];
    this.#chunks = [];
    return parts;
  }

  /** The table of a finished trace. The decoder's working columns are let go: a trace kept in a notebook's scope holds only its table. */
  #finalTable(cols: Columns): TraceTable {
    const t = toTraceTable<Record<string, unknown>>(cols, this.stats(), this.#setup.decorate);
    if (this.#finished) this.#decoder.release?.();
    return t;
  }

  /** The finished trace's table, or null while it runs (or when it was read as batches). */
  result<R extends object = Row>(): TraceTable<R> | null {
    if (!this.#finished || this.#batchMode || this.#error) return null;
    return this.#result<R>();
  }

  /** The rows so far as a table, without stopping (numbers are views, not copies). */
  snapshot<R extends object = Row>(): TraceTable<R> {
    if (this.#table) return this.#table as TraceTable<R>;
    const now = this.#decoder.peek();
    // sealed chunks are joined into a copy (shallow copies of the sets: the join empties what it is given)
    const cols = this.#chunks.length ? concatColumns([...this.#chunks.map((c) => ({ ...c })), now]) : now;
    return toTraceTable<R>(cols, this.stats(), this.#setup.decorate);
  }

  /** @internal The table decoration of this trace's setup (stream batches use it too). */
  get decorate(): ((t: ColumnTable) => ColumnTable) | undefined {
    return this.#setup.decorate;
  }

  /** The kernel's counters: the emitting program's, plus (pairs) its start programs' evicted, dropped and failed reads. */
  #counters(): Counters {
    const own = this.#setup.counters === undefined ? this.#setup.object.map("stats") : this.#setup.counters;
    if (own === null) return { produced: this.#received, lost: 0, filtered: 0, excludedSelf: 0, readFailed: 0, unmatched: 0, evicted: 0, startDropped: 0 };
    return readCounters(own, (this.#setup.others ?? []).map((o) => o.map("stats")));
  }

  /** Counters so far (final once stopped). */
  stats(): TraceStats {
    if (this.#final) return this.#final.stats;
    const c = this.#counters();
    const now = clocks().monoNs;
    return {
      received: this.#received, lost: c.lost, produced: c.produced, filtered: c.filtered, excludedSelf: c.excludedSelf, ...(c.readFailed ? { readFailed: c.readFailed } : {}), ...pairStats(c, Boolean(this.#setup.others?.length)), truncated: this.#decoder.truncated(), ...this.#decoder.precision(), ...this.#decoder.stackStats(),
      seconds: (now - this.#start.monoNs) / 1e9, startNs: this.#start.monoNs, stopNs: 0, epochOffsetNs: this.#start.epochOffsetNs,
      bufferBytes: this.#setup.bufferBytes, stoppedBy: this.#stoppedBy, source: this.source,
    };
  }

  /** While hold() says so, the pump leaves the events in the ring (batches(): a consumer that is behind). */
  #hold: (() => boolean) | null = null;

  /**
   * Yields the rows as batches (column sets) as they arrive, until the trace stops.
   * `hold`: while it returns true, nothing more is drained (the ring buffer holds the events,
   * and counts them lost once full), so a consumer that falls behind bounds what is in memory.
   */
  async *batches(opts: { hold?: () => boolean } = {}): AsyncGenerator<Columns> {
    this.#hold = opts.hold ?? null;
    this.#batchMode = true;
    this.#batches.push(...this.#chunks);
    this.#chunks = [];
    this.#cutBatch();
    try {
      for (;;) {
        while (this.#batches.length) yield this.#batches.shift()!;
        if (this.#finished) {
          if (this.#error) throw this.#error;
          return;
        }
        await new Promise<void>((r) => (this.#wake = r));
        this.#wake = null;
      }
    } finally {
      if (!this.#finished) await this.stop();
    }
  }

  /** The error that ended the trace, if any. */
  get error(): unknown {
    return this.#error;
  }

  [Symbol.dispose](): void {
    this.#requestStop("stop");
    this.#finish();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
