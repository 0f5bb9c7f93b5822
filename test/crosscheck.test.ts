/* Cross-checks every aggregation number against ground truth the workload's own
 * formula gives (test/fixtures/workload.c) and, where bpftrace can express it, against
 * bpftrace on the same workload in the same run. The workloads run half on CPU 0 and
 * half on CPU 1, so every key is merged across CPUs. Exact equality throughout. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { anyTracepoint, uprobe, uretprobe, type AggTable } from "../bpf-lib/src/index.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { workload, renamedWorkload, WORKLOAD } from "./helpers/workload.js";
import { bpftrace, parseMap } from "./helpers/bpftrace.js";

type Row = Record<string, unknown>;
const rowsOf = (t: { objects(): object[] }) => t.objects() as Row[];

interface Totals { count: number; sum: number; min: number; max: number }
function totals(values: number[]): Totals {
  return { count: values.length, sum: values.reduce((s, x) => s + x, 0), min: Math.min(...values), max: Math.max(...values) };
}
function statsOf(r: Row): Totals & { avg: number } {
  return { count: Number(r.count), sum: Number(r.sum), min: Number(r.min), max: Number(r.max), avg: Number(r.avg) };
}
const withAvg = (t: Totals) => ({ ...t, avg: t.sum / t.count });
const tally = <K,>(xs: K[]) => {
  const m = new Map<K, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
};
const sorted = (m: Map<number, number>) => [...m].sort((a, b) => a[0] - b[0]);

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/* `workload signals N`: what the i-th rt_sigqueueinfo sends (see workload.c). */
const SIGNALS = 400;
const signal = (i: number) => ({ sig: i % 2 ? 28 : 23, errno: 1 + ((i * 37) % 1000), code: -1 - (i % 5) });
/* Filters keep `code < 0`: the workload's exit also sends SIGCHLD to its parent (code CLD_EXITED, 1). */
const sent = Array.from({ length: SIGNALS }, (_, i) => signal(i));

