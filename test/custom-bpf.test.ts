/* BPF C written by the user, against the real kernel: rings and maps counted exactly
 * on a workload that makes a known number of calls, every field kind decoded, HIST as
 * log2 tables, the compile cache, compiler and verifier errors at the user's lines,
 * and nothing left loaded (stop, interrupt, dispose, kill -9). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bpf, compileBpf, stopAll, plot, percentiles, CompileError, CompilerMissingError, CustomVerifierError, InvalidArgumentError, type BpfCProgram } from "../bpf-lib/src/index.js";
import { programIdsOf, workload, ROOT } from "./helpers/workload.js";

const COUNTER = String.raw`
#include "bpfbook.h"
struct event { u32 pid; u32 tid; u64 seq; char comm[16]; };
RINGBUF(events, struct event);
HASH(by_pid, u32, u64, 1024);
HIST(spread, u32, 256);
const volatile u32 target = 0;
u64 seq = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 pid = id >> 32;
	if (target && pid != target)
		return 0;
	struct event e = { .pid = pid, .tid = (u32)id };
	e.seq = __sync_fetch_and_add(&seq, 1);
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	EMIT(events, &e);
	ADD(by_pid, &pid, 1);
	u32 k = 0;
	HIST_ADD(spread, &k, 1000);
	return 0;
}
`;

interface CounterTypes {
  events: { events: { pid: number; tid: number; seq: number; comm: string } };
  maps: { by_pid: { kind: "hash"; key: { key: number }; value: { value: number } } };
  hists: { spread: { key: { key: number } } };
  globals: { target: number };
}

describe("custom BPF C", () => {
  it("counts exactly N getppid calls, in a ring buffer and in a hash map, and HIST gives log2 tables", async () => {
    const N = 1234;
    const w = workload(["getppid", String(N)]);
    using prog = await bpf.compile<CounterTypes>(COUNTER, { globals: { target: w.pid } });
    const trace = prog.events("events").start();
    assert.equal(prog.attached, true);
    assert.equal(await w.go(), 0);
    await trace.stop();
    const t = await trace.table();
    assert.equal(prog.attached, false, "the collection detaches the programs at its end");
    assert.equal(t.numRows(), N);
    assert.deepEqual(t.columnNames(), ["pid", "tid", "seq", "comm"]);
    assert.deepEqual(new Set(Array.from(t.array("pid") as ArrayLike<number>)), new Set([w.pid]));
    assert.deepEqual(new Set(t.array("comm") as string[]), new Set(["workload"]));
    // every call once: seq is 0..N-1
    assert.deepEqual(Array.from(t.array("seq") as ArrayLike<number>).sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i));
    assert.equal(t.stats.received, N);
    assert.equal(t.stats.produced, N);
    assert.equal(t.stats.lost, 0);
    // the maps stay readable after the collection
    const m = prog.map("by_pid").table();
    assert.deepEqual(m.objects(), [{ key: w.pid, value: N }]);
    assert.equal(prog.map("by_pid").get(w.pid)?.value, N);
    assert.equal(prog.map("by_pid").get({ key: w.pid + 1 }), undefined);
    const h = prog.hist("spread").table();
    assert.deepEqual(h.objects(), [{ key: 0, bucket: 10, low: 512, high: 1024, count: N }]);
    const p50 = (percentiles(h, [50]).object(0) as { p50: number }).p50;
    assert.ok(p50 >= 512 && p50 <= 1024, `p50 ${p50}`);
    assert.ok(plot.histogram(h, { unit: "none" }).data.length > 0);
  });

  it("decodes a record with every field kind exactly", async () => {
    const code = String.raw`
#include "bpfbook.h"
enum color { RED = 1, GREEN = 2 };
struct inner { u16 a; s16 b; };
struct kinds {
	u8 u8v; s8 s8v; u16 u16v; s16 s16v; u32 u32v; s32 s32v; u64 u64v; s64 s64v;
	bool flag; enum color color;
	u32 lo : 4, hi : 12;
	void *ptr;
	char name[16];
	u32 arr[4];
	u8 raw[6];
	struct inner in;
	union { u32 anon_u; float anon_f; };
	double d;
};
RINGBUF(events, struct kinds);
const volatile u32 target = 0;
SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target)
		return 0;
	struct kinds *k = RESERVE(events);
	if (!k)
		return 0;
	__builtin_memset(k, 0, sizeof(*k));
	k->u8v = 255; k->s8v = -128; k->u16v = 65535; k->s16v = -32768;
	k->u32v = 4294967295u; k->s32v = -2147483647 - 1; k->u64v = 9007199254740991ull; k->s64v = -9007199254740991ll;
	k->flag = 1; k->color = GREEN; k->lo = 9; k->hi = 4000;
	k->ptr = (void *)0xffff888012345678ull;
	__builtin_memcpy(k->name, "sixteen-chars-ab", 16);
	for (int i = 0; i < 4; i++) k->arr[i] = i * 1000000;
	for (int i = 0; i < 6; i++) k->raw[i] = 250 + i;
	k->in.a = 7; k->in.b = -7;
	k->anon_u = 0x40490fdb;
	k->d = 0;
	SUBMIT(events, k);
	return 0;
}
`;
    const w = workload(["getppid", "3"]);
    using prog = await bpf.compile(code, { globals: { target: w.pid } });
    const trace = prog.events("events").start();
    await w.go();
    await trace.stop();
    const rows = (await trace.table()).objects() as Record<string, unknown>[];
    assert.equal(rows.length, 3);
    const r = rows[0]!;
    assert.equal(r.u8v, 255);
    assert.equal(r.s8v, -128);
    assert.equal(r.u16v, 65535);
    assert.equal(r.s16v, -32768);
    assert.equal(r.u32v, 4294967295);
    assert.equal(r.s32v, -2147483648);
    assert.equal(r.u64v, 9007199254740991);
    assert.equal(r.s64v, -9007199254740991);
    assert.equal(Number(r.flag), 1);
    assert.equal(r.color, 2);
    assert.equal(r.lo, 9);
    assert.equal(r.hi, 4000);
    assert.equal(r.name, "sixteen-chars-ab");
    assert.deepEqual([...(r.arr as number[])], [0, 1000000, 2000000, 3000000]);
    assert.deepEqual(Array.from(r.raw as ArrayLike<number>), [250, 251, 252, 253, 254, 255]);
    assert.equal(r["in.a"], 7);
    assert.equal(r["in.b"], -7);
    assert.equal(r.anon_u, 0x40490fdb);
    assert.equal(BigInt(r.ptr as bigint), 0xffff888012345678n);
  });

  it("a value member named like a key member keeps both columns (the value's as value.<name>)", async () => {
    using prog = await bpf.compile(`#include "bpfbook.h"\nstruct k { u32 pid; u32 cpu; };\nstruct v { u32 pid; u64 n; };\nHASH(m, struct k, struct v, 8);\nSEC("tracepoint/syscalls/sys_enter_getppid")\nint f(void *ctx) { return 0; }\n`);
    prog.load();
    prog.map("m").set({ pid: 1, cpu: 0 }, { pid: 99, n: 5 });
    const t = prog.map("m").table();
    assert.deepEqual(t.columnNames(), ["pid", "cpu", "value.pid", "n"]);
    assert.deepEqual(t.objects(), [{ pid: 1, cpu: 0, "value.pid": 99, n: 5 }]);
    assert.deepEqual(prog.map("m").get({ pid: 1, cpu: 0 }), { pid: 99, n: 5 });
  });

  it("compiles once: the same source again comes from the cache", async () => {
    const code = COUNTER + `\n/* cache test ${process.pid} ${Date.now()} */\n`;
    const first = await compileBpf(code);
    const again = await compileBpf(code);
    assert.equal(first.cached, false);
    assert.ok(first.seconds > 0);
    assert.equal(again.cached, true);
    assert.equal(again.path, first.path);
    assert.equal(again.seconds, 0);
  });

  it("a compile error names the line of the cell", async () => {
    // the C starts at line 10 of its cell: the undeclared name is on the C's 4th line
    const code = `#include "bpfbook.h"\nSEC("tracepoint/syscalls/sys_enter_getppid")\nint f(void *ctx) {\n\treturn undeclared_name;\n}\n`;
    const e = await compileBpf(code, { sourceName: "cell", firstLine: 10 }).catch((x: unknown) => x);
    assert.ok(e instanceof CompileError, String(e));
    const first = e.diagnostics.find((d) => d.severity === "error")!;
    assert.equal(first.line, 13);
    assert.match(first.message, /undeclared_name/);
    assert.match(e.message, /cell line 13, column \d+: .*undeclared_name/);
  });

  it("a verifier rejection names the C line, the reason and a hint", async () => {
    const code = `#include "bpfbook.h"\nHASH(counts, u32, u64, 16);\nSEC("tracepoint/syscalls/sys_enter_getppid")\nint on_call(void *ctx)\n{\n\tu32 k = 0;\n\tu64 *v = bpf_map_lookup_elem(&counts, &k);\n\t*v += 1;\n\treturn 0;\n}\n`;
    using prog = await bpf.compile(code, { sourceName: "cell", firstLine: 3 });
    const e = (() => { try { prog.load(); return null; } catch (x) { return x; } })();
    assert.ok(e instanceof CustomVerifierError, String(e));
    assert.equal(e.line, 10); // `*v += 1;` is the C's 8th line, the cell's 10th
    assert.match(e.message, /cell line 10: \*v \+= 1;/);
    assert.match(e.reason, /invalid mem access 'map_value_or_null'/);
    assert.match(e.hint ?? "", /NULL/);
    assert.deepEqual(programIdsOf(), [], "a refused load leaves nothing loaded");
  });

  it("names what is wrong: clang missing, an unknown ring, map or global", async () => {
    const saved = process.env.BPFBOOK_CLANG;
    process.env.BPFBOOK_CLANG = "/nonexistent/clang";
    try {
      await assert.rejects(compileBpf(COUNTER + "/* no clang */"), (e: unknown) => e instanceof CompilerMissingError && /apt-get install clang/.test(e.message));
    } finally {
      if (saved === undefined) delete process.env.BPFBOOK_CLANG;
      else process.env.BPFBOOK_CLANG = saved;
    }
    using prog = await bpf.compile(COUNTER);
    assert.throws(() => prog.events("event"), (e: unknown) => e instanceof InvalidArgumentError && /no ring buffer "event"; did you mean events/.test(e.message));
    assert.throws(() => prog.map("by_pids"), (e: unknown) => e instanceof InvalidArgumentError && /did you mean by_pid/.test(e.message));
    assert.throws(() => prog.map("events"), (e: unknown) => e instanceof InvalidArgumentError && /"events" is a ringbuf map/.test(e.message));
    assert.throws(() => prog.set({ targt: 1 }), (e: unknown) => e instanceof InvalidArgumentError && /no global "targt" \(did you mean target\?\)/.test(e.message));
    assert.throws(() => prog.set({ target: -1 }), InvalidArgumentError);
    assert.throws(() => prog.map("by_pid").table(), (e: unknown) => e instanceof InvalidArgumentError && /run it first/.test(e.message));
  });

  it("start() attaches until stop() or an interrupt; run() for a duration; dispose leaves nothing loaded", async () => {
    const prog: BpfCProgram = await bpf.compile(COUNTER);
    prog.start();
    assert.equal(prog.attached, true);
    assert.ok(programIdsOf().length > 0);
    await stopAll("interrupt");
    assert.equal(prog.attached, false, "an interrupt detaches a started program");
    const t0 = Date.now();
    await prog.run({ seconds: 0.3 });
    assert.ok(Date.now() - t0 >= 290);
    assert.equal(prog.attached, false);
    prog.dispose();
    assert.deepEqual(programIdsOf(), []);
    assert.throws(() => prog.start(), /disposed/);
  });

  it("kill -9 of the process leaves nothing loaded", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-custom-kill-"));
    try {
      const script = join(dir, "attach.mjs");
      writeFileSync(script, `import { bpf } from ${JSON.stringify(join(ROOT, "dist", "bpf-lib", "src", "index.js"))};\nconst p = await bpf.compile(${JSON.stringify(COUNTER)});\np.start();\nprocess.stdout.write("attached\\n");\nsetInterval(() => {}, 1000);\n`);
      const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (d: Buffer) => { if (d.toString().includes("attached")) resolve(); });
        child.once("exit", (c) => reject(new Error(`child exited ${c}`)));
      });
      const ids = programIdsOf(child.pid!);
      assert.equal(ids.length, 1);
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      const { loadedProgramIds } = await import("./helpers/workload.js");
      // the kernel frees a program once its last fd closes: give RCU a moment
      for (let i = 0; i < 50 && loadedProgramIds().includes(ids[0]!); i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(loadedProgramIds().includes(ids[0]!), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
