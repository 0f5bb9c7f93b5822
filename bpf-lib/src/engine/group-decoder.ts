/* Decodes one ring buffer that several programs share (a group of tracepoints): every
 * event has the standard header, whose `flags` holds the probe id (stream.h
 * cfg_probe_id), then that probe's own record window. The header goes straight into
 * shared columns; each probe's fields into its own decoders (their layouts differ),
 * which take() interleaves back into row order, with a `probe` column of names. */
import { HDR, COMM_LEN } from "./layout.js";
import { cString } from "./strings.js";
import { DictBuilder, DictColumn, type ColumnData } from "./columns.js";
import type { Columns, FieldDecoder, StreamDecoder } from "./decoder.js";

/** One probe of the group: its event size and its field decoders (the same columns, in the same order, for every probe). */
export interface GroupMember {
  eventSize: number;
  fields: readonly FieldDecoder[];
}

interface Member {
  size: number;
  fields: readonly FieldDecoder[];
  /** Rows of this probe decoded so far. */
  n: number;
  cap: number;
}

interface CommEntry { w0: number; w1: number; w2: number; w3: number; code: number }

type Typed = Exclude<ColumnData, unknown[] | DictColumn>;

export class GroupDecoder implements StreamDecoder {
  n = 0;
  #cap: number;
  ts: Float64Array;
  cpu: Uint16Array;
  pid: Int32Array;
  tid: Int32Array;
  comm: DictBuilder;
  /** The probe id of each row: also the row's code in the `probe` column's dictionary. */
  probe: Uint32Array;
  readonly #names: readonly string[];
  readonly #columns: readonly string[];
  readonly #members: Member[];
  readonly #u8: Uint8Array;
  readonly #dv: DataView;
  readonly #comms = new Map<number, CommEntry>();
  /** Records of no known probe, or not that probe's event size: a layout bug, counted rather than misread. */
  malformed = 0;

  /**
   * `names[i]` is probe i's name, `columns` the output name of each field column
   * (a field named like a standard column or `probe` is renamed by the caller).
   */
  constructor(view: { u8: Uint8Array; dv: DataView }, members: readonly GroupMember[], names: readonly string[], columns: readonly string[], capacity = 4096) {
    this.#u8 = view.u8;
    this.#dv = view.dv;
    this.#names = names;
    this.#columns = columns;
    this.#members = members.map((m) => ({ size: m.eventSize, fields: m.fields, n: 0, cap: 0 }));
    this.#cap = capacity;
    this.ts = new Float64Array(capacity);
    this.cpu = new Uint16Array(capacity);
    this.pid = new Int32Array(capacity);
    this.tid = new Int32Array(capacity);
    this.probe = new Uint32Array(capacity);
    this.comm = new DictBuilder(capacity);
  }

  #grow(rows: number): void {
    const cap = Math.max(rows, this.#cap * 2);
    const grow = <T extends Float64Array | Uint16Array | Int32Array | Uint32Array>(a: T, C: new (n: number) => T): T => {
      const b = new C(cap);
      b.set(a);
      return b;
    };
    this.ts = grow(this.ts, Float64Array);
    this.cpu = grow(this.cpu, Uint16Array);
    this.pid = grow(this.pid, Int32Array);
    this.tid = grow(this.tid, Int32Array);
    this.probe = grow(this.probe, Uint32Array);
    this.comm.grow(cap);
    this.#cap = cap;
  }

