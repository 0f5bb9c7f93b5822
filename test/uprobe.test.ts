/* Uprobes against the real kernel: the gated workload calls bpfbook_target(i) N
 * times (it returns i + 1), so every count, argument and return value is known. */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { liveCount, InvalidArgumentError, PermissionError } from "../bpf-lib/src/index.js";
import { uprobe, uretprobe } from "../bpf-lib/src/probes/uprobe/probe.js";
import { ElfFile, openElf } from "../bpf-lib/src/symbols/elf.js";
import { resolveBinary, nearestSymbols } from "../bpf-lib/src/symbols/resolve.js";
import { BinaryNotFoundError, NotElfError, UnknownSymbolError, UnsafeOffsetError } from "../bpf-lib/src/symbols/errors.js";
import { functionInstructions } from "../bpf-lib/src/symbols/instructions.js";
import { workload, renamedWorkload, programIdsOf, WORKLOAD } from "./helpers/workload.js";

const rowsOf = (t: { objects(): object[] }) => t.objects() as Record<string, unknown>[];
const col = (t: { array(c: string): unknown }, c: string) => Array.from(t.array(c) as ArrayLike<number>, Number);
const sum = (a: number[]) => a.reduce((s, x) => s + x, 0);
const programsBefore = programIdsOf();

after(() => {
  assert.deepEqual(programIdsOf(), programsBefore, "no BPF program of this process is left loaded");
  assert.equal(liveCount(), 0, "nothing is left tracked as live");
});

describe("ELF symbols", () => {
  it("finds bpfbook_target with the address and file offset nm and readelf report", () => {
    const elf = openElf(WORKLOAD);
    const [sym] = elf.lookup("bpfbook_target");
    assert.ok(sym, "bpfbook_target is in the symbol table");
    const nm = execFileSync("nm", [WORKLOAD], { encoding: "utf8" });
    const addr = parseInt(/^([0-9a-f]+) T bpfbook_target$/m.exec(nm)![1], 16);
    assert.equal(sym.value, addr);
    assert.equal(sym.kind, "func");
    assert.ok(sym.size > 0);
    // The file offset is where the function's bytes are: compare with the .text section's mapping.
    const text = elf.sections.find((s) => s.name === ".text")!;
    assert.equal(sym.fileOffset, addr - text.addr + text.offset);
    assert.equal(elf.vaddrOf(sym.fileOffset), addr);
    assert.deepEqual(elf.symbolize(addr + 3), { name: "bpfbook_target", offset: 3 });
    assert.equal(elf.symbolize(elf.lookup("spin_here")[0].value)?.name, "spin_here");
  });

  it("reads a shared library's exported functions and prefers default symbol versions", () => {
    const libc = resolveBinary("c");
    assert.match(libc, /libc\.so\.6$|libc-[\d.]+\.so$/);
    assert.equal(resolveBinary("libc"), libc);
    assert.equal(resolveBinary("libc.so.6"), libc);
    const elf = openElf(libc);
    assert.ok(elf.lookup("getpid").length >= 1);
    // memcpy has an old compat version (a plain function) and the default one (an ifunc): the default wins.
    assert.throws(() => uprobe("libc", "memcpy"), (e: unknown) => e instanceof InvalidArgumentError && /indirect function/.test((e as Error).message));
  });

  it("resolves executables on PATH", () => {
    assert.equal(resolveBinary("sh"), execFileSync("readlink", ["-f", execFileSync("sh", ["-c", "command -v sh"], { encoding: "utf8" }).trim()], { encoding: "utf8" }).trim());
  });

  it("parses an ELF image from memory", () => {
    const img = readFileSync(WORKLOAD);
    const elf = ElfFile.fromBuffer("workload", img);
    assert.equal(elf.lookup("bpfbook_target")[0].value, openElf(WORKLOAD).lookup("bpfbook_target")[0].value);
  });
});

