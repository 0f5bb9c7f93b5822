/* What a compiled cell declares, read from its BTF: its maps (with the types of their
 * keys, values and ring records) and its settable globals. libbpf map definitions are
 * structs of pointers (`__uint(type, N)` is `int (*type)[N]`, `__type(key, T)` is
 * `T *key`), so everything is in the types; bpfbook.h's macros add names that say which
 * rings have a record type and counters, and which hashes are histograms. */
import { BtfKind, type RawBtfType } from "../../btf/format.js";
import { resolve, type BtfTypeSource } from "../../btf/source.js";
import { membersOf } from "../../btf/members.js";
import { layoutOf, unqualified, type RecordLayout } from "./layout.js";

export type CustomMapKind = "ringbuf" | "hash" | "array" | "percpu_hash" | "percpu_array" | "lru_hash" | "lru_percpu_hash" | "hist" | "other";

export interface CustomMapInfo {
  name: string;
  mapType: number;
  kind: CustomMapKind;
  maxEntries?: number;
  /** rootName "key". */
  key?: RecordLayout;
  /** rootName "value". */
  value?: RecordLayout;
  /** A ring declared with RINGBUF(): its record type (rootName "value"). */
  record?: RecordLayout;
  /** A ring declared with RINGBUF(): the name of its counters map. */
  stats?: string;
  /** A HIST(): the user's key (rootName "key"), without the bucket. */
  histKey?: RecordLayout;
}

export interface CustomGlobal {
  name: string;
  /** From the .rodata DATASEC: libbpf sets it at open, so BTF read from an opened object has it. */
  offset: number;
  size: number;
  /** rootName = the global's name. */
  layout: RecordLayout;
}

export interface ObjectDescription {
  /** In declaration order; `__bpfbook_stats_*` maps are in their ring's `stats`. */
  maps: CustomMapInfo[];
  /** `.rodata` globals (`const volatile`: settable before load), bpfbook.h's own left out. */
  globals: CustomGlobal[];
}

/** include/uapi/linux/bpf.h: enum bpf_map_type. */
const MAP_KINDS: ReadonlyMap<number, CustomMapKind> = new Map([
  [1, "hash"], [2, "array"], [5, "percpu_hash"], [6, "percpu_array"], [9, "lru_hash"], [10, "lru_percpu_hash"], [27, "ringbuf"],
]);
const BPF_MAP_TYPE_HASH = 1;

const STATS = "__bpfbook_stats_";
const RECORD = "__bpfbook_record_";
const RECORD_TYPEDEF = "__bpfbook_record_t_";
const HIST_KEY = "__bpfbook_hist_key_";

interface SecVar { name: string; typeId: number; offset: number; size: number }

/** The maps and globals of an object, from its BTF. */
export function describeObject(btf: BtfTypeSource): ObjectDescription {
  const mapVars = datasec(btf, ".maps");
  const rodata = datasec(btf, ".rodata");
  const records = new Map(rodata.filter((v) => v.name.startsWith(RECORD)).map((v) => [v.name.slice(RECORD.length), v.typeId]));
  const statsMaps = new Set(mapVars.filter((v) => v.name.startsWith(STATS)).map((v) => v.name));
  const maps = mapVars.filter((v) => !v.name.startsWith(STATS)).map((v) => mapInfo(btf, v, records.get(v.name), statsMaps));
  const globals = rodata
    .filter((v) => !v.name.startsWith("__bpfbook"))
    .map((v) => ({ name: v.name, offset: v.offset, size: v.size, layout: layoutOf(btf, v.typeId, v.name) }));
  return { maps, globals };
}

function mapInfo(btf: BtfTypeSource, v: SecVar, recordVar: number | undefined, statsMaps: ReadonlySet<string>): CustomMapInfo {
  const def = resolve(btf, v.typeId);
  const fields = new Map<string, number>();
  if (def?.kind === BtfKind.STRUCT) for (const m of membersOf(btf, def.id)) fields.set(m.name, m.typeId);
  const mapType = arrayLength(btf, fields.get("type")) ?? 0;
  const info: CustomMapInfo = { name: v.name, mapType, kind: MAP_KINDS.get(mapType) ?? "other" };
  const maxEntries = arrayLength(btf, fields.get("max_entries"));
  if (maxEntries !== undefined) info.maxEntries = maxEntries;
  const key = side(btf, fields, "key");
  const value = side(btf, fields, "value");
  if (key) info.key = key;
  if (value) info.value = value;
  if (info.kind === "ringbuf") {
    if (recordVar !== undefined) {
      // `const volatile T *const`: the record type is behind the pointer and bpfbook.h's typedef
      const ptr = resolve(btf, recordVar);
      if (ptr?.kind === BtfKind.PTR) info.record = layoutOf(btf, unqualified(btf, ptr.sizeOrType, RECORD_TYPEDEF), "value");
    }
    if (statsMaps.has(STATS + v.name)) info.stats = STATS + v.name;
  }
  const histKey = mapType === BPF_MAP_TYPE_HASH ? histKeyOf(btf, fields.get("key"), v.name) : undefined;
  if (histKey) {
    info.kind = "hist";
    info.histKey = histKey;
  }
  return info;
}

