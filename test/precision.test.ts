/* 64-bit fields beyond 2^53: exact as bigints when asked, and never rounded without
 * a word (stats.imprecise, the table footer). The workload passes a known offset to
 * lseek(2); sys_enter_lseek's `offset` is an 8-byte off_t. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync, statSync } from "node:fs";
import { tracepoint, InvalidArgumentError, saveTrace, loadTrace } from "../bpf-lib/src/index.js";
import { toDisplayData } from "../kernel/display/index.js";
import { workload } from "./helpers/workload.js";

const BIG = (1n << 60n) + 1n; // a double rounds it to 2^60
const NEG = -(1n << 60n) - 3n;

async function lseeks(offset: bigint, n: number, bigint?: boolean | "auto" | string[]) {
  const w = workload(["lseek", String(offset), String(n)]);
  const trace = tracepoint("syscalls:sys_enter_lseek", { fields: ["fd", "offset", "whence"], where: { pid: w.pid }, bigint }).start({ seconds: 30 });
  assert.equal(await w.go(), 0);
  return trace.table();
}

describe("64-bit values", () => {
  it("bigint: true gives exact BigInt64Array values, positive and negative", async () => {
    const t = await lseeks(BIG, 3, true);
    assert.equal(t.numRows(), 3);
    const col = t.column("offset") as unknown;
    assert.ok(col instanceof BigInt64Array, "off_t is signed: a BigInt64Array");
    assert.deepEqual(Array.from(col as BigInt64Array), [BIG, BIG, BIG]);
    assert.equal(t.stats.imprecise, undefined);
    const neg = await lseeks(NEG, 2, ["offset"]);
    assert.deepEqual(Array.from(neg.column("offset") as unknown as BigInt64Array), [NEG, NEG]);
    assert.deepEqual(Array.from(neg.array("fd") as ArrayLike<number>), [0, 0], "other fields stay numbers");
  });

  it("as numbers (the default), every rounded value is counted and named in the stats and footer", async () => {
    const t = await lseeks(BIG, 4);
    assert.deepEqual(Array.from(t.array("offset") as ArrayLike<number>), [2 ** 60, 2 ** 60, 2 ** 60, 2 ** 60]);
    assert.equal(t.stats.imprecise, 4);
    assert.deepEqual(t.stats.impreciseColumns, ["offset"]);
    const html = String(toDisplayData(t).data["text/html"]);
    assert.match(html, /⚠ 4 rounded 64-bit values \(offset\); bigint: true keeps them exact/);
    assert.equal(String(toDisplayData(t).data["text/plain"]).split("\n").at(-1), `syscalls:sys_enter_lseek · 4 received · 0 lost${t.stats.filtered ? ` · ${t.stats.filtered.toLocaleString("en-US")} filtered in kernel` : ""} · ⚠ 4 rounded 64-bit values (offset); bigint: true keeps them exact · ${t.stats.seconds.toFixed(2)} s`);
    // 2^60 itself is a double: nothing was rounded, nothing is counted
    const exact = await lseeks(1n << 60n, 2);
    assert.equal(exact.stats.imprecise, undefined);
    assert.doesNotMatch(String(toDisplayData(exact).data["text/html"]), /rounded/);
  });

  it("a stream that rounded values ends with a BPFBOOK_IMPRECISE warning naming the columns and the bigint option", async () => {
    const seen: (Error & { code?: string })[] = [];
    const on = (w: Error & { code?: string }) => void (w.code === "BPFBOOK_IMPRECISE" && seen.push(w));
    process.on("warning", on);
    try {
      await lseeks(BIG, 3);
      await new Promise((r) => setImmediate(r)); // emitWarning delivers on a later tick
      assert.deepEqual(
        seen.map((w) => w.message),
        ['syscalls:sys_enter_lseek: 3 64-bit values beyond 2^53 were rounded to the nearest double in column offset; use the bigint option for exact values (bigint: true, bigint: ["offset"] or bigint: "auto")'],
      );
      // exact runs stay quiet: bigint asked for, or values a double holds
      await lseeks(BIG, 2, true);
      await lseeks(1n << 60n, 2);
      await new Promise((r) => setImmediate(r));
      assert.equal(seen.length, 1);
    } finally {
      process.off("warning", on);
    }
  });

  it('bigint: "auto" turns the column bigint at the first value beyond 2^53', async () => {
    const t = await lseeks(BIG, 2, "auto");
    assert.deepEqual(Array.from(t.column("offset") as unknown as BigInt64Array), [BIG, BIG]);
    const small = await lseeks(12345n, 2, "auto");
    assert.deepEqual(Array.from(small.array("offset") as ArrayLike<number>), [12345, 12345]);
    assert.ok(small.column("offset") instanceof Float64Array, "values that fit stay numbers");
  });

  it("bigint columns survive saveTrace/loadTrace exactly", async () => {
    const t = await lseeks(NEG, 3, true);
    const file = `/tmp/bpfbook-test-precision-${process.pid}.arrow`;
    try {
      saveTrace(t, file);
      const back = loadTrace(file);
      assert.deepEqual(Array.from(back.array("offset") as ArrayLike<bigint>), [NEG, NEG, NEG]);
      assert.equal(typeof back.get("offset", 0), "bigint");
      assert.equal(statSync(file).mode & 0o777, 0o600);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it("a bigint option that names no 64-bit field, or is malformed, is refused before loading", () => {
    assert.throws(() => tracepoint("syscalls:sys_enter_lseek", { bigint: ["fd"] }), (e: unknown) =>
      e instanceof InvalidArgumentError && /bigint names fd, which is not a 64-bit integer field of syscalls:sys_enter_lseek; its 64-bit fields are: offset/.test(e.message));
    assert.throws(() => tracepoint("syscalls:sys_enter_lseek", { bigint: "yes" as unknown as true }), InvalidArgumentError);
  });
});
