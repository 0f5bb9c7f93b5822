/* BPF C in notebook cells: a `%%bpf name` cell and bpf.c templates in TypeScript cells
 * are compiled before the cell is checked, so the cells after them are checked against
 * the program's own rings, maps and globals; errors point at the cell's lines; running
 * a `%%bpf` cell again releases the program it made before. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CellRunner, type CellError, type CellOutcome } from "../kernel/cells/index.js";
import { programIdsOf, workload } from "./helpers/workload.js";

function ok(outcome: CellOutcome): { value: unknown } {
  if (outcome.status !== "ok") assert.fail(`expected ok, got ${outcome.status}: ${outcome.error.traceback.join("\n")}`);
  return outcome;
}

function failed(outcome: CellOutcome): CellError {
  if (outcome.status !== "error") assert.fail(`expected an error, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}

const COUNTER_CELL = `%%bpf counter
#include "bpfbook.h"
struct event { u32 pid; u64 seq; char comm[16]; };
RINGBUF(events, struct event);
HASH(by_pid, u32, u64, 1024);
const volatile u32 target = 0;
u64 seq = 0;
SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (target && pid != target)
		return 0;
	struct event e = { .pid = pid, .seq = __sync_fetch_and_add(&seq, 1) };
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	EMIT(events, &e);
	ADD(by_pid, &pid, 1);
	return 0;
}`;

describe("BPF C cells", () => {
  let dir = "";
  let runner: CellRunner;
  let count = 0;
  const run = (code: string) => runner.execute(code, ++count);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "bpfbook-bpf-cells-"));
    runner = new CellRunner({ cwd: dir });
  });

  after(async () => {
    await run("counter.dispose(); typeof p2 === 'undefined' || p2.dispose();");
    runner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a %%bpf cell declares its program, typed: later cells are checked against its rings, maps and globals", async () => {
    const shown = ok(await run(COUNTER_CELL)).value as { [k: symbol]: () => Record<string, string> };
    const bundle = shown[Symbol.for("Jupyter.display")]!();
    assert.match(bundle["text/plain"]!, /^BPF program counter: not loaded yet; compiled/);
    assert.match(bundle["text/plain"]!, /on_getppid {2}SEC\("tracepoint\/syscalls\/sys_enter_getppid"\)/);
    assert.match(bundle["text/plain"]!, /events {2}ringbuf {2}records: struct event \(pid, seq, comm\)/);
    assert.match(bundle["text/plain"]!, /by_pid {2}hash \(1024\) {2}u32 → u64/);
    assert.match(bundle["text/html"]!, /<b>BPF program counter<\/b>/);
    const wrongMap = failed(await run('counter.map("by_pids")'));
    assert.match(wrongMap.evalue, /"by_pids"/);
    const wrongGlobal = failed(await run("counter.set({ targt: 1 })"));
    assert.match(wrongGlobal.evalue, /targt/);
    const wrongColumn = failed(await run('type Row = NonNullable<Awaited<ReturnType<ReturnType<typeof counter.events<"events">>["collect"]>>["__row"]>;\nconst bad: Row["bytes"] = 1;'));
    assert.match(wrongColumn.evalue, /bytes/);
    // and right uses compile and run, with exact counts
    const N = 321;
    const w = workload(["getppid", String(N)]);
    ok(await run(`counter.set({ target: ${w.pid} });\nconst trace = counter.events("events").start();`));
    await w.go();
    const rows = ok(await run('await trace.stop();\nconst t = await trace.table();\nconst r: { pid: number; seq: number; comm: string } = t.object(0) as never;\nconst byPid: number | undefined = counter.map("by_pid").get(' + w.pid + ')?.value;\n[t.numRows(), byPid, t.columnNames().join(",")]')).value;
    assert.deepEqual(rows, [N, N, "pid,seq,comm"]);
  });

  it("running a %%bpf cell again releases the program it made before", async () => {
    assert.ok(programIdsOf().length > 0, "counter is loaded");
    ok(await run(COUNTER_CELL));
    assert.deepEqual(programIdsOf(), [], "the previous counter was released; the new one loads on first use");
  });

  it("bpf.c in a TypeScript cell is typed too, and its compile errors name the cell's line", async () => {
    ok(await run('import { bpf } from "bpfbook";\nconst p2 = await bpf.c`\n#include "bpfbook.h"\nHASH(hits, u32, u64, 16);\nSEC("tracepoint/syscalls/sys_enter_getppid")\nint f(void *ctx) { u32 k = 1; ADD(hits, &k, 1); return 0; }\n`;'));
    assert.match(failed(await run('p2.map("hit")')).evalue, /"hit"/);
    ok(await run('p2.map("hits").info.kind'));
    const e = failed(await run('const p3 = await bpf.c`\n#include "bpfbook.h"\nSEC("tracepoint/syscalls/sys_enter_getppid")\nint f(void *ctx) { return nope; }\n`;'));
    assert.equal(e.ename, "CompileError");
    assert.match(e.evalue, /cell line 4, column \d+: use of undeclared identifier 'nope'/);
  });

  it("a cell whose C is new says it compiled it (the compile made for its types counts), and a re-run that it did not", async () => {
    const cell = `%%bpf fresh\n#include "bpfbook.h"\n/* ${process.pid} ${Date.now()} */\nSEC("tracepoint/syscalls/sys_enter_getppid")\nint f(void *ctx) { return 0; }\n`;
    ok(await run(cell));
    const first = ok(await run("[fresh.compiled.cached, fresh.compiled.seconds > 0]")).value;
    assert.deepEqual(first, [false, true]);
    ok(await run(cell));
    assert.deepEqual(ok(await run("[fresh.compiled.cached, fresh.compiled.seconds]")).value, [true, 0]);
    ok(await run("fresh.dispose()"));
  });

  it("a %%bpf cell that does not compile is an error at its line", async () => {
    const e = failed(await run('%%bpf broken\n#include "bpfbook.h"\n\nint x = ;\n'));
    assert.equal(e.ename, "CompileError");
    assert.match(e.evalue, /broken line 4, column \d+: expected expression/);
  });
});
