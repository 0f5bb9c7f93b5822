/* What the spilling trace and its writer thread say to each other. Column sets cross
 * the thread boundary as plain data: typed arrays moved (transferred, not copied),
 * dictionary strings as their codes (moved) and dictionary, other arrays cloned.
 * Moving is safe because a decoder's take() hands its rows over: nothing else holds
 * those buffers (engine/decoder.ts). */
import type { Columns } from "../engine/decoder.js";
import { DictColumn, type ColumnData } from "../engine/columns.js";
import type { ParquetCompression } from "../export/parquet.js";

export type WireColumn = { dict: readonly string[]; codes: Uint32Array } | Exclude<ColumnData, DictColumn>;
export type WireColumns = Record<string, WireColumn>;

/** The writer's settings, sent once as workerData. */
export interface WriterConfig {
  dir: string;
  prefix: string;
  /** A file is written once this many rows are waiting. */
  fileRows: number;
  compression: ParquetCompression;
  mode: number;
}

export type ToWriter =
  | { kind: "rows"; cols: WireColumns; rows: number }
  /** Write what is waiting (the trace ended), then say "flushed". */
  | { kind: "flush" };

export interface WrittenFile {
  path: string;
  /** Index of the file's first row in the whole trace. */
  firstRow: number;
  rows: number;
  bytes: number;
  /** Time the writer spent on it: join, Arrow, Parquet encoding, write. */
  ms: number;
}

export type FromWriter =
  | { kind: "file"; file: WrittenFile }
  | { kind: "flushed" }
  | { kind: "error"; message: string; code?: string };

/** The name of file i of a spill: zero-padded, so the names sort in row order. */
export function fileName(prefix: string, i: number): string {
  return `${prefix}-${String(i).padStart(6, "0")}.parquet`;
}

/**
 * A batch's own dictionary: the strings its codes use, in first-use order, and its codes
 * rewritten to match, in place (they move to the writer with the batch). A trace's
 * columns share one dictionary that only grows (engine/columns.ts), and a batch posted
 * with all of it would copy every string seen so far, at every batch.
 */
function compact(c: DictColumn): { dict: string[]; codes: Uint32Array } {
  const remap = new Map<number, number>();
  const dict: string[] = [];
  const codes = c.codes;
  for (let i = 0; i < codes.length; i++) {
    const k = codes[i];
    let m = remap.get(k);
    if (m === undefined) {
      m = dict.push(c.dict[k]) - 1;
      remap.set(k, m);
    }
    codes[i] = m;
  }
  return { dict, codes };
}

/** A column set ready to post, and the buffers to move with it: the sender gives them up. */
export function toWire(cols: Columns): { cols: WireColumns; transfer: ArrayBuffer[] } {
  const out: WireColumns = {};
  const transfer = new Set<ArrayBuffer>();
  for (const [name, c] of Object.entries(cols)) {
    if (c instanceof DictColumn) {
      out[name] = compact(c);
      if (c.codes.buffer instanceof ArrayBuffer) transfer.add(c.codes.buffer);
    } else {
      out[name] = c;
      if (ArrayBuffer.isView(c) && c.buffer instanceof ArrayBuffer) transfer.add(c.buffer);
    }
  }
  return { cols: out, transfer: [...transfer] };
}

export function fromWire(cols: WireColumns): Columns {
  const out: Columns = {};
  for (const [name, c] of Object.entries(cols)) {
    out[name] = !Array.isArray(c) && !ArrayBuffer.isView(c) ? new DictColumn((c as { codes: Uint32Array }).codes, (c as { dict: readonly string[] }).dict) : (c as ColumnData);
  }
  return out;
}