  #growMember(m: Member): void {
    m.cap = Math.max(1024, m.cap * 2);
    for (const f of m.fields) f.grow(m.cap);
  }

  /** The member a record belongs to, or undefined (counted as malformed). */
  #member(off: number, len: number): Member | undefined {
    const m = this.#members[this.#dv.getUint32(off + HDR.flags, true)];
    if (m === undefined || m.size !== len) {
      this.malformed++;
      return undefined;
    }
    return m;
  }

  record(off: number, len: number): void {
    const m = this.#member(off, len);
    if (!m) return;
    const row = this.n;
    if (row === this.#cap) this.#grow(row + 1);
    if (m.n === m.cap) this.#growMember(m);
    const dv = this.#dv;
    this.ts[row] = dv.getUint32(off + 4, true) * 4294967296 + dv.getUint32(off, true);
    this.pid[row] = dv.getUint32(off + HDR.pid, true);
    this.tid[row] = dv.getUint32(off + HDR.tid, true);
    this.cpu[row] = dv.getUint32(off + HDR.cpu, true);
    this.comm.codes[row] = this.comm.code(cString(this.#u8, off + HDR.comm, COMM_LEN));
    this.probe[row] = dv.getUint32(off + HDR.flags, true);
    for (const f of m.fields) f.decode(this.#u8, dv, off, m.n);
    m.n++;
    this.n = row + 1;
  }

  /** EventDecoder.span with the member chosen by each record's probe id: the hot path of a group's stream. */
  span(u32: Uint32Array, size: number, cons: number, prod: number, max: number): number {
    const u8 = this.#u8, dv = this.#dv, comms = this.#comms, members = this.#members;
    let minSize = Infinity;
    for (const m of members) minSize = Math.min(minSize, m.size);
    let row = this.n, taken = 0;
    const pending = Math.min(max, Math.ceil((prod - cons) / ((minSize + 15) & ~7)));
    if (row + pending > this.#cap) this.#grow(row + pending);
    const cap = this.#cap;
    const ts = this.ts, cpu = this.cpu, pid = this.pid, tid = this.tid, probe = this.probe, comm = this.comm, codes = comm.codes;
    let lastTid = -1, last: CommEntry | undefined;
    while (cons < prod && taken < max && row < cap) {
      const off = cons % size;
      const w = off >>> 2;
      const hdr = u32[w];
      if (hdr & 0x80000000) break; // BUSY: a producer has not committed it yet
      const len = hdr & 0x3fffffff;
      cons += (len + 15) & ~7;
      if (hdr & 0x40000000) continue; // discarded
      const e = w + 2; // the event, past the 8-byte record header
      const id = u32[e + 5];
      const m = members[id];
      if (m === undefined || len !== m.size) {
        this.malformed++;
        continue;
      }
      ts[row] = u32[e + 1] * 4294967296 + u32[e];
      const t = u32[e + 3];
      pid[row] = u32[e + 2];
      tid[row] = t;
      cpu[row] = u32[e + 4];
      probe[row] = id;
      const w0 = u32[e + 6], w1 = u32[e + 7], w2 = u32[e + 8], w3 = u32[e + 9];
      if (t !== lastTid || last === undefined || last.w0 !== w0 || last.w1 !== w1 || last.w2 !== w2 || last.w3 !== w3) {
        last = comms.get(t);
        if (last === undefined || last.w0 !== w0 || last.w1 !== w1 || last.w2 !== w2 || last.w3 !== w3) {
          last = { w0, w1, w2, w3, code: comm.code(cString(u8, (e << 2) + HDR.comm, COMM_LEN)) };
          comms.set(t, last);
        }
        lastTid = t;
      }
      codes[row] = last.code;
      if (m.n === m.cap) this.#growMember(m);
      const fields = m.fields, mr = m.n;
      for (let i = 0; i < fields.length; i++) fields[i].decode(u8, dv, off + 8, mr);
      m.n = mr + 1;
      row++;
      taken++;
    }
    this.n = row;
    return cons;
  }

  #columnsOf(n: number, probe: Uint32Array, part: (f: FieldDecoder, rows: number) => ColumnData): Columns {
    const cols: Columns = {};
    this.#columns.forEach((name, i) => {
      cols[name] = interleave(this.#members.map((m) => part(m.fields[i], m.n)), probe, n);
    });
    return cols;
  }

  /** The decoded rows as columns, handed over: the decoder starts empty again. */
  take(): Columns {
    const n = this.n;
    const probe = this.probe.slice(0, n);
    const cols: Columns = {
      ts: this.ts.slice(0, n), cpu: this.cpu.slice(0, n), pid: this.pid.slice(0, n), tid: this.tid.slice(0, n), comm: this.comm.take(n),
      probe: new DictColumn(probe, this.#names),
      ...this.#columnsOf(n, probe, (f, rows) => f.take(rows)),
    };
    for (const m of this.#members) m.n = 0;
    this.n = 0;
    return cols;
  }

  /** The rows so far (header columns as views; field columns interleaved, so copies). */
  peek(): Columns {
    const n = this.n;
    const probe = this.probe.subarray(0, n);
    return {
      ts: this.ts.subarray(0, n), cpu: this.cpu.subarray(0, n), pid: this.pid.subarray(0, n), tid: this.tid.subarray(0, n), comm: this.comm.peek(n),
      probe: new DictColumn(probe, this.#names),
      ...this.#columnsOf(n, probe, (f, rows) => f.peek(rows)),
    };
  }

  truncated(): number {
    let t = 0;
    for (const m of this.#members) for (const f of m.fields) t += f.truncated;
    return t;
  }

  precision(): { imprecise?: number; impreciseColumns?: string[] } {
    const by = new Map<string, number>();
    this.#columns.forEach((name, i) => {
      const k = this.#members.reduce((s, m) => s + (m.fields[i].imprecise ?? 0), 0);
      if (k > 0) by.set(name, k);
    });
    if (!by.size) return {};
    return { imprecise: [...by.values()].reduce((a, b) => a + b, 0), impreciseColumns: [...by.keys()] };
  }
}

const isTyped = (c: ColumnData): c is Typed => ArrayBuffer.isView(c);
const isBig = (c: ColumnData): boolean => c instanceof BigInt64Array || c instanceof BigUint64Array;

/**
 * One column in row order from each probe's part: row r is the next unread value of
 * part probe[r]. Parts are alike (same field shape), except that a 64-bit column in
 * "auto" mode may have turned bigint in some probes only: then all of it is bigint.
 */
export function interleave(parts: readonly ColumnData[], probe: ArrayLike<number>, n: number): ColumnData {
  const next = new Int32Array(parts.length);
  if (parts.every((p) => p instanceof DictColumn)) {
    const dicts = parts as DictColumn[];
    const joined = DictColumn.concat(dicts);
    // concat lays the parts end to end; part p's k-th row is at starts[p] + k
    const starts = new Int32Array(parts.length);
    for (let p = 1; p < parts.length; p++) starts[p] = starts[p - 1] + dicts[p - 1].length;
    const codes = new Uint32Array(n);
    for (let r = 0; r < n; r++) {
      const p = probe[r];
      codes[r] = joined.codes[starts[p] + next[p]++];
    }
    return new DictColumn(codes, joined.dict);
  }
  if (parts.every(isTyped)) {
    const typed = parts as Typed[];
    if (typed.some(isBig) && !typed.every(isBig)) {
      const C = typed.find(isBig)!.constructor as BigInt64ArrayConstructor | BigUint64ArrayConstructor;
      const out = new C(n);
      for (let r = 0; r < n; r++) {
        const p = probe[r];
        const v = typed[p][next[p]++];
        out[r] = typeof v === "bigint" ? v : BigInt(v);
      }
      return out;
    }
    const C = typed[0].constructor as new (n: number) => Typed;
    const out = new C(n) as { [i: number]: number | bigint };
    for (let r = 0; r < n; r++) {
      const p = probe[r];
      out[r] = typed[p][next[p]++];
    }
    return out as unknown as Typed;
  }
  const out = new Array<unknown>(n);
  for (let r = 0; r < n; r++) {
    const p = probe[r];
    out[r] = (parts[p] as ArrayLike<unknown>)[next[p]++];
  }
  return out;
}
