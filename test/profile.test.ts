/* CPU profiling against the real kernel: the gated workload spins in spin_here()
 * (frame pointers on), so its samples and their stacks are known. */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { execFileSync, spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { liveCount, InvalidArgumentError, plot } from "../bpf-lib/src/index.js";
import { profile, startProfile, offcpu, startOffcpu } from "../bpf-lib/src/probes/profile/profile.js";
import { foldedText } from "../bpf-lib/src/probes/profile/folded.js";
import { onlineCpus, samplingAttr } from "../bpf-lib/src/probes/profile/perf.js";
import { KernelSymbols } from "../bpf-lib/src/symbols/kallsyms.js";
import { parseMaps, UserSymbolizer, snapshotProcess, vdsoElf, readPerfMap } from "../bpf-lib/src/symbols/process.js";
import { primaryGid, readTrustedFile } from "../bpf-lib/src/symbols/trusted-file.js";
import { openElf } from "../bpf-lib/src/symbols/elf.js";
import { workload, programIdsOf, WORKLOAD } from "./helpers/workload.js";
import { readLockdown } from "../bpf-lib/src/doctor/features.js";
import { statsParts, tableStats } from "../kernel/display/table-stats.js";

type Row = { pid: number; comm: string; stack: string; count: number };
const rowsOf = (t: { objects(): object[] }) => t.objects() as Row[];
const perfFds = () => {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === "anon_inode:[perf_event]") n++;
    } catch {
      // closed while we looked
    }
  }
  return n;
};
/** The id of a map of the BPF program this process has loaded (one at a time in these tests). */
function ourMap(name: string): number {
  const bt = (...a: string[]) => JSON.parse(execFileSync("bpftool", [...a, "-j"], { encoding: "utf8" }));
  for (const id of programIdsOf()) {
    for (const m of (bt("prog", "show", "id", String(id)) as { map_ids?: number[] }).map_ids ?? []) {
      if ((bt("map", "show", "id", String(m)) as { name: string }).name === name) return m;
    }
  }
  throw new Error(`no map ${name} among this process's programs`);
}
const hexBytes = (a: ArrayBufferView) => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)].map((b) => "0x" + b.toString(16).padStart(2, "0"));
/** A map entry's value bytes, or null when the key is absent. */
function lookupBytes(map: number, key: string[]): number[] | null {
  try {
    const out = JSON.parse(execFileSync("bpftool", ["map", "lookup", "id", String(map), "key", ...key, "-j"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })) as { value: string[] };
    return out.value.map((b) => parseInt(b, 16));
  } catch {
    return null;
  }
}

const programsBefore = programIdsOf();
const perfBefore = perfFds();

after(() => {
  assert.deepEqual(programIdsOf(), programsBefore, "no BPF program of this process is left loaded");
  assert.equal(perfFds(), perfBefore, "every perf event fd is closed");
  assert.equal(liveCount(), 0);
});

describe("kernel symbols", () => {
  const ksyms = KernelSymbols.load();
  it("maps a known kernel function's address back to its name", { skip: ksyms.hidden ? "kernel addresses are hidden (kptr_restrict)" : false }, () => {
    assert.ok(ksyms.count > 1000, `${ksyms.count} text symbols`);
    for (const name of ["do_sys_openat2", "schedule", "do_syscall_64"]) {
      const addr = ksyms.address(name);
      assert.ok(addr !== undefined, `${name} is in /proc/kallsyms`);
      assert.deepEqual(ksyms.symbolize(addr), { name, module: undefined, offset: 0 });
      assert.equal(ksyms.symbolize(addr + 5n)?.name, name);
    }
  });

  it("parses kallsyms text, modules included, and knows when addresses are hidden", () => {
    const k = KernelSymbols.parse("ffffffff81000000 T _stext\nffffffff81000100 t helper\nffffffff81000200 D some_data\nffffffffc0000000 t mod_fn\t[mymod]\n");
    assert.equal(k.hidden, false);
    assert.equal(k.count, 3); // data symbols are left out
    assert.deepEqual(k.symbolize(0xffffffff81000150n), { name: "helper", module: undefined, offset: 0x50 });
    assert.deepEqual(k.symbolize(0xffffffffc0000010n), { name: "mod_fn", module: "mymod", offset: 0x10 });
    assert.equal(k.symbolize(0xffffffff80000000n), null);
    const hidden = KernelSymbols.parse("0000000000000000 T _stext\n0000000000000000 t helper\n");
    assert.equal(hidden.hidden, true);
    assert.equal(hidden.symbolize(0xffffffff81000150n), null);
  });
});

