/* Field decoders: one per kind of tracepoint field. `at` is the field's byte
 * offset within the event (header + copied window), fixed for the stream. */
import type { FieldDecoder } from "./decoder.js";
import { DictBuilder, handOver, type ColumnData } from "./columns.js";
import { cString } from "./strings.js";
import { uninitialized } from "./alloc.js";
import { InvalidArgumentError } from "../errors.js";

type NumArray = Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;
type NumCtor = { new (n: number): NumArray; new (b: ArrayBuffer, o: number, n: number): NumArray; readonly BYTES_PER_ELEMENT: number };

abstract class Base implements FieldDecoder {
  truncated = 0;
  imprecise = 0;
  constructor(readonly name: string, protected readonly at: number) {}
  abstract grow(capacity: number): void;
  abstract decode(u8: Uint8Array, dv: DataView, base: number, row: number): void;
  abstract take(n: number): ColumnData;
  abstract peek(n: number): ColumnData;
}

abstract class NumBase extends Base {
  protected data: NumArray;
  constructor(name: string, at: number, protected readonly C: NumCtor) {
    super(name, at);
    this.data = new C(0);
  }
  grow(capacity: number): void {
    // every row is written by decode before it is read: the room need not be zeroed (engine/alloc.ts)
    const next = uninitialized(this.C, capacity);
    next.set(this.data.subarray(0, Math.min(this.data.length, capacity)));
    this.data = next;
  }
  take(n: number): ColumnData {
    if (handOver(n, this.data.length)) {
      // (nearly) full, as a decoder sized for a known count is: handed over, not copied
      const d = this.data.subarray(0, n);
      this.data = new this.C(0);
      return d;
    }
    return this.data.slice(0, n);
  }
  peek(n: number): ColumnData {
    return this.data.subarray(0, n);
  }
}

class Int8 extends NumBase {
  constructor(name: string, at: number, signed: boolean) { super(name, at, signed ? Int8Array : Uint8Array); }
  decode(u8: Uint8Array, _dv: DataView, base: number, row: number): void { this.data[row] = u8[base + this.at]; }
}
class Int16 extends NumBase {
  readonly signed: boolean;
  constructor(name: string, at: number, signed: boolean) { super(name, at, signed ? Int16Array : Uint16Array); this.signed = signed; }
  decode(_u8: Uint8Array, dv: DataView, base: number, row: number): void { this.data[row] = dv.getUint16(base + this.at, true); }
}
class Int32 extends NumBase {
  constructor(name: string, at: number, signed: boolean) { super(name, at, signed ? Int32Array : Uint32Array); }
  decode(_u8: Uint8Array, dv: DataView, base: number, row: number): void { this.data[row] = dv.getUint32(base + this.at, true); }
}
/**
 * How a 64-bit integer field decodes. "number": doubles, exact within ±2^53 (counts,
 * sizes, fds, flags, return values), and every value a double had to round is counted
 * in `imprecise`. "bigint": BigInt64Array/BigUint64Array, always exact. "auto":
 * doubles until the first value that is not a safe integer (|v| >= 2^53), then the
 * column turns bigint.
 */
export type Int64Mode = "number" | "bigint" | "auto";

/** The `bigint` option of a probe, for one column; throws a named error for bad input. */
export function int64Mode(opt: unknown, column: string): Int64Mode {
  if (opt === undefined || opt === false) return "number";
  if (opt === true) return "bigint";
  if (opt === "auto") return "auto";
  if (Array.isArray(opt) && opt.every((c) => typeof c === "string")) return opt.includes(column) ? "bigint" : "number";
  throw new InvalidArgumentError(`bigint must be true (every 64-bit field as exact bigints), "auto" (bigints once a value does not fit a double), false, or an array of column names; got ${JSON.stringify(opt) ?? String(opt)}`);
}

type Int64Data = Float64Array | BigInt64Array | BigUint64Array;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

