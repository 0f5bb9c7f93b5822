/* Reading agg.h's per-CPU front cache (`agg_cache`): a few slots per CPU and buffer,
 * each holding one hot key's totals on that CPU, counted there instead of in the hash
 * map. A key claims a slot only once the map holds it, so its cached totals are added
 * to its map entry, CPU by CPU, before the rows are made; the layout mirrors
 * struct agg_cache_val in bpf-lib/bpf/agg.h. */
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

/**
 * The map's rows (keys, per-CPU values as the map gives them) with buffer `index` of
 * the cache added in; the cache's slots are cleared when `drain` (the caller has
 * drained the map, and no program writes this buffer any more). A slot whose key the
 * map lacks becomes a row of its own.
 */
export function addCached(
  cache: BpfMap | undefined, index: number, keySize: number, ncpu: number, unsigned: boolean, drain: boolean,
  rows: { keys: Uint8Array[]; values: Uint8Array[] },
): { keys: Uint8Array[]; values: Uint8Array[] } {
  if (!cache) return rows;
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, index, true);
  const all = cache.lookup(k);
  if (!all) return rows;
  const stride = cache.valueBytes / ncpu;
  const dv = new DataView(all.buffer, all.byteOffset, all.byteLength);
  const byKey = new Map<string, number>();
  let any = false;
  for (let c = 0; c < ncpu; c++) {
    for (let s = 0; s < CACHE_SLOTS; s++) {
      const at = c * stride + s * SLOT_SIZE;
      if (dv.getBigUint64(at, true) !== SLOT_READY || dv.getBigUint64(at + 8, true) === 0n) continue;
      if (!any) {
        rows.keys.forEach((key, i) => byKey.set(hex(key), i));
        any = true;
      }
      const key = all.slice(at + 8 + AGG_VAL_SIZE, at + 8 + AGG_VAL_SIZE + keySize);
      const id = hex(key);
      let i = byKey.get(id);
      if (i === undefined) {
        i = rows.keys.length;
        rows.keys.push(key);
        rows.values.push(new Uint8Array(ncpu * AGG_VAL_SIZE));
        byKey.set(id, i);
      }
      const v = rows.values[i];
      addInto(new DataView(v.buffer, v.byteOffset, v.byteLength), c * AGG_VAL_SIZE, dv, at + 8, unsigned);
    }
  }
  // claimed slots whose key has counted nothing yet are cleared too: a slot is claimed only behind a map entry
  if (drain) cache.update(k, new Uint8Array(cache.valueBytes));
  return rows;
}
