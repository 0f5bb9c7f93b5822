/* The process tools (execsnoop, exitsnoop, killsnoop, statsnoop, signals, capable, oomkill,
 * mountsnoop, bashreadline, gethostlatency) on workloads of known counts: each row's values
 * are asserted exactly, and bpftrace counts the same events side by side where it can. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError, NotSupportedError, tools, type EventsTool } from "../bpf-lib/src/index.js";
import { TOOLS } from "../bpf-lib/src/tools/registry.js";
import { renamedWorkload, workload, type Gated } from "./helpers/workload.js";
import { bpftrace, parseMap } from "./helpers/bpftrace.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Row = Record<string, unknown>;
const rowsOf = (t: { objects(): object[] }) => t.objects() as Row[];
const pick = (rows: Row[], keys: string[]) => rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]])));

const dir = mkdtempSync(join(tmpdir(), "bpfbook-tools-proc-"));

/** Starts the tool (and bpftrace, when given), lets the work run, stops both; the tool's table. */
async function traced<R extends object>(tool: EventsTool<R>, work: Gated | (() => Promise<unknown>), bt?: string) {
  const trace = tool.start();
  const peer = bt ? await bpftrace(bt) : null;
  await sleep(100);
  const done = typeof work === "function" ? await work() : await work.go();
  await sleep(200);
  await trace.stop();
  const raw = await trace.table();
  const t = tool.shape(raw);
  const out = peer ? await peer.stop() : "";
  return { t, rows: rowsOf(t), done, out, stats: raw.stats };
}

/** The tool's columns, in the catalog's order. */
function assertColumns(tool: EventsTool<object>, t: { columnNames(): string[] }) {
  assert.deepEqual(t.columnNames(), [...tool.info.columns]);
}

