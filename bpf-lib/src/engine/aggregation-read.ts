/* Reading an aggregation map back into rows without holding the event loop: the map a
 * batch at a time from buffers reused between batches (no object per key), the CPUs'
 * totals merged in doubles when they are small enough to be exact (bigints only past
 * 2^52), then each interval's rows ordered by key with a merge sort that pauses, and
 * appended. Every step is a generator that yields after a bounded slice of work;
 * AggregationRun drives it a few milliseconds per turn of the loop while a trace runs,
 * and in one go when it must finish at once (a synchronous dispose).
 * Rows live in fixed-size chunks (RowStore), never in one growing array: growing or
 * copying a column of a million rows is one long step (and, where page faults are
 * dear, tens of ms), and a table of the rows so far is a view of the chunks filled so
 * far (ChunkedColumn), so handing every interval its table copies nothing. */
import type { BpfMap } from "../libbpf/map.js";
import { AGG_VAL_SIZE, mergePerCpu, type AggValue } from "./values.js";
import { isTruncated, type KeyPart, type KeyValue } from "./keys.js";
import { clearCache, readCache } from "./aggregation-cache.js";
import type { HistSpec } from "../options/hist.js";

const SHIFT = 13;
/** Rows per chunk: 64 KiB of values per column. */
const CHUNK = 1 << SHIFT;
const MASK = CHUNK - 1;

/** A column of a RowStore as it stood: its first `length` rows, read through `at` (Arquero's column interface). */
export class ChunkedColumn {
  readonly #chunks: readonly unknown[][];
  readonly length: number;
  constructor(chunks: readonly unknown[][], length: number) {
    this.#chunks = chunks;
    this.length = length;
  }
  at(row: number): unknown {
    return this.#chunks[row >>> SHIFT][row & MASK];
  }
  *[Symbol.iterator](): Iterator<unknown> {
    for (let i = 0; i < this.length; i++) yield this.#chunks[i >>> SHIFT][i & MASK];
  }
}

/**
 * Named columns of rows in chunks. Rows are only ever added; a chunk once handed out
 * in a ChunkedColumn is only written past that column's length, or replaced (never
 * changed) when its column turns bigint, so earlier tables stay as they were.
 */