/** The layout of a map's key or value: its type (`__type`), else raw bytes of its size (`__uint(key_size, N)`). */
function side(btf: BtfTypeSource, fields: ReadonlyMap<string, number>, which: "key" | "value"): RecordLayout | undefined {
  const typed = pointee(btf, fields.get(which));
  if (typed !== undefined) return layoutOf(btf, typed, which);
  const size = arrayLength(btf, fields.get(`${which}_size`));
  if (size === undefined) return undefined;
  return { type: `u8[${size}]`, size, leaves: [{ kind: "bytes", name: which, offset: 0, size }] };
}

/** The user's key inside HIST()'s key struct, when the key is one. */
function histKeyOf(btf: BtfTypeSource, keyField: number | undefined, mapName: string): RecordLayout | undefined {
  const id = pointee(btf, keyField);
  const t = id === undefined ? null : resolve(btf, id);
  if (t?.kind !== BtfKind.STRUCT || btf.name(t.nameOff) !== HIST_KEY + mapName) return undefined;
  const member = membersOf(btf, t.id).find((m) => m.name === "key");
  return member ? layoutOf(btf, member.typeId, "key") : undefined;
}

function pointee(btf: BtfTypeSource, field: number | undefined): number | undefined {
  if (field === undefined) return undefined;
  const t = resolve(btf, field);
  return t?.kind === BtfKind.PTR ? t.sizeOrType : undefined;
}

/** The N of `__uint(name, N)`: a pointer to an array of N ints. */
function arrayLength(btf: BtfTypeSource, field: number | undefined): number | undefined {
  const target = pointee(btf, field);
  const t = target === undefined ? null : resolve(btf, target);
  return t?.kind === BtfKind.ARRAY ? t.extra[2]! : undefined;
}

function datasec(btf: BtfTypeSource, name: string): SecVar[] {
  const sec = findDatasec(btf, name);
  if (!sec) return [];
  const out: SecVar[] = [];
  for (let i = 0; i < sec.vlen; i++) {
    const v = btf.type(sec.extra[i * 3]!);
    if (v?.kind !== BtfKind.VAR) continue;
    out.push({ name: btf.name(v.nameOff), typeId: v.sizeOrType, offset: sec.extra[i * 3 + 1]!, size: sec.extra[i * 3 + 2]! });
  }
  return out;
}

/** An object's BTF is small (its own types, not the kernel's), so a scan is cheap. */
function findDatasec(btf: BtfTypeSource, name: string): RawBtfType | null {
  for (let id = 1; ; id++) {
    const t = btf.type(id);
    if (t === null) return null;
    if (t.kind === BtfKind.DATASEC && btf.name(t.nameOff) === name) return t;
  }
}

/** The named structs and unions of an object's BTF (and typedefs of them), as C spells them: `struct event`, `event_t`. */
function recordTypes(btf: BtfTypeSource): Map<string, number> {
  const out = new Map<string, number>();
  for (let id = 1; ; id++) {
    const t = btf.type(id);
    if (t === null) return out;
    const name = btf.name(t.nameOff);
    if (name === "" || name.startsWith("__bpfbook")) continue;
    if (t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION) out.set(`${t.kind === BtfKind.STRUCT ? "struct" : "union"} ${name}`, id);
    else if (t.kind === BtfKind.TYPEDEF) {
      const to = resolve(btf, id);
      if (to?.kind === BtfKind.STRUCT || to?.kind === BtfKind.UNION) out.set(name, id);
    }
  }
}

/**
 * The layout of a record type named in C (`struct event`, `event` for `struct event`, or a
 * typedef), for a ring declared without RINGBUF(); else the names there are. Records are
 * decoded from the root (rootName "value", as RINGBUF's).
 */
export function recordTypeNamed(btf: BtfTypeSource, spelled: string): { layout: RecordLayout } | { names: string[] } {
  const types = recordTypes(btf);
  const name = spelled.trim().replace(/\s+/g, " ");
  const id = types.get(name) ?? types.get(`struct ${name}`);
  if (id !== undefined) return { layout: layoutOf(btf, id, "value") };
  return { names: [...types.keys()] };
}