describe("cross-check: signal:signal_generate (int fields at unaligned offsets, both CPUs)", () => {
  it("stats of a 4-byte signed field at an unaligned offset, by another int field, equal the workload's and bpftrace's", async () => {
    const w = workload(["signals", String(SIGNALS)]);
    const bt = await bpftrace(
      `tracepoint:signal:signal_generate /pid == ${w.pid} && args->code < 0/ { @n[args->sig] = count(); @s[args->sig] = sum(args->errno); @lo[args->sig] = min(args->errno); @hi[args->sig] = max(args->errno); }`,
    );
    const run = anyTracepoint("signal:signal_generate", { where: { pid: w.pid, code: { lt: 0 } } }).stats("errno", { by: ["sig"] }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const out = await bt.stop();
    const ours = Object.fromEntries(rowsOf(await run.finished()).map((r) => [String(r.sig), statsOf(r)]));
    const truth = Object.fromEntries([23, 28].map((s) => [String(s), withAvg(totals(sent.filter((x) => x.sig === s).map((x) => x.errno)))]));
    assert.deepEqual(ours, truth);
    const [n, s, lo, hi] = ["n", "s", "lo", "hi"].map((m) => parseMap(out, m));
    for (const sig of ["23", "28"]) {
      assert.deepEqual({ count: n.get(sig), sum: s.get(sig), min: lo.get(sig), max: hi.get(sig) }, { count: truth[sig].count, sum: truth[sig].sum, min: truth[sig].min, max: truth[sig].max });
    }
  });

  it("min and max of negative values merged across CPUs (max is not 0)", async () => {
    const w = workload(["signals", String(SIGNALS)]);
    const run = anyTracepoint("signal:signal_generate", { where: { pid: w.pid, code: { lt: 0 } } }).stats("code", { by: ["pid", "comm"] }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const rows = rowsOf(await run.finished());
    assert.equal(rows.length, 1);
    assert.deepEqual({ pid: rows[0].pid, comm: rows[0].comm, ...statsOf(rows[0]) }, { pid: w.pid, comm: "workload", ...withAvg(totals(sent.map((x) => x.code))) });
  });

  it("a 4-byte field at offset 36 (result) and the target pid at offset 28 as key", async () => {
    const w = workload(["signals", String(SIGNALS)]);
    const run = anyTracepoint("signal:signal_generate", { where: { pid: w.pid, code: { lt: 0 } } }).stats("result", { by: ["args_pid"] }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    // ignored signals: TRACE_SIGNAL_IGNORED (1), every one
    assert.deepEqual(rowsOf(await run.finished()).map((r) => ({ pid: r.args_pid, ...statsOf(r) })), [{ pid: w.pid, count: SIGNALS, sum: SIGNALS, min: 1, max: 1, avg: 1 }]);
  });

  it("log2 and linear histograms of unaligned signed values equal the workload's buckets and bpftrace's", async () => {
    const w = workload(["signals", String(SIGNALS)]);
    const bt = await bpftrace(`tracepoint:signal:signal_generate /pid == ${w.pid} && args->code < 0/ { @h = hist(args->errno); }`);
    const tp = () => anyTracepoint("signal:signal_generate", { where: { pid: w.pid, code: { lt: 0 } } });
    const log2 = tp().hist("errno").start();
    const lin = tp().lhist("code", { min: -6, max: 0, step: 1 }).start();
    assert.equal(await w.go(), 0);
    await Promise.all([log2.stop(), lin.stop()]);
    const out = await bt.stop();
    const want2 = new Map<number, number>();
    for (const x of sent) {
      const low = 2 ** Math.floor(Math.log2(x.errno));
      want2.set(low, (want2.get(low) ?? 0) + 1);
    }
    const got2 = new Map(rowsOf(await log2.finished()).map((r) => [Number(r.low), Number(r.count)]));
    assert.deepEqual([...got2].sort((a, b) => a[0] - b[0]), [...want2].sort((a, b) => a[0] - b[0]));
    // bpftrace: "[256, 512)   N |@@@|", empty buckets between included; single values print as "[1]"
    const peer = new Map<number, number>();
    for (const m of out.matchAll(/^\[(\d+)(?:, [^)]*\))?\]?\s+(\d+) \|/gm)) if (m[2] !== "0") peer.set(Number(m[1]), Number(m[2]));
    assert.deepEqual([...peer].sort((a, b) => a[0] - b[0]), [...want2].sort((a, b) => a[0] - b[0]));
    const gotLin = rowsOf(await lin.finished()).map((r) => [Number(r.low), Number(r.count)]);
    const wantLin = [-5, -4, -3, -2, -1].map((c) => [c, sent.filter((x) => x.code === c).length]);
    assert.deepEqual(gotLin, wantLin);
  });
});

describe("cross-check: keys of every kind", () => {
  it("cpu and tid keys: the workload's halves on CPU 0 and CPU 1, as bpftrace counts them", async () => {
    const w = workload(["signals", String(SIGNALS)]);
    const bt = await bpftrace(`tracepoint:signal:signal_generate /pid == ${w.pid} && args->code < 0/ { @[cpu, tid] = count(); }`);
    const run = anyTracepoint("signal:signal_generate", { where: { pid: w.pid, code: { lt: 0 } } }).count({ by: ["cpu", "tid"] }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const peer = parseMap(await bt.stop());
    const rows = rowsOf(await run.finished());
    assert.deepEqual(rows, [{ cpu: 0, tid: w.pid, count: SIGNALS / 2 }, { cpu: 1, tid: w.pid, count: SIGNALS / 2 }]);
    assert.deepEqual(Object.fromEntries(peer), { [`0,${w.pid}`]: SIGNALS / 2, [`1,${w.pid}`]: SIGNALS / 2 });
  });

  it("a char[16] field key holds a 15-character name whole", async () => {
    const name = "bpfbook-x15char";
    const w = workload(["signals", "40"], { binary: renamedWorkload(name) });
    const run = anyTracepoint("signal:signal_generate", { where: { pid: w.pid, code: { lt: 0 } } }).count({ by: ["args_comm", "comm"] }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    assert.deepEqual(rowsOf(await run.finished()), [{ args_comm: name, comm: name, count: 40 }]);
  });
});

describe("cross-check: 1-byte and 2-byte fields", () => {
  it("filelock:fcntl_setlk: a u8 (type) as value and key, 8-byte signed fl_start/fl_end, equal to the workload's and bpftrace's", async () => {
    const n = 300;
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-locks-"));
    const file = join(dir, "f");
    writeFileSync(file, "");
    try {
      const w = workload(["locks", file, String(n)]);
      const bt = await bpftrace(`tracepoint:filelock:fcntl_setlk /pid == ${w.pid}/ { @[args->type] = count(); @s = sum(args->type); }`);
      const tp = () => anyTracepoint("filelock:fcntl_setlk", { where: { pid: w.pid } });
      const byType = tp().count({ by: ["type"] }).start();
      const type = tp().stats("type").start();
      const lin = tp().lhist("type", { min: 0, max: 3, step: 1 }).start();
      const start = tp().stats("fl_start").start();
      const end = tp().stats("fl_end").start();
      assert.equal(await w.go(), 0);
      await Promise.all([byType, type, lin, start, end].map((r) => r.stop()));
      const out = await bt.stop();
      const types = Array.from({ length: n }, (_, i) => i % 3);
      const counts = tally(types);
      assert.deepEqual(rowsOf(await byType.finished()).map((r) => [r.type, r.count]), sorted(counts));
      assert.deepEqual(rowsOf(await type.finished()).map(statsOf), [withAvg(totals(types))]);
      assert.deepEqual(rowsOf(await lin.finished()).map((r) => [r.low, r.count]), sorted(counts));
      assert.deepEqual(rowsOf(await start.finished()).map(statsOf), [withAvg(totals(Array.from({ length: n }, (_, i) => i)))]);
      assert.deepEqual(rowsOf(await end.finished()).map(statsOf), [withAvg(totals(Array.from({ length: n }, (_, i) => i + (i % 4))))]);
      const peer = parseMap(out, "");
      assert.deepEqual(sorted(new Map([...peer].filter(([k]) => k !== "").map(([k, v]) => [Number(k), v]))), sorted(counts));
      assert.equal(parseMap(out, "s").get(""), totals(types).sum);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("task:task_rename: a signed short (oom_score_adj) at offset 44 and a char[16] key at offset 28, equal to the workload's and bpftrace's", async () => {
    const n = 200;
    // 1 .. 996: lowering oom_score_adj below where it started needs CAP_SYS_RESOURCE, which tests may lack
    const [base, step] = [1, 5];
    const w = workload(["oomadj", String(n), String(base), String(step)]);
    const bt = await bpftrace(`tracepoint:task:task_rename /pid == ${w.pid}/ { @n = count(); @s = sum(args->oom_score_adj); @lo = min(args->oom_score_adj); @hi = max(args->oom_score_adj); }`);
    const tp = () => anyTracepoint("task:task_rename", { where: { pid: w.pid } });
    const st = tp().stats("oom_score_adj", { by: ["newcomm"] }).start();
    const lin = tp().lhist("oom_score_adj", { min: -1000, max: 1000, step: 500 }).start();
    assert.equal(await w.go(), 0);
    await Promise.all([st.stop(), lin.stop()]);
    const out = await bt.stop();
    const values = Array.from({ length: n }, (_, i) => base + i * step);
    const truth = withAvg(totals(values));
    assert.deepEqual(rowsOf(await st.finished()).map((r) => ({ comm: r.newcomm, ...statsOf(r) })), [{ comm: "bpfbook-oom", ...truth }]);
    const peer = { count: parseMap(out, "n").get(""), sum: parseMap(out, "s").get(""), min: parseMap(out, "lo").get(""), max: parseMap(out, "hi").get("") };
    assert.deepEqual(peer, { count: truth.count, sum: truth.sum, min: truth.min, max: truth.max });
    const buckets = tally(values.map((v) => -1000 + Math.floor((v + 1000) / 500) * 500));
    assert.deepEqual(rowsOf(await lin.finished()).map((r) => [r.low, r.count]), sorted(buckets));
  });

  it("sock:inet_sock_set_state: u16 ports at offsets 24 and 26, family at 28, equal to the workload's and bpftrace's", async () => {
    const n = 100;
    const port = await freePort();
    const w = workload(["tcp", String(port), String(n)]);
    // TCP_SYN_SENT (2): one per connect(), in the connecting process
    const bt = await bpftrace(`tracepoint:sock:inet_sock_set_state /pid == ${w.pid} && args->newstate == 2/ { @n = count(); @s = sum(args->sport); @lo = min(args->sport); @hi = max(args->sport); }`);
    const tp = () => anyTracepoint("sock:inet_sock_set_state", { where: { pid: w.pid, newstate: 2 } });
    const dport = tp().stats("dport", { by: ["dport", "family"] }).start();
    const sport = tp().stats("sport").start();
    assert.equal(await w.go(), 0);
    await Promise.all([dport.stop(), sport.stop()]);
    const out = await bt.stop();
    assert.deepEqual(rowsOf(await dport.finished()), [{ dport: port, family: 2, count: n, sum: n * port, min: port, max: port, avg: port }]);
    const [s] = rowsOf(await sport.finished()).map(statsOf);
    const peer = { count: parseMap(out, "n").get(""), sum: parseMap(out, "s").get(""), min: parseMap(out, "lo").get(""), max: parseMap(out, "hi").get("") };
    assert.deepEqual({ count: s.count, sum: s.sum, min: s.min, max: s.max }, peer);
    assert.equal(s.count, n);
  });
});

describe("cross-check: 8-byte signed values (lseek offsets) on both CPUs", () => {
  it("sum/min/max/avg of negative and positive 64-bit values", async () => {
    const n = 300;
    const base = -1_000_000_007;
    const step = 6_700_417;
    const w = workload(["seek", String(n), String(base), String(step)]);
    const run = anyTracepoint("syscalls:sys_enter_lseek", { where: { pid: w.pid } }).stats("offset", { by: ["comm"] }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const rows = rowsOf(await run.finished());
    const truth = withAvg(totals(Array.from({ length: n }, (_, i) => base + i * step)));
    assert.deepEqual(rows.map((r) => ({ comm: r.comm, ...statsOf(r) })), [{ comm: "workload", ...truth }]);
  });
});

describe("cross-check: sched:sched_switch next_prio (4 bytes at offset 60)", () => {
  it("is the niced workload's priority, not its pid", async () => {
    const w = workload(["-n", "7", WORKLOAD, "sleep", "1", "20"], { binary: "nice" });
    const run = anyTracepoint("sched:sched_switch", { where: { next_pid: w.pid } }).stats("next_prio", { by: ["next_pid"] }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const rows = rowsOf(await run.finished());
    assert.equal(rows.length, 1);
    assert.equal(rows[0].next_pid, w.pid);
    assert.ok(Number(rows[0].count) >= 20, `at least one switch-in per sleep, got ${rows[0].count}`);
    assert.deepEqual([rows[0].min, rows[0].max], [127, 127]);
  });
});

describe("cross-check: 64-bit values beyond 2^53 stay exact", () => {
  const base = 2n ** 53n + 1n; // the first integer a double cannot hold
  it("sum, min and max come back as exact bigints, and stats say which columns", async () => {
    const n = 300;
    const w = workload(["seek", String(n), String(base), "3"]);
    const run = anyTracepoint("syscalls:sys_enter_lseek", { where: { pid: w.pid } }).stats("offset").start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const t = (await run.finished()) as AggTable;
    const values = Array.from({ length: n }, (_, i) => base + 3n * BigInt(i));
    const sum = values.reduce((s, x) => s + x, 0n);
    assert.deepEqual(rowsOf(t), [{ count: n, sum, min: base, max: base + 3n * BigInt(n - 1), avg: Number(sum) / n }]);
    assert.deepEqual(t.stats.bigintColumns, ["sum", "min", "max"]);
  });

  it("8-byte keys beyond 2^53 are distinct bigints, not rounded together", async () => {
    const w = workload(["seek", "20", String(base), "1"]);
    const run = anyTracepoint("syscalls:sys_enter_lseek", { where: { pid: w.pid } }).count({ by: ["offset"] }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const t = (await run.finished()) as AggTable;
    assert.deepEqual(rowsOf(t), Array.from({ length: 20 }, (_, i) => ({ offset: base + BigInt(i), count: 1 })));
    assert.deepEqual(t.stats.bigintColumns, ["offset"]);
  });
});

describe("cross-check: long string keys are never merged silently", () => {
  it("ten distinct 100-byte paths: cut at the default slot they are one marked, counted key; with stringBytes 120 ten whole keys", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-paths-"));
    try {
      const paths = Array.from({ length: 10 }, (_, i) => join(dir, "a".repeat(100 - dir.length - 5) + String(i).padStart(4, "0")));
      const w = workload(["paths", dir, "10", "100"]);
      const tp = () => anyTracepoint("syscalls:sys_enter_openat", { where: { pid: w.pid } });
      let specs;
      try {
        specs = [tp().count({ by: ["filename"] }), tp().count({ by: ["filename"], stringBytes: 120 })];
      } catch (e) {
        w.child.kill();
        throw e;
      }
      const [cut, whole] = specs.map((a) => a.start());
      assert.equal(await w.go(), 0);
      await Promise.all([cut.stop(), whole.stop()]);
      const c = (await cut.finished()) as AggTable;
      assert.deepEqual(rowsOf(c), [{ filename: paths[0].slice(0, 31) + "…", count: 10 }]);
      assert.equal(c.stats.truncated, 1);
      const wt = (await whole.finished()) as AggTable;
      assert.deepEqual(rowsOf(wt), paths.map((filename) => ({ filename, count: 1 })));
      assert.equal(wt.stats.truncated, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("cross-check: uprobes on both CPUs", () => {
  it("stats of a negative int argument and return value merge across CPUs (max is not 0)", async () => {
    const n = 200;
    const w = workload(["callcpus", String(n), "-1", "-1"]);
    const arg = uprobe(WORKLOAD, "bpfbook_target", { pid: w.pid, args: 1, argTypes: ["int"] }).stats("arg0", { by: ["pid"] }).start();
    const ret = uretprobe(WORKLOAD, "bpfbook_target", { pid: w.pid, retType: "int" }).stats("ret", { by: ["cpu"] }).start();
    assert.equal(await w.go(), 0);
    await Promise.all([arg.stop(), ret.stop()]);
    const args = Array.from({ length: n }, (_, i) => -1 - i);
    assert.deepEqual(rowsOf(await arg.finished()).map((r) => ({ pid: r.pid, ...statsOf(r) })), [{ pid: w.pid, ...withAvg(totals(args)) }]);
    // bpfbook_target returns its argument + 1; the first half ran on CPU 0
    const rets = args.map((a) => a + 1);
    assert.deepEqual(rowsOf(await ret.finished()).map((r) => ({ cpu: r.cpu, ...statsOf(r) })), [
      { cpu: 0, ...withAvg(totals(rets.slice(0, n / 2))) },
      { cpu: 1, ...withAvg(totals(rets.slice(n / 2))) },
    ]);
  });
});
