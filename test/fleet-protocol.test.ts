/* The fleet's wire framing (bpf-lib/src/fleet/protocol.ts): frames round-trip however the
 * byte stream is cut, tables travel as Arrow IPC with their types and stats, and a corrupt
 * or oversized frame is a named error that stays (the stream cannot be resynchronized). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as aq from "arquero";
import { encodeFrame, FrameDecoder, MAX_HEADER_BYTES, PROTOCOL, tableFromBytes, tableToBytes } from "../bpf-lib/src/fleet/protocol.js";
import { FrameError } from "../bpf-lib/src/fleet/errors.js";
import { DictColumn } from "../bpf-lib/src/engine/columns.js";

const frames = [
  { header: { type: "hello", protocol: PROTOCOL, hostname: "h", kernel: "6.18", cpus: 2, epochOffsetNs: 1.7e18 }, body: new Uint8Array(0) },
  { header: { type: "started", id: 1 }, body: new Uint8Array(0) },
  { header: { type: "table", id: 1, kind: "events", stats: { received: 3, note: "é ✔" } }, body: Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255) },
  { header: { type: "done", id: 1 }, body: new Uint8Array(0) },
];

function bytesOf(): Buffer {
  return Buffer.concat(frames.map((f) => encodeFrame(f.header, f.body)));
}

describe("fleet protocol framing", () => {
  it("encodes u32 LE header length, JSON header, u32 LE body length, body", () => {
    const b = encodeFrame({ type: "done", id: 7 }, Uint8Array.of(1, 2, 3));
    const json = JSON.stringify({ type: "done", id: 7 });
    assert.equal(b.readUInt32LE(0), json.length);
    assert.equal(b.subarray(4, 4 + json.length).toString(), json);
    assert.equal(b.readUInt32LE(4 + json.length), 3);
    assert.deepEqual([...b.subarray(8 + json.length)], [1, 2, 3]);
    assert.equal(b.length, 8 + json.length + 3);
  });

  it("round-trips frames in one chunk", () => {
    const got = new FrameDecoder().push(bytesOf());
    assert.deepEqual(got.map((f) => f.header), frames.map((f) => f.header));
    assert.deepEqual(got.map((f) => [...f.body]), frames.map((f) => [...f.body]));
  });

  it("round-trips frames split at every byte, and at every cut into two pieces", () => {
    const all = bytesOf();
    const d = new FrameDecoder();
    const got = [];
    for (let i = 0; i < all.length; i++) got.push(...d.push(all.subarray(i, i + 1)));
    assert.deepEqual(got.map((f) => f.header), frames.map((f) => f.header));
    assert.deepEqual(got.map((f) => [...f.body]), frames.map((f) => [...f.body]));
    assert.equal(d.pending, 0);
    for (let cut = 0; cut <= all.length; cut += 13) {
      const d2 = new FrameDecoder();
      const two = [...d2.push(all.subarray(0, cut)), ...d2.push(all.subarray(cut))];
      assert.deepEqual(two.map((f) => f.header), frames.map((f) => f.header), `cut at ${cut}`);
      assert.deepEqual([...two[2]!.body], [...frames[2]!.body], `cut at ${cut}`);
    }
  });

  it("keeps a partial frame pending until the rest comes", () => {
    const b = encodeFrame({ type: "started", id: 2 });
    const d = new FrameDecoder();
    assert.deepEqual(d.push(b.subarray(0, b.length - 1)), []);
    assert.equal(d.pending, b.length - 1);
    assert.deepEqual(d.push(b.subarray(b.length - 1)).map((f) => f.header), [{ type: "started", id: 2 }]);
  });

  it("refuses a header that is not JSON, names the error, and keeps refusing", () => {
    const json = Buffer.from("{not json");
    const bad = Buffer.concat([Buffer.from([json.length, 0, 0, 0]), json, Buffer.alloc(4)]);
    const d = new FrameDecoder();
    assert.throws(() => d.push(bad), (e: unknown) => e instanceof FrameError && e.code === "EFRAME" && /not JSON \(9 bytes\)/.test(e.message));
    assert.throws(() => d.push(encodeFrame({ type: "done", id: 1 })), FrameError);
  });

  it("refuses an oversized header before reading it, and a body past the limit", () => {
    const d = new FrameDecoder();
    const huge = Buffer.alloc(4);
    huge.writeUInt32LE(MAX_HEADER_BYTES + 1);
    assert.throws(() => d.push(huge), (e: unknown) => e instanceof FrameError && e.message.includes(`a header length of ${MAX_HEADER_BYTES + 1} bytes`));
    const small = new FrameDecoder({ maxBodyBytes: 10 });
    assert.throws(() => small.push(encodeFrame({ type: "table", id: 1 }, new Uint8Array(11))), (e: unknown) => e instanceof FrameError && e.message.includes("a table body of 11 bytes is past the 10-byte limit"));
    assert.throws(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 0])), /a header length of 0 bytes/);
  });

  it("says what a stream that is not frames starts with (a shell's greeting on stdout)", () => {
    assert.throws(() => new FrameDecoder().push(Buffer.from("Welcome to web-1!\n")), (e: unknown) => e instanceof FrameError && e.message.endsWith(`(it starts with "Welcome to web-1!\\n": does the host's shell print something on stdout at login?)`));
  });

  it("refuses a header without a type", () => {
    const json = Buffer.from(JSON.stringify({ id: 1 }));
    const b = Buffer.concat([Buffer.from([json.length, 0, 0, 0]), json, Buffer.alloc(4)]);
    assert.throws(() => new FrameDecoder().push(b), /a header without a "type": \{"id":1\}/);
  });

  it("carries a table as Arrow IPC: columns, types, dictionary strings, bigints and stats", () => {
    const t = aq.table({
      ts: Float64Array.of(1.5, 2.5, 3.5), pid: Int32Array.of(10, 20, 30),
      comm: new DictColumn(Uint32Array.of(0, 1, 0), ["a", "b"]), big: [2n ** 63n + 5n, 1n, 2n],
    });
    Object.defineProperty(t, "stats", { value: { received: 3, lost: 0 } });
    // a body lands anywhere in a chunk: read it from an odd offset
    const body = tableToBytes(t);
    const padded = new Uint8Array(body.length + 3);
    padded.set(body, 3);
    const back = tableFromBytes(padded.subarray(3));
    assert.deepEqual(back.columnNames(), ["ts", "pid", "comm", "big"]);
    assert.deepEqual(Array.from(back.array("ts") as ArrayLike<number>), [1.5, 2.5, 3.5]);
    assert.deepEqual(Array.from(back.array("pid") as ArrayLike<number>), [10, 20, 30]);
    assert.ok(back.column("comm") instanceof DictColumn);
    assert.deepEqual(Array.from(back.array("comm") as ArrayLike<string>), ["a", "b", "a"]);
    assert.deepEqual(Array.from(back.array("big") as ArrayLike<bigint>), [2n ** 63n + 5n, 1n, 2n]);
    assert.deepEqual((back as unknown as { stats: unknown }).stats, { received: 3, lost: 0 });
  });

  it("carries a table with no rows, its columns kept", () => {
    const t = aq.table({ ts: new Float64Array(0), comm: new DictColumn(new Uint32Array(0), []) });
    const back = tableFromBytes(tableToBytes(t));
    assert.deepEqual(back.columnNames(), ["ts", "comm"]);
    assert.equal(back.numRows(), 0);
  });
});
