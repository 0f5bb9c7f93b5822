/* Growable columns that events are decoded into. Numbers live in typed arrays,
 * strings in plain arrays; take() hands the rows over and starts afresh. */
export type ColumnData = Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | BigUint64Array | BigInt64Array | unknown[];

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
