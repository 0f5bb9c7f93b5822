/* A map of a user's program, read and written in its own types: keys and values
 * encoded and decoded from the object's BTF, the whole map as a table (per-CPU
 * values summed, or kept per CPU), and HIST maps as the log2 tables that
 * plot.histogram() and percentiles() take. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import type { BpfMap } from "../../libbpf/map.js";
import { possibleCpus } from "../../libbpf/map.js";
import { InvalidArgumentError } from "../../errors.js";
import { decodeRecord, encodeRecord } from "./codec.js";
import type { RecordLayout } from "./layout.js";
import type { CustomMapInfo } from "./describe.js";

/** A key or value: its row object, or for one-column rows the bare value. */
export type RowArg<R> = string extends keyof R ? unknown : R | (R extends { key: infer V } ? V : R extends { value: infer V } ? V : never);

export interface MapTableOptions {
  /** Per-CPU maps: one row per key and CPU (a `cpu` column) instead of values summed over CPUs. */
  perCpu?: boolean;
}

/** What a map needs from its program: the loaded map. */
export interface MapOwner {
  readonly name: string;
  loadedMap(name: string): BpfMap;
}

const bytesOf = (l: RecordLayout | undefined, what: string): RecordLayout => {
  if (!l) throw new InvalidArgumentError(`${what}: its type is not in the object's BTF (declare the map with __type(key, ...) and __type(value, ...), or with bpfbook.h's macros)`);
  return l;
};

export class CustomMap<Key extends object = Record<string, unknown>, Value extends object = Record<string, unknown>> {
  readonly name: string;
  readonly info: CustomMapInfo;
  readonly #owner: MapOwner;
  /** 64-bit values a double rounded, in the read under way. */
  #imprecise = 0;

  /** @internal made by BpfCProgram.map() and .hist() */
  constructor(owner: MapOwner, info: CustomMapInfo) {
    this.#owner = owner;
    this.name = info.name;
    this.info = info;
  }

  get kind(): CustomMapInfo["kind"] {
    return this.info.kind;
  }