describe("tools: the process tools", { concurrency: false }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("execsnoop: argv as string[], ppid and ret of each exec (collect), agreeing with bpftrace", async () => {
    const bin = renamedWorkload("bpfb-execwl");
    const w = workload(["exec", "3", "alpha", "beta gamma"], { binary: bin });
    const tool = tools.execsnoop({ comm: "bpfb-execwl" });
    const bt = await bpftrace(`tracepoint:syscalls:sys_enter_execve /comm == "bpfb-execwl"/ { @[str(args->filename), str(args->argv[2])] = count(); }`);
    const pending = tool.collect({ seconds: 1.5 });
    await sleep(300);
    assert.equal(await w.go(), 0);
    const t = await pending;
    const out = await bt.stop();
    assertColumns(tool, t);
    const rows = rowsOf(t);
    assert.deepEqual(pick(rows, ["comm", "ppid", "ret", "ret_name", "filename", "argv"]), Array(3).fill({ comm: "true", ppid: w.pid, ret: 0, ret_name: null, filename: "/bin/true", argv: ["true", "alpha", "beta gamma"] }));
    assert.equal(new Set(rows.map((r) => r.pid)).size, 3, "three children");
    assert.ok(rows.every((r) => r.pid !== w.pid && r.pid === r.tid && (r.latency as number) > 0));
    assert.equal(t.stats.truncated, 0);
    assert.deepEqual([...parseMap(out)], [["/bin/true,beta gamma", 3]]);
    const fig = tool.chart(t);
    assert.deepEqual(fig.data[0]!.y, ["true"]);
  });

  it("execsnoop: failed execs only (failed, pid), with maxArgs cutting argv", async () => {
    const w = workload(["execfail", "4"]);
    const tool = tools.execsnoop({ pid: w.pid, failed: true, maxArgs: 1 });
    const { rows, done, out } = await traced(tool, w, `tracepoint:syscalls:sys_exit_execve /pid == ${w.pid}/ { @[args->ret] = count(); }`);
    assert.equal(done, 0);
    assert.deepEqual(pick(rows, ["pid", "comm", "ret", "ret_name", "filename", "argv"]), Array(4).fill({ pid: w.pid, comm: "workload", ret: -2, ret_name: "ENOENT", filename: "/nonexistent/bpfbook", argv: ["bpfbook"] }));
    assert.deepEqual([...parseMap(out)], [["-2", 4]]);
    // the successful execs of the same workload shape are left out
    const w2 = workload(["exec", "2"]);
    const { rows: none } = await traced(tools.execsnoop({ comm: "workload", failed: true }), w2);
    assert.deepEqual(none.filter((r) => r.ppid === w2.pid), []);
  });

  it("exitsnoop: status, signal and parent of each exit, agreeing with bpftrace on exit_code", async () => {
    const bin = renamedWorkload("bpfb-exitwl");
    const w = workload(["exits", "3"], { binary: bin });
    const tool = tools.exitsnoop({ comm: "bpfb-exitwl" });
    const { t, rows, done, out } = await traced(tool, w, `tracepoint:sched:sched_process_exit /comm == "bpfb-exitwl" && args->group_dead/ { @[curtask->exit_code] = count(); }`);
    assert.equal(done, 0);
    assertColumns(tool, t);
    assert.deepEqual(pick(rows, ["ppid", "comm", "status", "signal", "signal_name", "core"]), [
      ...[1, 2, 3].map((status) => ({ ppid: w.pid, comm: "bpfb-exitwl", status, signal: 0, signal_name: null, core: false })),
      { ppid: w.pid, comm: "bpfb-exitwl", status: 0, signal: 15, signal_name: "SIGTERM", core: false },
      { ppid: process.pid, comm: "bpfb-exitwl", status: 0, signal: 0, signal_name: null, core: false },
    ]);
    assert.equal(rows[4]!.pid, w.pid);
    assert.ok(rows.every((r) => (r.age_ms as number) > 0 && (r.age_ms as number) < 60_000));
    // the workload lived through the attach wait; its children a moment
    assert.ok((rows[4]!.age_ms as number) > (rows[0]!.age_ms as number));
    assert.deepEqual(new Map([...parseMap(out)].sort()), new Map([["0", 1], ["15", 1], ["256", 1], ["512", 1], ["768", 1]]));
    assert.deepEqual(tool.chart(t).data[0]!.x, [5]); // five exits of one program
  });

  it("exitsnoop: failed leaves out the clean exits", async () => {
    const bin = renamedWorkload("bpfb-exitwl2");
    const w = workload(["exits", "2"], { binary: bin });
    const { rows } = await traced(tools.exitsnoop({ comm: "bpfb-exitwl2", failed: true }), w);
    assert.deepEqual(pick(rows, ["status", "signal_name"]), [{ status: 1, signal_name: null }, { status: 2, signal_name: null }, { status: 0, signal_name: "SIGTERM" }]);
  });

  it("killsnoop: sender, signal name, target and errno of each kill(2), agreeing with bpftrace", async () => {
    const w = workload(["kills", "3"]);
    const tool = tools.killsnoop({ pid: w.pid });
    const { t, rows, out } = await traced(tool, w, `tracepoint:syscalls:sys_exit_kill /pid == ${w.pid}/ { @[args->ret] = count(); }`);
    assertColumns(tool, t);
    const ok = { pid: w.pid, comm: "workload", sig: 23, sig_name: "SIGURG", target: w.pid, ret: 0, ret_name: null };
    const esrch = { pid: w.pid, comm: "workload", sig: 10, sig_name: "SIGUSR1", target: 2147483647, ret: -3, ret_name: "ESRCH" };
    assert.deepEqual(pick(rows, Object.keys(ok)), [ok, esrch, ok, esrch, ok, esrch]);
    assert.deepEqual(new Map(parseMap(out)), new Map([["0", 3], ["-3", 3]]));
    assert.deepEqual(new Set(tool.chart(t).data[0]!.y as string[]), new Set(["SIGURG", "SIGUSR1"]));
  });

  it("killsnoop: failed keeps only the refused kills", async () => {
    const w = workload(["kills", "2"]);
    const { rows } = await traced(tools.killsnoop({ pid: w.pid, failed: true }), w);
    assert.deepEqual(rows.map((r) => [r.sig_name, r.target, r.ret_name]), [["SIGUSR1", 2147483647, "ESRCH"], ["SIGUSR1", 2147483647, "ESRCH"]]);
    // a process group target is negative; signal 0 only checks it exists
    const group = await traced(tools.killsnoop({ comm: "bash", failed: true }), async () => spawnSync("bash", ["-c", "kill -0 -- -3999999"]));
    assert.deepEqual(pick(group.rows.filter((r) => r.target === -3999999), ["comm", "sig", "sig_name", "target", "ret_name"]), [{ comm: "bash", sig: 0, sig_name: "0", target: -3999999, ret_name: "ESRCH" }]);
  });

  it("statsnoop: each stat call by syscall with its path, agreeing with bpftrace", async () => {
    const path = join(dir, "stat-me");
    writeFileSync(path, "x");
    const w = workload(["stats", path, "2"]);
    const tool = tools.statsnoop({ pid: w.pid });
    const calls = ["newstat", "newlstat", "newfstatat", "statx"];
    const { t, rows, out } = await traced(tool, w, `${calls.map((c) => `tracepoint:syscalls:sys_enter_${c}`).join(",")} /pid == ${w.pid}/ { @[probe, str(args->filename)] = count(); }`);
    assertColumns(tool, t);
    // 1N stat, 2N lstat, 3N newfstatat, 4N statx, in that order
    assert.deepEqual(rows.map((r) => r.syscall), calls.flatMap((c, i) => Array(2 * (i + 1)).fill(c)));
    assert.ok(rows.every((r) => r.filename === path && r.pid === w.pid && r.comm === "workload"));
    assert.deepEqual(new Map(parseMap(out)), new Map(calls.map((c, i) => [`tracepoint:syscalls:sys_enter_${c},${path}`, 2 * (i + 1)])));
    assert.deepEqual(tool.chart(t).data[0]!.y, [path]);
  });

  it("signals: sender, signal, target, code and result of every generated signal, agreeing with bpftrace", async () => {
    const w = workload(["signals", "6"]);
    const tool = tools.signals({ target: w.pid });
    const { t, rows, out } = await traced(tool, w, `tracepoint:signal:signal_generate /args->pid == ${w.pid}/ { @[args->sig, args->code, args->result] = count(); }`);
    assertColumns(tool, t);
    // rt_sigqueueinfo of ignored signals: SIGURG for even i, SIGWINCH for odd, si_code -1 - i % 5
    const expected = [0, 1, 2, 3, 4, 5].map((i) => ({
      pid: w.pid, comm: "workload", sig_name: i % 2 ? "SIGWINCH" : "SIGURG", target_pid: w.pid, target_comm: "workload", code: -1 - (i % 5), result: 1, result_name: "IGNORED",
    }));
    assert.deepEqual(pick(rows, Object.keys(expected[0]!)), expected);
    const bt = new Map<string, number>();
    for (const i of [0, 1, 2, 3, 4, 5]) { const k = `${i % 2 ? 28 : 23},${-1 - (i % 5)},1`; bt.set(k, (bt.get(k) ?? 0) + 1); }
    assert.deepEqual(new Map(parseMap(out)), bt);
    assert.deepEqual(new Set(tool.chart(t).data[0]!.y as string[]), new Set(["SIGURG", "SIGWINCH"]));
  });

  it("signals: kill(2) to self is generated; one to no process is not (signal filter)", async () => {
    const w = workload(["kills", "3"]);
    const { rows } = await traced(tools.signals({ pid: w.pid, signal: 23 }), w);
    assert.deepEqual(pick(rows, ["sig_name", "target_pid", "code", "result_name"]), Array(3).fill({ sig_name: "SIGURG", target_pid: w.pid, code: 0, result_name: "IGNORED" }));
  });

  it("capable: CAP_SETUID checks of setuid(2), by name, agreeing with bpftrace on every check", async () => {
    const bin = renamedWorkload("bpfb-capwl");
    const w = workload(["setuid", "1000", "3"], { binary: bin });
    const tool = tools.capable({ comm: "bpfb-capwl" });
    const { t, rows, done, out } = await traced(tool, w, `tracepoint:capability:cap_capable /comm == "bpfb-capwl"/ { @[args->cap, args->ret] = count(); }`);
    assert.equal(done, 0);
    assertColumns(tool, t);
    const setuid = rows.filter((r) => r.cap_name === "CAP_SETUID");
    assert.deepEqual(pick(setuid, ["comm", "uid", "cap", "ret", "ret_name"]), Array(3).fill({ comm: "bpfb-capwl", uid: 0, cap: 7, ret: 0, ret_name: null }));
    assert.equal(new Set(setuid.map((r) => r.pid)).size, 3, "one check in each child");
    assert.ok(setuid.every((r) => r.pid !== w.pid));
    // every check, not only setuid's, is the same as bpftrace's
    const ours = new Map<string, number>();
    for (const r of rows) { const k = `${r.cap},${r.ret}`; ours.set(k, (ours.get(k) ?? 0) + 1); }
    assert.deepEqual(ours, new Map(parseMap(out)));
    assert.ok((tool.chart(t).data[0]!.y as string[]).includes("CAP_SETUID"));
    // all granted: none refused
    const w2 = workload(["setuid", "1000", "1"], { binary: bin });
    const { rows: refused } = await traced(tools.capable({ comm: "bpfb-capwl", failed: true }), w2);
    assert.deepEqual(refused, []);
  });

  const memcg = "/sys/fs/cgroup/memory";
  it("oomkill: the victim of a memory cgroup's OOM kill, agreeing with bpftrace", { skip: existsSync(`${memcg}/cgroup.procs`) ? false : "no cgroup v1 memory controller" }, async () => {
    const cg = join(memcg, `bpfbook-oom-${process.pid}`);
    mkdirSync(cg);
    try {
      writeFileSync(join(cg, "memory.limit_in_bytes"), String(16 << 20));
      const w = workload(["alloc", "64"]);
      writeFileSync(join(cg, "cgroup.procs"), String(w.pid));
      const tool = tools.oomkill();
      const { t, rows, out } = await traced(tool, w, `tracepoint:oom:mark_victim /args->pid == ${w.pid}/ { @[args->uid, args->total_vm, args->anon_rss] = count(); }`);
      assertColumns(tool, t);
      const mine = rows.filter((r) => r.victim_pid === w.pid);
      // the allocating task itself hit the limit and was chosen
      assert.deepEqual(pick(mine, ["pid", "comm", "victim_comm", "uid"]), [{ pid: w.pid, comm: "workload", victim_comm: "workload", uid: 0 }]);
      const anon = mine[0]!.anon_rss as number;
      assert.ok(anon > 8 << 10 && anon <= 16 << 10, `anon_rss ${anon} KiB: most of the 16 MiB limit`);
      assert.deepEqual([...parseMap(out)], [[`0,${mine[0]!.total_vm},${anon}`, 1]]);
      assert.equal(w.child.signalCode, "SIGKILL");
      assert.ok((tool.chart(t).data[0]!.y as string[]).includes("workload"));
    } finally {
      for (let i = 0; i < 50; i++) {
        try { rmdirSync(cg); break; } catch { await sleep(100); }
      }
    }
  });

  it("mountsnoop: mount and umount2 with source, target, type, flags and errno, agreeing with bpftrace", async () => {
    const target = mkdtempSync(join(dir, "mnt-"));
    const w = workload(["mounts", target, "2"]);
    const tool = tools.mountsnoop({ pid: w.pid });
    const { t, rows, done, out } = await traced(tool, w, `tracepoint:syscalls:sys_exit_mount,tracepoint:syscalls:sys_exit_umount /pid == ${w.pid}/ { @[probe, args->ret] = count(); }`);
    assert.equal(done, 0);
    assertColumns(tool, t);
    const mount = { call: "mount", source: "bpfbook", target, fstype: "tmpfs", flags: 6, flags_name: "MS_NOSUID|MS_NODEV", ret: 0, ret_name: null };
    const umount = { call: "umount2", source: null, target, fstype: null, flags: 0, flags_name: "", ret: 0, ret_name: null };
    assert.deepEqual(pick(rows, Object.keys(mount)), [mount, umount, mount, umount, { ...umount, ret: -22, ret_name: "EINVAL" }]);
    assert.ok(rows.every((r) => r.pid === w.pid && r.comm === "workload"));
    assert.deepEqual(tool.chart(t).data[0]!.y, [target]);
    assert.deepEqual(new Map(parseMap(out)), new Map([["tracepoint:syscalls:sys_exit_mount,0", 2], ["tracepoint:syscalls:sys_exit_umount,0", 2], ["tracepoint:syscalls:sys_exit_umount,-22", 1]]));
  });

  it("mountsnoop: stream() yields the same rows in batches, shaped", async () => {
    const target = mkdtempSync(join(dir, "mnt-"));
    const w = workload(["mounts", target, "1"]);
    const tool = tools.mountsnoop({ pid: w.pid });
    const batches = (async () => {
      const out: Row[][] = [];
      for await (const b of tool.stream({ events: 3, seconds: 10, batchMs: 50 })) {
        assertColumns(tool, b);
        out.push(rowsOf(b));
      }
      return out;
    })();
    await sleep(300);
    assert.equal(await w.go(), 0);
    const rows = (await batches).flat();
    assert.deepEqual(rows.map((r) => [r.call, r.target, r.ret_name]), [["mount", target, null], ["umount2", target, null], ["umount2", target, "EINVAL"]]);
  });

  it("bashreadline: the lines typed into an interactive bash, agreeing with bpftrace", async () => {
    const tool = tools.bashreadline();
    const lines = ["echo bpfbook-one", "echo bpfbook-two", "exit"];
    const typed = () =>
      new Promise<number>((resolve, reject) => {
        // script(1) gives bash a terminal, so it reads with readline
        const c = spawn("script", ["-qfc", "bash --norc --noprofile -i", "/dev/null"], { stdio: ["pipe", "ignore", "ignore"] });
        c.once("error", reject);
        c.once("exit", (code) => resolve(code ?? -1));
        c.stdin.end(lines.join("\n") + "\n");
      });
    const { t, rows, done, out } = await traced(tool, typed, `uretprobe:/usr/bin/bash:readline { @[str(retval)] = count(); }`);
    assert.equal(done, 0);
    assertColumns(tool, t);
    const one = rows.find((r) => r.line === lines[0]);
    assert.ok(one, `no row for ${lines[0]}: ${JSON.stringify(rows)}`);
    const mine = rows.filter((r) => r.pid === one.pid);
    assert.deepEqual(pick(mine, ["comm", "line"]), lines.map((line) => ({ comm: "bash", line })));
    for (const l of lines) assert.equal(parseMap(out).get(l), rows.filter((r) => r.line === l).length);
  });

  it("gethostlatency: the host, the EAI result and the latency of each getaddrinfo(), agreeing with bpftrace", async () => {
    const tool = tools.gethostlatency({ comm: "getent" });
    const hosts = ["localhost", "bpfbook-nohost.invalid"];
    const run = async () => {
      for (const h of hosts) await new Promise((r) => spawn("getent", ["ahosts", h], { stdio: "ignore" }).once("exit", r));
    };
    const { t, rows, out } = await traced(tool, run, `uretprobe:libc:getaddrinfo /comm == "getent"/ { @[(int32)retval] = count(); }`);
    assertColumns(tool, t);
    assert.deepEqual(pick(rows, ["comm", "host", "ret", "ret_name"]), [
      { comm: "getent", host: "localhost", ret: 0, ret_name: null },
      { comm: "getent", host: "bpfbook-nohost.invalid", ret: -2, ret_name: "EAI_NONAME" },
    ]);
    assert.ok(rows.every((r) => (r.latency as number) > 0));
    assert.deepEqual(new Map(parseMap(out)), new Map([["0", 1], ["-2", 1]]));
    const fig = tool.chart(t);
    assert.equal(fig.data.length > 0, true);
  });

  it("refuses bad options with named errors, and a binary without readline with NotSupportedError", () => {
    assert.throws(() => tools.execsnoop({ failed: true, fialed: true } as never), (e: unknown) => e instanceof InvalidArgumentError && /unknown option "fialed"/.test(e.message));
    assert.throws(() => tools.execsnoop({ maxArgs: 9 }), (e: unknown) => e instanceof InvalidArgumentError && /maxArgs/.test(e.message));
    assert.throws(() => tools.execsnoop({ failed: "yes" as never }), (e: unknown) => e instanceof InvalidArgumentError && /failed must be true or false/.test(e.message));
    assert.throws(() => tools.exitsnoop({ pid: -3 }), (e: unknown) => e instanceof InvalidArgumentError && /pid must be a positive integer/.test(e.message));
    assert.throws(() => tools.killsnoop({ comm: "" }), InvalidArgumentError);
    assert.throws(() => tools.signals({ target: 0 }), (e: unknown) => e instanceof InvalidArgumentError && /target must be a positive pid/.test(e.message));
    assert.throws(() => tools.signals({ signal: 65 }), (e: unknown) => e instanceof InvalidArgumentError && /signal must be a signal number/.test(e.message));
    assert.throws(() => tools.statsnoop({ by: "x" } as never), (e: unknown) => e instanceof InvalidArgumentError && /unknown option "by"/.test(e.message));
    assert.throws(() => tools.mountsnoop({ pid: 1.5 }), InvalidArgumentError);
    assert.throws(() => tools.capable({ failed: 1 as never }), InvalidArgumentError);
    assert.throws(() => tools.oomkill({ failed: true } as never), (e: unknown) => e instanceof InvalidArgumentError && /unknown option "failed"/.test(e.message));
    assert.throws(() => tools.bashreadline({ binary: "/bin/true" }), (e: unknown) => e instanceof NotSupportedError && /has no readline symbol/.test(e.message));
    assert.throws(() => tools.bashreadline({ binary: "/nonexistent/bash" }), NotSupportedError);
    assert.throws(() => tools.gethostlatency({ pid: 0 }), InvalidArgumentError);
  });

  it("the shell's registry lists each tool with its catalog entry", async () => {
    const names = ["execsnoop", "exitsnoop", "killsnoop", "statsnoop", "signals", "capable", "oomkill", "mountsnoop", "bashreadline", "gethostlatency"];
    for (const name of names) {
      const reg = TOOLS.find((x) => x.info.name === name);
      assert.ok(reg, `${name} is registered`);
      const tool = await reg.make({});
      assert.equal(tool.kind, "events");
      assert.equal(tool.info, reg.info);
      assert.ok(reg.info.columns.length > 0 && reg.info.builtOn.length > 0);
    }
  });
});
