/* In-kernel aggregations against the real kernel, cross-checked with bpftrace on the
 * same deterministic workloads. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { tracepoint, syscalls, sched, percentiles, percentileFromBuckets, compare, syscallName, InvalidArgumentError, liveCount } from "../bpf-lib/src/index.js";
import * as aq from "arquero";
import { workload, renamedWorkload } from "./helpers/workload.js";
import { bpftrace, parseMap } from "./helpers/bpftrace.js";
import { mergePerCpu } from "../bpf-lib/src/engine/values.js";
import { KeyLayout, PartSrc, isTruncated, MAX_KEY } from "../bpf-lib/src/engine/keys.js";

const rowsOf = (t: { objects(): object[] }) => t.objects() as Record<string, unknown>[];
const total = (t: { array(c: string): unknown }, c = "count") => Array.from(t.array(c) as ArrayLike<number>).reduce((s, x) => s + Number(x), 0);
const hasBpftrace = (() => {
  try {
    execFileSync("bpftrace", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe("aggregations", () => {
  it("counts per key exactly: N getppid() calls by comm and pid", async () => {
    const a = workload(["getppid", "1234"]);
    const b = workload(["getppid", "567"], { binary: renamedWorkload("bpfbook-agg-b") });
    const run = tracepoint("syscalls:sys_enter_getppid").count({ by: ["comm", "pid"] }).start();
    await Promise.all([a.go(), b.go()]);
    await run.stop();
    const t = await run.finished();
    const mine = rowsOf(t).filter((r) => r.pid === a.pid || r.pid === b.pid);
    assert.deepEqual(
      mine.sort((x, y) => Number(x.pid) - Number(y.pid)),
      [{ comm: "workload", pid: a.pid, count: 1234 }, { comm: "bpfbook-agg-b", pid: b.pid, count: 567 }].sort((x, y) => x.pid - y.pid),
    );
    assert.equal(t.stats.dropped, 0);
  });

  it("sum, min, max, avg of a field; filters in the kernel apply", async () => {
    const w = workload(["read", "/etc/hostname", "50"]);
    const run = tracepoint("syscalls:sys_enter_read", { where: { pid: w.pid } }).stats("count", { by: ["comm"] }).start();
    await w.go();
    await run.stop();
    const [r] = rowsOf(await run.finished());
    assert.equal(r.count, 50);
    assert.equal(r.sum, 50 * 64);
    assert.equal(r.min, 64);
    assert.equal(r.max, 64);
    assert.equal(r.avg, 64);
  });

  it("log2 and linear histograms put values in the right buckets", async () => {
    const w = workload(["read", "/etc/hostname", "10"]);
    const log2 = tracepoint("syscalls:sys_enter_read", { where: { pid: w.pid } }).hist("count").start();
    const lin = tracepoint("syscalls:sys_enter_read", { where: { pid: w.pid } }).lhist("count", { min: 0, max: 100, step: 10 }).start();
    await w.go();
    await Promise.all([log2.stop(), lin.stop()]);
    assert.deepEqual(rowsOf(await log2.finished()), [{ bucket: 7, low: 64, high: 128, count: 10 }]);
    assert.deepEqual(rowsOf(await lin.finished()), [{ bucket: 7, low: 60, high: 70, count: 10 }]);
  });

  it("keys by a user-space string (the filename of openat)", async () => {
    const path = `/tmp/bpfbook-agg-${process.pid}`;
    const w = workload(["openat", path, "9"]);
    const run = tracepoint("syscalls:sys_enter_openat", { where: { pid: w.pid } }).count({ by: ["filename"], stringBytes: 48 }).start();
    await w.go();
    await run.stop();
    assert.deepEqual(rowsOf(await run.finished()), [{ filename: path, count: 9 }]);
  });

  it("snapshots on an interval: one row per interval and key, totals add up", async () => {
    const w = workload(["sleep", "20", "30"]); // ~0.6 s of nanosleeps
    const run = tracepoint("syscalls:sys_enter_nanosleep", { where: { pid: w.pid } }).count({ by: ["pid"] }).start({ interval: 0.1 });
    await w.go();
    await run.stop();
    const t = await run.finished();
    assert.ok(t.stats.intervals >= 4, `${t.stats.intervals} intervals`);
    assert.equal(total(t), 30);
    assert.deepEqual(t.columnNames(), ["interval", "time", "pid", "count"]);
    const iv = Array.from(t.array("interval") as ArrayLike<number>);
    assert.ok(iv.every((v, i) => i === 0 || v >= iv[i - 1]), "ordered by interval");
  });

  it("a full map counts the events it could not hold: nothing silently lost", async () => {
    const run = tracepoint("raw_syscalls:sys_enter", { fields: [] }).count({ by: ["tid"], maxKeys: 2 }).start();
    const ws = [workload(["getppid", "10"]), workload(["getppid", "10"]), workload(["getppid", "10"]), workload(["getppid", "10"])];
    await Promise.all(ws.map((w) => w.go()));
    await run.stop();
    const t = await run.finished();
    assert.ok(t.numRows() <= 2);
    assert.ok(t.stats.dropped > 0, "events of keys beyond maxKeys are counted as dropped");
    assert.equal(total(t) + t.stats.dropped, t.stats.events);
  });

  it("syscall latency matches known sleep durations within histogram resolution", async () => {
    const w = workload(["sleep", "20", "15"]);
    const run = syscalls.latency({ by: ["syscall"], where: { pid: w.pid } }).start();
    await w.go();
    await run.stop();
    const t = await run.finished();
    const sleeps = t.filter((d: { syscall: string }) => d.syscall === "nanosleep");
    assert.equal(total(sleeps), 15);
    const [p] = rowsOf(percentiles(sleeps, [50]));
    // 20 ms lies in the log2 bucket [16.8 ms, 33.6 ms); the median must fall in that bucket.
    assert.ok((p.p50 as number) >= 2 ** 24 && (p.p50 as number) < 2 ** 25, `p50 ${p.p50} ns`);
    assert.equal(t.stats.unit, "ns");
  });

  it("run-queue latency pairs wakeups with switches, in the documented columns comm and pid", async () => {
    const run = sched.runqueueLatency({ by: ["comm", "pid"], where: { comm: "bpfbook-rq" } }).start();
    const w = workload(["sleep", "1", "30"], { binary: renamedWorkload("bpfbook-rq") });
    await w.go();
    await run.stop();
    const t = await run.finished();
    assert.deepEqual(t.columnNames(), ["comm", "pid", "bucket", "low", "high", "count"]);
    // the child's first run after fork is keyed by its comm before exec ("node")
    const mine = t.filter(aq.escape((d: { pid: number; comm: string }) => d.pid === w.pid && d.comm === "bpfbook-rq"));
    const n = total(mine);
    // Every wakeup after exec either pairs with the switch that runs the child (n), is
    // overwritten by a newer wakeup before any switch (evicted: the timer fired before the
    // child reached schedule(), as when the vCPU was stolen for over 1 ms, so the child woke
    // itself and never left the CPU), or is the last one, left pending when the child exits.
    // There is one wakeup per sleep, one more if readv blocked on the start gate, and one
    // per page fault that had to read (the machine's reclaim evicts page cache).
    const evicted = t.stats.evicted ?? 0;
    assert.ok(n + evicted >= 29 && n + evicted <= 33, `30 wakeups (a few more with page faults): ${n} paired + ${evicted} evicted`);
  });

  it("syscall numbers are named from the architecture's table", () => {
    assert.equal(syscallName(0), "read");
    assert.equal(syscallName(110), "getppid");
    assert.equal(syscallName(99999), "syscall_99999");
  });

  it("bad keys and values are refused up front", () => {
    assert.throws(() => tracepoint("syscalls:sys_enter_read").count({ by: ["nope" as "comm"] }), /has no field "nope"/);
    assert.throws(() => tracepoint("syscalls:sys_enter_read").aggregate({ hist: "log2" }), /needs a value/);
    assert.throws(() => tracepoint("syscalls:sys_enter_read").lhist("count", { min: 10, max: 0, step: 1 }), InvalidArgumentError);
    assert.throws(() => tracepoint("sched:sched_switch").count({ by: ["syscall"] }), /need a syscall tracepoint/);
    assert.equal(liveCount(), 0);
  });
});

describe("histogram helpers", () => {
  it("percentiles interpolate inside the bucket", () => {
    assert.equal(percentileFromBuckets([0, 10], [10, 20], [5, 5], 50), 10);
    assert.equal(percentileFromBuckets([0, 10], [10, 20], [5, 5], 75), 15);
    assert.equal(percentileFromBuckets([0], [10], [4], 100), 10);
  });
  it("compare joins two runs by key", () => {
    const before = aq.table({ comm: ["a", "b"], count: [10, 5] });
    const after = aq.table({ comm: ["a", "c"], count: [4, 7] });
    assert.deepEqual(rowsOf(compare(before, after)), [
      { comm: "c", before: 0, after: 7, delta: 7, ratio: Infinity },
      { comm: "b", before: 5, after: 0, delta: -5, ratio: 0 },
      { comm: "a", before: 10, after: 4, delta: -6, ratio: 0.4 },
    ]);
  });
});

describe("cross-check with bpftrace", { skip: hasBpftrace ? false : "bpftrace is not installed" }, () => {
  it("same counts per key for the same workload", async () => {
    const bt = await bpftrace(`tracepoint:syscalls:sys_enter_getppid /comm == "bpfbook-xa" || comm == "bpfbook-xb"/ { @[comm] = count(); }`);
    const run = tracepoint("syscalls:sys_enter_getppid").count({ by: ["comm"] }).start();
    const a = workload(["getppid", "3000"], { binary: renamedWorkload("bpfbook-xa") });
    const b = workload(["getppid", "1200"], { binary: renamedWorkload("bpfbook-xb") });
    await Promise.all([a.go(), b.go()]);
    await run.stop();
    const peer = parseMap(await bt.stop());
    const ours = new Map(rowsOf(await run.finished()).filter((r) => String(r.comm).startsWith("bpfbook-x")).map((r) => [String(r.comm), Number(r.count)]));
    assert.deepEqual(Object.fromEntries(peer), { "bpfbook-xa": 3000, "bpfbook-xb": 1200 });
    assert.deepEqual(Object.fromEntries(ours), Object.fromEntries(peer));
  });

  it("same log2 histogram of read sizes", async () => {
    const bt = await bpftrace(`tracepoint:syscalls:sys_enter_read /comm == "bpfbook-xh"/ { @ = hist(args->count); }`);
    const run = tracepoint("syscalls:sys_enter_read", { where: { comm: "bpfbook-xh" } }).hist("count").start();
    const w = workload(["read", "/etc/hostname", "40"], { binary: renamedWorkload("bpfbook-xh") });
    await w.go();
    await run.stop();
    const out = await bt.stop();
    // bpftrace prints "[64, 128)   40 |@@@@|": the same bucket, the same count
    const m = /\[64, 128\)\s+(\d+)/.exec(out);
    assert.ok(m, out);
    const ours = rowsOf(await run.finished()).filter((r) => r.low === 64);
    assert.equal(ours[0]?.count, Number(m[1]));
  });
});

describe("latency as events, and errors by name", () => {
  it("streams one row per matched pair with its latency", async () => {
    const w = workload(["sleep", "5", "12"]);
    const trace = syscalls.latency({ where: { pid: w.pid } }).startEvents();
    await w.go();
    const t = await trace.table();
    const sleeps = t.filter((d: { latency: number }) => d.latency >= 5e6);
    assert.equal(sleeps.numRows(), 12, "12 nanosleeps of 5 ms");
    assert.ok((sleeps.array("latency") as ArrayLike<number>)[0] < 50e6);
    assert.equal(t.stats.received + t.stats.lost, t.stats.produced);
    assert.equal(liveCount(), 0);
  });

  it("counts failed syscalls with errno names", async () => {
    // The workload stops at its first failed open (exit 1): exactly one ENOENT.
    const w = workload(["openat", "/nonexistent-dir/x", "7"]);
    const run = syscalls.errors({ by: ["syscall"], where: { pid: w.pid } }).start();
    assert.equal(await w.go(), 1);
    await run.stop();
    const rows = rowsOf(await run.finished()).filter((r) => r.syscall === "openat");
    assert.deepEqual(rows, [{ syscall: "openat", ret: -2, count: 1, errno: "ENOENT" }]);
  });
});

describe("aggregation values and keys (pure)", () => {
  const slots = (...cpus: [bigint, bigint, bigint, bigint][]) => {
    const b = new Uint8Array(cpus.length * 32);
    const dv = new DataView(b.buffer);
    cpus.forEach((v, c) => v.forEach((x, k) => dv.setBigInt64(c * 32 + k * 8, x, true)));
    return b;
  };

  it("merges per-CPU slots, leaving out CPUs that counted nothing", () => {
    assert.deepEqual(mergePerCpu(slots([0n, 0n, 0n, 0n], [2n, -10n, -7n, -3n], [1n, -1n, -1n, -1n]), 3), { count: 3, sum: -11, min: -7, max: -1 });
  });

  it("a total beyond 2^53 is an exact bigint, a small one a number", () => {
    const big = 2n ** 53n + 1n;
    assert.deepEqual(mergePerCpu(slots([1n, big, big, big], [1n, 2n, 2n, 2n]), 2), { count: 2, sum: big + 2n, min: 2, max: big });
  });

  it("string parts: only a string as long as its slot counts as truncated", () => {
    const k = new KeyLayout(["filename"]);
    k.string("filename", PartSrc.ustr, 0, 16);
    const [p] = k.finish(false).parts;
    assert.equal(isTruncated(p, "a".repeat(15) + "…"), true);
    assert.equal(isTruncated(p, "short…"), false);
    assert.throws(() => new KeyLayout(["f"]).string("f", PartSrc.ustr, 0, MAX_KEY), /8 to 120 bytes/);
  });
});
