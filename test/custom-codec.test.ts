/* Records, keys and values of a cell's C types to and from bytes: the ring's column decoder
 * (RecordDecoder, both paths) and the map codec (decodeRecord/encodeRecord), on bytes a C
 * compiler wrote. The one struct is compiled twice: for BPF (its BTF gives the layout) and
 * natively (a program that prints records filled with edge values), so every offset and
 * bitfield position is checked against C itself. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers/workload.js";
import { BpfObject } from "../bpf-lib/src/libbpf/object.js";
import { BtfBlob } from "../bpf-lib/src/btf/blob.js";
import { DictColumn } from "../bpf-lib/src/engine/columns.js";
import { InvalidArgumentError } from "../bpf-lib/src/errors.js";
import { describeObject, type CustomMapInfo } from "../bpf-lib/src/probes/custom/describe.js";
import type { RecordLayout } from "../bpf-lib/src/probes/custom/layout.js";
import { decodeRecord, encodeRecord } from "../bpf-lib/src/probes/custom/codec.js";
import { RecordDecoder } from "../bpf-lib/src/probes/custom/record-decoder.js";
import type { Columns } from "../bpf-lib/src/engine/decoder.js";

const SOURCE = String.raw`
#ifdef __bpf__
#include "bpfbook.h"
#else
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
typedef uint8_t u8; typedef int8_t s8; typedef uint16_t u16; typedef int16_t s16;
typedef uint32_t u32; typedef int32_t s32; typedef uint64_t u64; typedef int64_t s64;
#endif
struct inner { u16 x; s16 y; };
union named { u32 i; char c[6]; };
struct rec {
	u8 a_u8; s8 a_s8; u16 a_u16; s16 a_s16; u32 a_u32; s32 a_s32; u64 a_u64; s64 a_s64;
	bool flag;
	u32 lo : 3, hi : 13;
	s32 neg : 5;
	u64 wide : 60;
	void *ptr;
	char comm[16];
	u32 arr[4];
	s64 big[2];
	u8 raw[6];
	struct inner in;
	union { u32 word; u8 octets[4]; };
	union named nu;
	double d;
	float f;
};
#ifdef __bpf__
RINGBUF(events, struct rec);
HASH(by_comm, char[16], u64, 16);
const volatile bool verbose = 0;
#else
int main(void)
{
	struct rec r[2];
	memset(r, 0, sizeof r);
	r[0].a_u8 = 255; r[0].a_s8 = -128; r[0].a_u16 = 65535; r[0].a_s16 = -32768;
	r[0].a_u32 = 4294967295u; r[0].a_s32 = INT32_MIN; r[0].a_u64 = UINT64_MAX; r[0].a_s64 = INT64_MAX;
	r[0].flag = true; r[0].lo = 7; r[0].hi = 8191; r[0].neg = -16; r[0].wide = (1ull << 60) - 1;
	r[0].ptr = (void *)0xffff888012345678ull;
	memcpy(r[0].comm, "0123456789abcdef", 16);
	r[0].arr[1] = 1; r[0].arr[2] = 2147483648u; r[0].arr[3] = 4294967295u;
	r[0].big[0] = INT64_MIN; r[0].big[1] = (1ll << 53) + 1;
	r[0].raw[0] = 1; r[0].raw[1] = 2; r[0].raw[2] = 3; r[0].raw[3] = 4; r[0].raw[4] = 5; r[0].raw[5] = 255;
	r[0].in.x = 65535; r[0].in.y = -32768;
	r[0].word = 0x01020304; r[0].nu.i = 0xdeadbeef; r[0].d = -0.5; r[0].f = 1.5f;
	r[1].a_s8 = -1; r[1].a_s16 = -1; r[1].a_u32 = 2147483648u; r[1].a_s32 = -1;
	r[1].a_u64 = (1ull << 53) + 1; r[1].a_s64 = -1; r[1].hi = 1; r[1].neg = 15;
	memcpy(r[1].comm, "bash", 5);
	fwrite(r, sizeof r, 1, stdout);
	return 0;
}
#endif
`;

/** What the two native records decode to (64-bit values past 2^53 as the doubles nearest them). */
const ROW0 = {
  a_u8: 255, a_s8: -128, a_u16: 65535, a_s16: -32768, a_u32: 4294967295, a_s32: -2147483648, a_u64: 2 ** 64, a_s64: 2 ** 63,
  flag: 1, lo: 7, hi: 8191, neg: -16, wide: 2 ** 60, ptr: 0xffff888012345678n, comm: "0123456789abcdef",
  arr: [0, 1, 2147483648, 4294967295], big: [-(2 ** 63), 2 ** 53], raw: [1, 2, 3, 4, 5, 255], "in.x": 65535, "in.y": -32768,
  word: 0x01020304, octets: [4, 3, 2, 1], nu: new Uint8Array([0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0]), d: -0.5, f: 1.5,
};
/** a_u64, a_s64, wide and big[1] are rounded. */
const ROW0_IMPRECISE = 4;
const ROW1 = {
  a_u8: 0, a_s8: -1, a_u16: 0, a_s16: -1, a_u32: 2 ** 31, a_s32: -1, a_u64: 2 ** 53, a_s64: -1,
  flag: 0, lo: 0, hi: 1, neg: 15, wide: 0, ptr: 0n, comm: "bash",
  arr: [0, 0, 0, 0], big: [0, 0], raw: [0, 0, 0, 0, 0, 0], "in.x": 0, "in.y": 0,
  word: 0, octets: [0, 0, 0, 0], nu: new Uint8Array(8), d: 0, f: 0,
};
/** The same values exactly, as encodeRecord takes them (bigints where a number cannot hold them). */
const VALUE0 = {
  ...ROW0, a_u64: 2n ** 64n - 1n, a_s64: 2n ** 63n - 1n, wide: 2n ** 60n - 1n, big: [-(2n ** 63n), 2n ** 53n + 1n], flag: true,
  octets: undefined, // overlaps word: writing both would say the same bytes twice
};
const VALUE1 = { ...ROW1, a_u64: 2n ** 53n + 1n, octets: undefined };

