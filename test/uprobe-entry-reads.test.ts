/* Reads at the entry of a uprobe carried to its return, against the real kernel: the
 * gated workload's `renames N` mode calls bpfbook_rename(buf) with buf = "old-<i>",
 * and the function rewrites it to "new-<i>" before it returns. A read at entry must
 * give the old string on the return's row, a read at return the new one; bpftrace
 * does the same with @s[tid] = str(arg0) at entry and str(@p[tid]) at return. */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { liveCount, InvalidArgumentError } from "../bpf-lib/src/index.js";
import { uprobe, uretprobe } from "../bpf-lib/src/probes/uprobe/probe.js";
import { workload, programIdsOf, WORKLOAD } from "./helpers/workload.js";
import { bpftrace, parseMap } from "./helpers/bpftrace.js";

const strs = (t: { array(c: string): unknown }, c: string) => Array.from(t.array(c) as ArrayLike<string>);
const nums = (t: { array(c: string): unknown }, c: string) => Array.from(t.array(c) as ArrayLike<number>, Number);
const seq = <T = string>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const programsBefore = programIdsOf();

after(() => {
  assert.deepEqual(programIdsOf(), programsBefore, "no BPF program of this process is left loaded");
  assert.equal(liveCount(), 0, "nothing is left tracked as live");
});

