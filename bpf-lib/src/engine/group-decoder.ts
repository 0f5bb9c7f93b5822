/* Decodes one ring buffer that several programs share (a group of tracepoints): every
 * event has the standard header, whose `flags` holds the probe id (stream.h
 * cfg_probe_id), then that probe's own record window. The header goes straight into
 * shared columns; each probe's fields into its own decoders (their layouts differ),
 * which take() interleaves back into row order, with a `probe` column of names. */
import { HDR, COMM_LEN } from "./layout.js";
import { cString } from "./strings.js";
import { DictBuilder, DictColumn, type ColumnData } from "./columns.js";
import { emptyHeader, type Columns, type FieldDecoder, type StreamDecoder } from "./decoder.js";

/** One probe of the group: its event size and its field decoders (the same columns, in the same order, for every probe). */
export interface GroupMember {
  eventSize: number;
  fields: readonly FieldDecoder[];
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
  /** Per probe id (typed arrays: the span loop reads them for every event): event size, rows decoded, room. */
  readonly #sizes: Int32Array;
  readonly #counts: Int32Array;
  readonly #caps: Int32Array;
  readonly #fieldsOf: (readonly FieldDecoder[])[];
  /** Scratch for span(): records of each probe pending in the ring. */
  readonly #want: Int32Array;
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
    this.#sizes = Int32Array.from(members, (m) => m.eventSize);
    this.#counts = new Int32Array(members.length);
    this.#caps = new Int32Array(members.length);
    this.#fieldsOf = members.map((m) => m.fields);
    this.#want = new Int32Array(members.length);
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

