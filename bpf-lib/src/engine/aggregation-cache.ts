/* Reading agg.h's per-CPU front cache (`agg_cache`): a few slots per CPU and buffer,
 * each holding one hot key's totals on that CPU, counted there instead of in the hash
 * map. A key claims a slot only once the map holds it, so its cached totals are added
 * to its map entry, CPU by CPU, as the rows are made; the layout mirrors
 * struct agg_cache_val in bpf-lib/bpf/agg.h. The few cached keys are found among the
 * map's many by a hash of their first bytes, so reading 100 k keys makes no string per key. */
import type { BpfMap } from "../libbpf/map.js";
import { MAX_KEY } from "./keys.js";
import { AGG_VAL_SIZE } from "./values.js";

/** CACHE_SLOTS in agg.h. */
export const CACHE_SLOTS = 8;
/** struct cache_slot: the state word, the totals, the key. */
const SLOT_SIZE = 8 + AGG_VAL_SIZE + MAX_KEY;
const SLOT_READY = 2n;

/** Adds one CPU's totals (struct agg_val at `from`) into another's (at `to`), as the kernel would have. */
function addInto(to: DataView, at: number, from: DataView, src: number, unsigned: boolean): void {
  const n = from.getBigUint64(src, true);
  if (n === 0n) return;
  const had = to.getBigUint64(at, true);
  to.setBigUint64(at, had + n, true);
  to.setBigUint64(at + 8, BigInt.asUintN(64, to.getBigUint64(at + 8, true) + from.getBigUint64(src + 8, true)), true);
  const get = (dv: DataView, o: number) => (unsigned ? dv.getBigUint64(o, true) : dv.getBigInt64(o, true));
  const lo = get(from, src + 16), hi = get(from, src + 24);
  if (had === 0n || lo < get(to, at + 16)) to.setBigUint64(at + 16, BigInt.asUintN(64, lo), true);
  if (had === 0n || hi > get(to, at + 24)) to.setBigUint64(at + 24, BigInt.asUintN(64, hi), true);
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** How many leading key bytes the prefilter hashes: enough to tell keys apart cheaply; equal hashes compare in full. */
const HASH_BYTES = 16;

/** A cheap hash of a key's first bytes (FNV-1a), so most rows are told apart from the few cached keys without a string. */
export function keyHash(u8: Uint8Array, at: number, keySize: number): number {
  let h = 0x811c9dc5;
  const end = at + Math.min(keySize, HASH_BYTES);
  for (let i = at; i < end; i++) h = Math.imul(h ^ u8[i], 0x01000193);
  return h >>> 0;
}

/** The cached totals of one buffer: per key, its totals on each CPU, laid out as the map's per-CPU value. */
export class CachedTotals {
  readonly #byKey = new Map<string, { key: Uint8Array; values: Uint8Array; used: boolean }>();
  readonly #hashes = new Set<number>();
  readonly #keySize: number;
  readonly #ncpu: number;
  readonly #unsigned: boolean;

  constructor(keySize: number, ncpu: number, unsigned: boolean) {
    this.#keySize = keySize;
    this.#ncpu = ncpu;
    this.#unsigned = unsigned;
  }

  get size(): number {
    return this.#byKey.size;
  }

  /** Adds one slot's totals (struct agg_val at `src` of `dv`) for CPU `cpu`. */
  add(key: Uint8Array, cpu: number, dv: DataView, src: number): void {
    const id = hex(key);
    let e = this.#byKey.get(id);
    if (!e) {
      this.#byKey.set(id, (e = { key, values: new Uint8Array(this.#ncpu * AGG_VAL_SIZE), used: false }));
      this.#hashes.add(keyHash(key, 0, key.length));
    }
    addInto(new DataView(e.values.buffer), cpu * AGG_VAL_SIZE, dv, src, this.#unsigned);
  }

  /**
   * The map's per-CPU value for the key at `at` of `keys` with the cached totals added,
   * or null when the cache holds nothing for that key. Each cached key is taken once.
   */
  take(keys: Uint8Array, at: number, values: Uint8Array, vat: number): Uint8Array | null {
    if (!this.#hashes.has(keyHash(keys, at, this.#keySize))) return null;
    const e = this.#byKey.get(hex(keys.subarray(at, at + this.#keySize)));
    if (!e || e.used) return null;
    e.used = true;
    const merged = values.slice(vat, vat + this.#ncpu * AGG_VAL_SIZE);
    const to = new DataView(merged.buffer);
    const from = new DataView(e.values.buffer);
    for (let c = 0; c < this.#ncpu; c++) addInto(to, c * AGG_VAL_SIZE, from, c * AGG_VAL_SIZE, this.#unsigned);
    return merged;
  }

  /** Cached keys the map did not have (its entry was deleted, or not read yet): rows of their own. */
  untaken(): { key: Uint8Array; values: Uint8Array }[] {
    return [...this.#byKey.values()].filter((e) => !e.used);
  }
}

/**
 * Buffer `index` of the cache: the totals its slots hold, per key. A slot is claimed
 * only behind a map entry, so each of these keys is (or was) in the map too.
 */
export function readCache(cache: BpfMap, index: number, keySize: number, ncpu: number, unsigned: boolean): CachedTotals | null {
  const all = cache.lookup(indexKey(index));
  if (!all) return null;
  const stride = cache.valueBytes / ncpu;
  const dv = new DataView(all.buffer, all.byteOffset, all.byteLength);
  const totals = new CachedTotals(keySize, ncpu, unsigned);
  for (let c = 0; c < ncpu; c++) {
    for (let s = 0; s < CACHE_SLOTS; s++) {
      const at = c * stride + s * SLOT_SIZE;
      if (dv.getBigUint64(at, true) !== SLOT_READY || dv.getBigUint64(at + 8, true) === 0n) continue;
      totals.add(all.slice(at + 8 + AGG_VAL_SIZE, at + 8 + AGG_VAL_SIZE + keySize), c, dv, at + 8);
    }
  }
  return totals.size ? totals : null;
}

/** Clears buffer `index` (after the map was drained and no program writes this buffer any more): claimed slots too, since a slot is claimed only behind a map entry. */
export function clearCache(cache: BpfMap, index: number): void {
  cache.update(indexKey(index), new Uint8Array(cache.valueBytes));
}

function indexKey(index: number): Uint8Array {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, index, true);
  return k;
}
