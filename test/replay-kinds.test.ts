/* Record and replay of the result kinds test/replay.test.ts does not cover: an interval
 * series (collect({ interval })), stream() batches, pair() rows, an off-CPU profile and
 * a sample({ read }) aggregation. Each is recorded against the kernel, then replayed
 * with nothing loaded, and compared exactly: the same columns in the same order, each
 * column's values and array type, and the same stats. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ColumnTable } from "arquero";
import * as real from "../bpf-lib/src/index.js";
import { ReplaySession } from "../bpf-lib/src/replay/session.js";
import { programIdsOf, workload, type Gated } from "./helpers/workload.js";

type Bpfbook = typeof real;

/** The sleeping workload: SLEEPS nanosleep()s of SLEEP_MS each, so events spread over time. */
const SLEEPS = 8, SLEEP_MS = 40;

/** A gated sleeper when live, with its pid for filters; released a little after the probe attached. */
function sleeper(live: boolean): { pid: number; go(): Promise<unknown> } {
  const w: Gated | null = live ? workload(["sleep", String(SLEEP_MS), String(SLEEPS)]) : null;
  return { pid: w?.pid ?? 1, go: () => (w ? sleep(100).then(() => w.go()) : Promise.resolve()) };
}

/** One "notebook" asking for each kind in turn (sequentially: a replay matches calls by their order). */
async function notebook(b: Bpfbook, s: ReplaySession, live: boolean): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};

  s.cell = 1;
  let w = sleeper(live);
  let done = w.go();
  out.intervals = await b.tracepoint("syscalls:sys_enter_nanosleep", { where: { pid: w.pid } }).count({ by: ["comm"] })
    .collect({ seconds: 1.5, interval: 0.25 });
  await done;

  s.cell = 2;
  w = sleeper(live);
  done = w.go();
  const batches: unknown[] = [];
  for await (const batch of b.tracepoint("syscalls:sys_enter_nanosleep", { where: { pid: w.pid } }).stream({ seconds: 1.5, batchMs: 50 })) {
    batches.push(batch);
  }
  out.batches = batches;
  await done;

  s.cell = 3;
  w = sleeper(live);
  const pairs = b.pair(
    b.tracepoint("syscalls:sys_enter_nanosleep", { where: { pid: w.pid } }),
    b.tracepoint("syscalls:sys_exit_nanosleep", { fields: ["ret"], where: { pid: w.pid } }),
  ).start();
  await w.go();
  await pairs.stop();
  out.pairs = await pairs.table();

  s.cell = 4;
  w = sleeper(live);
  done = w.go();
  out.offcpu = await b.offcpu({ pid: w.pid, seconds: 0.6 });
  await done;

  s.cell = 5;
  out.sample = await b.sample({ hz: 49, read: { prio: "current.prio" } }).count({ by: ["cpu", "prio"] }).collect({ seconds: 0.3 });
  return out;
}

/** Column by column: names in order, each column's array type and values; then the stats. */
function assertSameTable(replayed: unknown, recorded: unknown, what: string): void {
  const a = replayed as ColumnTable, r = recorded as ColumnTable;
  assert.deepEqual(a.columnNames(), r.columnNames(), `${what}: same columns`);
  for (const c of r.columnNames()) {
    const x = a.array(c) as ArrayLike<unknown>, y = r.array(c) as ArrayLike<unknown>;
    assert.equal(x.constructor.name, y.constructor.name, `${what}.${c}: same array type`);
    assert.deepEqual(Array.from(x), Array.from(y), `${what}.${c}: same values`);
  }
  assert.deepEqual((a as { stats?: unknown }).stats, (r as { stats?: unknown }).stats, `${what}: same stats`);
}

describe("record and replay of every result kind", () => {
  it("interval series, stream batches, pairs, off-CPU profiles and sample({ read }) replay exactly", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-recording-kinds-"));
    try {
      const rec = ReplaySession.record(dir);
      const recorded = await notebook(rec.wrap(real), rec, true);
      rec.save();

      // what was recorded is what the kinds give live, not empty tables
      const intervals = recorded.intervals as ColumnTable;
      assert.ok(intervals.columnNames().includes("interval"), intervals.columnNames().join(","));
      assert.equal(Array.from(intervals.array("count") as ArrayLike<number>).reduce((a, x) => a + x, 0), SLEEPS, "the intervals add up to every sleep");
      const batches = recorded.batches as ColumnTable[];
      assert.equal(batches.reduce((n, t) => n + t.numRows(), 0), SLEEPS, "the batches hold every sleep");
      assert.ok(batches.length >= 2, `${batches.length} batches`);
      const pairs = recorded.pairs as ColumnTable;
      assert.equal(pairs.numRows(), SLEEPS);
      assert.ok(Array.from(pairs.array("latency") as ArrayLike<number>).every((ns) => ns >= SLEEP_MS * 1e6), "each pair spans its sleep");
      assert.ok((recorded.offcpu as ColumnTable).numRows() > 0, "off-CPU stacks");
      assert.ok((recorded.sample as ColumnTable).numRows() > 0, "samples");

      const play = ReplaySession.replay(dir);
      const replayed = await notebook(play.wrap(real), play, false);
      assert.deepEqual(programIdsOf(), [], "a replay loads nothing");
      for (const k of ["intervals", "pairs", "offcpu", "sample"]) assertSameTable(replayed[k], recorded[k], k);
      const again = replayed.batches as ColumnTable[];
      assert.equal(again.length, batches.length, "as many batches");
      batches.forEach((t, i) => assertSameTable(again[i], t, `batch ${i}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
