/* Tracepoint event streams against the real kernel, with deterministic workloads. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { tracepoint, anyTracepoint, UnknownTracepointError, UnknownFieldError, InvalidArgumentError, NotSupportedError, liveCount } from "../bpf-lib/src/index.js";
import { workload, renamedWorkload, uniq } from "./helpers/workload.js";

describe("tracepoint streams", () => {
  it("yields exactly N rows for N getppid() calls, with pid, tid and comm", async () => {
    const N = 5000;
    const w = workload(["getppid", String(N)]);
    const noise = workload(["getppid", "3000"]); // another process doing the same: filtered in the kernel
    const trace = tracepoint("syscalls:sys_enter_getppid", { where: { pid: w.pid } }).start({ seconds: 30 });
    assert.equal(await w.go(), 0);
    assert.equal(await noise.go(), 0);
    const t = await trace.table();
    assert.equal(t.numRows(), N);
    assert.equal(t.stats.received, N);
    assert.equal(t.stats.lost, 0);
    assert.equal(t.stats.produced, N);
    assert.deepEqual(uniq(t, "pid"), [w.pid]);
    assert.deepEqual(uniq(t, "tid"), [w.pid]);
    assert.deepEqual(uniq(t, "comm"), ["workload"]);
    const nr = t.array("__syscall_nr") as ArrayLike<number>;
    assert.equal(nr[0], 110, "getppid is syscall 110 on x86_64");
    const ts = t.array("ts") as ArrayLike<number>;
    for (let i = 1; i < ts.length; i++) assert.ok(ts[i] >= ts[i - 1], "one thread's events arrive in order");
  });

  it("reads the filename of openat from user memory, N times for N opens", async () => {
    const N = 37;
    const path = `/tmp/bpfbook-test-open-${process.pid}-${Date.now()}`;
    const w = workload(["openat", path, String(N)]);
    const t = await (async () => {
      const trace = tracepoint("syscalls:sys_enter_openat", { fields: ["filename", "flags", "dfd"], where: { pid: w.pid } }).start({ seconds: 30 });
      await w.go();
      return trace.table();
    })();
    assert.equal(t.numRows(), N);
    assert.deepEqual(uniq(t, "filename"), [path]);
    assert.deepEqual(uniq(t, "dfd"), [-100], "AT_FDCWD decodes as a signed int");
    assert.deepEqual(uniq(t, "flags"), [0o100], "O_RDONLY|O_CREAT");
  });

  it("filters on field comparisons in the kernel", async () => {
    const N = 12;
    const path = `/tmp/bpfbook-test-pred-${process.pid}`;
    const a = workload(["openat", path, String(N)]);
    const keep = tracepoint("syscalls:sys_enter_openat", { fields: ["flags"], where: { pid: a.pid, flags: 0o100 } }).start({ seconds: 30 });
    const drop = tracepoint("syscalls:sys_enter_openat", { fields: ["flags"], where: { pid: a.pid, flags: { ne: 0o100 } } }).start({ seconds: 30 });
    const range = tracepoint("syscalls:sys_enter_openat", { fields: ["dfd"], where: { pid: a.pid, dfd: { lt: 0, ge: -100 } } }).start({ seconds: 30 });
    await a.go();
    const [tk, td, tr] = await Promise.all([keep.table(), drop.table(), range.table()]);
    assert.equal(tk.numRows(), N);
    assert.equal(tk.stats.filtered, 0);
    assert.equal(td.numRows(), 0);
    assert.equal(td.stats.filtered, N, "events dropped by the predicate are counted, never sent");
    assert.equal(tr.numRows(), N, "signed comparisons: -100 is >= -100 and < 0");
  });

  it("filters on comm in the kernel", async () => {
    const other = renamedWorkload("bpfbook-other");
    const a = workload(["getppid", "300"]);
    const b = workload(["getppid", "200"], { binary: other });
    const trace = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { comm: "bpfbook-other" } }).start({ seconds: 30 });
    await Promise.all([a.go(), b.go()]);
    const t = await trace.table();
    const mine = t.filter(`d => d.pid === ${b.pid}`);
    assert.equal(mine.numRows(), 200);
    assert.equal(t.filter(`d => d.pid === ${a.pid}`).numRows(), 0);
    assert.deepEqual(uniq(t, "comm"), ["bpfbook-other"]);
  });

  it("decodes char arrays and filters on them (sched:sched_switch)", async () => {
    const other = renamedWorkload("bpfbook-sleepy");
    const w = workload(["sleep", "1", "20"], { binary: other });
    const trace = tracepoint("sched:sched_switch", { fields: ["prev_comm", "prev_pid", "next_comm", "prev_state"], where: { prev_comm: "bpfbook-sleepy" } }).start({ seconds: 30 });
    await w.go();
    const t = await trace.table();
    assert.ok(t.numRows() >= 20, `at least one switch-out per sleep, got ${t.numRows()}`);
    assert.deepEqual(uniq(t, "prev_comm"), ["bpfbook-sleepy"]);
    assert.deepEqual(uniq(t, "prev_pid"), [w.pid]);
    assert.equal(t.columnNames().includes("next_comm"), true);
  });

  it("counts lost events when a tiny ring buffer overflows: received + lost == produced", async () => {
    const N = 200000;
    const w = workload(["getppid", String(N)]);
    const trace = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid }, bufferBytes: 4096, wakeupBytes: 2048 }).start({ seconds: 60 });
    const warned = new Promise<Error>((resolve) => process.once("warning", resolve));
    await w.go();
    const t = await trace.table();
    assert.ok(t.stats.lost > 0, "a 4 KiB ring cannot hold a burst of 200k events");
    assert.equal(t.stats.produced, N);
    assert.equal(t.stats.received + t.stats.lost, N);
    assert.equal(t.numRows(), t.stats.received);
    assert.match((await warned).message, /lost/);
  });

  it("streams batches as Arquero tables whose rows add up", async () => {
    const N = 20000;
    const w = workload(["getppid", String(N)]);
    let rows = 0, batches = 0;
    const probe = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } });
    const it = probe.stream({ seconds: 3, batchMs: 10 });
    const first = it.next(); // the generator attaches when first asked for a batch
    const done = w.go();
    for (let r = await first; !r.done; r = await it.next()) {
      rows += r.value.numRows();
      batches++;
      assert.equal(r.value.stats.lost, 0);
    }
    await done;
    assert.equal(rows, N);
    assert.ok(batches >= 1);
  });

  it("collect() stops on an event count and on an abort signal", async () => {
    const w = workload(["getppid", "100000"]);
    const p = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }).collect({ events: 1000 });
    const done = w.go();
    const t = await p;
    assert.ok(t.numRows() >= 1000);
    assert.equal(t.stats.stoppedBy, "events");
    await done;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const t2 = await tracepoint("syscalls:sys_enter_getppid", { fields: [] , where: { pid: 1 } }).collect({ signal: ac.signal });
    assert.equal(t2.stats.stoppedBy, "signal");
    assert.equal(liveCount(), 0, "nothing stays live after collections end");
  });

  it("reports progress while collecting", async () => {
    const seen: number[] = [];
    await tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: 1 } }).collect({ seconds: 0.35, progressMs: 100, onProgress: (p) => seen.push(p.fraction ?? -1) });
    assert.ok(seen.length >= 2, `progress reported ${seen.length} times`);
    assert.ok(seen.every((f) => f >= 0 && f <= 1));
  });
});

describe("bad input", () => {
  it("an unknown tracepoint names the nearest ones", () => {
    assert.throws(() => anyTracepoint("syscalls:sys_enter_opnat"), (e: unknown) => {
      assert.ok(e instanceof UnknownTracepointError);
      assert.equal(e.code, "ENOTRACEPOINT");
      assert.equal(e.suggestions[0], "syscalls:sys_enter_openat");
      return true;
    });
  });
  it("an unknown field lists the fields", () => {
    assert.throws(() => tracepoint("syscalls:sys_enter_openat", { fields: ["filenme" as "filename"] }), (e: unknown) => {
      assert.ok(e instanceof UnknownFieldError);
      assert.match(e.message, /did you mean filename\?/);
      assert.match(e.message, /dfd, filename, flags, mode/);
      return true;
    });
  });
  it("filters the kernel cannot evaluate are refused up front", () => {
    assert.throws(() => tracepoint("syscalls:sys_enter_openat", { where: { flags: "x" as unknown as number } }), InvalidArgumentError);
    assert.throws(() => tracepoint("syscalls:sys_enter_getppid", { where: { comm: "a-name-longer-than-15" } }), /longer than the kernel keeps/);
    assert.throws(() => tracepoint("syscalls:sys_enter_getppid", { bufferBytes: 5000 }), /power of two/);
  });
  it("collect() without a stop condition is refused before anything loads", async () => {
    await assert.rejects(tracepoint("syscalls:sys_enter_getppid").collect({}), /needs a stop condition/);
    assert.equal(liveCount(), 0);
  });
});

describe("__data_loc fields", () => {
  it("reads the exec'd path of sched:sched_process_exec (a __data_loc string)", async (t) => {
    const bin = renamedWorkload("bpfbook-exec");
    let trace;
    try {
      trace = tracepoint("sched:sched_process_exec", { fields: ["filename", "pid", "old_pid"], where: { comm: "bpfbook-exec" } }).start({ seconds: 30 });
    } catch (e) {
      if (e instanceof NotSupportedError) return t.skip(`kernel refuses kernel-memory reads: ${e.message}`);
      throw e;
    }
    const w = workload(["--now", "getppid", "1"], { binary: bin });
    await w.go();
    const table = await trace.table();
    assert.equal(table.numRows(), 1);
    assert.equal(table.get("filename", 0), bin);
    assert.equal(table.get("args_pid", 0), w.pid, "the field named pid lands in args_pid");
    assert.equal(table.get("pid", 0), w.pid);
    assert.equal(table.stats.truncated, 0);
  });
});

describe("saving and replaying", () => {
  it("a collected table survives an Arrow round trip with its stats and column types", async () => {
    const { saveTrace, loadTrace } = await import("../bpf-lib/src/index.js");
    const path = `/tmp/bpfbook-test-open-${process.pid}-save`;
    const w = workload(["openat", path, "5"]);
    const trace = tracepoint("syscalls:sys_enter_openat", { where: { pid: w.pid } }).start({ seconds: 30 });
    await w.go();
    const t = await trace.table();
    const file = `/tmp/bpfbook-test-${process.pid}.arrow`;
    saveTrace(t, file);
    const back = loadTrace(file);
    assert.equal(back.numRows(), 5);
    assert.deepEqual(back.columnNames(), t.columnNames());
    assert.deepEqual(back.objects(), t.objects());
    assert.deepEqual(back.stats, t.stats);
    assert.equal(typeof back.get("filename", 0), "string");
  });
});
