/* A map of a BpfObject. Keys and values are bytes; typed views are built above
 * this layer. Per-CPU maps hold one value slot per possible CPU, 8-byte aligned. */
import * as ffi from "../ffi/libbpf.js";
import { InvalidArgumentError, MapError, errnoName } from "../errors.js";
import type { ObjectOwner } from "./owner.js";

export const MapType = {
  hash: 1, array: 2, percpu_hash: 5, percpu_array: 6, stack_trace: 7, lru_hash: 9, lru_percpu_hash: 10, ringbuf: 27,
} as const;

const PERCPU = new Set<number>([MapType.percpu_hash, MapType.percpu_array, MapType.lru_percpu_hash, 15 /* percpu_cgroup_storage */]);

let cpus = 0;
export function possibleCpus(): number {
  return cpus || (cpus = ffi.numPossibleCpus());
}

/** One batch of a map's entries (BpfMap.batches): packed keys and values, valid until the next batch. */
export interface MapBatch {
  keys: Uint8Array;
  values: Uint8Array;
  count: number;
}

export class BpfMap {
  readonly name: string;
  readonly #h: ffi.MapHandle;
  readonly #obj: ObjectOwner;
  #released = false;

  /** @internal */
  constructor(h: ffi.MapHandle, obj: ObjectOwner) {
    this.#h = h;
    this.#obj = obj;
    this.name = ffi.mapName(h);
  }