class Int64 extends Base {
  private data: Int64Data = new Float64Array(0);
  private big: boolean;
  constructor(name: string, at: number, private readonly signed: boolean, private readonly mode: Int64Mode) {
    super(name, at);
    this.big = mode === "bigint";
    if (this.big) this.data = this.bigArray(0);
  }
  private bigArray(n: number): BigInt64Array | BigUint64Array {
    return this.signed ? uninitialized(BigInt64Array, n) : uninitialized(BigUint64Array, n);
  }
  grow(capacity: number): void {
    const next = this.big ? this.bigArray(capacity) : uninitialized(Float64Array, capacity);
    (next as Float64Array).set((this.data as Float64Array).subarray(0, Math.min(this.data.length, capacity)));
    this.data = next;
  }
  decode(_u8: Uint8Array, dv: DataView, base: number, row: number): void {
    const o = base + this.at;
    if (this.big) {
      this.data[row] = this.signed ? dv.getBigInt64(o, true) : dv.getBigUint64(o, true);
      return;
    }
    const lo = dv.getUint32(o, true);
    const hi = this.signed ? dv.getInt32(o + 4, true) : dv.getUint32(o + 4, true);
    // -2^21 < hi < 2^21: |value| < 2^53, a safe integer, which a double holds exactly.
    if (hi < 0x200000 && hi > -0x200000) this.data[row] = hi * 4294967296 + lo;
    else this.wide(this.signed ? dv.getBigInt64(o, true) : dv.getBigUint64(o, true), row);
  }
  /** A value near or beyond ±2^53 (rare): switch to bigints ("auto") or count it if a double rounds it. */
  private wide(v: bigint, row: number): void {
    if (this.mode === "auto" && (v > MAX_SAFE || v < -MAX_SAFE)) {
      const next = this.bigArray(this.data.length);
      // every earlier value was a safe integer, so these conversions are exact
      for (let i = 0; i < row; i++) next[i] = BigInt(this.data[i] as number);
      this.data = next;
      this.big = true;
      this.data[row] = v;
      return;
    }
    const d = Number(v);
    if (BigInt(d) !== v) this.imprecise++;
    this.data[row] = d;
  }
  take(n: number): ColumnData {
    if (handOver(n, this.data.length)) {
      const d = this.data.subarray(0, n);
      this.data = this.big ? this.bigArray(0) : new Float64Array(0);
      return d;
    }
    return this.data.slice(0, n);
  }
  peek(n: number): ColumnData {
    return this.data.subarray(0, n);
  }
}

/** Addresses: exact, as bigints. */
class Pointer extends Base {
  private data = new BigUint64Array(0);
  grow(capacity: number): void {
    const next = uninitialized(BigUint64Array, capacity);
    next.set(this.data.subarray(0, Math.min(this.data.length, capacity)));
    this.data = next;
  }
  decode(_u8: Uint8Array, dv: DataView, base: number, row: number): void { this.data[row] = dv.getBigUint64(base + this.at, true); }
  take(n: number): ColumnData {
    if (!handOver(n, this.data.length)) return this.data.slice(0, n);
    const d = this.data.subarray(0, n);
    this.data = new BigUint64Array(0);
    return d;
  }
  peek(n: number): ColumnData { return this.data.subarray(0, n); }
}

abstract class ListBase<V> extends Base {
  protected data: V[] = [];
  grow(): void {}
  take(): ColumnData { const d = this.data; this.data = []; return d; }
  peek(n: number): ColumnData { return this.data.slice(0, n); }
}

/** A fixed char array in the record, or a string slot filled by bpf_probe_read_user_str; dictionary-encoded. */
class CharArray extends Base {
  private col = new DictBuilder(0);
  /** The last value's bytes (up to its NUL) and code: a run of one value (a file opened over and over) is compared, not decoded. */
  #last: Uint8Array | null = null;
  #lastCode = 0;
  constructor(name: string, at: number, private readonly length: number) { super(name, at); }
  grow(capacity: number): void { this.col.grow(capacity); }
  decode(u8: Uint8Array, _dv: DataView, base: number, row: number): void {
    const start = base + this.at, last = this.#last;
    if (last !== null) {
      const len = last.length;
      let i = 0;
      while (i < len && u8[start + i] === last[i]) i++;
      if (i === len && (len === this.length || u8[start + len] === 0)) {
        this.col.codes[row] = this.#lastCode;
        return;
      }
    }
    let end = start;
    const stop = start + this.length;
    while (end < stop && u8[end] !== 0) end++;
    this.#lastCode = this.col.codes[row] = this.col.code(cString(u8, start, this.length));
    this.#last = u8.slice(start, end);
  }
  take(n: number): ColumnData { return this.col.take(n); }
  peek(n: number): ColumnData { return this.col.peek(n); }
}

/**
 * A string read by a derived read (a slot of `length` bytes with its NUL). The helper
 * always ends a cut string with a NUL, so one that fills the slot (length - 1 bytes) is
 * counted as cut: it may be (raise the read's `string` size to tell).
 */
class ReadString extends CharArray {
  constructor(name: string, at: number, private readonly slot: number) { super(name, at, slot); }
  override decode(u8: Uint8Array, dv: DataView, base: number, row: number): void {
    super.decode(u8, dv, base, row);
    if (u8[base + this.at + this.slot - 2] !== 0) this.truncated++;
  }
}

