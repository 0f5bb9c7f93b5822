/* engine/concat.ts: joining column sets end to end (the chunks of a long trace, the
 * batches of a stream). Pure: every column kind, dictionaries that are prefixes of one
 * another (codes kept) and ones that are not (codes remapped), and the asynchronous
 * join pausing for the event loop while it copies. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { concatColumns, concatAll, COPY_SLICE } from "../bpf-lib/src/engine/concat.js";
import { DictColumn } from "../bpf-lib/src/engine/columns.js";
import type { Columns } from "../bpf-lib/src/engine/decoder.js";

describe("concatColumns", () => {
  it("joins every column kind in order, right-sized", () => {
    const shared = ["a", "b"];
    const parts: Columns[] = [
      { ts: Float64Array.of(1, 2), big: BigUint64Array.of(1n, 2n ** 64n - 1n), s: new DictColumn(Uint32Array.of(0, 1), shared), l: [["x"], ["y"]] },
      { ts: Float64Array.of(3), big: BigUint64Array.of(3n), s: new DictColumn(Uint32Array.of(1), shared), l: [["z"]] },
    ];
    const out = concatColumns(parts);
    assert.deepEqual([...(out.ts as Float64Array)], [1, 2, 3]);
    assert.ok(out.ts instanceof Float64Array && out.ts.length === 3);
    assert.deepEqual([...(out.big as BigUint64Array)], [1n, 2n ** 64n - 1n, 3n]);
    const s = out.s as DictColumn;
    assert.equal(s.dict, shared, "one shared dictionary is kept as it is");
    assert.deepEqual(s.toArray(), ["a", "b", "b"]);
    assert.deepEqual(out.l, [["x"], ["y"], ["z"]]);
    assert.deepEqual(Object.keys(parts[0]), [], "the parts are emptied as their columns are joined");
  });

  it("keeps the codes when each dictionary is a prefix of the last (one builder's chunks)", () => {
    const out = concatColumns([
      { s: new DictColumn(Uint32Array.of(0, 0), ["a"]) },
      { s: new DictColumn(Uint32Array.of(1, 0, 2), ["a", "b", "c"]) },
    ]);
    const s = out.s as DictColumn;
    assert.deepEqual([...s.codes], [0, 0, 1, 0, 2]);
    assert.deepEqual(s.dict, ["a", "b", "c"]);
  });

  it("remaps codes when the dictionaries disagree", () => {
    const out = concatColumns([
      { s: new DictColumn(Uint32Array.of(0, 1), ["a", "b"]) },
      { s: new DictColumn(Uint32Array.of(0, 1), ["b", "c"]) },
    ]);
    assert.deepEqual((out.s as DictColumn).toArray(), ["a", "b", "b", "c"]);
    assert.deepEqual((out.s as DictColumn).dict, ["a", "b", "c"]);
  });

  it("returns a single part as it is", () => {
    const only: Columns = { ts: Float64Array.of(7) };
    assert.equal(concatColumns([only]), only);
  });
});

describe("concatAll (the join a trace drives a slice at a time)", () => {
  it("gives the same columns, stepped, as the join in one go", () => {
    const mk = (): Columns[] => [0, 1, 2].map((k) => ({ v: Int32Array.from({ length: 300_000 }, (_, i) => k * 300_000 + i), s: new DictColumn(new Uint32Array(300_000), ["w"]) }));
    const a = concatColumns(mk());
    const g = concatAll(mk());
    let r = g.next();
    while (!r.done) r = g.next();
    const b = r.value;
    assert.deepEqual(b.v, a.v);
    assert.equal((b.v as Int32Array)[899_999], 899_999);
    assert.equal((b.s as DictColumn).length, 900_000);
  });

  it("pauses after every slice and every column", () => {
    const parts: Columns[] = [0, 1, 2, 3].map(() => ({ ts: new Float64Array(1 << 20), pid: new Int32Array(1 << 20) }));
    let pauses = 0;
    const g = concatAll(parts);
    for (let r = g.next(); !r.done; r = g.next()) pauses++;
    // 4 parts of 1 Mi values per column, copied in COPY_SLICE slices: a pause after each slice and each column
    assert.equal(pauses, 2 * (4 * ((1 << 20) / COPY_SLICE) + 1));
  });
});
