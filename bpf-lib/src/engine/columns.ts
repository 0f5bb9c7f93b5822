/* Growable columns that events are decoded into. Numbers live in typed arrays,
 * strings in plain arrays; take() hands the rows over and starts afresh. */
import { uninitialized } from "./alloc.js";

export type ColumnData = Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | BigUint64Array | BigInt64Array | unknown[] | DictColumn;

type TypedCtor = Float64ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor | Int16ArrayConstructor | Uint16ArrayConstructor | Int8ArrayConstructor | Uint8ArrayConstructor | BigUint64ArrayConstructor | BigInt64ArrayConstructor;
type Typed = InstanceType<TypedCtor>;

export class TypedColumn<T extends Typed = Typed> {
  data: T;
  n = 0;
  readonly #ctor: TypedCtor;
  constructor(ctor: TypedCtor, capacity = 1024) {
    this.#ctor = ctor;
    this.data = new ctor(capacity) as T;
  }
  /** Makes room for `more` rows; call before a run of set()s. */
  reserve(more: number): void {
    const need = this.n + more;
    if (need <= this.data.length) return;
    let cap = this.data.length * 2;
    while (cap < need) cap *= 2;
    const next = new this.#ctor(cap) as T;
    (next as unknown as { set(a: T): void }).set(this.data);
    this.data = next;
  }
  /** The rows so far, right-sized (a copy), and an empty column with the same capacity. */
  take(): T {
    const out = this.data.slice(0, this.n) as T;
    this.n = 0;
    return out;
  }
  /** A view of the rows so far without copying; valid until the next reserve() grows the column. */
  peek(): T {
    return this.data.subarray(0, this.n) as T;
  }
}

export class ArrayColumn<V> {
  data: V[] = [];
  get n(): number {
    return this.data.length;
  }
  take(): V[] {
    const out = this.data;
    this.data = [];
    return out;
  }
  peek(): V[] {
    return this.data.slice();
  }
}

export type Column = TypedColumn | ArrayColumn<unknown>;

/**
 * A dictionary-encoded string column: one small integer per row plus the distinct
 * strings. comm, file names and the like repeat heavily, so this holds millions of
 * rows in 4 bytes each and gives the garbage collector nothing to scan. It is an
 * Arquero column (length, at(), iteration), like an Arrow dictionary vector.
 */
export class DictColumn {
  readonly codes: Uint32Array;
  readonly dict: readonly string[];
  constructor(codes: Uint32Array, dict: readonly string[]) {
    this.codes = codes;
    this.dict = dict;
  }
  get length(): number {
    return this.codes.length;
  }
  at(row: number): string {
    return this.dict[this.codes[row]];
  }
  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.codes.length; i++) yield this.dict[this.codes[i]];
  }
  toArray(): string[] {
    const out = new Array<string>(this.codes.length);
    for (let i = 0; i < out.length; i++) out[i] = this.dict[this.codes[i]];
    return out;
  }
  /** Joins columns that each have their own dictionary. */
  static concat(parts: readonly DictColumn[]): DictColumn {
    const dict: string[] = [];
    const index = new Map<string, number>();
    const total = parts.reduce((s, p) => s + p.length, 0);
    const codes = new Uint32Array(total);
    let o = 0;
    for (const p of parts) {
      const remap = p.dict.map((s) => {
        let c = index.get(s);
        if (c === undefined) index.set(s, (c = dict.push(s) - 1));
        return c;
      });
      for (let i = 0; i < p.codes.length; i++) codes[o++] = remap[p.codes[i]];
    }
    return new DictColumn(codes, dict);
  }
}

/**
 * Whether rows [0, n) of a column of `capacity` rows are handed over as a view rather
 * than copied: when the column is full but for a sliver (a decoder sized for a known
 * count, with room for a few more), keeping that sliver costs less than copying
 * everything into fresh memory.
 */
export function handOver(n: number, capacity: number): boolean {
  return n > 0 && n >= capacity - (capacity >> 6);
}

/** Builds a DictColumn row by row. */
export class DictBuilder {
  codes: Uint32Array;
  dict: string[] = [];
  readonly #index = new Map<string, number>();
  constructor(capacity: number) {
    this.codes = uninitialized(Uint32Array, capacity);
  }
  /** The code of s, adding it to the dictionary if new. */
  code(s: string): number {
    let c = this.#index.get(s);
    if (c === undefined) {
      c = this.dict.push(s) - 1;
      this.#index.set(s, c);
    }
    return c;
  }
  grow(capacity: number): void {
    // every row gets its code before it is read: the room need not be zeroed (engine/alloc.ts)
    const next = uninitialized(Uint32Array, capacity);
    next.set(this.codes.subarray(0, Math.min(capacity, this.codes.length)));
    this.codes = next;
  }
  /**
   * Rows [0, n) as a column (codes full but for a sliver are handed over as a view, not
   * copied). The builder keeps its dictionary for the rows to come, and the column shares
   * it: strings are only ever appended, so the column's codes stay valid, every chunk of
   * one trace has the very same dictionary (joined without remapping, engine/concat.ts),
   * and sealing a chunk never copies the strings seen so far (which, with many distinct
   * strings, made every chunk cost more than the last).
   */
  take(n: number): DictColumn {
    if (handOver(n, this.codes.length)) {
      const codes = this.codes.subarray(0, n);
      this.codes = new Uint32Array(0);
      return new DictColumn(codes, this.dict);
    }
    return new DictColumn(this.codes.slice(0, n), this.dict);
  }
  peek(n: number): DictColumn {
    return new DictColumn(this.codes.subarray(0, n), this.dict);
  }
}