describe("errors say what is wrong", () => {
  it("an unknown symbol lists the nearest names", () => {
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_targe"), (e: unknown) => {
      assert.ok(e instanceof UnknownSymbolError);
      assert.equal(e.code, "ENOSYM");
      assert.equal(e.nearest[0], "bpfbook_target");
      assert.match(e.message, /has no function "bpfbook_targe".*nearest: bpfbook_target/);
      return true;
    });
    assert.throws(() => uprobe("libc", "getpdi"), (e: unknown) => e instanceof UnknownSymbolError && e.nearest.includes("getpid") && /stripped/.test(e.message));
    assert.deepEqual(nearestSymbols("spin", ["spin_here", "main", "usage"], 2), ["spin_here", "main"]);
  });

  it("an unknown binary is ENOENT; a file that is not ELF says so", () => {
    assert.throws(() => uprobe("/nonexistent/bpfbook", "main"), (e: unknown) => e instanceof BinaryNotFoundError && e.code === "ENOENT" && e.errno === 2);
    assert.throws(() => uprobe("libbpfbook-no-such-lib", "main"), (e: unknown) => e instanceof BinaryNotFoundError && /ldconfig/.test((e as Error).message));
    const notElf = join(tmpdir(), `bpfbook-not-elf-${process.pid}`);
    writeFileSync(notElf, "#!/bin/sh\necho this is a script, not an ELF file\n");
    assert.throws(() => uprobe(notElf, "main"), (e: unknown) => e instanceof NotElfError && e.code === "ENOEXEC" && /ELF magic/.test((e as Error).message));
    assert.throws(() => uprobe("/etc", "main"), NotElfError);
  });

  it("a pid that does not exist is ESRCH, and nothing stays loaded", () => {
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_target", { pid: 0x3ffffff0 }).start(), (e: unknown) => (e as { code?: string }).code === "ESRCH" && /no such process/.test((e as Error).message));
    assert.equal(liveCount(), 0);
    assert.deepEqual(programIdsOf(), programsBefore);
  });

  it("options are checked before the kernel is touched", () => {
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_target", { args: 7 }), InvalidArgumentError);
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_target", { where: { ret: 1 } }), /retprobe: true/);
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_target", { args: 1, where: { arg1: 1 } }), /args: 2/);
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_target").stats("arg0"), /args: 1/);
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_target", { retprobe: true, offset: 4 }), InvalidArgumentError);
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_target", { offset: 100000 }), /outside bpfbook_target/);
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_target", { argTypes: ["int"] }), /raise args/);
    assert.equal(liveCount(), 0);
  });

  it("a caller without privileges gets a PermissionError", { skip: process.getuid?.() !== 0 ? "needs root to drop privileges" : false }, () => {
    // Runs in a child without capabilities (uid nobody): either reading the binary or loading the program is refused.
    const code = `import("${join(process.cwd(), "dist", "bpf-lib", "src", "probes", "uprobe", "probe.js")}").then(async (m) => {
      try { m.uprobe(${JSON.stringify(WORKLOAD)}, "bpfbook_target").start(); console.log("started?!"); }
      catch (e) { console.log(e.name + ": " + e.message); }
    })`;
    let out = "";
    try {
      out = execFileSync(process.execPath, ["-e", code], { encoding: "utf8", uid: 65534, gid: 65534, stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? "") + String((e as { stderr?: string }).stderr ?? "");
    }
    if (/Cannot find module|ERR_MODULE_NOT_FOUND|EACCES: permission denied, open '.*dist/.test(out)) return; // nobody cannot read the checkout: nothing to check
    assert.match(out, /^PermissionError: .*(CAP_BPF|read permission)/m);
    void PermissionError;
  });
});