  #handle(): ffi.MapHandle {
    this.#obj.handle();
    return this.#h;
  }

  get type(): number { return ffi.mapType(this.#handle()); }
  get keySize(): number { return ffi.mapKeySize(this.#handle()); }
  get valueSize(): number { return ffi.mapValueSize(this.#handle()); }
  get maxEntries(): number { return ffi.mapMaxEntries(this.#handle()); }
  get perCpu(): boolean { return PERCPU.has(this.type); }
  /** Bytes of one lookup's value: valueSize, or one 8-byte-aligned slot per possible CPU. */
  get valueBytes(): number {
    return this.perCpu ? ((this.valueSize + 7) & ~7) * possibleCpus() : this.valueSize;
  }

  get fd(): number {
    if (!this.#obj.loaded) throw new InvalidArgumentError(`map "${this.name}" has no fd before its object is loaded`);
    return ffi.mapFd(this.#handle());
  }

  setMaxEntries(n: number): void {
    if (this.#obj.loaded) throw new InvalidArgumentError(`map "${this.name}": max entries must be set before load()`);
    const rc = ffi.mapSetMaxEntries(this.#handle(), n);
    if (rc < 0) throw new InvalidArgumentError(`map "${this.name}": cannot set max entries to ${n}: ${errnoName(-rc)}`);
  }

  setKeySize(n: number): void {
    if (this.#obj.loaded) throw new InvalidArgumentError(`map "${this.name}": key size must be set before load()`);
    const rc = ffi.mapSetKeySize(this.#handle(), n);
    if (rc < 0) throw new InvalidArgumentError(`map "${this.name}": cannot set key size to ${n}: ${errnoName(-rc)}`);
  }

  setValueSize(n: number): void {
    if (this.#obj.loaded) throw new InvalidArgumentError(`map "${this.name}": value size must be set before load()`);
    const rc = ffi.mapSetValueSize(this.#handle(), n);
    if (rc < 0) throw new InvalidArgumentError(`map "${this.name}": cannot set value size to ${n}: ${errnoName(-rc)}`);
  }

  /** Before load: use an existing map (another object's) instead of creating this one. */
  reuse(other: BpfMap): void {
    if (this.#obj.loaded) throw new InvalidArgumentError(`map "${this.name}": reuse must be set up before load()`);
    const rc = ffi.mapReuseFd(this.#handle(), other.fd);
    if (rc < 0) throw new MapError(`map "${this.name}": cannot reuse map "${other.name}": ${errnoName(-rc)}`, -rc);
  }

  /** @internal */
  initialValue(): Uint8Array {
    const v = ffi.mapInitialValue(this.#handle());
    if (!v) throw new InvalidArgumentError(`map "${this.name}" has no initial value`);
    return v;
  }
  /** @internal */
  setInitialValue(data: Uint8Array): void {
    const rc = ffi.mapSetInitialValue(this.#handle(), data);
    if (rc < 0) throw new MapError(`map "${this.name}": cannot set initial value: ${errnoName(-rc)}`, -rc);
  }

  #checkKey(key: Uint8Array): void {
    if (key.length !== this.keySize) throw new InvalidArgumentError(`map "${this.name}": key must be ${this.keySize} bytes, got ${key.length}`);
  }

  /** The value for key, or undefined when absent. */
  lookup(key: Uint8Array, into?: Uint8Array): Uint8Array | undefined {
    this.#checkKey(key);
    const value = into ?? new Uint8Array(this.valueBytes);
    const rc = ffi.mapLookup(this.fd, key, value);
    if (rc < 0) {
      if (-rc === 2) return undefined;
      throw new MapError(`lookup in map "${this.name}" failed: ${errnoName(-rc)}`, -rc);
    }
    return value;
  }

  update(key: Uint8Array, value: Uint8Array, flags: "any" | "noexist" | "exist" = "any"): void {
    this.#checkKey(key);
    if (value.length !== this.valueBytes) throw new InvalidArgumentError(`map "${this.name}": value must be ${this.valueBytes} bytes, got ${value.length}`);
    const rc = ffi.mapUpdate(this.fd, key, value, flags === "any" ? 0 : flags === "noexist" ? 1 : 2);
    if (rc < 0) throw new MapError(`update of map "${this.name}" failed: ${errnoName(-rc)}`, -rc);
  }

  /** Deletes key; returns whether it was there. */
  delete(key: Uint8Array): boolean {
    this.#checkKey(key);
    const rc = ffi.mapDelete(this.fd, key);
    if (rc < 0 && -rc !== 2) throw new MapError(`delete from map "${this.name}" failed: ${errnoName(-rc)}`, -rc);
    return rc === 0;
  }

  /** Every key, by bpf_map_get_next_key (a snapshot-free walk: keys may change under it). */
  *keys(): Generator<Uint8Array> {
    let prev: Uint8Array | null = null;
    for (;;) {
      const next = new Uint8Array(this.keySize);
      const rc = ffi.mapNextKey(this.fd, prev, next);
      if (rc < 0) {
        if (-rc === 2) return;
        throw new MapError(`iterating map "${this.name}" failed: ${errnoName(-rc)}`, -rc);
      }
      yield next;
      prev = next;
    }
  }

  /** All entries: bpf_map_lookup_batch where the map supports it, else key by key. */
  entries(batchSize = 4096): { keys: Uint8Array[]; values: Uint8Array[] } {
    return this.#copied(false, batchSize);
  }

  /** All entries, deleting them as they are read (bpf_map_lookup_and_delete_batch, else key by key). */
  drain(batchSize = 4096): { keys: Uint8Array[]; values: Uint8Array[] } {
    return this.#copied(true, batchSize);
  }

  #copied(del: boolean, batchSize: number): { keys: Uint8Array[]; values: Uint8Array[] } {
    const ks = this.keySize, vs = this.valueBytes;
    const out = { keys: [] as Uint8Array[], values: [] as Uint8Array[] };
    for (const b of this.batches(del, batchSize)) {
      for (let i = 0; i < b.count; i++) {
        out.keys.push(b.keys.slice(i * ks, (i + 1) * ks));
        out.values.push(b.values.slice(i * vs, (i + 1) * vs));
      }
    }
    return out;
  }

  /**
   * The entries a batch at a time (deleting them as they are read when `del`): `count`
   * keys of keySize bytes and values of valueBytes bytes, packed. The buffers are reused
   * for the next batch, so a reader of many keys allocates nothing per key and can pause
   * between batches (a map no program writes any more reads the same either way).
   */
  *batches(del: boolean, batchSize = 4096): Generator<MapBatch, void> {
    const ks = this.keySize, vs = this.valueBytes;
    const keys = new Uint8Array(ks * batchSize), values = new Uint8Array(vs * batchSize);
    const outBatch = new Uint8Array(Math.max(ks, 8));
    let inBatch: Uint8Array | null = null;
    const count = [0];
    for (;;) {
      count[0] = batchSize;
      const rc = (del ? ffi.mapLookupAndDeleteBatch : ffi.mapLookupBatch)(this.fd, inBatch, outBatch, keys, values, count);
      const e = rc < 0 ? -rc : 0;
      if (e !== 0 && e !== 2) {
        if (inBatch === null && (e === 22 || e === 95 || e === 524)) {
          yield* this.#batchesSlow(del, batchSize);
          return;
        }
        throw new MapError(`batch lookup in map "${this.name}" failed: ${errnoName(e)}`, e);
      }
      if (count[0] > 0) yield { keys, values, count: count[0] };
      if (e === 2) return; // ENOENT: done
      inBatch ??= new Uint8Array(outBatch.length);
      inBatch.set(outBatch);
    }
  }

  /** Maps without batch operations: key by key, packed into batches like theirs. */
  *#batchesSlow(del: boolean, batchSize: number): Generator<MapBatch, void> {
    const ks = this.keySize, vs = this.valueBytes;
    const keys = new Uint8Array(ks * batchSize), values = new Uint8Array(vs * batchSize);
    let n = 0;
    // every key first: deleting while walking would restart get_next_key
    for (const k of [...this.keys()]) {
      const v = this.lookup(k);
      if (del) this.delete(k);
      if (!v) continue;
      keys.set(k, n * ks);
      values.set(v, n * vs);
      if (++n === batchSize) {
        yield { keys, values, count: n };
        n = 0;
      }
    }
    if (n > 0) yield { keys, values, count: n };
  }

  /** @internal called when the object closes */
  release(): void {
    this.#released = true;
  }
}