/** `count` string slots of `slot` bytes in a row (execve's argv): a string[] ending at the first empty slot. */
class StringList extends ListBase<string[]> {
  constructor(name: string, at: number, private readonly slot: number, private readonly count: number) { super(name, at); }
  decode(u8: Uint8Array, _dv: DataView, base: number): void {
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) {
      const o = base + this.at + i * this.slot;
      if (u8[o] === 0) break;
      out.push(cString(u8, o, this.slot));
      if (u8[o + this.slot - 2] !== 0) this.truncated++;
    }
    this.data.push(out);
  }
}

/** A buffer read up to a length held in another field: the first min(length, size) bytes; a longer one is cut and counted. */
class LengthBytes extends ListBase<Uint8Array> {
  constructor(name: string, at: number, private readonly size: number, private readonly lenAt: number, private readonly lenSize: 1 | 2 | 4 | 8) { super(name, at); }
  decode(u8: Uint8Array, dv: DataView, base: number): void {
    const o = base + this.lenAt;
    const len = this.lenSize === 1 ? u8[o]! : this.lenSize === 2 ? dv.getUint16(o, true) : this.lenSize === 4 ? dv.getUint32(o, true) : Number(dv.getBigUint64(o, true));
    if (len > this.size) this.truncated++;
    const n = Math.min(len, this.size);
    this.data.push(u8.slice(base + this.at, base + this.at + n));
  }
}

/** A u64 mapped to a string in user space (a cgroup id to its path), cached per value. */
class Mapped extends ListBase<string | null> {
  readonly #cache = new Map<bigint, string | null>();
  constructor(name: string, at: number, private readonly map: (v: bigint) => string | null) { super(name, at); }
  decode(_u8: Uint8Array, dv: DataView, base: number): void {
    const v = dv.getBigUint64(base + this.at, true);
    let s = this.#cache.get(v);
    if (s === undefined) {
      s = this.map(v);
      // an unknown id may be a cgroup made a moment ago: look again next time
      if (s !== null) this.#cache.set(v, s);
    }
    this.data.push(s);
  }
}

class IntArray extends ListBase<number[]> {
  constructor(name: string, at: number, private readonly elem: 1 | 2 | 4 | 8, private readonly signed: boolean, private readonly length: number) { super(name, at); }
  decode(_u8: Uint8Array, dv: DataView, base: number): void {
    const out = new Array<number>(this.length);
    let o = base + this.at;
    for (let i = 0; i < this.length; i++, o += this.elem) {
      switch (this.elem) {
        case 1: out[i] = this.signed ? dv.getInt8(o) : dv.getUint8(o); break;
        case 2: out[i] = this.signed ? dv.getInt16(o, true) : dv.getUint16(o, true); break;
        case 4: out[i] = this.signed ? dv.getInt32(o, true) : dv.getUint32(o, true); break;
        default: {
          const hi = this.signed ? dv.getInt32(o + 4, true) : dv.getUint32(o + 4, true);
          out[i] = hi * 4294967296 + dv.getUint32(o, true);
          // arrays stay numbers; a rounded element is counted (see Int64)
          if (!(hi < 0x200000 && hi >= -0x200000)) {
            const v = this.signed ? dv.getBigInt64(o, true) : dv.getBigUint64(o, true);
            if (BigInt(out[i]) !== v) this.imprecise++;
          }
        }
      }
    }
    this.data.push(out);
  }
}

/**
 * __data_loc / __rel_loc: a u32 holding (length << 16 | offset) of data stored later
 * in the record. `recordToEvent` maps a record offset to an event offset; data past
 * the copied window is cut and counted as truncated.
 */
class DataLoc extends Base {
  /** Strings repeat (a command's file name, a device's name): dictionary-encoded like char arrays, 4 bytes a row. Bytes stay one Uint8Array a row. */
  private readonly col: DictBuilder | null;
  private bytes: Uint8Array[] = [];
  constructor(name: string, at: number, private readonly fieldEnd: number, private readonly rel: boolean, asString: boolean,
    private readonly recordToEvent: number, private readonly eventEnd: number) {
    super(name, at);
    this.col = asString ? new DictBuilder(0) : null;
  }
  grow(capacity: number): void { this.col?.grow(capacity); }
  decode(u8: Uint8Array, dv: DataView, base: number, row: number): void {
    const v = dv.getUint32(base + this.at, true);
    const recOff = (v & 0xffff) + (this.rel ? this.fieldEnd : 0);
    let len = v >>> 16;
    const start = recOff + this.recordToEvent;
    if (start + len > this.eventEnd) {
      this.truncated++;
      len = Math.max(0, this.eventEnd - start);
    }
    if (this.col) this.col.codes[row] = this.col.code(cString(u8, base + start, len));
    else this.bytes.push(u8.slice(base + start, base + start + len));
  }
  take(n: number): ColumnData {
    if (this.col) return this.col.take(n);
    const d = this.bytes;
    this.bytes = [];
    return d;
  }
  peek(n: number): ColumnData { return this.col ? this.col.peek(n) : this.bytes.slice(0, n); }
}

