/* Joins column sets end to end: the sealed chunks of a long trace into its table,
 * stream batches into one. concatAll pauses (a generator yield) after every bounded
 * slice of copying; Trace drives it with a turn of the event loop at each pause, so a
 * table of tens of millions of rows is built without blocking the loop (heartbeats,
 * interrupts and live displays keep running). concatColumns runs it in one go. */
import type { Columns } from "./decoder.js";
import { DictColumn, type ColumnData } from "./columns.js";
import { uninitialized } from "./alloc.js";

/** Values copied between two pauses of concatAll: a few ms of memcpy and page faults. */
export const COPY_SLICE = 1 << 16;

type Settable = { set(a: ArrayLike<unknown>, o: number): void; length: number };
type Ctor = { new (n: number): Settable; new (b: ArrayBuffer, o: number, n: number): Settable; readonly BYTES_PER_ELEMENT: number };

/**
 * Chunks of one decoder share its dictionary builder, so each chunk's dictionary is
 * a prefix of the next one's: the codes then stay valid as they are, and only a
 * dictionary that is not a prefix needs its codes remapped.
 */
function prefixDicts(parts: readonly DictColumn[]): readonly string[] | null {
  const last = parts[parts.length - 1].dict;
  for (const p of parts) {
    if (p.dict === last) continue;
    if (p.dict.length > last.length) return null;
    for (let i = 0; i < p.dict.length; i++) if (p.dict[i] !== last[i]) return null;
  }
  return last;
}

/** Runs `copy(from, to)` over [0, n) in slices, pausing (a yield of the generator) after each. */
function* sliced(n: number, copy: (from: number, to: number) => void): Generator<void, void> {
  for (let from = 0; from < n; from += COPY_SLICE) {
    copy(from, Math.min(n, from + COPY_SLICE));
    yield;
  }
}

function* concatColumn(parts: readonly ColumnData[]): Generator<void, ColumnData> {
  const first = parts[0];
  const total = parts.reduce((s, p) => s + p.length, 0);
  if (first instanceof DictColumn) {
    const dicts = parts as readonly DictColumn[];
    const dict = prefixDicts(dicts);
    if (!dict) return DictColumn.concat(dicts);
    const codes = uninitialized(Uint32Array, total);
    let o = 0;
    for (const p of dicts) {
      const base = o;
      yield* sliced(p.codes.length, (a, b) => codes.set(p.codes.subarray(a, b), base + a));
      o += p.codes.length;
    }
    return new DictColumn(codes, dict);
  }
  if (Array.isArray(first)) {
    const out = new Array<unknown>(total);
    let o = 0;
    for (const p of parts as readonly unknown[][]) {
      const base = o;
      yield* sliced(p.length, (a, b) => {
        for (let i = a; i < b; i++) out[base + i] = p[i];
      });
      o += p.length;
    }
    return out;
  }
  const C = (first as unknown as { constructor: Ctor }).constructor;
  // every element is written below, part after part
  const arr = uninitialized(C, total);
  let o = 0;
  for (const p of parts as unknown as readonly (Settable & { subarray(a: number, b: number): ArrayLike<unknown> })[]) {
    const base = o;
    yield* sliced(p.length, (a, b) => arr.set(p.subarray(a, b), base + a));
    o += p.length;
  }
  return arr as unknown as ColumnData;
}

/** Joins the parts column by column, pausing (yield) every few ms of copying; each column's chunks are dropped once it is joined, so the peak stays near one column's worth above the table. */
export function* concatAll(parts: Columns[]): Generator<void, Columns> {
  // parts without rows add nothing (an empty last chunk after a decoder that filled exactly)
  const rows = (p: Columns) => { const first = Object.values(p)[0]; return first ? first.length : 0; };
  const some = parts.filter((p) => rows(p) > 0);
  if (some.length === 0) return parts[0];
  parts = some;
  if (parts.length === 1) return parts[0];
  const out: Columns = {};
  for (const name of Object.keys(parts[0])) {
    out[name] = yield* concatColumn(parts.map((p) => p[name]));
    for (const p of parts) delete p[name];
    yield;
  }
  return out;
}

/** Concatenates column sets with the same columns, in one go. The parts are emptied. */
export function concatColumns(parts: Columns[]): Columns {
  const g = concatAll(parts);
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}
