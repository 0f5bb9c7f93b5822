/* A flood streamed for 60 s keeps the process's memory bounded: each batch's table is
 * dropped by its consumer, so nothing the tracer holds may grow with the events that pass.
 * The bound is on memory, not time: the figures per retained event are in bench/memory.ts. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { tracepoint } from "../bpf-lib/src/index.js";
import { workload } from "./helpers/workload.js";

const SECONDS = 60;
/** RSS may rise this much after the warm-up (V8's heap and the ring's pages settle by then). */
const BOUND = 64 << 20;
/** What a retained event costs in a table (ts, cpu, pid, tid, comm): retaining the flood would show. */
const RETAINED_BYTES = 22;

describe("memory under a flood", () => {
  it(`a ${SECONDS} s getppid() flood streamed in batches keeps RSS within ${BOUND >> 20} MiB of its level after 10 s`, async (t) => {
    const w = workload(["getppid", "4000000000"]);
    void w.go(); // floods until killed
    try {
      const t0 = Date.now();
      let rows = 0, rowsAtBase = 0, base = 0, peak = 0, lost = 0, batches = 0;
      for await (const batch of tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }).stream({ seconds: SECONDS, batchMs: 250 })) {
        batches++;
        rows += batch.numRows();
        lost = batch.stats.lost;
        const rss = process.memoryUsage.rss();
        if (Date.now() - t0 < 10_000) continue;
        if (base === 0) {
          base = rss;
          rowsAtBase = rows;
        }
        peak = Math.max(peak, rss);
      }
      const after = rows - rowsAtBase;
      const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
      const what = `${rows} events (${lost} lost) in ${batches} batches; RSS ${mib(base)} at 10 s, peak ${mib(peak)} after`;
      t.diagnostic(what);
      // the check means something only if retaining the events after 10 s would break the bound twice over
      assert.ok(after * RETAINED_BYTES > 2 * BOUND, `too few events to tell: ${what}`);
      assert.ok(peak - base < BOUND, `RSS grew ${mib(peak - base)} while ${after} events passed: ${what}`);
    } finally {
      w.child.kill();
    }
  });
});