  #growMember(id: number, rows = 0): void {
    const cap = (this.#caps[id] = Math.max(1024, rows, this.#caps[id] * 2));
    for (const f of this.#fieldsOf[id]) f.grow(cap);
  }

  record(off: number, len: number): void {
    const id = this.#dv.getUint32(off + HDR.flags, true);
    if (id >= this.#sizes.length || this.#sizes[id] !== len) {
      this.malformed++;
      return;
    }
    const row = this.n;
    if (row === this.#cap) this.#grow(row + 1);
    if (this.#counts[id] === this.#caps[id]) this.#growMember(id);
    const dv = this.#dv;
    this.ts[row] = dv.getUint32(off + 4, true) * 4294967296 + dv.getUint32(off, true);
    this.pid[row] = dv.getUint32(off + HDR.pid, true);
    this.tid[row] = dv.getUint32(off + HDR.tid, true);
    this.cpu[row] = dv.getUint32(off + HDR.cpu, true);
    this.comm.codes[row] = this.comm.code(cString(this.#u8, off + HDR.comm, COMM_LEN));
    this.probe[row] = id;
    for (const f of this.#fieldsOf[id]) f.decode(this.#u8, dv, off, this.#counts[id]);
    this.#counts[id]++;
    this.n = row + 1;
  }

  /** EventDecoder.span with the member chosen by each record's probe id: the hot path of a group's stream. */
  span(u32: Uint32Array, size: number, cons: number, prod: number, max: number): number {
    const u8 = this.#u8, dv = this.#dv, comms = this.#comms;
    const sizes = this.#sizes, counts = this.#counts, caps = this.#caps, fieldsOf = this.#fieldsOf, nm = sizes.length;
    // Count what is committed per probe first, and size every column for it: no growing
    // (no call that allocates) inside the decode loop, and no probe grown past its rows.
    const want = this.#want.fill(0);
    let pending = 0;
    for (let c = cons; c < prod && pending < max;) {
      const w = (c % size) >>> 2;
      const hdr = u32[w];
      if (hdr & 0x80000000) break;
      c += ((hdr & 0x3fffffff) + 15) & ~7;
      if (hdr & 0x40000000) continue;
      const id = u32[w + 2 + 5]; // the header's flags
      if (id < nm) want[id]++;
      pending++;
    }
    let row = this.n, taken = 0;
    if (row + pending > this.#cap) this.#grow(row + pending);
    for (let id = 0; id < nm; id++) if (counts[id] + want[id] > caps[id]) this.#growMember(id, counts[id] + want[id]);
    const cap = this.#cap;
    const ts = this.ts, cpu = this.cpu, pid = this.pid, tid = this.tid, probe = this.probe, comm = this.comm, codes = comm.codes;
    let lastTid = -1, last: CommEntry | undefined;
    while (cons < prod && taken < max && row < cap) {
      const off = cons % size;
      const w = off >>> 2;
      const hdr = u32[w];
      if (hdr & 0x80000000) break; // BUSY: a producer has not committed it yet
      const len = hdr & 0x3fffffff;
      const e = w + 2; // the event, past the 8-byte record header
      const id = u32[e + 5];
      // committed after the count above, with its probe's columns full: the next span takes it
      if (!(hdr & 0x40000000) && id < nm && counts[id] === caps[id]) break;
      cons += (len + 15) & ~7;
      if (hdr & 0x40000000) continue; // discarded
      if (id >= nm || len !== sizes[id]) {
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
      const mr = counts[id];
      const fields = fieldsOf[id];
      for (let i = 0; i < fields.length; i++) fields[i].decode(u8, dv, off + 8, mr);
      counts[id] = mr + 1;
      row++;
      taken++;
    }
    this.n = row;
    return cons;
  }

  #columnsOf(n: number, probe: Uint32Array, part: (f: FieldDecoder, rows: number) => ColumnData): Columns {
    const cols: Columns = {};
    this.#columns.forEach((name, i) => {
      cols[name] = interleave(this.#fieldsOf.map((fields, id) => part(fields[i], this.#counts[id])), probe, n);
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
    // Columns full but for a sliver were handed over whole and left their builders empty:
    // comm is made again at the decoder's capacity, and each member's fields at its next row.
    if (this.comm.codes.length < this.#cap) this.comm.grow(this.#cap);
    this.#caps.fill(0);
    this.#counts.fill(0);
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

  /** Lets the working columns go once nothing more will be decoded. */
  release(): void {
    this.n = 0;
    this.#cap = 0;
    emptyHeader(this);
    this.probe = new Uint32Array(0);
    this.comm.grow(0);
    this.#caps.fill(0);
    this.#counts.fill(0);
    for (const fields of this.#fieldsOf) for (const f of fields) f.grow(0);
  }

  truncated(): number {
    let t = 0;
    for (const fields of this.#fieldsOf) for (const f of fields) t += f.truncated;
    return t;
  }

  /** Events whose stack was lost, summed over every member's stack columns (absent without stack columns). */
  stackStats(): { stacksLost?: number } {
    const cols = this.#fieldsOf.flat().filter((f) => f.stacksLost !== undefined);
    return cols.length ? { stacksLost: cols.reduce((s, f) => s + (f.stacksLost ?? 0), 0) } : {};
  }

  precision(): { imprecise?: number; impreciseColumns?: string[] } {
    const by = new Map<string, number>();
    this.#columns.forEach((name, i) => {
      const k = this.#fieldsOf.reduce((s, fields) => s + (fields[i].imprecise ?? 0), 0);
      if (k > 0) by.set(name, k);
    });
    if (!by.size) return {};
    return { imprecise: [...by.values()].reduce((a, b) => a + b, 0), impreciseColumns: [...by.keys()] };
  }
}

const isTyped = (c: ColumnData): c is Typed => ArrayBuffer.isView(c);
const isBig = (c: ColumnData): boolean => c instanceof BigInt64Array || c instanceof BigUint64Array;

/** Unsigned views of one width over each part: gathering words, not typed values, keeps each loop monomorphic. */
function gatherWords<V extends Uint8Array | Uint16Array | Uint32Array>(parts: readonly Typed[], View: new (b: ArrayBufferLike, o: number, n: number) => V, words: number, probe: ArrayLike<number>, n: number): V {
  const out = new View(new ArrayBuffer(n * words * (View as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT), 0, n * words);
  const views = parts.map((p) => new View(p.buffer, p.byteOffset, p.length * words));
  const next = new Int32Array(parts.length);
  if (words === 1) {
    for (let r = 0; r < n; r++) {
      const p = probe[r];
      out[r] = views[p][next[p]++];
    }
  } else {
    for (let r = 0, o = 0; r < n; r++, o += 2) {
      const p = probe[r];
      const at = next[p];
      out[o] = views[p][at];
      out[o + 1] = views[p][at + 1];
      next[p] = at + 2;
    }
  }
  return out;
}

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
    let typed = parts as Typed[];
    if (typed.some(isBig) && !typed.every(isBig)) {
      const Big = typed.find(isBig)!.constructor as BigInt64ArrayConstructor | BigUint64ArrayConstructor;
      typed = typed.map((t) => {
        if (isBig(t)) return t;
        const b = new Big(t.length);
        for (let i = 0; i < t.length; i++) b[i] = BigInt(t[i] as number);
        return b;
      });
    }
    const C = typed[0].constructor as (new (b: ArrayBufferLike, o: number, n: number) => Typed) & { BYTES_PER_ELEMENT: number };
    const width = C.BYTES_PER_ELEMENT;
    const bytes = width === 1 ? gatherWords(typed, Uint8Array, 1, probe, n)
      : width === 2 ? gatherWords(typed, Uint16Array, 1, probe, n)
      : gatherWords(typed, Uint32Array, width / 4, probe, n);
    return new C(bytes.buffer, 0, n);
  }
  const out = new Array<unknown>(n);
  for (let r = 0; r < n; r++) {
    const p = probe[r];
    out[r] = (parts[p] as ArrayLike<unknown>)[next[p]++];
  }
  return out;
}