describe("uprobe offsets", () => {
  const elf = openElf(WORKLOAD);
  const sym = elf.lookup("bpfbook_target")[0];
  const ins = functionInstructions(elf, sym)!.instructions;

  it("an offset on an instruction start: exactly N hits, arguments still read", async () => {
    const N = 700;
    const at = ins[1].offset; // the second instruction: rdi (arg0) is not touched before it
    const w = workload(["call", String(N)]);
    const trace = uprobe(WORKLOAD, "bpfbook_target", { pid: w.pid, args: 1, argTypes: ["int"], offset: at }).start();
    assert.equal(await w.go(), 0, "the workload ran to completion");
    const t = await trace.table();
    assert.equal(t.numRows(), N);
    assert.deepEqual(col(t, "arg0"), Array.from({ length: N }, (_, i) => i));
    assert.equal(t.stats.source, `uprobe:${WORKLOAD}:bpfbook_target+${at}`);
  });

  it("an offset inside an instruction is refused with the nearest starts, before the kernel is touched", () => {
    const long = ins.find((i) => i.length >= 2)!;
    const bad = long.offset + 1;
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_target", { offset: bad }), (e: unknown) =>
      e instanceof UnsafeOffsetError && e.offset === bad && e.nearest.join() === [long.offset, long.offset + long.length].join() &&
      e.message.startsWith(`offset ${bad} into bpfbook_target (${WORKLOAD}) is inside the instruction "${long.text}" at offset ${long.offset}`));
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_target", { offset: bad, unsafeOffset: "yes" as unknown as boolean }), InvalidArgumentError);
    assert.equal(liveCount(), 0);
  });

  it("unsafeOffset: true places it anyway (attached, for a workload that never runs the function)", async () => {
    const long = ins.find((i) => i.length >= 2)!;
    const w = workload(["call", "0"]);
    const trace = uprobe(WORKLOAD, "bpfbook_target", { pid: w.pid, offset: long.offset + 1, unsafeOffset: true }).start();
    assert.equal(trace.links.length, 1);
    assert.equal(await w.go(), 0);
    const t = await trace.table();
    assert.equal(t.numRows(), 0);
  });
});

describe("uprobe event streams", () => {
  it("workload call N: exactly N hits for its pid, arg0 = 0..N-1", async () => {
    const N = 1000;
    const w = workload(["call", String(N)]);
    const trace = uprobe(WORKLOAD, "bpfbook_target", { pid: w.pid, args: 1, argTypes: ["int"] }).start();
    assert.equal(trace.links.length, 1);
    await w.go();
    const t = await trace.table();
    assert.equal(t.numRows(), N);
    assert.deepEqual(col(t, "arg0"), Array.from({ length: N }, (_, i) => i));
    assert.ok(col(t, "pid").every((p) => p === w.pid));
    assert.deepEqual(t.columnNames(), ["ts", "cpu", "pid", "tid", "comm", "arg0"]);
    assert.equal(t.stats.lost, 0);
    assert.equal(t.stats.produced, N);
    assert.equal(trace.links.filter((l) => l.attached).length, 0, "detached once stopped");
  });

  it("uretprobe: ret = i + 1, as bpfbook_target returns; with args, arg0 and latency too", async () => {
    const N = 300;
    const w = workload(["call", String(N)]);
    const rets = uretprobe(WORKLOAD, "bpfbook_target", { pid: w.pid, retType: "int" }).start();
    const both = uprobe(WORKLOAD, "bpfbook_target", { pid: w.pid, retprobe: true, args: 1, argTypes: ["int"], retType: "int" }).start();
    await w.go();
    const [a, b] = [await rets.table(), await both.table()];
    assert.deepEqual(a.columnNames(), ["ts", "cpu", "pid", "tid", "comm", "ret"]);
    assert.deepEqual(col(a, "ret"), Array.from({ length: N }, (_, i) => i + 1));
    assert.deepEqual(b.columnNames(), ["ts", "cpu", "pid", "tid", "comm", "ret", "latency", "arg0"]);
    assert.equal(b.numRows(), N);
    for (const r of rowsOf(b)) {
      assert.equal(r.ret, Number(r.arg0) + 1);
      assert.ok(Number(r.latency) > 0 && Number(r.latency) < 1e9, `latency ${r.latency}`);
    }
  });

  it("filters on arguments run in the kernel", async () => {
    const N = 200;
    const w = workload(["call", String(N)]);
    const trace = uprobe(WORKLOAD, "bpfbook_target", { pid: w.pid, args: 1, where: { arg0: { ge: 150 } } }).start();
    await w.go();
    const t = await trace.table();
    assert.deepEqual(col(t, "arg0"), Array.from({ length: 50 }, (_, i) => 150 + i));
    assert.equal(t.stats.filtered, 150);
  });

  it("a uprobe on libc (getpid) from a child process", async () => {
    const script = join(tmpdir(), `bpfbook-getpid-${process.pid}.py`);
    writeFileSync(script, "import sys, os\nsys.stdin.read(1)\nfor _ in range(100): os.getpid()\n");
    const child = spawn("/usr/bin/python3", [script], { stdio: ["pipe", "inherit", "inherit"] });
    const exited = new Promise((r) => child.once("exit", r));
    // Wait until python has started (and mapped libc), then attach only to it.
    await new Promise((r) => setTimeout(r, 300));
    const probe = uprobe("libc", "getpid", { pid: child.pid! });
    assert.match(probe.binary, /libc/);
    const trace = probe.start();
    child.stdin!.end("g");
    await exited;
    const t = await trace.table();
    assert.equal(t.numRows(), 100);
    assert.ok(col(t, "pid").every((p) => p === child.pid));
  });
});

