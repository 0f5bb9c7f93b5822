/* pair(): starts joined with their ends in the kernel, with start fields carried across.
 * Workloads of known counts (openat of an existing and of a missing file, sleeps, getppid
 * loops, direct writes to a loop device), bpftrace side by side for opensnoop. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { anyTracepoint, block, InvalidArgumentError, pair, tracepoint, UnknownFieldError } from "../bpf-lib/src/index.js";
import { workload } from "./helpers/workload.js";
import { bpftrace } from "./helpers/bpftrace.js";
import { statsParts, tableStats } from "../kernel/display/table-stats.js";
import { makeLoop, removeLoop } from "./helpers/loop.js";

const rowsOf = (t: { objects(): object[] }) => t.objects() as Record<string, unknown>[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ENOENT = 2;

const dir = mkdtempSync(join(tmpdir(), "bpfbook-pair-"));
const existing = join(dir, "present.txt");
writeFileSync(existing, "x");
const missing = join(dir, "absent.txt");

function opensnoop(pid: number) {
  return pair(
    tracepoint("syscalls:sys_enter_openat", { fields: ["filename", "flags"], where: { pid } }),
    tracepoint("syscalls:sys_exit_openat", { fields: ["ret"], where: { pid } }),
  );
}

/** The same join in bpftrace (which reads the string at exit; we read it at entry). */
function bpftraceOpensnoop(pid: number) {
  return bpftrace(
    `tracepoint:syscalls:sys_enter_openat /pid == ${pid}/ { @f[tid] = args->filename } ` +
      `tracepoint:syscalls:sys_exit_openat /@f[tid]/ { printf("%s %d\\n", str(@f[tid]), args->ret); delete(@f[tid]); }`,
  );
}

describe("pair(): opensnoop in one call", { concurrency: false }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [label, args, n, path] of [
    ["an existing file", ["openat", existing, "20"], 20, existing],
    ["a missing file (ENOENT)", ["openmissing", missing, "7"], 7, missing],
  ] as const) {
    it(`on ${label}: one row per open with the filename from entry, ret from exit, latency > 0; equal to bpftrace's rows`, async () => {
      const w = workload([...args]);
      const bt = await bpftraceOpensnoop(w.pid);
      const trace = opensnoop(w.pid).start();
      try {
        assert.equal(await w.go(), 0);
        await sleep(200);
      } finally {
        await trace.stop();
      }
      const out = await bt.stop();
      const t = await trace.table();
      const rows = rowsOf(t);
      assert.equal(rows.length, n);
      for (const r of rows) {
        assert.equal(r.filename, path);
        assert.equal(r.pid, w.pid);
        assert.ok((r.latency as number) > 0, `latency ${r.latency}`);
        if (path === missing) {
          assert.equal(r.ret, -ENOENT);
          assert.equal(r.flags, 0); // O_RDONLY
        } else {
          assert.ok((r.ret as number) >= 0, `fd ${r.ret}`);
          assert.equal(r.flags, 0o100); // O_RDONLY | O_CREAT
        }
      }
      const theirs = out.split("\n").filter((l) => l.startsWith("/"));
      assert.deepEqual(rows.map((r) => `${r.filename} ${r.ret}`), theirs);
      assert.deepEqual({ unmatched: t.stats.unmatched, evicted: t.stats.evicted, startDropped: t.stats.startDropped, lost: t.stats.lost }, { unmatched: 0, evicted: 0, startDropped: 0, lost: 0 });
    });
  }

  it("carries the starting task's pid and comm as start_pid, start_comm", async () => {
    const w = workload(["openat", existing, "3"]);
    const p = pair(
      tracepoint("syscalls:sys_enter_openat", { fields: ["filename"], where: { pid: w.pid } }),
      tracepoint("syscalls:sys_exit_openat", { fields: ["ret"], where: { pid: w.pid } }),
      { startTask: ["pid", "comm"] },
    );
    const trace = p.start();
    try {
      assert.equal(await w.go(), 0);
    } finally {
      await trace.stop();
    }
    const rows = rowsOf(await trace.table());
    assert.equal(rows.length, 3);
    for (const r of rows) assert.deepEqual([r.start_pid, r.start_comm, r.filename], [w.pid, "workload", existing]);
  });

  it("aggregates by a carried field: count and histogram by filename are exact", async () => {
    const w = workload(["openat", existing, "9"]);
    const p = opensnoop(w.pid);
    const counts = p.count({ by: ["filename"] }).start();
    const hist = p.latency({ by: ["filename"] }).start();
    try {
      assert.equal(await w.go(), 0);
    } finally {
      await Promise.all([counts.stop(), hist.stop()]);
    }
    const c = rowsOf(await counts.finished());
    assert.equal(c.length, 1);
    assert.deepEqual([c[0].filename, c[0].count], [existing, 9]);
    const h = rowsOf(await hist.finished());
    assert.ok(h.every((r) => r.filename === existing));
    assert.equal(h.reduce((s, r) => s + (r.count as number), 0), 9);
  });

  it("counts an end whose start came before the trace as unmatched: exactly 1 (a sleep in progress)", async () => {
    const w = workload(["sleep", "1500", "1"]);
    const done = w.go();
    await sleep(300); // the child is inside nanosleep now
    const p = pair(
      tracepoint("syscalls:sys_enter_nanosleep", { fields: [], where: { pid: w.pid } }),
      tracepoint("syscalls:sys_exit_nanosleep", { fields: ["ret"], where: { pid: w.pid } }),
    );
    const trace = p.start();
    try {
      assert.equal(await done, 0);
    } finally {
      await trace.stop();
    }
    const t = await trace.table();
    assert.equal(t.numRows(), 0);
    assert.equal(t.stats.unmatched, 1);
  });

  it("counts a start replaced by a newer start of the same key as evicted: N getppid starts, no end, N - 1 evicted", async () => {
    const n = 10;
    const w = workload(["getppid", String(n)]);
    const p = pair(
      tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }),
      tracepoint("syscalls:sys_exit_openat", { fields: ["ret"], where: { pid: w.pid } }),
    );
    const trace = p.start();
    const agg = p.count().start();
    try {
      assert.equal(await w.go(), 0);
    } finally {
      await Promise.all([trace.stop(), agg.stop()]);
    }
    const t = await trace.table();
    assert.equal(t.numRows(), 0);
    assert.deepEqual({ evicted: t.stats.evicted, unmatched: t.stats.unmatched }, { evicted: n - 1, unmatched: 0 });
    // the notebook footer says so, loudly
    assert.ok(statsParts(tableStats(t)!).some((p) => p.loud && p.text === `${n - 1} latency starts evicted (a newer start of the same key came before its end)`));
    const a = await agg.finished();
    assert.deepEqual({ evicted: a.stats.evicted, unmatched: a.stats.unmatched, events: a.stats.events }, { evicted: n - 1, unmatched: 0, events: 0 });
  });

  it("refuses what cannot be carried with named errors", () => {
    const exit = tracepoint("syscalls:sys_exit_openat", { fields: ["ret"] });
    assert.throws(() => pair(tracepoint("syscalls:sys_enter_openat", { fields: ["filenam" as "filename"] }), exit), UnknownFieldError);
    // a 256-byte string, 256 bytes of argv and the argv pointer: 520 bytes, beyond the 512 a start carries
    assert.throws(
      () => pair(anyTracepoint("syscalls:sys_enter_execve", { fields: ["filename", "a", "argv"], stringBytes: 256, read: { a: { from: "argv", user: true, bytes: 256 } } }), exit),
      (e: unknown) => e instanceof InvalidArgumentError && /at most 512/.test(e.message),
    );
    assert.throws(() => pair(exit, exit, { startTask: ["ppid" as "pid"] }), InvalidArgumentError);
  });
});