const clang = spawnSync("clang", ["--version"]);
const skip = clang.error ? `clang is not installed (${(clang.error as NodeJS.ErrnoException).code}): these tests compile C` : false;

/** Columns as plain arrays, for deepEqual. */
function plain(cols: Columns): Record<string, unknown[]> {
  return Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, v instanceof DictColumn ? v.toArray() : Array.from(v as ArrayLike<unknown>)]));
}

/** Rows as columns, the way the decoder returns them. */
function columnsOf(rows: Record<string, unknown>[]): Record<string, unknown[]> {
  return Object.fromEntries(Object.keys(rows[0]!).map((k) => [k, rows.map((r) => r[k])]));
}

describe("custom BPF C: record decoding and the key/value codec", { skip }, () => {
  let dir = "";
  let rec: RecordLayout;
  let maps: CustomMapInfo[];
  let verbose: RecordLayout;
  let native: Uint8Array;
  const what = 'map "m": value';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "bpfbook-codec-"));
    const src = join(dir, "rec.bpf.c"), obj = join(dir, "rec.bpf.o"), exe = join(dir, "rec");
    writeFileSync(src, SOURCE);
    const include = ["-I", join(ROOT, "bpf-lib", "build"), "-I", join(ROOT, "bpf-lib", "include")];
    execFileSync("clang", ["-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", ...include, "-c", src, "-o", obj]);
    execFileSync("clang", ["-x", "c", "-O0", src, "-o", exe]);
    native = new Uint8Array(execFileSync(exe));
    const o = BpfObject.open(obj);
    try {
      const desc = describeObject(BtfBlob.fromBytes(o.btfBytes()!));
      maps = desc.maps;
      rec = maps.find((m) => m.name === "events")!.record!;
      verbose = desc.globals.find((g) => g.name === "verbose")!.layout;
    } finally {
      o.dispose();
    }
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("the BPF and native layouts agree (the fixture checks itself)", () => {
    assert.equal(rec.type, "struct rec");
    assert.equal(native.length, 2 * rec.size);
    assert.deepEqual(rec.leaves.map((l) => l.name), Object.keys(ROW0));
  });

  it("decodeRecord reads what C wrote: edges of every width, bitfields, strings of exactly 16 chars, rounded 64-bit values counted", () => {
    assert.deepEqual(decodeRecord(rec, native), { row: ROW0, imprecise: ROW0_IMPRECISE });
    assert.deepEqual(decodeRecord(rec, native, rec.size), { row: ROW1, imprecise: 1 });
    assert.throws(() => decodeRecord(rec, native, rec.size + 1), (e) => e instanceof InvalidArgumentError && /struct rec is \d+ bytes; got \d+ bytes at offset/.test(e.message));
  });

  it("encodeRecord writes the bytes C writes, and decoding them gives the values back", () => {
    assert.deepEqual(encodeRecord(rec, VALUE0, what), native.subarray(0, rec.size));
    assert.deepEqual(encodeRecord(rec, VALUE1, what), native.subarray(rec.size));
    assert.deepEqual(decodeRecord(rec, encodeRecord(rec, VALUE0, what)), { row: ROW0, imprecise: ROW0_IMPRECISE });
    // leaves left out are 0; nested objects are dotted names; octets (over word) writes word's bytes
    const some = encodeRecord(rec, { in: { x: 7 }, octets: [1, 2, 3, 4], hi: 3 }, what);
    assert.deepEqual(decodeRecord(rec, some).row, { ...ROW1, a_s8: 0, a_s16: 0, a_u32: 0, a_s32: 0, a_u64: 0, a_s64: 0, hi: 3, neg: 0, comm: "", "in.x": 7, word: 0x04030201, octets: [1, 2, 3, 4] });
  });

  it("one-leaf layouts take bare values: a char[16] key of exactly 16 chars, a max u64, a bool", () => {
    const byComm = maps.find((m) => m.name === "by_comm")!;
    const key = encodeRecord(byComm.key!, "0123456789abcdef", 'map "by_comm": key');
    assert.deepEqual(decodeRecord(byComm.key!, key), { row: { key: "0123456789abcdef" }, imprecise: 0 });
    assert.deepEqual(encodeRecord(byComm.key!, { key: "ab" }, "k"), new Uint8Array([97, 98, ...new Array(14).fill(0)]));
    const max = encodeRecord(byComm.value!, 2n ** 64n - 1n, "v");
    assert.deepEqual(max, new Uint8Array(8).fill(255));
    assert.deepEqual(decodeRecord(byComm.value!, max), { row: { value: 2 ** 64 }, imprecise: 1 });
    assert.deepEqual(decodeRecord(byComm.value!, encodeRecord(byComm.value!, 2 ** 53, "v")), { row: { value: 2 ** 53 }, imprecise: 0 });
    assert.deepEqual(encodeRecord(verbose, true, "g"), new Uint8Array([1]));
  });

  it("what does not fit its C type is an InvalidArgumentError naming the map, the field, what was wrong and what works", () => {
    const fails = (value: unknown, message: RegExp, layout = rec) =>
      assert.throws(() => encodeRecord(layout, value, what), (e) => e instanceof InvalidArgumentError && message.test(e.message), `${String(value)}`);
    fails({ a_u9: 1 }, /^map "m": value: struct rec has no field "a_u9"; did you mean "a_u8".*\? Its fields are: a_u8, a_s8, /);
    fails({ "in.z": 1 }, /no field "in\.z"; did you mean "in\.x", "in\.y"\?/);
    fails({ a_u8: 256 }, /^map "m": value: field "a_u8" \(u8\) must be from 0 to 255; got 256$/);
    fails({ a_u32: -1 }, /field "a_u32" \(u32\) must be from 0 to 4294967295; got -1$/);
    fails({ a_s8: -129 }, /field "a_s8" \(s8\) must be from -128 to 127; got -129$/);
    fails({ a_u64: 2 ** 64 }, /field "a_u64" \(u64\) must be from 0 to 18446744073709551615; a number past 2\^53 may already be rounded, so pass a bigint \(the largest is 18446744073709551615n\); got 18446744073709552000$/);
    fails({ a_s64: 2n ** 63n }, /field "a_s64" \(s64\) must be from -9223372036854775808 to 9223372036854775807; got 9223372036854775808n$/);
    fails({ a_u16: 1.5 }, /field "a_u16" \(u16\) must be an integer from 0 to 65535; got 1\.5$/);
    fails({ a_u16: "7" }, /field "a_u16" \(u16\) must be an integer from 0 to 65535; got "7"$/);
    fails({ lo: 8 }, /field "lo" \(3-bit unsigned bitfield\) must be from 0 to 7; got 8$/);
    fails({ neg: -17 }, /field "neg" \(5-bit signed bitfield\) must be from -16 to 15; got -17$/);
    fails({ comm: "0123456789abcdefg" }, /field "comm" \(char\[16\]\) must be a string of at most 16 bytes \(UTF-8\); got "0123456789abcdefg", 17 bytes$/);
    fails({ comm: "ééééééééé" }, /field "comm" \(char\[16\]\) must be a string of at most 16 bytes \(UTF-8\); got "ééééééééé", 18 bytes$/);
    fails({ comm: 5 }, /field "comm" \(char\[16\]\) must be a string of at most 16 bytes; got 5$/);
    fails({ arr: [1, 2, 3, 4, 5] }, /field "arr" \(u32\[4\]\) must be an array of at most 4 integers \(0 to 4294967295\); got 5 elements$/);
    fails({ arr: [1, -2] }, /field "arr" \(u32\[4\]\) must be from 0 to 4294967295; got -2 at index 1$/);
    fails({ nu: new Uint8Array(9) }, /field "nu" \(8 bytes\) must be a Uint8Array of at most 8 bytes; got 9 bytes$/);
    fails({ nu: [1, 2] }, /field "nu" \(8 bytes\) must be a Uint8Array of at most 8 bytes; got \[1, 2\]$/);
    fails({ ptr: -1 }, /field "ptr" \(pointer\) must be from 0 to 18446744073709551615; got -1$/);
    fails({ d: 1n }, /field "d" \(double\) must be a number; got 1n$/);
    fails(5, /^map "m": value: struct rec is written as an object with its fields \(a_u8, a_s8, .*\); got 5$/);
    fails("0123456789abcdefg", /^map "m": value: field "key" \(char\[16\]\) must be a string of at most 16 bytes \(UTF-8\); got "0123456789abcdefg", 17 bytes$/, maps.find((m) => m.name === "by_comm")!.key!);
  });

  /** The two native records in a ring's data area, among records the decoder must skip or stop at. */
  function ring(start: number) {
    const size = 4096, rsz = rec.size;
    const buf = new ArrayBuffer(size);
    const u8 = new Uint8Array(buf), u32 = new Uint32Array(buf), dv = new DataView(buf);
    let pos = 0;
    const put = (len: number, flags: number, body?: Uint8Array) => {
      u32[pos >>> 2] = (len | flags) >>> 0;
      if (body) u8.set(body, pos + 8);
      const at = pos + 8;
      pos += (len + 15) & ~7;
      return at;
    };
    const at0 = put(rsz, 0, native.subarray(0, rsz));
    put(rsz, 0x40000000, native.subarray(0, rsz)); // discarded
    const wrongAt = put(12, 0); // not this record type's size
    const at1 = put(rsz, 0, native.subarray(rsz));
    const busy = start + pos;
    put(rsz, 0x80000000); // reserved, not yet committed
    return { view: { u8, u32, dv }, size, prod: start + pos, busy, at0, at1, wrongAt };
  }

  it("RecordDecoder.span walks the ring: skips discarded and wrong-length records, stops at a busy one, counts rounded values", () => {
    const start = 3 * 4096; // positions only grow: the data offset is the position modulo the size
    const r = ring(start);
    const dec = new RecordDecoder(r.view, rec, 1); // capacity 1: span sizes the columns itself
    assert.equal(dec.span(r.view.u32, r.size, start, r.prod, 1000), r.busy);
    assert.equal(dec.n, 2);
    assert.equal(dec.malformed, 1);
    assert.deepEqual(dec.precision(), { imprecise: ROW0_IMPRECISE + 1, impreciseColumns: ["a_u64", "a_s64", "wide", "big"] });
    assert.deepEqual(plain(dec.peek()), columnsOf([ROW0, ROW1]));
    assert.deepEqual(plain(dec.take()), columnsOf([ROW0, ROW1]));
    assert.equal(dec.n, 0);
    assert.equal(dec.truncated(), 0);
    assert.deepEqual(dec.stackStats(), {});
    // max: stops after that many records, and the next span goes on from there
    const one = new RecordDecoder(r.view, rec);
    const cons = one.span(r.view.u32, r.size, start, r.prod, 1);
    assert.equal(cons, start + r.at0 - 8 + ((rec.size + 15) & ~7));
    assert.equal(one.span(r.view.u32, r.size, cons, r.prod, 1000), r.busy);
    assert.deepEqual(plain(one.take()), columnsOf([ROW0, ROW1]));
  });

  it("RecordDecoder filled to its capacity, then taken: the columns it handed over whole are made again for the next rows", () => {
    // one record at a time (max 1) into a decoder of capacity 1: full at every take, handed over
    // without a copy, and no span grows it, so the next rows need columns made again
    const start = 3 * 4096;
    const r = ring(start);
    const dec = new RecordDecoder(r.view, rec, 1);
    for (let round = 0; round < 3; round++) {
      assert.equal(dec.span(r.view.u32, r.size, start, r.prod, 1), start + r.at0 - 8 + ((rec.size + 15) & ~7));
      assert.deepEqual(plain(dec.take()), columnsOf([ROW0]), `round ${round}`);
    }
  });

  it("RecordDecoder.record decodes one record at a time, growing its columns, and counts wrong lengths", () => {
    const r = ring(0);
    const dec = new RecordDecoder(r.view, rec, 1);
    dec.record(r.at0, rec.size);
    dec.record(r.wrongAt, 12);
    dec.record(r.at1, rec.size);
    dec.record(r.at0, rec.size);
    assert.equal(dec.malformed, 1);
    assert.deepEqual(plain(dec.take()), columnsOf([ROW0, ROW1, ROW0]));
    assert.deepEqual(dec.precision(), { imprecise: 2 * ROW0_IMPRECISE + 1, impreciseColumns: ["a_u64", "a_s64", "wide", "big"] });
  });
});
