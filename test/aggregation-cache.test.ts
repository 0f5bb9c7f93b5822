/* The per-CPU front cache of aggregations (bpf/agg.h agg_cache, engine/aggregation-cache.ts):
 * hot keys count in a CPU's slot, the rest in the hash map, and user space adds the
 * two. More keys than slots, on both CPUs, must still count exactly, whole-run and per
 * interval, and maxKeys must still bound the keys. The workload runs under its own
 * name, so other processes' getppid() calls stay out. */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tracepoint } from "../bpf-lib/src/index.js";
import { packageRoot } from "../bpf-lib/src/paths.js";

const COMM = "bpfbook-kcache";
const PROCS = 24; // three times the slots of one CPU's cache
let dir = "";
let bin = "";

/** Runs PROCS workloads one after the other, alternating CPUs; process i calls getppid() 100 + i times. Returns the pids in order. */
function workloads(): number[] {
  const pids: number[] = [];
  for (let i = 0; i < PROCS; i++) {
    const r = spawnSync("taskset", ["-c", String(i % 2), "sh", "-c", `echo $$; exec ${bin} --now getppid ${100 + i}`], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    pids.push(Number(r.stdout.trim().split("\n")[0]));
  }
  return pids;
}

describe("aggregation front cache", () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "bpfbook-kcache-"));
    bin = join(dir, COMM);
    copyFileSync(join(packageRoot(), "test", "fixtures", "build", "workload"), bin);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("more keys than slots, on both CPUs: every key's count exact", async () => {
    const run = tracepoint("syscalls:sys_enter_getppid", { where: { comm: COMM } }).count({ by: ["pid"] }).start();
    const pids = workloads();
    await run.stop();
    const t = await run.finished();
    const got = new Map((t.objects() as { pid: number; count: number }[]).map((r) => [r.pid, r.count]));
    assert.deepEqual([...got.keys()].sort((a, b) => a - b), [...pids].sort((a, b) => a - b));
    pids.forEach((p, i) => assert.equal(got.get(p), 100 + i, `pid ${p}`));
    assert.equal(t.stats.events, pids.reduce((s, _p, i) => s + 100 + i, 0));
    assert.equal(t.stats.dropped, 0);
  });

  it("per interval: each key's counts add up exactly across the flips", async () => {
    const run = tracepoint("syscalls:sys_enter_getppid", { where: { comm: COMM } }).count({ by: ["pid"] }).start({ interval: 0.05 });
    const pids = workloads();
    await run.stop();
    const rows = (await run.finished()).objects() as { interval: number; pid: number; count: number }[];
    const sum = new Map<number, number>();
    for (const r of rows) sum.set(r.pid, (sum.get(r.pid) ?? 0) + r.count);
    pids.forEach((p, i) => assert.equal(sum.get(p), 100 + i, `pid ${p}`));
    // one row per key and interval: the cache's share and the map's are one row
    assert.equal(new Set(rows.map((r) => `${r.interval}/${r.pid}`)).size, rows.length);
  });

  it("maxKeys still bounds the keys: the cache holds only keys the map holds", async () => {
    const run = tracepoint("syscalls:sys_enter_getppid", { where: { comm: COMM } }).count({ by: ["pid"], maxKeys: 3 }).start();
    const pids = workloads();
    await run.stop();
    const t = await run.finished();
    const rows = t.objects() as { pid: number; count: number }[];
    assert.equal(rows.length, 3);
    rows.forEach((r) => assert.equal(r.count, 100 + pids.indexOf(r.pid), `pid ${r.pid}`));
    assert.equal(t.stats.events, pids.reduce((s, _p, i) => s + 100 + i, 0));
    assert.equal(t.stats.dropped + rows.reduce((s, r) => s + r.count, 0), t.stats.events);
  });
});
