/* The tracer must not disturb what it measures: it leaves itself out of
 * whole-machine traces, costs ~nothing while idle, never spins on its own events,
 * and flips aggregation intervals without busy waiting, yet exactly. CPU bounds are
 * loose multiples of what was measured (docs/performance.md), far below what the
 * defects cost: the feedback loop burned ~0.45 CPU s/s, a flip busy-waited 2 ms. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { tracepoint, syscalls, uprobe, formatStats, InvalidOptionError } from "../bpf-lib/src/index.js";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { workload } from "./helpers/workload.js";
import { BpfObject } from "../bpf-lib/src/libbpf/object.js";
import { RingBufferReader } from "../bpf-lib/src/ringbuf/reader.js";
import { bpfObjectPath } from "../bpf-lib/src/paths.js";
import { HDR_SIZE } from "../bpf-lib/src/engine/layout.js";

/** CPU seconds of this whole process (every thread: libuv's pool included). */
function cpuSeconds(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

/** ms the main (JS) thread has run on a CPU: where a busy wait would show. */
function mainThreadMs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function countPid(pids: ArrayLike<number>, pid: number): number {
  let n = 0;
  for (let i = 0; i < pids.length; i++) if (pids[i] === pid) n++;
  return n;
}

describe("a quiet tracer", () => {
  it("leaves its own process out of a system-wide syscall trace, and its CPU stays small", async () => {
    const c0 = cpuSeconds();
    const t = await tracepoint("raw_syscalls:sys_enter", { fields: ["id"] }).collect({ seconds: 1 });
    const cpu = cpuSeconds() - c0;
    const pids = t.array("pid") as ArrayLike<number>;
    assert.equal(countPid(pids, process.pid), 0, "no event of the tracer's own process");
    assert.ok((t.stats.excludedSelf ?? 0) > 0, `the events left out are counted: excludedSelf ${t.stats.excludedSelf}`);
    assert.equal(t.stats.lost, 0);
    // load + attach + 1 s of collecting + the table: 0.3 s alone, plus 5 µs per event the machine made;
    // with the other test lane on the second core the same work costs more CPU (0.322 s seen): 0.45 s.
    // Tracing itself cost 0.9 s for 130k events, so the bound still tells the two apart.
    const bound = 0.45 + 5e-6 * t.numRows();
    assert.ok(cpu < bound, `collector used ${cpu.toFixed(3)} CPU s for ${t.numRows()} events (bound ${bound.toFixed(3)})`);
  });

  it("includes itself with includeSelf: true, or with an explicit where: { pid: process.pid }", async () => {
    const [all, mine] = await Promise.all([
      tracepoint("raw_syscalls:sys_enter", { fields: ["id"], includeSelf: true }).collect({ seconds: 1 }),
      tracepoint("raw_syscalls:sys_enter", { fields: ["id"], where: { pid: process.pid } }).collect({ seconds: 1 }),
    ]);
    assert.ok(countPid(all.array("pid") as ArrayLike<number>, process.pid) > 0, "includeSelf keeps this process");
    assert.ok(mine.numRows() > 0, "a pid filter naming this process keeps it");
    assert.equal(countPid(mine.array("pid") as ArrayLike<number>, process.pid), mine.numRows());
    // checked where the probe is made, before anything loads
    const bad = { includeSelf: "yes" } as unknown as { includeSelf: boolean };
    assert.throws(() => tracepoint("raw_syscalls:sys_enter", bad), (e: unknown) => e instanceof InvalidOptionError && e.option === "includeSelf" && /includeSelf must be true or false .*; got "yes"/.test(e.message));
  });

  it("keeps its own events where they are not its own doing (sched_switch), and leaves them out only when asked, counted", async () => {
    // The check is on the current task: a context switch, an interrupt or a timer that
    // happens while the tracer is current is about someone else. Left out by default,
    // ~30% of sched_switch events went missing without a count.
    const [dflt, excl] = await Promise.all([
      tracepoint("sched:sched_switch", { fields: ["prev_pid"] }).collect({ seconds: 1 }),
      tracepoint("sched:sched_switch", { fields: ["prev_pid"], includeSelf: false }).collect({ seconds: 1 }),
    ]);
    assert.ok(countPid(dflt.array("pid") as ArrayLike<number>, process.pid) > 0, "the tracer's own switches are in a whole-machine sched_switch trace");
    assert.equal(dflt.stats.excludedSelf, 0);
    assert.equal(countPid(excl.array("pid") as ArrayLike<number>, process.pid), 0, "includeSelf: false leaves them out");
    assert.ok((excl.stats.excludedSelf ?? 0) > 0, `and counts them: excludedSelf ${excl.stats.excludedSelf}`);
    assert.match(formatStats(excl.stats), / of its own left out/);
  });

  it("leaves itself out by its pid in its own pid namespace (a tracer in a container)", () => {
    // process.pid inside a pid namespace is not the tgid the kernel reports: comparing
    // them kept the tracer and left out an unrelated host process with that number.
    const index = fileURLToPath(new URL("../bpf-lib/src/index.js", import.meta.url));
    const script = `
      import { tracepoint } from ${JSON.stringify(index)};
      import { readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
      const host = Number(/^NSpid:\\s+(\\d+)/m.exec(readFileSync("/proc/self/status", "utf8"))[1]);
      import { execFileSync } from "node:child_process";
      const run = tracepoint("raw_syscalls:sys_enter", { fields: [] }).start();
      await new Promise((r) => setTimeout(r, 200));
      execFileSync("/bin/true"); // another process of the namespace: its syscalls are kept (a quiet machine may have no others)
      await new Promise((r) => setTimeout(r, 300));
      await run.stop();
      const t = await run.finished();
      const pids = t.array("pid");
      let self = 0;
      for (let i = 0; i < pids.length; i++) if (pids[i] === host) self++;
      console.log(JSON.stringify({ pid: process.pid, host, rows: t.numRows(), self, excludedSelf: t.stats.excludedSelf }));`;
    const out = execFileSync("unshare", ["--pid", "--fork", process.execPath, "--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    const r = JSON.parse(out.trim().split("\n").pop()!) as { pid: number; host: number; rows: number; self: number; excludedSelf: number };
    assert.equal(r.pid, 1, "the tracer ran as pid 1 of a new pid namespace");
    assert.notEqual(r.host, 1);
    assert.ok(r.rows > 0);
    assert.equal(r.self, 0, `${r.self} events of the tracer itself (host pid ${r.host})`);
    assert.ok(r.excludedSelf > 0, `excludedSelf ${r.excludedSelf}`);
  });

  it("leaves itself out of syscall aggregations too (count by pid)", async () => {
    const w = workload(["getppid", "1000"]);
    const run = syscalls.count({ by: ["pid"] }).start({ seconds: 30 });
    await w.go();
    await sleep(100);
    await run.stop();
    const t = await run.finished();
    const pids = t.array("pid") as ArrayLike<number>;
    assert.equal(countPid(pids, process.pid), 0, "no row for the tracer's own process");
    assert.ok(countPid(pids, w.pid) === 1, "the workload is there");
  });

  it("leaves itself out of syscall latency pairs, unless includeSelf", async () => {
    const [dflt, incl] = [syscalls.latency({ by: ["pid"], hist: "stats" }), syscalls.latency({ by: ["pid"], hist: "stats", includeSelf: true })].map((a) => a.start({ seconds: 30 }));
    await sleep(500);
    await Promise.all([dflt.stop(), incl.stop()]);
    const [td, ti] = await Promise.all([dflt.finished(), incl.finished()]);
    assert.equal(countPid(td.array("pid") as ArrayLike<number>, process.pid), 0);
    assert.equal(countPid(ti.array("pid") as ArrayLike<number>, process.pid), 1, "includeSelf: the tracer's own syscalls paired");
  });

  it("leaves itself out of a uprobe on a library every process uses (libc epoll_pwait, node's event loop)", async () => {
    const [dflt, incl] = [uprobe("libc", "epoll_pwait"), uprobe("libc", "epoll_pwait", { includeSelf: true })].map((p) => p.count({ by: ["pid"] }).start({ seconds: 30 }));
    await sleep(300); // the event loop and the reader's waits go through epoll_pwait meanwhile
    await Promise.all([dflt.stop(), incl.stop()]);
    const [td, ti] = await Promise.all([dflt.finished(), incl.finished()]);
    assert.equal(countPid(td.array("pid") as ArrayLike<number>, process.pid), 0);
    assert.equal(countPid(ti.array("pid") as ArrayLike<number>, process.pid), 1);
  });

  it("the reader's wait ends on the producer's wakeup or the timeout, not because bytes are pending", async () => {
    const bufferBytes = 1 << 16;
    const obj = BpfObject.open(bpfObjectPath("burst"));
    obj.setConstant("cfg_count", 100);
    obj.setConstant("cfg_event_size", HDR_SIZE);
    obj.map("events").setMaxEntries(bufferBytes);
    obj.load();
    const reader = new RingBufferReader(obj.map("events").fd, bufferBytes);
    try {
      obj.program("burst").testRun(); // 100 events submitted with BPF_RB_NO_WAKEUP
      assert.ok(reader.pending() > 0);
      const t0 = performance.now();
      const woke = await reader.wait(100);
      const ms = performance.now() - t0;
      assert.equal(woke, false, "no wakeup was sent");
      assert.ok(ms >= 90, `returned after ${ms.toFixed(1)} ms, before its timeout`);
      const c0 = performance.now();
      const pending = reader.wait(5000);
      reader.cancelWait();
      assert.equal(await pending, false);
      assert.ok(performance.now() - c0 < 1000, "cancelWait() ends a wait at once");
    } finally {
      reader.close();
      obj.dispose();
    }
  });

  it("still hands over a lone event promptly: the first event after a drain wakes the reader", async () => {
    const w = workload(["getppid", "1"]);
    const tr = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }).start({ seconds: 30 });
    try {
      await sleep(1200); // past the reader's 500 ms safety wait, so only a wakeup can end the next one soon
      const t0 = performance.now();
      await w.go();
      while (tr.received < 1 && performance.now() - t0 < 5000) await sleep(2);
      const ms = performance.now() - t0;
      assert.equal(tr.received, 1);
      assert.ok(ms < 250, `the event reached the table's rows after ${ms.toFixed(0)} ms`);
    } finally {
      await tr.stop();
    }
  });

  it("hands a steady trickle over without stalls: no gap between batches reaches 100 ms", async () => {
    // ~900 events/s (1 ms sleeps). Records committed while a drain ran sent no wakeup,
    // and nothing after them did either: the reader slept its whole 500 ms safety wait.
    const w = workload(["sleep", "1", "2000"]);
    const tr = tracepoint("syscalls:sys_enter_nanosleep", { fields: [], where: { pid: w.pid } }).start({ seconds: 30 });
    const gaps: number[] = [];
    let rows = 0, last = 0;
    const done = w.go();
    for await (const b of tr.batches()) {
      const now = performance.now();
      if (last) gaps.push(now - last);
      last = now;
      rows += (b.ts as ArrayLike<unknown>).length;
      if (rows >= 2000) break;
    }
    await done;
    assert.equal(rows, 2000);
    const worst = Math.max(...gaps);
    assert.ok(gaps.length > 50, `${gaps.length + 1} batches`);
    assert.ok(worst < 100, `longest gap between batches ${worst.toFixed(0)} ms over ${gaps.length + 1} batches`);
  });

  it("the last batch is exact at stop: received + lost == produced after stopping mid-flood, every time", async () => {
    // A run already past the filter when the link went away could reserve after the
    // final drain: counted in produced, in neither received nor lost.
    const w = workload(["getppid", "100000000"]);
    void w.go(); // floods until killed
    try {
      // a 5 ms window on 2 busy cores (npm test runs two lanes) may fall while the flooding child
      // is not scheduled: stop mid-flood 36 times, however many windows that takes
      let traced = 0, runs = 0;
      for (; traced < 36 && runs < 200; runs++) {
        const tr = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }).start({ seconds: 30 });
        await sleep(5 + (runs % 7));
        await tr.stop();
        const s = tr.stats();
        if (s.produced > 0) traced++;
        assert.equal(s.received + s.lost, s.produced, `run ${runs}: received ${s.received} + lost ${s.lost} vs produced ${s.produced}`);
      }
      assert.equal(traced, 36, `the flood was traced in ${traced} of ${runs} runs`);
    } finally {
      w.child.kill();
    }
  });

  it("idle traces share one waiter: fs calls stay fast with 6 idle traces, and each trace still gets its event promptly", async () => {
    // A wait per ring held one of libuv's 4 pool threads for up to 500 ms each: with
    // 6 idle traces fs.promises.stat took ~460 ms, and membarrier queued behind them.
    const ws = Array.from({ length: 6 }, () => workload(["getppid", "1"]));
    const trs = ws.map((w) => tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }).start({ seconds: 30 }));
    try {
      await sleep(700);
      let worst = 0;
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        await stat("/");
        worst = Math.max(worst, performance.now() - t0);
        await sleep(37);
      }
      // blocked pool threads showed as ~460 ms; 100 ms leaves room for the other test lane's load
      assert.ok(worst < 100, `fs.promises.stat took up to ${worst.toFixed(0)} ms beside 6 idle traces`);
      for (const [i, w] of ws.entries()) {
        const t0 = performance.now();
        await w.go();
        while (trs[i].received < 1 && performance.now() - t0 < 5000) await sleep(2);
        const ms = performance.now() - t0;
        assert.equal(trs[i].received, 1);
        assert.ok(ms < 250, `trace ${i}: its event arrived after ${ms.toFixed(0)} ms`);
      }
    } finally {
      await Promise.all(trs.map((t) => t.stop()));
    }
  });

  it("does not spin on its own events: tracing its own syscalls stays quiet", async () => {
    // Before the fix each wait returned at once because the wait's own syscall was an
    // event: ~65 000 events/s and ~0.45 CPU s/s here. Now: a few drains per poll period.
    const tr = tracepoint("raw_syscalls:sys_enter", { fields: [], where: { pid: process.pid } }).start({ seconds: 30 });
    await sleep(200);
    const c0 = cpuSeconds(), r0 = tr.received;
    await sleep(2000);
    const cpu = cpuSeconds() - c0, events = tr.received - r0;
    await tr.stop();
    assert.ok(events < 4000, `${events} events of its own in 2 s`);
    // the spin cost ~0.9 CPU s in 2 s; quiet is ~0.03 alone and 0.102 was seen with both test
    // lanes and the VM on the 2 cores: 0.2 still tells the two apart 4.5 times over
    assert.ok(cpu < 0.2, `${cpu.toFixed(3)} CPU s in 2 s`);
  });

  it("costs ~nothing while idle: under 1% of a CPU for a trace that sees nothing", async () => {
    const w = workload(["getppid", "1"]); // gated: never makes its call while traced
    const tr = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }).start({ seconds: 30 });
    try {
      await sleep(200);
      const c0 = cpuSeconds(), m0 = performance.now();
      await sleep(2000);
      const frac = (cpuSeconds() - c0) / ((performance.now() - m0) / 1e3);
      assert.ok(frac < 0.01, `idle trace used ${(frac * 100).toFixed(2)}% of a CPU`);
    } finally {
      await tr.stop();
      w.child.kill();
    }
    assert.equal(tr.stats().received, 0);
  });

  it("collects a busy stream for under 2 CPU µs per event", async () => {
    const N = 500_000;
    const w = workload(["getppid", String(N)]);
    const tr = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }).start({ seconds: 60 });
    await sleep(100);
    const c0 = cpuSeconds();
    await w.go();
    const t = await tr.table();
    const cpu = cpuSeconds() - c0;
    assert.equal(t.numRows(), N);
    assert.equal(t.stats.lost, 0);
    assert.ok(cpu / N < 2e-6, `${((cpu / N) * 1e6).toFixed(2)} CPU µs per event`);
  });

  it("adds up intervals exactly, without busy waiting at the flips", async () => {
    const N = 1_000_000;
    const w = workload(["getppid", String(N)]);
    const run = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }).count({ by: ["pid"], maxKeys: 16 }).start({ interval: 0.05 });
    await w.go();
    await run.stop();
    const t = await run.finished();
    const counts = Array.from(t.array("count") as ArrayLike<number>);
    assert.equal(counts.reduce((a, b) => a + b, 0), N, "sum over intervals == calls made");
    assert.ok(counts.length >= 2, `the workload spanned ${counts.length} intervals: flips happened while it ran`);
    assert.equal(t.stats.events, N);

    // The flips' cost on the JS thread, on an aggregation that sees nothing: a 2 ms
    // busy wait per flip alone would be 2 ms; flip + read + membarrier's hand-off ~0.5 ms.
    const idle = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }).count({ by: ["pid"], maxKeys: 16 }).start({ interval: 0.05 });
    await sleep(120);
    const m0 = mainThreadMs(), i0 = idle.snapshot().stats.intervals;
    await sleep(1000);
    const ms = mainThreadMs() - m0, flips = idle.snapshot().stats.intervals - i0;
    await idle.stop();
    assert.ok(flips >= 15, `${flips} flips in 1 s`);
    assert.ok(ms / flips < 1.5, `${(ms / flips).toFixed(2)} ms of the JS thread per flip`);
  });
});

describe("the tracer's own pid namespace, as the kernel names it", () => {
  it("converts stat()'s device number to the kernel's MKDEV(major, minor)", async () => {
    const { kernelDev } = await import("../bpf-lib/src/probes/self.js");
    assert.equal(kernelDev(4n), 4n); // nsfs, 0:4: both encodings agree
    assert.equal(kernelDev(0x0803n), (8n << 20n) | 3n); // 8:3
    // glibc's makedev(0x456, 0x12378): a minor of 256 or more is where the encodings part
    const makedev = (major: bigint, minor: bigint) => (minor & 0xffn) | ((major & 0xfffn) << 8n) | ((minor & ~0xffn) << 12n) | ((major & ~0xfffn) << 32n);
    assert.equal(makedev(0x456n, 0x12378n), 0x1234_5678n);
    assert.equal(kernelDev(0x1234_5678n), (0x456n << 20n) | 0x12378n);
  });
});
