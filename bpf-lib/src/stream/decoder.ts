/* Decodes fixed-layout events straight out of the ring buffer mapping into
 * columns: the standard header (ts, cpu, pid, tid, comm), then each field. */
import { HDR, HDR_SIZE, COMM_LEN } from "./layout.js";
import { cString } from "./strings.js";
import type { RecordSink } from "../ringbuf/reader.js";
import type { ColumnData } from "./columns.js";

/** Decodes one field of an event at `base` (the event's first byte) into row `row`. */
export interface FieldDecoder {
  readonly name: string;
  grow(capacity: number): void;
  decode(u8: Uint8Array, dv: DataView, base: number, row: number): void;
  take(n: number): ColumnData;
  peek(n: number): ColumnData;
  /** Values that could not be decoded whole (a string cut by the window, ...). */
  truncated: number;
}

export type Columns = Record<string, ColumnData>;

interface CommEntry { w0: number; w1: number; w2: number; w3: number; s: string }

export class EventDecoder implements RecordSink {
  #cap: number;
  n = 0;
  ts: Float64Array;
  cpu: Uint16Array;
  pid: Int32Array;
  tid: Int32Array;
  comm: string[];
  readonly fields: readonly FieldDecoder[];
  readonly eventSize: number;
  #u8: Uint8Array;
  #u32: Uint32Array;
  #dv: DataView;
  /** comm per tid, compared word by word: re-decoding 16 bytes per event would dominate. */
  readonly #comms = new Map<number, CommEntry>();
  /** Records whose length was not the stream's event size: a layout bug, counted rather than misread. */
  malformed = 0;

  constructor(view: { u8: Uint8Array; u32: Uint32Array; dv: DataView }, eventSize: number, fields: FieldDecoder[], capacity = 4096) {
    this.#u8 = view.u8;
    this.#u32 = view.u32;
    this.#dv = view.dv;
    this.eventSize = eventSize;
    this.fields = fields;
    this.#cap = capacity;
    this.ts = new Float64Array(capacity);
    this.cpu = new Uint16Array(capacity);
    this.pid = new Int32Array(capacity);
    this.tid = new Int32Array(capacity);
    this.comm = [];
    for (const f of fields) f.grow(capacity);
  }

  #grow(): void {
    const cap = this.#cap * 2;
    const grow = <T extends Float64Array | Uint16Array | Int32Array>(a: T, C: new (n: number) => T): T => {
      const b = new C(cap);
      b.set(a);
      return b;
    };
    this.ts = grow(this.ts, Float64Array);
    this.cpu = grow(this.cpu, Uint16Array);
    this.pid = grow(this.pid, Int32Array);
    this.tid = grow(this.tid, Int32Array);
    for (const f of this.fields) f.grow(cap);
    this.#cap = cap;
  }

  record(off: number, len: number): void {
    if (len !== this.eventSize) {
      this.malformed++;
      return;
    }
    const row = this.n;
    if (row === this.#cap) this.#grow();
    const u32 = this.#u32;
    const w = off >>> 2; // records are 8-byte aligned
    // u64 ns: exact as a double below 2^53 ns (104 days of uptime); beyond, sub-µs rounding.
    this.ts[row] = u32[w + 1] * 4294967296 + u32[w];
    const tid = u32[w + (HDR.tid >>> 2)];
    this.pid[row] = u32[w + (HDR.pid >>> 2)];
    this.tid[row] = tid;
    this.cpu[row] = u32[w + (HDR.cpu >>> 2)];
    const c = w + (HDR.comm >>> 2);
    const w0 = u32[c], w1 = u32[c + 1], w2 = u32[c + 2], w3 = u32[c + 3];
    let e = this.#comms.get(tid);
    if (e === undefined || e.w0 !== w0 || e.w1 !== w1 || e.w2 !== w2 || e.w3 !== w3) {
      e = { w0, w1, w2, w3, s: cString(this.#u8, off + HDR.comm, COMM_LEN) };
      this.#comms.set(tid, e);
    }
    this.comm.push(e.s);
    const fields = this.fields;
    for (let i = 0; i < fields.length; i++) fields[i].decode(this.#u8, this.#dv, off, row);
    this.n = row + 1;
  }

  /** The decoded rows as columns, handed over: the decoder starts empty again. */
  take(): Columns {
    const n = this.n;
    const cols: Columns = {
      ts: this.ts.slice(0, n), cpu: this.cpu.slice(0, n), pid: this.pid.slice(0, n), tid: this.tid.slice(0, n), comm: this.comm,
    };
    for (const f of this.fields) cols[f.name] = f.take(n);
    this.comm = [];
    this.n = 0;
    return cols;
  }

  /** The rows so far without copying numbers (views that stay valid), for live displays. */
  peek(): Columns {
    const n = this.n;
    const cols: Columns = {
      ts: this.ts.subarray(0, n), cpu: this.cpu.subarray(0, n), pid: this.pid.subarray(0, n), tid: this.tid.subarray(0, n), comm: this.comm.slice(0, n),
    };
    for (const f of this.fields) cols[f.name] = f.peek(n);
    return cols;
  }

  truncated(): number {
    let t = 0;
    for (const f of this.fields) t += f.truncated;
    return t;
  }
}

export const STANDARD_COLUMNS = ["ts", "cpu", "pid", "tid", "comm"] as const;
export { HDR_SIZE };
