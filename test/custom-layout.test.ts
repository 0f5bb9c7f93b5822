/* A cell's BTF read back: leaves of every kind of C member, the maps of every bpfbook.h
 * macro and of plain libbpf definitions, the settable globals, and their TypeScript types.
 * The fixture is compiled here with clang and opened (not loaded) with libbpf, which sets
 * the .rodata offsets as it does for a cell. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers/workload.js";
import { BpfObject } from "../bpf-lib/src/libbpf/object.js";
import { BtfBlob } from "../bpf-lib/src/btf/blob.js";
import { BtfKind } from "../bpf-lib/src/btf/format.js";
import { findMember } from "../bpf-lib/src/btf/members.js";
import { layoutOf, type Leaf } from "../bpf-lib/src/probes/custom/layout.js";
import { describeObject, type CustomMapInfo, type ObjectDescription } from "../bpf-lib/src/probes/custom/describe.js";
import { programTypeText, rowTypeText } from "../bpf-lib/src/probes/custom/ts-types.js";

const SOURCE = String.raw`
#include "bpfbook.h"
enum color { RED = 1, GREEN = 2 };
struct inner { u16 x; s16 y; };
union named { u32 i; char c[6]; };
typedef struct { u32 a; u32 b; } pair_t;
struct all {
	u8 a_u8; s8 a_s8; u16 a_u16; s16 a_s16; u32 a_u32; s32 a_s32; u64 a_u64; s64 a_s64;
	bool flag;
	enum color color;
	u32 lo : 3, hi : 13;
	s32 neg : 5;
	void *ptr;
	char comm[16];
	u32 arr[4];
	u8 raw[6];
	struct inner in;
	union { u32 word; u8 octets[4]; };
	struct { u16 sport, dport; };
	union named nu;
	u16 grid[2][3];
	double d;
	float f;
	struct inner pair[2];
	__int128 big;
	char tail[];
};
RINGBUF(events, struct all);
RINGBUF(ticks, u64);
HASH(by_comm, char[16], u64, 1024);
ARRAY(slots, struct inner, 8);
PERCPU_HASH(per_cpu, u32, u64, 64);
LRU_HASH(pairs, pair_t, s64, 128);
PERCPU_ARRAY(scratch, u64, 1);
HIST(sizes, u32, 256);
HIST(lat_by, struct inner, 512);
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16); __type(key, u64); __type(value, s32); } plain SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 32); __uint(key_size, 4); __uint(value_size, 12); } sized SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } raw_ring SEC(".maps");
const volatile u32 min_bytes = 0;
const volatile s64 offset_ns = -1;
const volatile char target[16] = "bash";
const volatile bool verbose = 0;
const volatile struct inner cfg = {};
`;

const clang = spawnSync("clang", ["--version"]);
const skip = clang.error ? `clang is not installed (${(clang.error as NodeJS.ErrnoException).code}): these tests compile BPF C` : false;

/** The id of the named type of `kind` in `btf`. */
function named(btf: BtfBlob, kind: number, name: string): number {
  for (let id = 1; id < btf.typeCount; id++) if (btf.kindOf(id) === kind && btf.name(btf.nameOffOf(id)) === name) return id;
  throw new Error(`no type ${name}`);
}

const int = (name: string, offset: number, size: 1 | 2 | 4 | 8, signed: boolean): Leaf => ({ kind: "int", name, offset, size, signed });
const scalar = (type: string, name: string, size: 1 | 2 | 4 | 8, signed: boolean) => ({ type, size, leaves: [int(name, 0, size, signed)] });

