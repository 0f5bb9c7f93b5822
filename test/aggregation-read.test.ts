/* Reading aggregations back in slices (engine/aggregation-read.ts): the CPUs' totals
 * merged in doubles only where that is exact, rows ordered as Arquero orders them,
 * tables that stay as they were while rows are added, and a real interval aggregation
 * of 20 000 distinct keys read back exactly while the event loop keeps turning. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as aq from "arquero";
import { tracepoint } from "../bpf-lib/src/index.js";
import { mergePerCpu, AGG_VAL_SIZE, type AggValue } from "../bpf-lib/src/engine/values.js";
import { appendRows, mergeSmall, runInTurns, runNow, sortedOrder, RowStore, ChunkedColumn } from "../bpf-lib/src/engine/aggregation-read.js";
import { workload, renamedWorkload } from "./helpers/workload.js";

/** Per-CPU agg_val slots: [count, sum, min, max] per CPU, as the kernel lays them out. */
function slots(...cpus: [bigint, bigint, bigint, bigint][]): Uint8Array {
  const b = new Uint8Array(cpus.length * AGG_VAL_SIZE);
  const dv = new DataView(b.buffer);
  cpus.forEach((v, c) => v.forEach((x, j) => dv.setBigUint64(c * AGG_VAL_SIZE + j * 8, BigInt.asUintN(64, x), true)));
  return b;
}

describe("mergeSmall: doubles only where exact", () => {
  it("agrees with the bigint merge wherever it answers, and declines past 2^52", () => {
    const edges = [0n, 1n, -1n, 2n ** 31n, -(2n ** 31n), 2n ** 32n - 1n, 2n ** 52n - 1n, -(2n ** 52n), 2n ** 52n, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n];
    let answered = 0, declined = 0;
    for (const unsigned of [false, true]) {
      for (const a of edges) for (const b of edges) {
        const vals = unsigned ? [a < 0n ? -a : a, b < 0n ? -b : b] : [a, b];
        const bytes = slots([3n, vals[0], vals[0], vals[1]], [2n, vals[1], vals[1], vals[0]]);
        const out: AggValue = { count: 0, sum: 0, min: 0, max: 0 };
        if (mergeSmall(new DataView(bytes.buffer), 0, 2, unsigned, out)) {
          answered++;
          assert.deepEqual(out, mergePerCpu(bytes, 2, unsigned), `unsigned ${unsigned}: ${vals}`);
        } else declined++;
      }
    }
    assert.ok(answered > 50 && declined > 50, `${answered} answered, ${declined} declined`);
  });

  it("skips CPUs that counted nothing, and a count past 2^52 goes to the bigint merge", () => {
    const out: AggValue = { count: 0, sum: 0, min: 0, max: 0 };
    const bytes = slots([0n, 0n, 0n, 0n], [4n, -10n, -7n, 2n]);
    assert.equal(mergeSmall(new DataView(bytes.buffer), 0, 2, false, out), true);
    assert.deepEqual(out, { count: 4, sum: -10, min: -7, max: 2 });
    assert.equal(mergeSmall(new DataView(slots([2n ** 52n, 1n, 1n, 1n]).buffer), 0, 1, false, out), false);
  });
});

describe("RowStore, sortedOrder, appendRows", () => {
  /** A store of `n` rows with a string key, a number key and a count. */
  function store(n: number, seed = 7): RowStore {
    const s = new RowStore(["comm", "offset", "count"]);
    let x = seed;
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const r = s.row();
      s.set(0, r, `c${x % 13}`);
      s.set(1, r, x % 1000);
      s.set(2, r, i);
    }
    return s;
  }

  it("orders rows as Arquero's orderby does, ties in the order read, across many merge passes", () => {
    const n = 50_000;
    const s = store(n);
    const order = runNow(sortedOrder(s, ["comm", "offset"], n));
    const byArquero = aq.table(s.columns()).orderby("comm", "offset").array("count") as number[];
    assert.deepEqual(Array.from(order), byArquero);
  });

  it("a table made earlier stays as it was while rows are added, and when a column turns bigint", () => {
    const to = new RowStore(["comm", "offset", "count"]);
    const meta = { bigint: new Set<string>(), truncated: 0 };
    const a = store(10_000, 1);
    runNow(appendRows(to, a, runNow(sortedOrder(a, ["offset"], a.length)), meta));
    const first = aq.table(to.columns());
    const firstRows = first.objects() as { count: number }[];
    assert.equal(first.numRows(), 10_000);
    // the next interval brings a count past 2^53: the column is bigint throughout from then on
    const b = new RowStore(["comm", "offset", "count"]);
    const r = b.row();
    b.set(0, r, "big");
    b.set(1, r, 1);
    b.set(2, r, 2n ** 60n);
    meta.bigint.add("count");
    runNow(appendRows(to, b, new Uint32Array([0]), meta));
    const second = aq.table(to.columns());
    assert.equal(second.numRows(), 10_001);
    assert.deepEqual(first.objects(), firstRows, "the first table did not change");
    const counts = second.array("count") as unknown[];
    assert.ok(counts.every((c) => typeof c === "bigint"), "bigint throughout");
    assert.equal(counts[10_000], 2n ** 60n);
    assert.deepEqual(counts.slice(0, 10_000).map(Number), firstRows.map((o) => o.count));
  });

  it("a ChunkedColumn is a column for Arquero's verbs", () => {
    const s = store(20_000);
    const cols = s.columns();
    assert.ok(cols.count instanceof ChunkedColumn);
    assert.equal(cols.count.length, 20_000);
    assert.equal(cols.count.at(19_999), 19_999);
    assert.equal([...cols.count].length, 20_000);
    const t = aq.table(cols);
    const sums = t.groupby("comm").rollup({ n: aq.op.count() }).orderby("comm").objects() as { comm: string; n: number }[];
    assert.equal(sums.reduce((a, r) => a + r.n, 0), 20_000);
    assert.equal(t.filter((d: { count: number }) => d.count < 10).numRows(), 10);
  });
});