describe("uprobe reads at entry, carried to the return", () => {
  it("a uretprobe's row has the argument's string as it was at entry, and at: \"return\" the changed one: exact for all N", async () => {
    const N = 400;
    const w = workload(["renames", String(N)]);
    const probe = uretprobe(WORKLOAD, "bpfbook_rename", { pid: w.pid, retType: "size_t", read: { before: { from: "arg0", string: 16 }, after: { from: "arg0", string: 16, at: "return" } } });
    assert.deepEqual(probe.plan().readsAtEntry, ["before"]);
    assert.deepEqual(probe.plan().programs, ["uprobe", "uretprobe"]);
    const t = probe.start();
    assert.equal(await w.go(), 0);
    const r = await t.table();
    assert.deepEqual(strs(r, "before"), seq(N, (i) => `old-${i}`));
    assert.deepEqual(strs(r, "after"), seq(N, (i) => `new-${i}`));
    assert.deepEqual(nums(r, "ret"), seq(N, (i) => `new-${i}`).map((s) => s.length));
    assert.equal(r.stats.readFailed ?? 0, 0);
    assert.equal(r.stats.unmatched ?? 0, 0);
    assert.equal(r.stats.produced, N);
  });

  it("a read from the current task at entry needs no argument: the return pairs with its entry for it alone", async () => {
    const N = 50;
    const w = workload(["renames", String(N)]);
    const probe = uretprobe(WORKLOAD, "bpfbook_rename", { pid: w.pid, read: { pcomm: { from: "current", path: "real_parent.comm", at: "entry" } } });
    assert.deepEqual(probe.plan().programs, ["uprobe", "uretprobe"]);
    const t = probe.start();
    await w.go();
    const r = await t.table();
    assert.equal(r.numRows(), N);
    assert.deepEqual(new Set(strs(r, "pcomm")), new Set([readFileSync("/proc/self/comm", "utf8").trim()]), "the parent's comm, this process's");
  });

  it("keys and filters use the entry's string; counts match bpftrace's @s[tid] = str(arg0) at entry", async () => {
    const N = 200;
    const w = workload(["renames", String(N)]);
    const fn = `${WORKLOAD}:bpfbook_rename`;
    const bt = await bpftrace(
      `uprobe:${fn} /pid == ${w.pid}/ { @s[tid] = str(arg0); @p[tid] = arg0; } ` +
      `uretprobe:${fn} /pid == ${w.pid}/ { @e[@s[tid]] = count(); @r[str(@p[tid])] = count(); delete(@s[tid]); delete(@p[tid]); }`,
    );
    const byEntry = uretprobe(WORKLOAD, "bpfbook_rename", { pid: w.pid, read: { s: { from: "arg0", string: 16 } } }).count({ by: ["s"] as never }).start();
    const byReturn = uretprobe(WORKLOAD, "bpfbook_rename", { pid: w.pid, read: { s: { from: "arg0", string: 16, at: "return" } } }).count({ by: ["s"] as never }).start();
    const only7 = uretprobe(WORKLOAD, "bpfbook_rename", { pid: w.pid, read: { before: { from: "arg0", string: 16 }, after: { from: "arg0", string: 16, at: "return" } }, where: { before: "old-7" } }).start();
    // an entry probe's latency: its reads are the entry's
    const lat = uprobe(WORKLOAD, "bpfbook_rename", { pid: w.pid, read: { s: { from: "arg0", string: 16 } } }).latency({ by: ["s"] as never, hist: "stats" }).start();
    await w.go();
    await Promise.all([byEntry.stop(), byReturn.stop(), lat.stop()]);
    const [ke, kr, f, kl] = [await byEntry.finished(), await byReturn.finished(), await only7.table(), await lat.finished()];
    const out = await bt.stop();
    const peerE = parseMap(out, "e");
    const peerR = parseMap(out, "r");
    const counts = (t: typeof ke) => new Map((t.objects() as { s: string; count: number }[]).map((x) => [x.s, x.count]));
    assert.deepEqual(counts(ke), new Map(seq(N, (i) => [`old-${i}`, 1] as [string, number])));
    assert.deepEqual(counts(kr), new Map(seq(N, (i) => [`new-${i}`, 1] as [string, number])));
    assert.deepEqual(counts(kl), new Map(seq(N, (i) => [`old-${i}`, 1] as [string, number])));
    assert.deepEqual(peerE, counts(ke), "bpftrace counted the entry's strings as often");
    assert.deepEqual(peerR, counts(kr), "bpftrace counted the return's strings as often");
    assert.deepEqual(strs(f, "before"), ["old-7"]);
    assert.deepEqual(strs(f, "after"), ["new-7"]);
  });

  it("the most a start carries: 16 reads of 64 bytes at entry (1,024 bytes), streamed and keyed", async () => {
    const N = 100;
    const w = workload(["renames", String(N)]);
    const read = Object.fromEntries(seq(16, (k) => [`s${k}`, { from: "arg0", string: 64 }] as const));
    const probe = uretprobe(WORKLOAD, "bpfbook_rename", { pid: w.pid, read });
    assert.deepEqual(probe.plan().readsAtEntry, Object.keys(read));
    const t = probe.start();
    const agg = uretprobe(WORKLOAD, "bpfbook_rename", { pid: w.pid, read }).count({ by: ["s0", "s15"] as never }).start();
    await w.go();
    await agg.stop();
    const [r, k] = [await t.table(), await agg.finished()];
    for (const c of Object.keys(read)) assert.deepEqual(strs(r, c), seq(N, (i) => `old-${i}`), c);
    assert.equal(r.stats.startDropped ?? 0, 0);
    assert.deepEqual((k.objects() as { s0: string; s15: string; count: number }[]).map((x) => `${x.s0} ${x.s15} ${x.count}`).sort(), seq(N, (i) => `old-${i} old-${i} 1`).sort());
  });

  it("bad `at` values fail up front with named errors", () => {
    assert.throws(() => uretprobe(WORKLOAD, "bpfbook_rename", { read: { s: { from: "arg0", string: 16, at: "exit" as never } } }), (e: unknown) => e instanceof InvalidArgumentError && /read\.s\.at/.test((e as Error).message) && /"entry"/.test((e as Error).message));
    assert.throws(() => uretprobe(WORKLOAD, "bpfbook_line", { read: { s: { from: "ret", string: 16, at: "entry" } } }), /uses the return value.*at: "return"/);
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_rename", { read: { s: { from: "arg0", string: 16, at: "return" } } }), /needs a return probe/);
    assert.equal(liveCount(), 0);
  });
});
