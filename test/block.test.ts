/* block:block_rq_issue on a loop device we make, so block I/O is guaranteed and
 * known: N direct writes of known sizes, each one request. `bytes` is an unaligned
 * u32 right after `nr_sector`; reading it at a rounded-down offset gave nr_sector. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { block, tracepoint } from "../bpf-lib/src/index.js";
import { bpftrace, parseCounts, parseMap } from "./helpers/bpftrace.js";
import { makeLoop, removeLoop, writeAll, WRITES, REQUESTS, BYTES } from "./helpers/loop.js";

const rowsOf = (t: { objects(): object[] }) => t.objects() as Record<string, unknown>[];

describe("block:block_rq_issue on a loop device", () => {
  const loop = makeLoop("block");
  const skip = typeof loop === "string" ? loop : false;
  if (skip) console.log(`# skipping block tests: ${skip}`);
  after(() => removeLoop(loop));

  it("stats of bytes and of nr_sector are exact (bytes == nr_sector * 512) and agree with bpftrace", { skip }, async () => {
    const { dev, devt } = loop as Exclude<typeof loop, string>;
    // bpftrace 0.17 keys a char[8] by all 8 bytes, and the kernel leaves the bytes after
    // rwbs's NUL as they were: one CI run split 15 "WS" requests over keys that all print
    // "WS" (7 under one of them), so entries that print alike are added up (parseCounts)
    const bt = await bpftrace(
      `tracepoint:block:block_rq_issue /args->dev == ${devt}/ { @n[args->rwbs] = count(); @b = sum(args->bytes); @lo = min(args->bytes); @hi = max(args->bytes); @s = sum(args->nr_sector); }`,
    );
    const tp = () => tracepoint("block:block_rq_issue", { where: { dev: devt } });
    const runs = [tp().stats("bytes", { by: ["rwbs"] }).start(), tp().stats("nr_sector", { by: ["rwbs"] }).start()];
    try {
      writeAll(dev);
    } finally {
      await Promise.all(runs.map((r) => r.stop()));
    }
    const out = await bt.stop();
    const [bytes, sectors] = await Promise.all(runs.map((r) => r.finished()));
    // synchronous direct writes: "WS"
    assert.deepEqual(rowsOf(bytes), [{ rwbs: "WS", count: REQUESTS, sum: BYTES, min: 512, max: 65536, avg: BYTES / REQUESTS }]);
    assert.deepEqual(rowsOf(sectors), [{ rwbs: "WS", count: REQUESTS, sum: BYTES / 512, min: 1, max: 128, avg: BYTES / 512 / REQUESTS }]);
    assert.deepEqual(
      { n: parseCounts(out, "n").get("WS"), b: parseMap(out, "b").get(""), lo: parseMap(out, "lo").get(""), hi: parseMap(out, "hi").get(""), s: parseMap(out, "s").get("") },
      { n: REQUESTS, b: BYTES, lo: 512, hi: 65536, s: BYTES / 512 },
    );
  });

  it("block.ioLatency() pairs every request on the device: count equals requests", { skip }, async () => {
    const { dev, devt } = loop as Exclude<typeof loop, string>;
    const run = block.ioLatency({ by: ["dev"], hist: "stats" }).start();
    try {
      writeAll(dev);
    } finally {
      await run.stop();
    }
    const mine = rowsOf(await run.finished()).filter((r) => r.dev === devt);
    assert.equal(mine.length, 1, JSON.stringify(mine));
    assert.equal(mine[0].count, REQUESTS);
    assert.ok((mine[0].min as number) > 0 && (mine[0].max as number) >= (mine[0].min as number), "latencies are positive ns");
  });
});