describe("runInTurns", () => {
  it("lets the event loop run between slices of a long job, and stops where a synchronous finish takes over", async () => {
    let immediates = 0;
    const spin = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    function* job(): Generator<void, string> {
      for (let i = 0; i < 40; i++) {
        spin(1);
        yield;
      }
      return "done";
    }
    setImmediate(() => immediates++);
    assert.equal(await runInTurns(job(), () => false), "done");
    assert.equal(immediates, 1, "the loop ran while the job did");
    // taken over: the generator is left where it is for its owner to finish at once
    const g = job();
    let cancel = false;
    setImmediate(() => (cancel = true));
    assert.equal(await runInTurns(g, () => cancel), undefined);
    assert.equal(runNow(g), "done");
  });
});

describe("an interval aggregation of many keys", () => {
  it("20 000 distinct keys read back exactly, each interval in key order", async () => {
    const K = 20_000;
    const comm = "bpfbook-aread";
    const bin = renamedWorkload(comm);
    const run = tracepoint("syscalls:sys_enter_lseek", { where: { comm } }).count({ by: ["offset"], maxKeys: 1 << 16 }).start({ interval: 0.5 });
    // BASE 1000, STEP 3: offsets 1000, 1003, ... each once per run, two runs
    for (let i = 0; i < 2; i++) await workload(["seek", String(K), "1000", "3"], { binary: bin }).go();
    await run.stop();
    const t = await run.finished();
    assert.equal(t.stats.dropped, 0);
    const total = t.rollup({ n: aq.op.sum("count") }).object() as { n: number };
    assert.equal(total.n, 2 * K);
    const byOffset = t.groupby("offset").rollup({ n: aq.op.sum("count") }).orderby("offset");
    assert.equal(byOffset.numRows(), K);
    assert.deepEqual(byOffset.array("offset"), Array.from({ length: K }, (_, i) => 1000 + 3 * i));
    assert.ok((byOffset.array("n") as number[]).every((n) => n === 2));
    const iv = t.array("interval") as number[], off = t.array("offset") as number[];
    for (let i = 1; i < t.numRows(); i++) assert.ok(iv[i] > iv[i - 1] || (iv[i] === iv[i - 1] && off[i] > off[i - 1]), `row ${i} in interval and key order`);
  });

  it("tables taken while intervals are read hold whole intervals only; a dispose while one is read loses nothing", async () => {
    const K = 20_000;
    const comm = "bpfbook-aread2";
    const bin = renamedWorkload(comm);
    const run = tracepoint("syscalls:sys_enter_lseek", { where: { comm } }).count({ by: ["offset"], maxKeys: 1 << 16 }).start({ interval: 0.2 });
    // a table every turn of the loop, whatever the run is doing: reading a map, ordering, appending
    const seen: { interval: number; rows: number }[][] = [];
    let spinning = true;
    const spin = () => {
      if (!spinning) return;
      const t = run.snapshot();
      const per = new Map<number, number>();
      for (const i of t.array("interval") as number[]) per.set(i, (per.get(i) ?? 0) + 1);
      seen.push([...per].map(([interval, rows]) => ({ interval, rows })));
      setImmediate(spin);
    };
    setImmediate(spin);
    for (let i = 0; i < 2; i++) await workload(["seek", String(K), "1000", "3"], { binary: bin }).go();
    // disposed at once, at whatever point of an interval's read the run is
    await new Promise((r) => setTimeout(r, 150));
    run[Symbol.dispose]();
    spinning = false;
    const t = await run.finished();
    assert.equal((t.rollup({ n: aq.op.sum("count") }).object() as { n: number }).n, 2 * K, "every call counted once");
    assert.equal(t.stats.events, 2 * K);
    const final = new Map<number, number>();
    for (const i of t.array("interval") as number[]) final.set(i, (final.get(i) ?? 0) + 1);
    assert.ok(seen.length > 10, `${seen.length} tables taken`);
    for (const snap of seen) for (const { interval, rows } of snap) assert.equal(rows, final.get(interval), `interval ${interval}: a table taken during the run had ${rows} of its ${final.get(interval)} rows`);
  });
  it("snapshotAsync reads 20 000 keys of a running aggregation in turns, exactly as snapshot() does; after the run, the final table", async () => {
    const K = 20_000;
    const comm = "bpfbook-aread3";
    const bin = renamedWorkload(comm);
    const run = tracepoint("syscalls:sys_enter_lseek", { where: { comm } }).count({ by: ["offset"], maxKeys: 1 << 16 }).start();
    await workload(["seek", String(K), "1000", "3"], { binary: bin }).go();
    let turns = 0;
    let ticking = true;
    const tick = () => { if (ticking) { turns++; setImmediate(tick); } };
    setImmediate(tick);
    const a = await run.snapshotAsync();
    ticking = false;
    const b = run.snapshot();
    assert.equal(a.numRows(), K);
    assert.deepEqual(a.array("offset"), b.array("offset"));
    assert.deepEqual(a.array("count"), b.array("count"));
    assert.ok((a.array("count") as number[]).every((n) => n === 1));
    assert.equal(a.stats.events, K);
    assert.ok(turns > 1, `the loop turned ${turns} times while the map was read`);
    await run.stop();
    const final = await run.finished();
    assert.equal(await run.snapshotAsync(), final);
  });
});