const ALL_LEAVES: Leaf[] = [
  int("a_u8", 0, 1, false), int("a_s8", 1, 1, true), int("a_u16", 2, 2, false), int("a_s16", 4, 2, true),
  int("a_u32", 8, 4, false), int("a_s32", 12, 4, true), int("a_u64", 16, 8, false), int("a_s64", 24, 8, true),
  { kind: "int", name: "flag", offset: 32, size: 1, signed: false, bool: true },
  int("color", 36, 4, false),
  { kind: "bits", name: "lo", bitOffset: 320, bits: 3, signed: false },
  { kind: "bits", name: "hi", bitOffset: 323, bits: 13, signed: false },
  { kind: "bits", name: "neg", bitOffset: 336, bits: 5, signed: true },
  { kind: "pointer", name: "ptr", offset: 48 },
  { kind: "chars", name: "comm", offset: 56, length: 16 },
  { kind: "ints", name: "arr", offset: 72, elem: 4, signed: false, length: 4 },
  { kind: "ints", name: "raw", offset: 88, elem: 1, signed: false, length: 6 },
  int("in.x", 94, 2, false), int("in.y", 96, 2, true),
  int("word", 100, 4, false), { kind: "ints", name: "octets", offset: 100, elem: 1, signed: false, length: 4 },
  int("sport", 104, 2, false), int("dport", 106, 2, false),
  { kind: "bytes", name: "nu", offset: 108, size: 8 },
  { kind: "bytes", name: "grid", offset: 116, size: 12 },
  { kind: "float", name: "d", offset: 128, size: 8 },
  { kind: "float", name: "f", offset: 136, size: 4 },
  { kind: "bytes", name: "pair", offset: 140, size: 8 },
  { kind: "bytes", name: "big", offset: 160, size: 16 },
];

const ALL_ROW =
  "{ a_u8: number; a_s8: number; a_u16: number; a_s16: number; a_u32: number; a_s32: number; a_u64: number; a_s64: number; flag: number; color: number; " +
  "lo: number; hi: number; neg: number; ptr: bigint; comm: string; arr: number[]; raw: number[]; \"in.x\": number; \"in.y\": number; word: number; octets: number[]; " +
  "sport: number; dport: number; nu: Uint8Array; grid: Uint8Array; d: number; f: number; pair: Uint8Array; big: Uint8Array }";