export class RowStore {
  readonly names: readonly string[];
  readonly #cols: unknown[][][];
  readonly #bigint = new Set<number>();
  #length = 0;
  constructor(names: readonly string[]) {
    this.names = names;
    this.#cols = names.map(() => []);
  }
  get length(): number {
    return this.#length;
  }
  /** Column index of `name` (-1 when absent). */
  index(name: string): number {
    return this.names.indexOf(name);
  }
  has(name: string): boolean {
    return this.names.includes(name);
  }
  /** Adds a row (its values then set column by column); returns its index. */
  row(): number {
    const r = this.#length++;
    if ((r & MASK) === 0) for (const c of this.#cols) c.push(new Array(CHUNK));
    return r;
  }
  set(col: number, row: number, v: unknown): void {
    this.#cols[col][row >>> SHIFT][row & MASK] = v;
  }
  get(col: number, row: number): unknown {
    return this.#cols[col][row >>> SHIFT][row & MASK];
  }
  isBigint(col: number): boolean {
    return this.#bigint.has(col);
  }
  /**
   * Turns a column bigint throughout, pausing after each chunk. The new chunks replace
   * the old all at once at the end, so a table made meanwhile (or before) sees the
   * column one type throughout.
   */
  *toBigint(col: number): Generator<void, void> {
    const old = this.#cols[col];
    const chunks: unknown[][] = [];
    for (let k = 0; k < old.length; k++) {
      const from = old[k], n = Math.min(CHUNK, this.#length - k * CHUNK);
      const c = new Array<unknown>(CHUNK);
      for (let i = 0; i < n; i++) c[i] = typeof from[i] === "bigint" ? from[i] : BigInt(from[i] as number);
      chunks.push(c);
      yield;
    }
    this.#cols[col] = chunks;
    this.#bigint.add(col);
  }
  /** The columns' first `n` rows (default: all of them), for a table. */
  columns(n = this.#length): Record<string, ChunkedColumn> {
    return Object.fromEntries(this.names.map((name, i) => [name, new ChunkedColumn(this.#cols[i].slice(), n)]));
  }
}

/** What the rows read so far need at table time, gathered as they are read (never by a pass over all of them). */
export interface RowsMeta {
  /** Columns holding a value beyond 2^53 (a bigint): bigint throughout in the table. */
  bigint: Set<string>;
  /** String keys that filled their slot. */
  truncated: number;
}

export interface ReadSpec {
  map: BpfMap;
  /** Delete what is read (a flipped map, or the last read). */
  drain: boolean;
  /** Entries per batch syscall. */
  batch: number;
  /** agg.h's per-CPU front cache and which of its buffers belongs to `map`. */
  cache?: { map: BpfMap; index: number };
  ncpu: number;
  unsigned: boolean;
  parts: readonly KeyPart[];
  hist?: HistSpec;
  /** Rows carry sum, min, max and avg (not a histogram, not count only). */
  scalar: boolean;
  interval?: { index: number; time: number };
}

/** Values merged or rows copied between two pauses: a few ms of work. */
export const ROW_SLICE = 2048;

export function histBounds(h: HistSpec, b: number): [number, number] {
  if (h === "log2") return b === 0 ? [0, 1] : [2 ** (b - 1), 2 ** b];
  const last = Math.floor((h.max - h.min) / h.step) + 1;
  if (b === 0) return [-Infinity, h.min];
  if (b >= last) return [h.max, Infinity];
  return [h.min + (b - 1) * h.step, h.min + b * h.step];
}

const TWO32 = 4294967296;
/** A 64-bit value whose high word is below this in magnitude is below 2^52: exact in a double, with room for a sum of two. */
const HI_LIMIT = 1 << 20;
const MAX = Number.MAX_SAFE_INTEGER;

/**
 * The CPUs' totals at `base` merged in doubles, into `out`; false when a value is too
 * large for that to be exact (the caller then merges in bigints, as mergePerCpu does).
 * Small values never wrap, so the sum equals the kernel's two's-complement one.
 */
export function mergeSmall(dv: DataView, base: number, ncpu: number, unsigned: boolean, out: AggValue): boolean {
  let count = 0, sum = 0, min = Infinity, max = -Infinity;
  for (let c = 0; c < ncpu; c++) {
    const at = base + c * AGG_VAL_SIZE;
    const nlo = dv.getUint32(at, true), nhi = dv.getUint32(at + 4, true);
    if (nlo === 0 && nhi === 0) continue;
    if (nhi >= HI_LIMIT) return false;
    count += nhi * TWO32 + nlo;
    const shi = unsigned ? dv.getUint32(at + 12, true) : dv.getInt32(at + 12, true);
    const lhi = unsigned ? dv.getUint32(at + 20, true) : dv.getInt32(at + 20, true);
    const hhi = unsigned ? dv.getUint32(at + 28, true) : dv.getInt32(at + 28, true);
    if (shi >= HI_LIMIT || shi < -HI_LIMIT || lhi >= HI_LIMIT || lhi < -HI_LIMIT || hhi >= HI_LIMIT || hhi < -HI_LIMIT) return false;
    sum += shi * TWO32 + dv.getUint32(at + 8, true);
    const lo = lhi * TWO32 + dv.getUint32(at + 16, true);
    const hi = hhi * TWO32 + dv.getUint32(at + 24, true);
    if (lo < min) min = lo;
    if (hi > max) max = hi;
    // past 2^53 a partial total could round: the exact path takes over
    if (count > MAX || sum > MAX || sum < -MAX) return false;
  }
  out.count = count;
  out.sum = sum;
  out.min = min;
  out.max = max;
  return true;
}

/**
 * Reads the map into `into` (appending; `into` has a column for every part and value),
 * pausing after each batch. Returns how many rows it added. The cache's totals are
 * added to their keys' rows; with `drain`, the cache buffer is cleared at the end.
 */
export function* readRows(spec: ReadSpec, into: RowStore, meta: RowsMeta): Generator<void, number> {
  const { map, ncpu, unsigned, parts, hist, scalar, interval } = spec;
  const ks = map.keySize, vs = map.valueBytes;
  const cached = spec.cache ? readCache(spec.cache.map, spec.cache.index, ks, ncpu, unsigned) : null;
  const small: AggValue = { count: 0, sum: 0, min: 0, max: 0 };
  const cols = parts.map((p) => (p.column === "bucket" ? -1 : into.index(p.column)));
  const at = (name: string) => into.index(name);
  const [cInterval, cTime, cBucket, cLow, cHigh, cCount, cSum, cMin, cMax, cAvg] = ["interval", "time", "bucket", "low", "high", "count", "sum", "min", "max", "avg"].map(at);
  let added = 0;
  const set = (c: number, r: number, name: string, v: unknown) => {
    into.set(c, r, v);
    if (typeof v === "bigint") meta.bigint.add(name);
  };
  const push = (keys: Uint8Array, kdv: DataView, kat: number, v: AggValue) => {
    if (v.count === 0) return;
    const r = into.row();
    if (interval) {
      into.set(cInterval, r, interval.index);
      into.set(cTime, r, interval.time);
    }
    let bucket = 0;
    for (let j = 0; j < parts.length; j++) {
      const p = parts[j];
      const val: KeyValue = p.read(kdv, keys, kat + p.koff);
      const c = cols[j];
      if (c < 0) {
        bucket = val as number;
        continue;
      }
      set(c, r, p.column, val);
      if (p.truncates && isTruncated(p, val)) meta.truncated++;
    }
    if (hist) {
      const [low, high] = histBounds(hist, bucket);
      into.set(cBucket, r, bucket);
      into.set(cLow, r, low);
      into.set(cHigh, r, high);
    }
    set(cCount, r, "count", v.count);
    if (scalar) {
      set(cSum, r, "sum", v.sum);
      set(cMin, r, "min", v.min);
      set(cMax, r, "max", v.max);
      into.set(cAvg, r, Number(v.sum) / Number(v.count));
    }
    added++;
  };
  let kdv = null as DataView | null, vdv = null as DataView | null;
  for (const b of map.batches(spec.drain, spec.batch)) {
    // the batch buffers are the same from one batch to the next
    if (kdv?.buffer !== b.keys.buffer) kdv = new DataView(b.keys.buffer, b.keys.byteOffset, b.keys.byteLength);
    if (vdv?.buffer !== b.values.buffer) vdv = new DataView(b.values.buffer, b.values.byteOffset, b.values.byteLength);
    for (let i = 0; i < b.count; i++) {
      const kat = i * ks, vat = i * vs;
      const withCache = cached?.take(b.keys, kat, b.values, vat);
      if (withCache) push(b.keys, kdv, kat, mergePerCpu(withCache, ncpu, unsigned));
      else if (mergeSmall(vdv, vat, ncpu, unsigned, small)) push(b.keys, kdv, kat, small);
      else push(b.keys, kdv, kat, mergePerCpu(b.values.subarray(vat, vat + vs), ncpu, unsigned));
    }
    yield;
  }
  // a cached key the map no longer had is a row of its own
  for (const e of cached?.untaken() ?? []) push(e.key, new DataView(e.key.buffer, e.key.byteOffset, e.key.byteLength), 0, mergePerCpu(e.values, ncpu, unsigned));
  if (spec.drain && spec.cache) clearCache(spec.cache.map, spec.cache.index);
  return added;
}

/**
 * The order of rows [0, n) of `rows` by the columns `by` (ascending, as Arquero's
 * orderby compares; ties keep read order): runs sorted a slice at a time, then merged
 * pairwise, pausing after every slice of merging.
 */
export function* sortedOrder(rows: RowStore, by: readonly string[], n: number): Generator<void, Uint32Array> {
  let idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const cols = by.map((c) => rows.index(c)).filter((c) => c >= 0);
  if (!cols.length || n < 2) return idx;
  const cmp = (a: number, b: number): number => {
    for (let j = 0; j < cols.length; j++) {
      const u = rows.get(cols[j], a) as number, v = rows.get(cols[j], b) as number;
      if (u < v) return -1;
      if (u > v) return 1;
    }
    return a - b;
  };
  for (let s = 0; s < n; s += ROW_SLICE) {
    idx.subarray(s, Math.min(n, s + ROW_SLICE)).sort(cmp);
    yield;
  }
  let tmp = new Uint32Array(n);
  let work = 0;
  for (let w = ROW_SLICE; w < n; w *= 2) {
    for (let lo = 0; lo < n; lo += 2 * w) {
      const mid = Math.min(n, lo + w), hi = Math.min(n, lo + 2 * w);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        tmp[k++] = cmp(idx[i], idx[j]) <= 0 ? idx[i++] : idx[j++];
        if (++work === ROW_SLICE) {
          work = 0;
          yield;
        }
      }
      while (i < mid) tmp[k++] = idx[i++];
      while (j < hi) tmp[k++] = idx[j++];
    }
    [idx, tmp] = [tmp, idx];
  }
  return idx;
}

/** Appends the rows of `from` in `order` to `to` (same columns), bigint throughout where `meta` says a column is bigint; pauses after every slice. */
export function* appendRows(to: RowStore, from: RowStore, order: Uint32Array, meta: RowsMeta): Generator<void, void> {
  const n = to.names.length;
  const src = to.names.map((name) => from.index(name));
  const big = to.names.map((name) => meta.bigint.has(name));
  // a column that just became bigint: the rows it had turn bigint once
  for (let c = 0; c < n; c++) if (big[c] && !to.isBigint(c)) yield* to.toBigint(c);
  for (let s = 0; s < order.length; s += ROW_SLICE) {
    const e = Math.min(order.length, s + ROW_SLICE);
    for (let i = s; i < e; i++) {
      const r = to.row(), k = order[i];
      for (let c = 0; c < n; c++) {
        const v = from.get(src[c], k);
        to.set(c, r, big[c] && typeof v !== "bigint" ? BigInt(v as number) : v);
      }
    }
    yield;
  }
}

/** Runs a generator to its end at once (a synchronous finish). */
export function runNow<T>(g: Generator<void, T>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/** How long a turn of the loop may work before it lets the loop run (timers, I/O, heartbeats). */
const TURN_MS = 4;

/**
 * Runs a generator a few ms per turn of the event loop. `cancelled()` is checked at
 * each pause; when it says so, the promise resolves with `undefined` and the
 * generator is left where it is (its owner finishes it with runNow).
 */
export async function runInTurns<T>(g: Generator<void, T>, cancelled: () => boolean): Promise<T | undefined> {
  for (;;) {
    const t0 = performance.now();
    for (;;) {
      const r = g.next();
      if (r.done) return r.value;
      if (performance.now() - t0 >= TURN_MS) break;
    }
    await new Promise<void>((r) => setImmediate(r));
    if (cancelled()) return undefined;
  }
}
