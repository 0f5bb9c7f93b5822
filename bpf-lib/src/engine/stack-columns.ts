/* Stack ids as columns: a stream decoder that reads each event's stack id, fetches the
 * stack from the stack map the first time it sees the id (while the object is loaded)
 * and reads the process's mappings the first time it sees a pid, then names frames
 * when the rows are taken; and the same for aggregation keys, whose rows are merged
 * once different ids name the same frames. Both give folded strings, root first. */
import type { ColumnTable } from "arquero";
import type { BpfMap } from "../libbpf/map.js";
import type { FieldDecoder } from "./decoder.js";
import { DictColumn, type ColumnData } from "./columns.js";
import { HDR } from "./layout.js";
import type { KeyPart } from "./keys.js";
import { StackSymbolizer, foldFrames, isLostStack } from "../symbols/stacks.js";
import { mergeRows } from "./merge-rows.js";

/** Names one stack id per event; `lost` counts events whose stack was not recorded. */
class StackColumn implements FieldDecoder {
  truncated = 0;
  /** Events whose stack was lost (a stack map collision or a full map). */
  stacksLost = 0;
  #ids = new Int32Array(0);
  #pids = new Int32Array(0);

  constructor(
    readonly name: string,
    private readonly at: number,
    private readonly user: boolean,
    private readonly map: BpfMap,
    private readonly sym: StackSymbolizer,
  ) {}

  grow(capacity: number): void {
    const ids = new Int32Array(capacity), pids = new Int32Array(capacity);
    ids.set(this.#ids.subarray(0, Math.min(capacity, this.#ids.length)));
    pids.set(this.#pids.subarray(0, Math.min(capacity, this.#pids.length)));
    this.#ids = ids;
    this.#pids = pids;
  }

  decode(_u8: Uint8Array, dv: DataView, base: number, row: number): void {
    const id = dv.getInt32(base + this.at, true);
    this.#ids[row] = id;
    if (id >= 0) {
      if (!this.sym.has(id)) this.sym.capture(this.map, id, !this.user);
    } else if (isLostStack(id)) {
      this.stacksLost++;
    }
    if (this.user) {
      const pid = dv.getInt32(base + HDR.pid, true);
      this.#pids[row] = pid;
      this.sym.notePid(pid);
    }
  }

  #column(n: number): DictColumn {
    const codes = new Uint32Array(n);
    const dict: string[] = [];
    const index = new Map<string, number>();
    const byKey = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const id = this.#ids[i]!, pid = this.#pids[i]!;
      // kernel ids alone, user ids per process (one id names other functions in another binary)
      const k = this.user ? pid * 4294967296 + (id >>> 0) : id;
      let c = byKey.get(k);
      if (c === undefined) {
        const s = foldFrames(this.user ? this.sym.user(pid, id) : this.sym.kernel(id));
        c = index.get(s);
        if (c === undefined) {
          c = dict.length;
          dict.push(s);
          index.set(s, c);
        }
        byKey.set(k, c);
      }
      codes[i] = c;
    }
    return new DictColumn(codes, dict);
  }

  take(n: number): ColumnData {
    return this.#column(n);
  }

  peek(n: number): ColumnData {
    return this.#column(n);
  }
}

/**
 * A decoder for a derived stack id at event offset `at`: the column holds the folded
 * stack (root first, "a;b;c"). `map` is the program's stack map; it is read during
 * decoding, which runs while the object is loaded. Share one symbolizer per trace.
 */
export function stackDecoder(name: string, at: number, user: boolean, map: BpfMap, sym: StackSymbolizer): FieldDecoder & { stacksLost: number } {
  return new StackColumn(name, at, user, map, sym);
}

/**
 * Aggregation rows keyed by stack ids (parts with `stack` set) with the ids named as folded
 * stacks; rows whose keys now name the same frames are merged (counts and sums add, min and
 * max take the extremes, avg is recomputed) and hidden parts (a pid kept only to name user
 * stacks) are dropped. Call while `map` is loaded. `stacksLost`: events whose stack was lost.
 */
export function symbolizeStackKeys(t: ColumnTable, parts: readonly KeyPart[], map: BpfMap, sym: StackSymbolizer): { table: ColumnTable; stacksLost: number } {
  const stackParts = parts.filter((p) => p.stack);
  if (stackParts.length === 0 || t.numRows() === 0) return { table: t, stacksLost: 0 };
  const n = t.numRows();
  const pids = t.columnNames().includes("pid") ? (t.array("pid") as ArrayLike<number>) : null;
  const counts = t.array("count") as ArrayLike<number | bigint>;
  const lostRows = new Set<number>();
  const named: Record<string, string[]> = {};
  for (const p of stackParts) {
    const ids = t.array(p.column) as ArrayLike<number>;
    const out: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if (id >= 0) sym.capture(map, id, p.stack === "kernel");
      else if (isLostStack(id)) lostRows.add(i);
      out[i] = foldFrames(p.stack === "user" ? sym.user(pids ? pids[i]! : 0, id) : sym.kernel(id));
    }
    named[p.column] = out;
  }
  let stacksLost = 0;
  for (const i of lostRows) stacksLost += Number(counts[i]);
  const hidden = parts.filter((p) => p.hidden).map((p) => p.column);
  let out = t.assign(named);
  if (hidden.length) out = out.select(out.columnNames().filter((c) => !hidden.includes(c)));
  return { table: mergeRows(out), stacksLost };
}

/** The pids of aggregation keys (raw key bytes), to read their mappings while they run. */
export function keyPids(keys: readonly Uint8Array[], pidPart: KeyPart): Set<number> {
  const out = new Set<number>();
  for (const k of keys) out.add(new DataView(k.buffer, k.byteOffset, k.byteLength).getUint32(pidPart.koff, true));
  return out;
}