class Bytes extends ListBase<Uint8Array> {
  constructor(name: string, at: number, private readonly size: number) { super(name, at); }
  decode(u8: Uint8Array, _dv: DataView, base: number): void { this.data.push(u8.slice(base + this.at, base + this.at + this.size)); }
}

/** IEEE floats (float or double), as doubles: a float widens exactly. */
class Float extends NumBase {
  constructor(name: string, at: number, private readonly size: 4 | 8) { super(name, at, Float64Array); }
  decode(_u8: Uint8Array, dv: DataView, base: number, row: number): void {
    this.data[row] = this.size === 4 ? dv.getFloat32(base + this.at, true) : dv.getFloat64(base + this.at, true);
  }
}

/**
 * The `bits`-bit field starting `bitOffset` bits after byte `base` (little-endian, as BTF
 * counts bitfield offsets on x86 and arm64), sign-extended when `signed`: a number up to
 * 32 bits (5 bytes at most, exact in a double), a bigint for wider fields.
 */
export function bitfield(u8: Uint8Array, base: number, bitOffset: number, bits: number, signed: boolean): number | bigint {
  const start = base + (bitOffset >>> 3), shift = bitOffset & 7, n = (shift + bits + 7) >>> 3;
  if (bits <= 32) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + u8[start + i]!;
    v = Math.floor(v / 2 ** shift) % 2 ** bits;
    return signed && v >= 2 ** (bits - 1) ? v - 2 ** bits : v;
  }
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(u8[start + i]!);
  v = BigInt.asUintN(bits, v >> BigInt(shift));
  return signed ? BigInt.asIntN(bits, v) : v;
}

/** A bitfield (BTF kflag struct members); `at` is in bits. Wider than 53 bits, a rounded value is counted (see Int64). */
class Bits extends NumBase {
  constructor(name: string, bitAt: number, private readonly bits: number, private readonly signed: boolean) { super(name, bitAt, Float64Array); }
  decode(u8: Uint8Array, _dv: DataView, base: number, row: number): void {
    const v = bitfield(u8, base, this.at, this.bits, this.signed);
    if (typeof v === "number") {
      this.data[row] = v;
      return;
    }
    const d = Number(v);
    if (BigInt(d) !== v) this.imprecise++;
    this.data[row] = d;
  }
}

export const decoders = {
  /** `mode` matters for 8-byte integers only. */
  int(name: string, at: number, size: 1 | 2 | 4 | 8, signed: boolean, mode: Int64Mode = "number"): FieldDecoder {
    switch (size) {
      case 1: return new Int8(name, at, signed);
      case 2: return new Int16(name, at, signed);
      case 4: return new Int32(name, at, signed);
      default: return new Int64(name, at, signed, mode);
    }
  },
  pointer: (name: string, at: number): FieldDecoder => new Pointer(name, at),
  chars: (name: string, at: number, length: number): FieldDecoder => new CharArray(name, at, length),
  ints: (name: string, at: number, elem: 1 | 2 | 4 | 8, signed: boolean, length: number): FieldDecoder => new IntArray(name, at, elem, signed, length),
  dataLoc: (name: string, at: number, fieldEnd: number, rel: boolean, asString: boolean, recordToEvent: number, eventEnd: number): FieldDecoder =>
    new DataLoc(name, at, fieldEnd, rel, asString, recordToEvent, eventEnd),
  bytes: (name: string, at: number, size: number): FieldDecoder => new Bytes(name, at, size),
  /** float or double, as numbers. */
  float: (name: string, at: number, size: 4 | 8): FieldDecoder => new Float(name, at, size),
  /** A bitfield `bits` wide at bit `bitAt` of the event, as numbers. */
  bits: (name: string, bitAt: number, bits: number, signed: boolean): FieldDecoder => new Bits(name, bitAt, bits, signed),
  /** A string a derived read filled (truncation counted). */
  readString: (name: string, at: number, slot: number): FieldDecoder => new ReadString(name, at, slot),
  stringList: (name: string, at: number, slot: number, count: number): FieldDecoder => new StringList(name, at, slot, count),
  lengthBytes: (name: string, at: number, size: number, lenAt: number, lenSize: 1 | 2 | 4 | 8): FieldDecoder => new LengthBytes(name, at, size, lenAt, lenSize),
  mapped: (name: string, at: number, map: (v: bigint) => string | null): FieldDecoder => new Mapped(name, at, map),
};