describe("uprobe aggregations", () => {
  it("count({ by: ['pid'] }) is exact per process, without a pid filter", async () => {
    const copy = renamedWorkload("bpfbook-upr-b");
    const a = workload(["call", "1234"]);
    const b = workload(["call", "567"], { binary: copy });
    const run = uprobe(WORKLOAD, "bpfbook_target").count({ by: ["pid"] }).start();
    const runB = uprobe(copy, "bpfbook_target").count({ by: ["comm", "pid"] }).start();
    await Promise.all([a.go(), b.go()]);
    await Promise.all([run.stop(), runB.stop()]);
    const t = await run.finished();
    assert.deepEqual(rowsOf(t).filter((r) => r.pid === a.pid), [{ pid: a.pid, count: 1234 }]);
    // The copy is another file: the first probe does not see it, the second sees only it.
    assert.equal(rowsOf(t).filter((r) => r.pid === b.pid).length, 0);
    assert.deepEqual(rowsOf(await runB.finished()), [{ comm: "bpfbook-upr-b", pid: b.pid, count: 567 }]);
    assert.equal(t.stats.dropped, 0);
  });

  it("stats and histograms of an argument and of the return value", async () => {
    const N = 100;
    const w = workload(["call", String(N)]);
    const s = uprobe(WORKLOAD, "bpfbook_target", { pid: w.pid, args: 1, argTypes: ["int"] }).stats("arg0", { by: ["comm"] }).start();
    const h = uretprobe(WORKLOAD, "bpfbook_target", { pid: w.pid, retType: "int" }).hist("ret").start();
    await w.go();
    await Promise.all([s.stop(), h.stop()]);
    assert.deepEqual(rowsOf(await s.finished()), [{ comm: "workload", count: N, sum: (N * (N - 1)) / 2, min: 0, max: N - 1, avg: (N - 1) / 2 }]);
    // ret = 1..100: log2 bucket b >= 1 holds [2^(b-1), 2^b)
    const ht = await h.finished();
    const expect = new Map<number, number>();
    for (let r = 1; r <= N; r++) {
      const b = Math.floor(Math.log2(r)) + 1;
      expect.set(b, (expect.get(b) ?? 0) + 1);
    }
    assert.deepEqual(rowsOf(ht).map((r) => [r.bucket, r.count]), [...expect.entries()]);
  });

  it("latency: entry → return per call, paired by thread, one histogram entry per call", async () => {
    const N = 500;
    const w = workload(["call", String(N)]);
    const run = uprobe(WORKLOAD, "bpfbook_target", { pid: w.pid }).latency({ by: ["pid"] }).start();
    await w.go();
    await run.stop();
    const t = await run.finished();
    assert.equal(sum(col(t, "count")), N);
    assert.ok(col(t, "pid").every((p) => p === w.pid));
    assert.deepEqual(t.columnNames(), ["pid", "bucket", "low", "high", "count"]);
    assert.equal(t.stats.unit, "ns");
    assert.equal(t.stats.unmatched, 0);
    assert.equal(t.stats.events, N);
    // A uprobe + uretprobe pair costs microseconds, not seconds.
    assert.ok(Math.max(...col(t, "high")) < 2 ** 30);
    const stats = await uprobe(WORKLOAD, "bpfbook_target").latency({ hist: "stats" }).collect({ seconds: 0.05 });
    assert.deepEqual(stats.columnNames(), ["count", "sum", "min", "max", "avg"]);
  });

  it("keys by an argument, with the return value in the window too", async () => {
    const w = workload(["call", "10"]);
    const run = uprobe(WORKLOAD, "bpfbook_target", { pid: w.pid, retprobe: true, args: 1, argTypes: ["int"], retType: "int" }).stats("ret", { by: ["arg0"] }).start();
    await w.go();
    await run.stop();
    const t = await run.finished();
    assert.deepEqual(rowsOf(t).map((r) => [r.arg0, r.sum]), Array.from({ length: 10 }, (_, i) => [i, i + 1]));
  });
});