describe("user symbols", () => {
  it("names addresses of a PIE executable through its mappings and load bias", async () => {
    const w = workload(["call", "1"]);
    await new Promise((r) => setTimeout(r, 100)); // let it exec and map itself
    const img = snapshotProcess(w.pid);
    await w.go();
    assert.ok(img.maps && img.maps.length > 0);
    const exe = img.maps!.find((m) => m.path === WORKLOAD)!;
    const elf = openElf(WORKLOAD);
    const sym = elf.lookup("spin_here")[0];
    // runtime address = mapping start + (file offset − mapping offset)
    const addr = exe.start + (sym.fileOffset - exe.offset) + 4;
    const u = new UserSymbolizer();
    assert.equal(u.symbolize(img, addr, false), "spin_here");
    assert.equal(u.symbolize(img, addr - 4, true), elf.symbolize(sym.value - 1)?.name ?? `workload+0x${(sym.value - 1).toString(16)}`, "return addresses look up the byte before");
    assert.equal(u.symbolize(null, 0x1234, false), "0x1234");
  });

  it("parses /proc/PID/maps lines and reads the vDSO", () => {
    const maps = parseMaps("5581a000-5581b000 r--p 00000000 08:01 123 /bin/x\n5581b000-5581c000 r-xp 00001000 08:01 123 /bin/x\n7ffd1000-7ffd3000 r-xp 00000000 00:00 0 [vdso]\n");
    assert.deepEqual(maps.map((m) => [m.path, m.offset]), [["/bin/x", 0x1000], ["[vdso]", 0]]);
    const vdso = vdsoElf();
    if (vdso) assert.ok(vdso.functions().some((s) => /clock_gettime/.test(s.name)));
  });
});