  #map(): BpfMap {
    return this.#owner.loadedMap(this.name);
  }

  #what(): string {
    return `map "${this.name}" of ${this.#owner.name}`;
  }

  /** The value for a key, or undefined (per-CPU values summed). */
  get(key: RowArg<Key>): Value | undefined {
    const map = this.#map();
    const v = map.lookup(encodeRecord(bytesOf(this.info.key, this.#what()), key, `${this.#what()}: key`));
    if (!v) return undefined;
    this.#imprecise = 0;
    const value = this.#values(map, v)[0] as Value;
    this.#warnImprecise();
    return value;
  }

  /** Sets a key's value (for per-CPU maps, the same value on every CPU). */
  set(key: RowArg<Key>, value: RowArg<Value>): void {
    const map = this.#map();
    const k = encodeRecord(bytesOf(this.info.key, this.#what()), key, `${this.#what()}: key`);
    const one = encodeRecord(bytesOf(this.info.value, this.#what()), value, `${this.#what()}: value`);
    if (!map.perCpu) return map.update(k, one);
    const stride = (one.length + 7) & ~7, all = new Uint8Array(map.valueBytes);
    for (let c = 0; c < possibleCpus(); c++) all.set(one, c * stride);
    map.update(k, all);
  }

  /** Deletes a key; returns whether it was there. */
  delete(key: RowArg<Key>): boolean {
    return this.#map().delete(encodeRecord(bytesOf(this.info.key, this.#what()), key, `${this.#what()}: key`));
  }

  /** Deletes every key (arrays cannot delete: their values are zeroed). Returns how many entries there were. */
  clear(): number {
    const map = this.#map();
    if (this.kind === "array" || this.kind === "percpu_array") {
      const zero = new Uint8Array(map.valueBytes);
      let n = 0;
      for (const k of [...map.keys()]) { map.update(k, zero); n++; }
      return n;
    }
    return map.drain().keys.length;
  }

  /** How many keys the map holds now. */
  get size(): number {
    let n = 0;
    for (const _ of this.#map().keys()) n++;
    return n;
  }

  /** One value per CPU (per-CPU maps) or the one value, decoded; `merge` sums per-CPU integer columns. */
  #values(map: BpfMap, bytes: Uint8Array, merge = true): Record<string, unknown>[] {
    const layout = bytesOf(this.info.value, this.#what());
    const decode = (at: number) => {
      const d = decodeRecord(layout, bytes, at);
      this.#imprecise += d.imprecise;
      return d.row;
    };
    if (!map.perCpu) return [decode(0)];
    const stride = (map.valueSize + 7) & ~7;
    const rows = Array.from({ length: possibleCpus() }, (_, c) => decode(c * stride));
    if (!merge) return rows;
    const sum: Record<string, unknown> = { ...rows[0] };
    for (const leaf of layout.leaves) {
      if (leaf.kind !== "int" && leaf.kind !== "bits" && leaf.kind !== "float") continue;
      const total = rows.reduce((s, r) => s + Number(r[leaf.name] ?? 0), 0);
      if (leaf.kind !== "float" && !Number.isSafeInteger(total)) this.#imprecise++;
      sum[leaf.name] = total;
    }
    return [sum];
  }

  /**
   * The whole map as a table: key columns, then value columns (for a HIST: key
   * columns, bucket, low, high, count). Read with one batch lookup where the kernel has it.
   */
  table(opts: MapTableOptions = {}): ColumnTable {
    this.#imprecise = 0;
    try {
      return this.#table(opts);
    } finally {
      this.#warnImprecise();
    }
  }

  /** Rounded values are never silent: a warning, as for event streams. */
  #warnImprecise(): void {
    if (this.#imprecise === 0) return;
    process.emitWarning(`${this.#what()}: ${this.#imprecise} 64-bit values beyond 2^53 were rounded to the nearest double (read them exactly with a struct of two u32 halves, or keep counts below 2^53)`, { code: "BPFBOOK_IMPRECISE" });
  }

  #table(opts: MapTableOptions): ColumnTable {
    const map = this.#map();
    const { keys, values } = map.entries();
    if (this.kind === "hist") return this.#histTable(keys, values);
    const keyLayout = bytesOf(this.info.key, this.#what());
    const keyNames = keyLayout.leaves.map((l) => l.name);
    const perCpu = Boolean(opts.perCpu && map.perCpu);
    // a value member named like a key member (or "cpu") keeps both: the value's becomes value.<name>
    const taken = new Set([...keyNames, ...(perCpu ? ["cpu"] : [])]);
    const valueNames = bytesOf(this.info.value, this.#what()).leaves.map((l) => [l.name, taken.has(l.name) ? `value.${l.name}` : l.name] as const);
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < keys.length; i++) {
      const kd = decodeRecord(keyLayout, keys[i]!);
      this.#imprecise += kd.imprecise;
      const vals = this.#values(map, values[i]!, !opts.perCpu);
      vals.forEach((v, cpu) => {
        const row: Record<string, unknown> = { ...kd.row };
        if (perCpu) row.cpu = cpu;
        for (const [from, to] of valueNames) row[to] = v[from];
        rows.push(row);
      });
    }
    return tableOf(rows, [...keyNames, ...(perCpu ? ["cpu"] : []), ...valueNames.map(([, to]) => to)]);
  }

  #histTable(keys: Uint8Array[], values: Uint8Array[]): ColumnTable {
    const full = bytesOf(this.info.key, this.#what());
    const userKeys = (this.info.histKey?.leaves ?? []).map((l) => l.name);
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < keys.length; i++) {
      const k = decodeRecord(full, keys[i]!).row;
      const count = Number(new DataView(values[i]!.buffer, values[i]!.byteOffset).getBigUint64(0, true));
      const bucket = Number(k.bucket);
      const row: Record<string, unknown> = {};
      // the hist key struct's member `key` flattens to "key" (a scalar) or "key.<field>" (a struct)
      for (const name of userKeys) row[name] = `key.${name}` in k ? k[`key.${name}`] : k.key;
      Object.assign(row, { bucket, low: bucket === 0 ? 0 : 2 ** (bucket - 1), high: bucket === 0 ? 1 : 2 ** bucket, count });
      rows.push(row);
    }
    rows.sort((a, b) => {
      for (const n of userKeys) {
        const x = a[n] as number | string, y = b[n] as number | string;
        if (x !== y) return x < y ? -1 : 1;
      }
      return (a.bucket as number) - (b.bucket as number);
    });
    return tableOf(rows, [...userKeys, "bucket", "low", "high", "count"]);
  }
}

function tableOf(rows: Record<string, unknown>[], names: string[]): ColumnTable {
  const cols: Record<string, unknown[]> = {};
  for (const n of names) cols[n] = rows.map((r) => r[n]);
  return aq.table(cols);
}