describe("custom BPF C: layouts, maps, globals and types from BTF", { skip }, () => {
  let dir = "";
  let btf: BtfBlob;
  let desc: ObjectDescription;
  let constants: Map<string, { offset: number; size: number }>;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "bpfbook-custom-"));
    const src = join(dir, "fx.bpf.c"), obj = join(dir, "fx.bpf.o");
    writeFileSync(src, SOURCE);
    const include = ["-I", join(ROOT, "bpf-lib", "build"), "-I", join(ROOT, "bpf-lib", "include")];
    execFileSync("clang", ["-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", ...include, "-c", src, "-o", obj]);
    const o = BpfObject.open(obj);
    try {
      btf = BtfBlob.fromBytes(o.btfBytes()!);
      constants = o.constants();
    } finally {
      o.dispose();
    }
    desc = describeObject(btf);
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("a struct: every kind of member, nested structs dotted, anonymous members bare, padding and flexible arrays left out", () => {
    const all = named(btf, BtfKind.STRUCT, "all");
    assert.deepEqual(layoutOf(btf, all, "unused"), { type: "struct all", size: 176, leaves: ALL_LEAVES });
  });

  it("roots that are not structs are one leaf named rootName; unions, 2-D arrays and arrays of structs are bytes", () => {
    const all = named(btf, BtfKind.STRUCT, "all");
    const member = (m: string) => findMember(btf, all, m)!.typeId;
    assert.deepEqual(layoutOf(btf, member("a_u32"), "key"), scalar("u32", "key", 4, false));
    assert.deepEqual(layoutOf(btf, member("flag"), "on"), { type: "bool", size: 1, leaves: [{ kind: "int", name: "on", offset: 0, size: 1, signed: false, bool: true }] });
    assert.deepEqual(layoutOf(btf, member("color"), "c"), scalar("enum color", "c", 4, false));
    assert.deepEqual(layoutOf(btf, member("comm"), "key"), { type: "char[16]", size: 16, leaves: [{ kind: "chars", name: "key", offset: 0, length: 16 }] });
    assert.deepEqual(layoutOf(btf, member("raw"), "r"), { type: "u8[6]", size: 6, leaves: [{ kind: "ints", name: "r", offset: 0, elem: 1, signed: false, length: 6 }] });
    assert.deepEqual(layoutOf(btf, member("grid"), "g"), { type: "u16[2][3]", size: 12, leaves: [{ kind: "bytes", name: "g", offset: 0, size: 12 }] });
    assert.deepEqual(layoutOf(btf, member("pair"), "p"), { type: "struct inner[2]", size: 8, leaves: [{ kind: "bytes", name: "p", offset: 0, size: 8 }] });
    assert.deepEqual(layoutOf(btf, member("nu"), "u"), { type: "union named", size: 8, leaves: [{ kind: "bytes", name: "u", offset: 0, size: 8 }] });
    assert.deepEqual(layoutOf(btf, member("ptr"), "p"), { type: "void *", size: 8, leaves: [{ kind: "pointer", name: "p", offset: 0 }] });
    assert.deepEqual(layoutOf(btf, member("d"), "d"), { type: "double", size: 8, leaves: [{ kind: "float", name: "d", offset: 0, size: 8 }] });
    assert.deepEqual(layoutOf(btf, member("big"), "b"), { type: "__int128", size: 16, leaves: [{ kind: "bytes", name: "b", offset: 0, size: 16 }] });
    // typedef'd anonymous struct: its members, spelled by its typedef
    assert.deepEqual(layoutOf(btf, named(btf, BtfKind.TYPEDEF, "pair_t"), "key"), { type: "pair_t", size: 8, leaves: [int("a", 0, 4, false), int("b", 4, 4, false)] });
  });

  it("never throws on types it cannot read: void and unknown ids are bytes", () => {
    assert.deepEqual(layoutOf(btf, 0, "v"), { type: "void", size: 0, leaves: [{ kind: "bytes", name: "v", offset: 0, size: 0 }] });
    assert.deepEqual(layoutOf(btf, 1_000_000, "x"), { type: "(BTF type 1000000)", size: 0, leaves: [{ kind: "bytes", name: "x", offset: 0, size: 0 }] });
  });

  it("maps of every macro and of plain definitions: kinds, sizes, keys, values, records, counters, histograms", () => {
    const brief = (m: CustomMapInfo) => [m.name, m.mapType, m.kind, m.maxEntries, m.key?.type, m.value?.type, m.record?.type, m.stats, m.histKey?.type];
    assert.deepEqual(desc.maps.map(brief), [
      ["events", 27, "ringbuf", 4194304, undefined, undefined, "struct all", "__bpfbook_stats_events", undefined],
      ["ticks", 27, "ringbuf", 4194304, undefined, undefined, "u64", "__bpfbook_stats_ticks", undefined],
      ["by_comm", 1, "hash", 1024, "char[16]", "u64", undefined, undefined, undefined],
      ["slots", 2, "array", 8, "__u32", "struct inner", undefined, undefined, undefined],
      ["per_cpu", 5, "percpu_hash", 64, "u32", "u64", undefined, undefined, undefined],
      ["pairs", 9, "lru_hash", 128, "pair_t", "s64", undefined, undefined, undefined],
      ["scratch", 6, "percpu_array", 1, "__u32", "u64", undefined, undefined, undefined],
      ["sizes", 1, "hist", 256, "struct __bpfbook_hist_key_sizes", "__u64", undefined, undefined, "u32"],
      ["lat_by", 1, "hist", 512, "struct __bpfbook_hist_key_lat_by", "__u64", undefined, undefined, "struct inner"],
      ["plain", 1, "hash", 16, "u64", "s32", undefined, undefined, undefined],
      ["sized", 1, "hash", 32, "u8[4]", "u8[12]", undefined, undefined, undefined],
      ["raw_ring", 27, "ringbuf", 4096, undefined, undefined, undefined, undefined, undefined],
    ]);
    const map = (n: string) => desc.maps.find((m) => m.name === n)!;
    assert.deepEqual(map("events").record, { type: "struct all", size: 176, leaves: ALL_LEAVES });
    assert.deepEqual(map("ticks").record, scalar("u64", "value", 8, false));
    assert.deepEqual(map("by_comm"), {
      name: "by_comm", mapType: 1, kind: "hash", maxEntries: 1024,
      key: { type: "char[16]", size: 16, leaves: [{ kind: "chars", name: "key", offset: 0, length: 16 }] },
      value: scalar("u64", "value", 8, false),
    });
    assert.deepEqual(map("lat_by"), {
      name: "lat_by", mapType: 1, kind: "hist", maxEntries: 512,
      key: { type: "struct __bpfbook_hist_key_lat_by", size: 8, leaves: [int("key.x", 0, 2, false), int("key.y", 2, 2, true), int("bucket", 4, 4, false)] },
      value: scalar("__u64", "value", 8, false),
      histKey: { type: "struct inner", size: 4, leaves: [int("x", 0, 2, false), int("y", 2, 2, true)] },
    });
    assert.deepEqual(map("sizes").histKey, scalar("u32", "key", 4, false));
    assert.deepEqual(map("sized"), {
      name: "sized", mapType: 1, kind: "hash", maxEntries: 32,
      key: { type: "u8[4]", size: 4, leaves: [{ kind: "bytes", name: "key", offset: 0, size: 4 }] },
      value: { type: "u8[12]", size: 12, leaves: [{ kind: "bytes", name: "value", offset: 0, size: 12 }] },
    });
    assert.deepEqual(map("raw_ring"), { name: "raw_ring", mapType: 27, kind: "ringbuf", maxEntries: 4096 });
    assert.ok(!desc.maps.some((m) => m.name.startsWith("__bpfbook")), "counters maps are their ring's stats, not maps");
  });

  it("globals: the .rodata variables but bpfbook.h's own, at the offsets libbpf gives them", () => {
    assert.deepEqual(desc.globals, [
      { name: "min_bytes", offset: 16, size: 4, layout: scalar("u32", "min_bytes", 4, false) },
      { name: "offset_ns", offset: 24, size: 8, layout: scalar("s64", "offset_ns", 8, true) },
      { name: "target", offset: 32, size: 16, layout: { type: "char[16]", size: 16, leaves: [{ kind: "chars", name: "target", offset: 0, length: 16 }] } },
      { name: "verbose", offset: 48, size: 1, layout: { type: "bool", size: 1, leaves: [{ kind: "int", name: "verbose", offset: 0, size: 1, signed: false, bool: true }] } },
      { name: "cfg", offset: 50, size: 4, layout: { type: "struct inner", size: 4, leaves: [int("x", 0, 2, false), int("y", 2, 2, true)] } },
    ]);
    for (const g of desc.globals) assert.deepEqual(constants.get(g.name), { offset: g.offset, size: g.size }, g.name);
  });

  it("TypeScript types: rows with quoted dotted keys, and the program's events, maps, hists and globals sorted by name", () => {
    const all = named(btf, BtfKind.STRUCT, "all");
    assert.equal(rowTypeText(layoutOf(btf, all, "")), ALL_ROW);
    assert.equal(
      programTypeText(desc),
      `{ events: { events: ${ALL_ROW}; ticks: { value: number } }; ` +
        "maps: { by_comm: { kind: \"hash\"; key: { key: string }; value: { value: number } }; " +
        "pairs: { kind: \"lru_hash\"; key: { a: number; b: number }; value: { value: number } }; " +
        "per_cpu: { kind: \"percpu_hash\"; key: { key: number }; value: { value: number } }; " +
        "plain: { kind: \"hash\"; key: { key: number }; value: { value: number } }; " +
        "scratch: { kind: \"percpu_array\"; key: { key: number }; value: { value: number } }; " +
        "sized: { kind: \"hash\"; key: { key: Uint8Array }; value: { value: Uint8Array } }; " +
        "slots: { kind: \"array\"; key: { key: number }; value: { x: number; y: number } } }; " +
        "hists: { lat_by: { key: { x: number; y: number } }; sizes: { key: { key: number } } }; " +
        "globals: { cfg: { x: number; y: number }; min_bytes: number; offset_ns: number; target: string; verbose: number } }",
    );
    assert.equal(programTypeText({ maps: [], globals: [] }), "{ events: {}; maps: {}; hists: {}; globals: {} }");
  });
});