describe("profile()", () => {
  it("workload spin 2 at 99 Hz with a pid filter: spin_here dominates, the sample count fits hz × seconds", async () => {
    const w = workload(["spin", "2"]);
    const run = startProfile({ pid: w.pid, hz: 99, seconds: 2.5 });
    assert.equal(run.links.length, onlineCpus().length, "one perf event per online CPU");
    // Samples measure CPU time, which on a busy machine is less than the 2 s of wall time: track it.
    let cpuNs = 0;
    const poll = setInterval(() => {
      try {
        cpuNs = Number(readFileSync(`/proc/${w.pid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // exited
      }
    }, 10);
    await w.go();
    clearInterval(poll);
    const t = await run.finished();
    const rows = rowsOf(t);
    assert.deepEqual(t.columnNames(), ["pid", "comm", "stack", "count"]);
    assert.ok(rows.every((r) => r.pid === w.pid && r.comm === "workload"));
    const total = rows.reduce((s, r) => s + r.count, 0);
    assert.equal(total, t.stats.samples);
    // The workload spins 2 s: 198 samples on an idle machine; in any case about its CPU time × 99.
    const expected = (cpuNs / 1e9) * 99;
    assert.ok(cpuNs > 0.3e9, `the workload ran ${cpuNs / 1e6} ms`);
    assert.ok(total >= 0.8 * expected - 5 && total <= 1.1 * expected + 5 && total <= 1.1 * 99 * 2.5, `${total} samples for ${(cpuNs / 1e6).toFixed(0)} ms of CPU (${expected.toFixed(0)} expected)`);
    const spinning = rows.filter((r) => r.stack.split(";").includes("spin_here")).reduce((s, r) => s + r.count, 0);
    assert.ok(spinning >= 0.9 * total, `${spinning} of ${total} samples in spin_here:\n${foldedText(t)}`);
    const top = rows[0].stack.split(";");
    assert.equal(top.filter((f) => !f.endsWith("_[k]")).at(-1), "spin_here", `top stack: ${rows[0].stack}`);
    assert.ok(top.indexOf("main") >= 0 && top.indexOf("main") < top.indexOf("spin_here"), "root → leaf order: main before spin_here");
    assert.equal(t.stats.hz, 99);
    assert.equal(t.stats.lost, 0);
    assert.equal(t.stats.dropped, 0);
    assert.deepEqual(t.stats.exited, [], "the mappings were read while the workload ran");
    assert.ok(t.stats.filtered > 0 || onlineCpus().length === 1);
    assert.equal(t.stats.stoppedBy, "seconds");
    // The flame graph draws it.
    const fig = plot.flamegraph(t) as unknown as { data: { labels: string[]; values: number[] }[] };
    assert.ok(fig.data[0].labels.includes("spin_here"));
    assert.equal(fig.data[0].values[0], total);
    assert.match(foldedText(t, { comm: true }), /^workload;.*spin_here \d+$/m);
  });

  it("kernel stacks of a syscall-heavy workload name the syscall path, suffixed _[k]", async (ctx) => {
    if (KernelSymbols.load().hidden) return ctx.skip("kernel addresses are hidden (kptr_restrict)");
    const w = workload(["getppid", "3000000"]);
    const run = startProfile({ pid: w.pid, hz: 999 });
    await w.go();
    const t = await run.table();
    const rows = rowsOf(t);
    assert.ok(t.stats.samples > 20, `${t.stats.samples} samples`);
    assert.equal(t.stats.kernelSymbols, "ok");
    const kernel = rows.filter((r) => r.stack.includes("_[k]"));
    assert.ok(kernel.length > 0, "some samples were in the kernel");
    assert.ok(kernel.some((r) => /(entry_SYSCALL_64|do_syscall_64)[^;]*_\[k\]/.test(r.stack)), kernel.map((r) => r.stack).join("\n"));
    // User frames come first (root), kernel frames after (leaf).
    for (const r of kernel) {
      const f = r.stack.split(";");
      const firstK = f.findIndex((x) => x.endsWith("_[k]"));
      assert.ok(f.slice(firstK).every((x) => x.endsWith("_[k]")), r.stack);
    }
  });

  it("user-only profiles have no kernel frames", async () => {
    const w = workload(["spin", "0.5"]);
    const run = startProfile({ pid: w.pid, kernel: false, hz: 199 });
    await w.go();
    const t = await run.table();
    assert.equal(t.stats.kernelSymbols, "off");
    assert.ok(rowsOf(t).every((r) => !r.stack.includes("_[k]")));
    assert.ok(t.stats.samples > 0);
  });

  it("options are checked; a stop condition is required", async () => {
    await assert.rejects(profile({ pid: 1 }), /stop condition/);
    assert.throws(() => startProfile({ kernel: false, user: false }), InvalidArgumentError);
    assert.throws(() => startProfile({ hz: 0 }), InvalidArgumentError);
    assert.throws(() => startProfile({ pid: -1 }), InvalidArgumentError);
    assert.equal(liveCount(), 0);
  });

  it("the perf_event_attr image asks for cpu-clock in frequency mode, disabled", () => {
    const a = new DataView(samplingAttr(1, 0, 99).buffer);
    assert.equal(a.getUint32(0, true), 1); // PERF_TYPE_SOFTWARE
    assert.equal(a.getUint32(4, true), 128);
    assert.equal(a.getBigUint64(8, true), 0n); // PERF_COUNT_SW_CPU_CLOCK
    assert.equal(a.getBigUint64(16, true), 99n);
    assert.equal(a.getBigUint64(40, true), (1n << 10n) | 1n); // freq | disabled
  });

  it("offcpu(): time blocked per stack adds up to the workload's sleeps", async () => {
    const w = workload(["sleep", "20", "15"]); // 15 nanosleeps of 20 ms
    const run = startOffcpu({ pid: w.pid });
    await w.go();
    const t = await run.table();
    assert.deepEqual(t.columnNames(), ["pid", "comm", "stack", "ns", "count"]);
    const rows = t.objects() as (Row & { ns: number })[];
    const sleeping = rows.filter((r) => /nanosleep/.test(r.stack));
    const ns = sleeping.reduce((s, r) => s + r.ns, 0), n = sleeping.reduce((s, r) => s + r.count, 0);
    // exact even when the kernel leaves a return unreported (rebuilt: stats.recovered)
    assert.equal(n, 15, `${JSON.stringify({ ...t.stats, exited: undefined })}\n${rows.map((r) => `${r.stack} ${r.count}`).join("\n")}`);
    assert.equal(t.stats.unseen, 0);
    assert.ok(ns >= 15 * 20e6 && ns < 15 * 20e6 * 1.5, `${ns} ns asleep`);
    assert.ok(sleeping.every((r) => r.stack.includes("schedule_[k]")), "kernel frames down to schedule()");
    assert.equal(t.stats.kind, "offcpu");
    assert.equal(t.stats.ns, rows.reduce((s, r) => s + r.ns, 0));
    assert.equal(t.stats.lost, 0);
    const fig = plot.flamegraph(t, { value: "ns" }) as unknown as { data: { values: number[] }[] };
    assert.equal(fig.data[0].values[0], t.stats.ns);
    assert.match(foldedText(t, { value: "ns" }), /nanosleep.* \d{8,}$/m);
    await assert.rejects(offcpu({}), /stop condition/);
  });

  it("offcpu(): a period whose return the kernel never reported is rebuilt from the thread's CPU time", async (t) => {
    if (readLockdown() === "confidentiality") return t.skip("lockdown=confidentiality: no kernel reads, such periods are only counted (stats.unseen)");
    // The fault, injected from outside as the kernel makes it: a thread back on the CPU
    // with its start still open (no sched_switch told us it returned). The thread sleeps
    // 300 ms (a real period), then spins; while it spins, its real start is written back
    // under comm "injected" and dated 100 ms ago, with the CPU time it has used by now.
    // Its next switch out finds the start open and rebuilds the period: it came back
    // when its CPU time was that, so 100 ms after the injected start.
    // spins until killed below, once an injection has been rebuilt (a loaded machine may need many tries)
    const w = workload(["sleepspin", "300", "60"]);
    const run = startOffcpu({ pid: w.pid });
    let attempt = -1;
    let done: Promise<number> | undefined;
    try {
      const offstarts = ourMap("offstarts");
      const goNs = process.hrtime.bigint(); // before: the write to the gate is synchronous, the sleep may start at once
      done = w.go();
      const key = hexBytes(new Uint32Array([w.pid]));
      let start: number[] | null = null;
      for (let i = 0; i < 200 && !start; i++) {
        const v = lookupBytes(offstarts, key);
        if (v && new DataView(new Uint8Array(v).buffer).getBigUint64(0, true) > goNs) start = v; // the sleep's, not the gate's
        else await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(start, `the sleep's start was recorded (map ${offstarts}, programs ${programIdsOf().join(",")}, last ${JSON.stringify(lookupBytes(offstarts, key))}, key ${key})`);
      while (lookupBytes(offstarts, key)) await new Promise((r) => setTimeout(r, 5)); // back on the CPU, spinning
      await new Promise((r) => setTimeout(r, 30));
      // schedstat's CPU time moves only when the scheduler accounts it (a tick, a switch):
      // taken the moment it moves, it is the CPU time of now, not of the last tick.
      const cpuTime = () => BigInt(readFileSync(`/proc/${w.pid}/schedstat`, "utf8").split(" ")[0]!);
      const onCpu = () => readFileSync(`/proc/${w.pid}/syscall`, "utf8").startsWith("running");
      const spinning = () => w.child.exitCode === null && w.child.signalCode === null;
      // The injection must land while the thread is on a CPU: if it waits preempted, its next
      // switch in takes the start as an ordinary return (counted, not rebuilt). On a loaded
      // machine that happens, so each attempt has its own comm and the rebuilt one is found.
      for (let k = 0; k < 100 && attempt < 0 && spinning(); k++) {
        while (!onCpu()) await new Promise((r) => setTimeout(r, 1));
        const before = cpuTime();
        let ran = before;
        for (const until = Date.now() + 500; ran === before && Date.now() < until; ) ran = cpuTime();
        const now = process.hrtime.bigint();
        assert.notEqual(ran, before, "the spinner's CPU time moved within 500 ms");
        const injected = new DataView(new Uint8Array(start).buffer);
        injected.setBigUint64(0, now - 100_000_000n, true);
        injected.setBigUint64(8, ran, true);
        new Uint8Array(injected.buffer).set(new TextEncoder().encode(`injected${k}\0`), 40);
        execFileSync("bpftool", ["map", "update", "id", String(offstarts), "key", ...key, "value", ...hexBytes(new Uint8Array(injected.buffer))]);
        assert.equal(readFileSync(`/proc/${w.pid}/stat`, "utf8").split(") ")[1]![0], "R", "still spinning after the injection");
        while (lookupBytes(offstarts, key)) await new Promise((r) => setTimeout(r, 5)); // taken, one way or the other
        if (run.snapshot().stats.recovered) attempt = k;
      }
    } catch (e) {
      await run.stop();
      throw e;
    } finally {
      w.child.kill("SIGKILL");
      await (done ?? w.go());
    }
    const table = await run.table();
    const rows = table.objects() as (Row & { ns: number })[];
    const why = `attempt ${attempt}: ${JSON.stringify({ ...table.stats, exited: undefined })}\n${rows.map((r) => `${r.comm} ${r.count} ${r.ns} ${r.stack}`).join("\n")}`;
    assert.equal(table.stats.recovered, 1, why);
    const footer = statsParts(tableStats(table)!);
    assert.ok(footer.some((p) => !p.loud && p.text === "1 return the kernel never reported, rebuilt from CPU time"), JSON.stringify(footer));
    assert.equal(table.stats.unseen, 0, why);
    // every attempt is one period: the rebuilt one, and before it any taken by a switch in
    for (let k = 0; k <= attempt; k++) assert.equal(rows.filter((r) => r.comm === `injected${k}`).reduce((n, r) => n + r.count, 0), 1, why);
    const rebuilt = rows.filter((r) => r.comm === `injected${attempt}`);
    // 100 ms, less the moment between reading the CPU time and the clock; more by the time
    // interrupts took while it spun (not its CPU time), or if it was also preempted after
    // the CPU time was read (a loaded machine)
    t.diagnostic(`rebuilt period ${rebuilt[0]!.ns} ns for 100 ms (attempt ${attempt})`);
    assert.ok(rebuilt[0]!.ns >= 99.5e6 && rebuilt[0]!.ns < 150e6, why);
    const slept = rows.filter((r) => r.comm === "workload" && /nanosleep/.test(r.stack));
    assert.equal(slept.reduce((n, r) => n + r.count, 0), 1, why);
    assert.ok(slept[0]!.ns >= 300e6, why);
  });

  it("stop() mid-run detaches and closes every perf event", async () => {
    const before = perfFds();
    const run = startProfile({ hz: 49 });
    assert.equal(perfFds(), before + onlineCpus().length);
    await new Promise((r) => setTimeout(r, 200));
    const snap = run.snapshot();
    assert.deepEqual(snap.columnNames(), ["pid", "comm", "stack", "count"]);
    const t = await run.table();
    assert.equal(perfFds(), before);
    assert.equal(t.stats.stoppedBy, "stop");
    assert.equal(run.running, false);
  });
});

describe("JIT perf maps planted by others", () => {
  const skipped = () => {
    const seen: string[] = [];
    const on = (w: Error & { code?: string }) => { if (w.code === "BPFBOOK_PERF_MAP_SKIPPED") seen.push(w.message); };
    process.on("warning", on);
    return { seen, done: () => process.off("warning", on) };
  };

  for (const planted of ["fifo", "symlink"] as const) {
    it(`a ${planted === "fifo" ? "FIFO" : "symlink to a FIFO"} at /tmp/perf-PID.map is skipped with a warning; the profile ends on time`, async () => {
      const w = workload(["spin", "1"]);
      const map = `/tmp/perf-${w.pid}.map`;
      const fifo = planted === "fifo" ? map : `/tmp/bpfbook-test-fifo-${w.pid}`;
      execFileSync("mkfifo", ["-m", "0644", fifo]);
      if (planted === "symlink") symlinkSync(fifo, map);
      // Every 3 s, unblocks a reader stuck on the FIFO (open, then EOF), so a profiler that
      // would hang fails this test instead of hanging it. It blocks in open() while no one reads.
      const watchdog = spawn("sh", ["-c", `while :; do sleep 3; : > ${fifo}; done`], { stdio: "ignore" });
      const warnings = skipped();
      try {
        const t0 = Date.now();
        const run = startProfile({ pid: w.pid, hz: 99, seconds: 1.5 });
        await w.go();
        const t = await run.finished();
        const took = Date.now() - t0;
        assert.ok(took < 4000, `the profile took ${took} ms`);
        assert.ok(rowsOf(t).some((r) => r.stack.split(";").includes("spin_here")), "the ELF symbols still name the samples");
        await new Promise((r) => setImmediate(r));
        const why = planted === "fifo" ? "it is not a regular file (a FIFO)" : "it is a symbolic link";
        assert.deepEqual(warnings.seen, [`${map} was not read: ${why}; JIT frames of process ${w.pid} stay unnamed`]);
      } finally {
        warnings.done();
        watchdog.kill();
        rmSync(map, { force: true });
        rmSync(fifo, { force: true });
      }
    });
  }

  it("a symlink, another user's file, a world-writable file, a file writable by another group and an oversized one are refused; a proper map (0664 in its owner's group too) is read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-perfmap-"));
    const pid = 2 ** 22 + 17; // above pid_max's ceiling: no real process has it
    const path = `/tmp/perf-${pid}.map`;
    const good = join(dir, "good.map");
    writeFileSync(good, "7f0000001000 40 jitted_fn\n", { mode: 0o644 });
    const warnings = skipped();
    try {
      symlinkSync(good, path);
      assert.equal(readPerfMap(pid, [1000]), null);
      rmSync(path);
      assert.deepEqual(readTrustedFile(good, [1000]), { text: "7f0000001000 40 jitted_fn\n" }, "root's own file is trusted");
      chownSync(good, 65534, 65534);
      assert.deepEqual(readTrustedFile(good, [1000]), { skipped: "it is owned by uid 65534, not by the process's user (1000) or root" });
      assert.deepEqual(readTrustedFile(good, [65534]), { text: "7f0000001000 40 jitted_fn\n" }, "the process's user's file is trusted");
      chmodSync(good, 0o666);
      assert.deepEqual(readTrustedFile(good, [65534]), { skipped: "it is writable by everyone (mode 666)" });
      // umask 002: group-writable in the owner's own primary group (nobody's is 65534) is trusted
      chmodSync(good, 0o664);
      assert.equal(primaryGid(65534), 65534);
      assert.deepEqual(readTrustedFile(good, [65534]), { text: "7f0000001000 40 jitted_fn\n" }, "0664 in the owner's primary group is read");
      chownSync(good, 65534, 0);
      assert.deepEqual(readTrustedFile(good, [65534]), { skipped: "it is writable by group 0, not its owner's own primary group (mode 664)" });
      chownSync(good, 65534, 65534);
      chmodSync(good, 0o644);
      assert.deepEqual(readTrustedFile(good, [65534], 16), { skipped: "it is 26 bytes, more than the 16 read at most" });
      copyFileSync(good, path);
      chownSync(path, 65534, 65534);
      assert.deepEqual(readPerfMap(pid, [65534]), { starts: [0x7f0000001000], ends: [0x7f0000001040], names: ["jitted_fn"] });
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings.seen, [`${path} was not read: it is a symbolic link; JIT frames of process ${pid} stay unnamed`]);
    } finally {
      warnings.done();
      rmSync(path, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
