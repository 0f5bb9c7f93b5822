/* Stacks on any event: kstack/ustack columns on tracepoint streams and as aggregation
 * keys, checked frame by frame against bpftrace's kstack/ustack on the same workload in
 * the same run, with exact counts; stack map collisions counted under a tiny
 * stackEntries; the pure parts (folding, error frames, build ids) on their own. */
import { describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { tracepoint, plot, InvalidArgumentError } from "../bpf-lib/src/index.js";
import { KernelSymbols } from "../bpf-lib/src/symbols/kallsyms.js";
import { foldFrames, stackErrorFrame, isLostStack } from "../bpf-lib/src/symbols/stacks.js";
import { buildId, debugFileFor } from "../bpf-lib/src/symbols/debuginfo.js";
import { openElf } from "../bpf-lib/src/symbols/elf.js";
import { workload, WORKLOAD } from "./helpers/workload.js";
import { bpftrace, parseStacks } from "./helpers/bpftrace.js";

type Row = Record<string, unknown>;
const rowsOf = (t: { objects(): object[] }) => t.objects() as Row[];

/** Our folded stack (root first) as bpftrace lists it (leaf first). */
const leafFirst = (folded: unknown) => String(folded).split(";").reverse();

function needKernelSymbols(ctx: TestContext): boolean {
  if (KernelSymbols.load().hidden) {
    ctx.skip("kernel addresses are hidden (kptr_restrict): kernel frames cannot be named");
    return false;
  }
  return true;
}

const N = 200;

describe("kstack/ustack columns on a tracepoint stream", () => {
  it("every getppid event carries the syscall entry path, frame by frame as bpftrace's kstack", async (ctx) => {
    if (!needKernelSymbols(ctx)) return;
    const w = workload(["getppid", String(N)]);
    const bt = await bpftrace(`tracepoint:syscalls:sys_enter_getppid /pid == ${w.pid}/ { @k[kstack] = count(); }`);
    const trace = tracepoint("syscalls:sys_enter_getppid", { columns: ["kstack"], where: { pid: w.pid } }).start();
    assert.equal(await w.go(), 0);
    const t = await trace.table();
    const theirs = parseStacks(await bt.stop(), "k");
    assert.equal(t.numRows(), N);
    assert.equal(t.stats.stacksLost, 0);
    const kstacks = [...new Set(Array.from(t.array("kstack") as ArrayLike<string>))];
    assert.equal(kstacks.length, 1, `one kernel path: ${kstacks.join(" | ")}`);
    assert.deepEqual(theirs.map((s) => s.count), [N]);
    assert.deepEqual(leafFirst(kstacks[0]), theirs[0]!.frames);
    assert.ok(leafFirst(kstacks[0]).includes("do_syscall_64"), String(kstacks[0]));
  });

  it("user frames are named like bpftrace's ustack while the process runs", async (ctx) => {
    // one nanosleep of 5 s: both tracers print while the process still sleeps (bpftrace names frames at print time)
    const w = workload(["sleep", "5000", "1"]);
    try {
      const bt = await bpftrace(`tracepoint:syscalls:sys_enter_nanosleep /pid == ${w.pid}/ { @u[ustack] = count(); }`);
      const trace = tracepoint("syscalls:sys_enter_nanosleep", { columns: ["ustack"], where: { pid: w.pid } }).start({ events: 1 });
      void w.go();
      const t = await trace.finished();
      const theirs = parseStacks(await bt.stop(), "u");
      assert.equal(t.numRows(), 1);
      assert.deepEqual(theirs.map((s) => s.count), [1]);
      if (theirs[0]!.frames.some((f) => f.startsWith("0x"))) return ctx.skip(`bpftrace left frames unnamed: ${theirs[0]!.frames.join(", ")}`);
      assert.deepEqual(leafFirst(t.array("ustack")[0]), theirs[0]!.frames);
    } finally {
      w.child.kill("SIGKILL");
    }
  });

  it("a tiny stack map loses stacks to hash collisions, and counts every one (stats.stacksLost, readFailed, the row says so)", async (ctx) => {
    if (!needKernelSymbols(ctx)) return;
    // one bucket: the kernel stack takes it, every user stack (another stack) collides
    const w = workload(["getppid", String(N)]);
    const trace = tracepoint("syscalls:sys_enter_getppid", { columns: ["kstack", "ustack"], where: { pid: w.pid }, stackEntries: 1 }).start();
    assert.equal(await w.go(), 0);
    const t = await trace.table();
    assert.equal(t.numRows(), N);
    assert.equal(t.stats.stacksLost, N);
    assert.equal(t.stats.readFailed, N);
    assert.deepEqual([...new Set(Array.from(t.array("ustack") as ArrayLike<string>))], [stackErrorFrame(-17)]);
    assert.ok(String(t.array("kstack")[0]).includes("do_syscall_64"), String(t.array("kstack")[0]));
  });
});

describe("kstack/ustack as aggregation keys", () => {
  it("count by kstack: one row of N events whose frames are bpftrace's, and plot.flamegraph draws it", async (ctx) => {
    if (!needKernelSymbols(ctx)) return;
    const w = workload(["getppid", String(N)]);
    const bt = await bpftrace(`tracepoint:syscalls:sys_enter_getppid /pid == ${w.pid}/ { @k[kstack] = count(); }`);
    const run = tracepoint("syscalls:sys_enter_getppid", { where: { pid: w.pid } }).count({ by: ["kstack"] }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const t = await run.finished();
    const theirs = parseStacks(await bt.stop(), "k");
    const rows = rowsOf(t);
    assert.deepEqual(rows.map((r) => r.count), [N]);
    assert.deepEqual(t.columnNames(), ["kstack", "count"]);
    assert.deepEqual(leafFirst(rows[0]!.kstack), theirs[0]!.frames);
    assert.equal(t.stats.stacksLost, 0);
    const fig = plot.flamegraph(t, { stack: "kstack" });
    const trace = fig.data[0] as unknown as { labels: string[]; values: number[] };
    const at = trace.labels.indexOf("do_syscall_64");
    assert.ok(at > 0, trace.labels.join(", "));
    assert.equal(trace.values[at], N);
  });

  it("count by ustack keys by pid in the kernel to name frames, then merges it away; by pid and ustack keeps it", async () => {
    const w = workload(["sleep", "5000", "1"]);
    try {
      const bt = await bpftrace(`tracepoint:syscalls:sys_enter_nanosleep /pid == ${w.pid}/ { @u[ustack] = count(); }`);
      const probe = tracepoint("syscalls:sys_enter_nanosleep", { where: { pid: w.pid } });
      const a = probe.count({ by: ["ustack"] }).start();
      const b = probe.count({ by: ["pid", "ustack"] }).start();
      void w.go();
      // the process sleeps 5 s: it is alive when the runs (and bpftrace) read its mappings
      for (let i = 0; i < 100 && (a.progressStats().received < 1 || b.progressStats().received < 1); i++) await new Promise((r) => setTimeout(r, 20));
      await Promise.all([a.stop(), b.stop()]);
      const [ta, tb] = [await a.finished(), await b.finished()];
      const theirs = parseStacks(await bt.stop(), "u");
      assert.deepEqual(ta.columnNames(), ["ustack", "count"]);
      assert.deepEqual(tb.columnNames(), ["pid", "ustack", "count"]);
      assert.deepEqual(rowsOf(ta).map((r) => r.count), [1]);
      assert.deepEqual(rowsOf(tb).map((r) => [r.pid, r.count]), [[w.pid, 1]]);
      assert.equal(ta.stats.stacksExited, 0);
      assert.equal(rowsOf(ta)[0]!.ustack, rowsOf(tb)[0]!.ustack);
      assert.equal(leafFirst(rowsOf(ta)[0]!.ustack)[0], "syscall");
      if (!theirs[0]!.frames.some((f) => f.startsWith("0x"))) assert.deepEqual(leafFirst(rowsOf(ta)[0]!.ustack), theirs[0]!.frames);
    } finally {
      w.child.kill("SIGKILL");
    }
  });

  it("collisions under a tiny stackEntries are counted in stats.stacksLost and keyed as a lost stack", async (ctx) => {
    if (!needKernelSymbols(ctx)) return;
    const w = workload(["getppid", String(N)]);
    const run = tracepoint("syscalls:sys_enter_getppid", { where: { pid: w.pid }, stackEntries: 1 }).count({ by: ["kstack", "ustack"] }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const t = await run.finished();
    const rows = rowsOf(t);
    assert.deepEqual(rows.map((r) => [r.ustack, r.count]), [[stackErrorFrame(-17), N]]);
    assert.equal(t.stats.stacksLost, N);
    assert.equal(t.stats.readFailed, N);
  });
});

describe("stack options", () => {
  it("refuses a kernel filter on a stack and a bad stackEntries, with named errors", () => {
    assert.throws(() => tracepoint("syscalls:sys_enter_getppid", { columns: ["kstack"], where: { kstack: 1 } as never }), (e: unknown) => e instanceof InvalidArgumentError && /kstack.*stack.*filter the table/.test((e as Error).message));
    assert.throws(() => tracepoint("syscalls:sys_enter_getppid", { columns: ["kstack"], stackEntries: 0 }), (e: unknown) => e instanceof InvalidArgumentError && /stackEntries/.test((e as Error).message));
    assert.throws(() => tracepoint("syscalls:sys_enter_getppid", { columns: ["kstak" as "kstack"] }), (e: unknown) => e instanceof InvalidArgumentError && /kstack, ustack/.test((e as Error).message));
  });
});

describe("stack naming (pure)", () => {
  it("folds leaf-first frames root first, and names lost stacks; an empty stack (-EFAULT) is no frame", () => {
    assert.equal(foldFrames(["leaf", "mid", "root"]), "root;mid;leaf");
    assert.equal(stackErrorFrame(-14), null);
    assert.match(stackErrorFrame(-17)!, /collision.*stackEntries/);
    assert.match(stackErrorFrame(-12)!, /full/);
    assert.equal(isLostStack(-14), false);
    assert.equal(isLostStack(-17), true);
    assert.equal(isLostStack(3), false);
  });

  it("reads the workload's GNU build id as `readelf -n` shows it, and finds no debug file for a binary with its own .symtab", async () => {
    const { execFileSync } = await import("node:child_process");
    const elf = openElf(WORKLOAD);
    const notes = execFileSync("readelf", ["-n", WORKLOAD], { encoding: "utf8" });
    const m = /Build ID: ([0-9a-f]+)/.exec(notes);
    assert.equal(buildId(elf), m ? m[1] : null);
    assert.equal(debugFileFor(elf), null);
  });
});
