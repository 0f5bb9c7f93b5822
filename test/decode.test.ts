/* Field decoding for every kind, on synthetic events (pure: no kernel). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DictColumn } from "../bpf-lib/src/engine/columns.js";
import { decoders } from "../bpf-lib/src/engine/fields.js";
import { EventDecoder } from "../bpf-lib/src/engine/decoder.js";
import { cString } from "../bpf-lib/src/engine/strings.js";
import { HDR_SIZE } from "../bpf-lib/src/engine/layout.js";

/** One event: 40-byte header + body, 8-byte record header in front, as in the ring. */
function ring(body: (dv: DataView, u8: Uint8Array) => void, size: number) {
  const buf = new ArrayBuffer(8 + size + 8);
  const u8 = new Uint8Array(buf), dv = new DataView(buf), u32 = new Uint32Array(buf);
  const ev = new DataView(buf, 8);
  ev.setBigUint64(0, 123456789n, true);
  ev.setUint32(8, 42, true);
  ev.setUint32(12, 43, true);
  ev.setUint32(16, 1, true);
  u8.set(new TextEncoder().encode("proc"), 8 + 24);
  body(ev, new Uint8Array(buf, 8));
  return { u8, dv, u32 };
}

describe("field decoders", () => {
  it("integers of every size and sign, 64-bit exact below 2^53", () => {
    const at = HDR_SIZE;
    const view = ring((dv) => {
      dv.setInt8(at, -5);
      dv.setUint8(at + 1, 250);
      dv.setInt16(at + 2, -300, true);
      dv.setUint16(at + 4, 65000, true);
      dv.setInt32(at + 8, -70000, true);
      dv.setUint32(at + 12, 4000000000, true);
      dv.setBigInt64(at + 16, -(2n ** 40n), true);
      dv.setBigUint64(at + 24, 2n ** 52n + 1n, true);
      dv.setBigUint64(at + 32, 0xffffffff81000000n, true);
    }, HDR_SIZE + 40);
    const fs = [
      decoders.int("i8", at, 1, true), decoders.int("u8", at + 1, 1, false),
      decoders.int("i16", at + 2, 2, true), decoders.int("u16", at + 4, 2, false),
      decoders.int("i32", at + 8, 4, true), decoders.int("u32", at + 12, 4, false),
      decoders.int("i64", at + 16, 8, true), decoders.int("u64", at + 24, 8, false),
      decoders.pointer("ptr", at + 32),
    ];
    const dec = new EventDecoder(view, HDR_SIZE + 40, fs);
    dec.record(8, HDR_SIZE + 40);
    const c = dec.take();
    assert.deepEqual(
      Object.fromEntries(Object.entries(c).map(([k, v]) => [k, [...(v as Iterable<unknown>)][0]])),
      { ts: 123456789, cpu: 1, pid: 42, tid: 43, comm: "proc", i8: -5, u8: 250, i16: -300, u16: 65000, i32: -70000, u32: 4000000000, i64: -(2 ** 40), u64: 2 ** 52 + 1, ptr: 0xffffffff81000000n },
    );
  });

  it("64-bit integers beyond 2^53: exact as bigints, counted when a double rounds them, boundaries included", () => {
    const at = HDR_SIZE;
    const values: [bigint, boolean][] = [
      // [value as u64 bits, signed]
      [2n ** 64n - 1n, false], [2n ** 53n, false], [2n ** 53n + 1n, false], [2n ** 53n - 1n, false],
      [-(2n ** 53n), true], [-(2n ** 53n) - 1n, true], [-(2n ** 63n), true], [2n ** 63n - 1n, true],
    ];
    const n = values.length;
    const view = ring((dv) => values.forEach(([v, signed], i) => (signed ? dv.setBigInt64(at + i * 8, v, true) : dv.setBigUint64(at + i * 8, v, true))), HDR_SIZE + n * 8);
    const make = (mode: "number" | "bigint" | "auto") => new EventDecoder(view, HDR_SIZE + n * 8, values.map(([, signed], i) => decoders.int(`f${i}`, at + i * 8, 8, signed, mode)));
    const big = make("bigint");
    big.record(8, HDR_SIZE + n * 8);
    const b = big.take();
    values.forEach(([v, signed], i) => {
      assert.ok(b[`f${i}`] instanceof (signed ? BigInt64Array : BigUint64Array));
      assert.equal((b[`f${i}`] as BigInt64Array)[0], v);
    });
    assert.deepEqual(big.precision(), {});
    const num = make("number");
    num.record(8, HDR_SIZE + n * 8);
    const c = num.take();
    values.forEach(([v], i) => assert.equal((c[`f${i}`] as Float64Array)[0], Number(v)));
    // 2^64-1, 2^53+1, -2^53-1 and 2^63-1 round; 2^53, -2^53 and -2^63 are doubles exactly
    assert.deepEqual(num.precision(), { imprecise: 4, impreciseColumns: ["f0", "f2", "f5", "f7"] });
    const auto = make("auto");
    auto.record(8, HDR_SIZE + n * 8);
    const a = auto.take();
    assert.ok(a.f3 instanceof Float64Array && a.f3[0] === Number.MAX_SAFE_INTEGER, "safe integers stay numbers");
    for (const f of ["f1", "f4"]) assert.ok(a[f] instanceof BigUint64Array || a[f] instanceof BigInt64Array, `${f}: ±2^53 are not safe integers: bigint`);
    assert.ok(a.f0 instanceof BigUint64Array && a.f6 instanceof BigInt64Array);
    assert.equal((a.f4 as BigInt64Array)[0], -(2n ** 53n));
    assert.equal((a.f0 as BigUint64Array)[0], 2n ** 64n - 1n);
  });

  it("char arrays, int arrays and raw bytes", () => {
    const at = HDR_SIZE;
    const view = ring((dv, u8) => {
      u8.set(new TextEncoder().encode("bash\0junk"), at);
      [10, 0, 0, 1].forEach((b, i) => dv.setUint8(at + 16 + i, b));
      dv.setUint16(at + 20, 443, true);
      dv.setUint16(at + 22, 0xffff, true);
      u8.set([1, 2, 3], at + 24);
    }, HDR_SIZE + 32);
    const dec = new EventDecoder(view, HDR_SIZE + 32, [
      decoders.chars("name", at, 16), decoders.ints("addr", at + 16, 1, false, 4), decoders.ints("ports", at + 20, 2, true, 2), decoders.bytes("raw", at + 24, 3),
    ]);
    dec.record(8, HDR_SIZE + 32);
    const c = dec.take();
    assert.equal([...(c.name as Iterable<string>)][0], "bash");
    assert.deepEqual((c.addr as number[][])[0], [10, 0, 0, 1]);
    assert.deepEqual((c.ports as number[][])[0], [443, -1]);
    assert.deepEqual([...(c.raw as Uint8Array[])[0]], [1, 2, 3]);
  });

  it("__data_loc and __rel_loc strings and bytes, cut (and counted) at the window's end", () => {
    // Three 4-byte locators at record offsets 8, 12, 16 (event 40, 44, 48); the data at record offset 24 (event 56).
    const toEvent = HDR_SIZE - 8;
    const view = ring((dv, u8) => {
      dv.setUint32(HDR_SIZE, (6 << 16) | 24, true); // "/bin/\0" at record offset 24
      dv.setUint32(HDR_SIZE + 4, (3 << 16) | 8, true); // __rel_loc: 8 bytes after this field's end (record 16) → record 24
      dv.setUint32(HDR_SIZE + 8, (40 << 16) | 24, true); // claims 40 bytes: more than the window holds
      u8.set(new TextEncoder().encode("/bin/\0"), 24 + toEvent);
    }, HDR_SIZE + 32);
    const end = HDR_SIZE + 32;
    const fs = [
      decoders.dataLoc("path", HDR_SIZE, 12, false, true, toEvent, end),
      decoders.dataLoc("rel", HDR_SIZE + 4, 16, true, false, toEvent, end),
      decoders.dataLoc("cut", HDR_SIZE + 8, 20, false, true, toEvent, end),
    ];
    const dec = new EventDecoder(view, HDR_SIZE + 32, fs);
    dec.record(8, HDR_SIZE + 32);
    const c = dec.take();
    // strings are dictionary-encoded (4 bytes a row), bytes one Uint8Array a row
    assert.ok(c.path instanceof DictColumn);
    assert.equal(c.path.at(0), "/bin/");
    assert.deepEqual([...(c.rel as Uint8Array[])[0]], [0x2f, 0x62, 0x69]); // "/bi"
    assert.equal((c.cut as DictColumn).at(0), "/bin/");
    assert.equal(dec.truncated(), 1);
  });

  it("records of the wrong size are counted, not misread", () => {
    const view = ring(() => {}, HDR_SIZE);
    const dec = new EventDecoder(view, HDR_SIZE, []);
    dec.record(8, HDR_SIZE + 8);
    assert.equal(dec.n, 0);
    assert.equal(dec.malformed, 1);
  });

  it("grows its columns past the initial capacity", () => {
    const view = ring(() => {}, HDR_SIZE);
    const dec = new EventDecoder(view, HDR_SIZE, [decoders.int("x", 8, 4, false)], 4);
    for (let i = 0; i < 100; i++) dec.record(8, HDR_SIZE);
    const c = dec.take();
    assert.equal(c.ts.length, 100);
    assert.equal((c.x as Uint32Array).length, 100);
    assert.equal(dec.n, 0);
  });

  it("C strings: ASCII, UTF-8, unterminated", () => {
    const e = new TextEncoder();
    assert.equal(cString(e.encode("abc\0def"), 0, 7), "abc");
    assert.equal(cString(e.encode("héllo\0"), 0, 7), "héllo");
    assert.equal(cString(e.encode("abcdef"), 0, 3), "abc");
    assert.equal(cString(new Uint8Array(4), 0, 4), "");
  });
});