describe("block.requests(): biosnoop", () => {
  const loop = makeLoop("pair");
  const skip = typeof loop === "string" ? loop : false;
  if (skip) console.log(`# skipping block pair tests: ${skip}`);
  after(() => removeLoop(loop));

  it("one row per direct write, with the issuer's pid/comm and bytes carried from issue to completion", { skip }, async () => {
    const { dev, devt } = loop as Exclude<typeof loop, string>;
    const writes = [{ bs: 4096, count: 5, seek: 0 }, { bs: 65536, count: 3, seek: 1 }, { bs: 512, count: 7, seek: 1024 }];
    const trace = block.requests({ dev: devt }).start();
    const pids: number[] = [];
    try {
      for (const w of writes) {
        const r = spawnSync("dd", ["if=/dev/zero", `of=${dev}`, "oflag=direct", `bs=${w.bs}`, `count=${w.count}`, `seek=${w.seek}`], { stdio: "ignore" });
        assert.equal(r.status, 0);
        pids.push(r.pid!);
      }
      await sleep(100);
    } finally {
      await trace.stop();
    }
    const t = await trace.table();
    const rows = rowsOf(t);
    const expected = writes.flatMap((w, i) => Array.from({ length: w.count }, (_, j) => ({ start_pid: pids[i], start_comm: "dd", bytes: w.bs, nr_sector: w.bs / 512, sector: (w.seek + j) * (w.bs / 512), dev: devt, error: 0, rwbs: "WS" })));
    const got = rows.map((r) => ({ start_pid: r.start_pid, start_comm: r.start_comm, bytes: r.bytes, nr_sector: r.nr_sector, sector: r.sector, dev: r.dev, error: r.error, rwbs: r.rwbs }));
    assert.deepEqual(got, expected);
    assert.ok(rows.every((r) => (r.latency as number) > 0));
    assert.deepEqual({ unmatched: t.stats.unmatched, evicted: t.stats.evicted }, { unmatched: 0, evicted: 0 });
  });
});
