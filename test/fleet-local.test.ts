/* The fleet end to end with the local transport: every "host" is a real `bpfbook agent
 * --stdio` child of this process, scoped with --cgroup to its own cgroup2 directory,
 * where its own workload runs a known number of getppid() calls. So each host has an
 * exact ground truth: per-host counts, the merged total, per-host stream rows with
 * wall-clock timestamps, a host whose agent's stdin closes mid-run (missing, the others
 * kept, nothing of it left in the kernel), and an agent of another protocol version. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as aq from "arquero";
import { join } from "node:path";
import { fleet, percentiles, stopAll, partialResults, activity, AgentProtocolError, FleetFailedError, InvalidArgumentError, type Fleet, type Running } from "../bpf-lib/src/index.js";
import { cgroup2Mount } from "../bpf-lib/src/cgroups/paths.js";
import { localCommand } from "../bpf-lib/src/fleet/transport.js";
import { encodeFrame, FrameDecoder } from "../bpf-lib/src/fleet/protocol.js";
import { AgentConnection } from "../bpf-lib/src/fleet/connection.js";
import { cgroupId } from "../bpf-lib/src/fleet/agent.js";
import { spawnAgent } from "../bpf-lib/src/fleet/transport.js";
import { AgentDisconnectedError } from "../bpf-lib/src/fleet/errors.js";
import { packageRoot } from "../bpf-lib/src/paths.js";
import { spawn } from "node:child_process";
import { loadedProgramIds, programIdsOf, workload } from "./helpers/workload.js";

const mount = cgroup2Mount();
const skip = mount ? false : "no cgroup2 mount";
const HOSTS = ["a", "b", "c"];
const base = mount ? join(mount, `bpfbook-fleet-${process.pid}`) : "";

/** Runs `getppid N` in host's cgroup, gated: resolves when it exited 0. */
async function workIn(host: string, n: number): Promise<void> {
  const w = workload(["getppid", String(n)]);
  writeFileSync(join(base, host, "cgroup.procs"), String(w.pid));
  assert.equal(await w.go(), 0);
}

function rowsOf(t: { objects(): object[] }): object[] {
  return t.objects();
}

/** The processes whose parent is `pid`, with their comm. */
function childrenOf(pid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (ppid === pid) out.push({ pid: Number(d), comm: stat.slice(stat.indexOf("(") + 1, close) });
    } catch {
      // gone
    }
  }
  return out;
}

describe("fleet over local agents", { skip }, () => {
  let f: Fleet;
  before(() => {
    for (const h of HOSTS) mkdirSync(join(base, h), { recursive: true });
    f = fleet({ local: HOSTS }, { cgroup: `${base}/{host}` });
  });
  after(() => {
    f?.close();
    // the agents exit on their own once stdin closes; the cgroups empty as the workloads exit
    for (const h of HOSTS) for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(join(base, h));
        break;
      } catch {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      }
    }
    try {
      rmdirSync(base);
    } catch {
      // left for the next boot
    }
  });

  it("refuses host names and cgroup paths that a shell or ssh would read as more, by name", () => {
    for (const bad of ["-oProxyCommand=x", "a;b", "a b", "$(x)", ""]) assert.throws(() => fleet([bad]), (e: unknown) => e instanceof InvalidArgumentError && /host names/.test(e.message));
    assert.throws(() => fleet({ local: ["a"] }, { cgroup: "jobs/{host}" }), /absolute cgroup2 directory/);
    assert.throws(() => fleet({ local: ["a"] }, { cgroup: "/sys/fs/cgroup/{host} ; reboot" }), /absolute cgroup2 directory/);
    assert.throws(() => fleet({ local: ["a"] }, { cgroup: 7 as unknown as string }), /cgroup must be a cgroup2 directory/);
    // the agent's own check: a cgroup under the cgroup2 mount, not any directory with an inode
    assert.equal(cgroupId(join(base, "a")).path, join(base, "a"));
    assert.equal(cgroupId(join(base, "a").slice(mount!.length + 1)).path, join(base, "a"));
    assert.throws(() => cgroupId("/tmp"), /not under the cgroup2 mount/);
    assert.throws(() => cgroupId(`${mount}/../../tmp`), /not under the cgroup2 mount/);
    assert.throws(() => cgroupId(join(base, "nosuch")), /no cgroup2 directory/);
  });

  it("says hello from every host: kernel, cpus, clock offset", async () => {
    const hosts = await f.connect();
    assert.deepEqual(hosts.map((h) => [h.host, h.ok]), [["a", true], ["b", true], ["c", true]]);
    for (const h of hosts) {
      assert.equal(typeof h.kernel, "string");
      assert.ok(h.cpus! >= 1);
      assert.ok(Math.abs(h.epochOffsetNs! - (Date.now() * 1e6 - Number(process.hrtime.bigint()))) < 1e9, "the same machine's clock offset, within a second");
    }
  });

  it("counts each host's own getppid calls exactly, and merges them exactly", async () => {
    const N = { a: 1000, b: 2000, c: 3000 };
    const run = await f.tracepoint("syscalls:sys_enter_getppid", { fields: [] }).count({ by: ["comm"] }).start();
    assert.deepEqual(Object.values(run.progress).map((p) => p.state), ["running", "running", "running"]);
    await Promise.all(HOSTS.map((h) => workIn(h, N[h as keyof typeof N])));
    await run.stop();
    const t = await run.finished();
    assert.deepEqual(rowsOf(t), [{ comm: "workload", count: 6000 }]);
    assert.deepEqual(rowsOf(t.perHost!), [{ host: "a", comm: "workload", count: 1000 }, { host: "b", comm: "workload", count: 2000 }, { host: "c", comm: "workload", count: 3000 }]);
    assert.deepEqual(t.fleet.missing, []);
    assert.deepEqual(t.fleet.hosts.map((h) => [h.host, h.ok, h.stats?.events, h.stats?.dropped]), [["a", true, 1000, 0], ["b", true, 2000, 0], ["c", true, 3000, 0]]);
    assert.equal(t.stats.events, 6000);
    assert.equal(t.stats.keys, 1);
    assert.deepEqual(Object.values(run.progress).map((p) => [p.state, p.received]), [["done", 1000], ["done", 2000], ["done", 3000]]);
  });

  it("merges histograms by bucket: the merged buckets are the sum of the hosts'", async () => {
    const N = { a: 100, b: 200, c: 300 };
    const run = await f.tracepoint("syscalls:sys_enter_getppid", { fields: [] }).hist("__syscall_nr", { by: ["comm"] }).start();
    await Promise.all(HOSTS.map((h) => workIn(h, N[h as keyof typeof N])));
    await run.stop();
    const t = await run.finished();
    // getppid is syscall 110: every call lands in the log2 bucket [64, 128)
    assert.deepEqual(rowsOf(t), [{ comm: "workload", bucket: 7, low: 64, high: 128, count: 600 }]);
    assert.deepEqual(rowsOf(t.perHost!).map((r) => (r as { count: number }).count), [100, 200, 300]);
  });

  it("collects a stream as one table: a host column, exact rows per host, wall-clock ts inside the run", async () => {
    const N = { a: 50, b: 70, c: 90 };
    const t0 = Date.now() * 1e6;
    const run = await f.tracepoint("syscalls:sys_enter_getppid", { fields: [] }).start();
    await Promise.all(HOSTS.map((h) => workIn(h, N[h as keyof typeof N])));
    await run.stop();
    const t = await run.finished();
    const t1 = Date.now() * 1e6;
    assert.deepEqual(t.columnNames(), ["host", "ts", "cpu", "pid", "tid", "comm"]);
    assert.equal(t.numRows(), 210);
    assert.deepEqual(rowsOf(t.groupby("host").count().orderby("host")), [{ host: "a", count: 50 }, { host: "b", count: 70 }, { host: "c", count: 90 }]);
    const ts = Array.from(t.array("ts") as ArrayLike<number>);
    assert.ok(ts.every((x) => x >= t0 && x <= t1), `ts within [${t0}, ${t1}]: ${Math.min(...ts)} .. ${Math.max(...ts)}`);
    assert.equal(t.stats.received, 210);
    assert.equal(t.stats.lost, 0);
    assert.equal(t.stats.epochOffsetNs, 0, "ts is wall clock already");
    assert.equal(t.perHost, null);
    assert.deepEqual(t.fleet.hosts.map((h) => h.rows), [50, 70, 90]);
  });

  it("syscall latency merges into one histogram per syscall, and percentiles() reads it", async () => {
    const N = { a: 300, b: 500, c: 700 };
    const run = await f.syscalls.latency({ by: ["syscall"] }).start();
    await Promise.all(HOSTS.map((h) => workIn(h, N[h as keyof typeof N])));
    await run.stop();
    const t = await run.finished();
    const getppid = t.filter((r: { syscall: string }) => r.syscall === "getppid");
    assert.equal(getppid.rollup({ n: (d: { count: number }) => aq.op.sum(d.count) }).get("n", 0), 1500);
    assert.deepEqual(t.columnNames(), ["syscall", "bucket", "low", "high", "count"]);
    const perHost = t.perHost!.filter((r: { syscall: string }) => r.syscall === "getppid").groupby("host").rollup({ n: (d: { count: number }) => aq.op.sum(d.count) }).orderby("host");
    assert.deepEqual(rowsOf(perHost), [{ host: "a", n: 300 }, { host: "b", n: 500 }, { host: "c", n: 700 }]);
    const p = percentiles(t, [50, 99]).filter((r: { syscall: string }) => r.syscall === "getppid");
    assert.equal(p.numRows(), 1);
    assert.equal(p.get("count", 0), 1500);
  });

  it("an interrupt (stopAll) stops every host's trace and keeps the merged table", async () => {
    const seen: Running[] = [];
    const onStart = (r: Running) => seen.push(r);
    activity.on("start", onStart);
    const run = await f.tracepoint("syscalls:sys_enter_getppid", { fields: [] }).count({ by: ["comm"] }).start();
    activity.off("start", onStart);
    assert.deepEqual(seen, [run], "a FleetRun shows as a running collection");
    assert.match(run.source, /^tracepoint\("syscalls:sys_enter_getppid",\{"fields":\[\]\}\)\.count\(\{"by":\["comm"\]\}\) on 3 hosts \(a .*\/s, b .*\/s, c .*\/s\)$/);
    await Promise.all(HOSTS.map((h) => workIn(h, 10)));
    const tables = await stopAll("interrupt");
    assert.equal(tables.length, 1);
    assert.deepEqual(rowsOf(tables[0]!), [{ comm: "workload", count: 30 }]);
    assert.deepEqual(partialResults().map((t) => t.numRows()), [1]);
    assert.equal(run.running, false);
    assert.deepEqual(Object.values(run.progress).map((p) => p.state), ["done", "done", "done"]);
    const t = await run.finished();
    assert.deepEqual(t.fleet.hosts.map((h) => h.stats?.stoppedBy), ["interrupt", "interrupt", "interrupt"], "each host's run says it was interrupted");
  });

  it("collect() runs for its seconds on every host", async () => {
    const t = await f.tracepoint("syscalls:sys_enter_getppid", { fields: [] }).count({ by: ["comm"] }).collect({ seconds: 0.5 });
    assert.deepEqual(t.fleet.missing, []);
    assert.ok(t.fleet.hosts.every((h) => h.stats?.stoppedBy === "seconds"));
  });

  it("a host whose agent's stdin closes mid-run is missing with AgentDisconnectedError; the others are kept; nothing of it stays in the kernel", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-fleet-"));
    // host b's agent reads its stdin through a cat this test can end: closing cat's end is closing the agent's stdin
    const script = join(dir, "agent-b.sh");
    writeFileSync(script, `#!/bin/sh\ncat | ${localCommand()} --cgroup ${base}/b\n`, { mode: 0o755 });
    const g = fleet({ local: HOSTS }, { command: (h) => (h === "b" ? `/bin/sh ${script}` : `${localCommand()} --cgroup ${base}/${h}`) });
    try {
      const run = await g.tracepoint("syscalls:sys_enter_getppid", { fields: [] }).count({ by: ["comm"] }).start();
      const shells = childrenOf(process.pid).filter((c) => c.comm === "sh");
      const procs = shells.flatMap((s) => childrenOf(s.pid));
      const cat = procs.find((p) => p.comm === "cat")!;
      const agent = procs.find((p) => p.comm !== "cat")!;
      assert.ok(cat && agent, `b's cat and agent: ${JSON.stringify(procs)}`);
      const held = programIdsOf(agent.pid);
      assert.ok(held.length > 0, "b's agent holds its programs while it runs");
      await workIn("a", 400);
      process.kill(cat.pid, "SIGTERM");
      await workIn("c", 600);
      await run.stop();
      const t = await run.finished();
      assert.deepEqual(t.fleet.missing, ["b"]);
      const b = t.fleet.hosts.find((h) => h.host === "b")!;
      assert.equal(b.ok, false);
      assert.equal(b.error?.name, "AgentDisconnectedError");
      assert.match(b.error!.message, /^b: the agent's connection ended before its results came: exited with status 0/);
      assert.deepEqual(rowsOf(t.perHost!), [{ host: "a", comm: "workload", count: 400 }, { host: "c", comm: "workload", count: 600 }]);
      assert.deepEqual(rowsOf(t), [{ comm: "workload", count: 1000 }]);
      const loaded = new Set(loadedProgramIds());
      assert.deepEqual(held.filter((id) => loaded.has(id)), [], "none of b's programs is loaded any more");
    } finally {
      g.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses an agent of another protocol version with AgentProtocolError", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-fleet-"));
    const fake = join(dir, "fake-agent.mjs");
    const hello = encodeFrame({ type: "hello", protocol: 99, bpfbook: "9.9.9", hostname: "old", kernel: "5.4", cpus: 1, epochOffsetNs: 0 });
    writeFileSync(fake, `process.stdout.write(Buffer.from(${JSON.stringify([...hello])}));\nprocess.stdin.resume();\n`);
    const g = fleet({ local: ["old"] }, { command: `${process.execPath} ${fake}` });
    try {
      const [h] = await g.connect();
      assert.equal(h!.ok, false);
      assert.equal(h!.error?.name, "AgentProtocolError");
      assert.equal(h!.error?.message, "old: the agent speaks fleet protocol 99 (bpfbook 9.9.9), this notebook speaks protocol 1: install the same bpfbook version on that host (or point the fleet's `command` at an agent of protocol 1)");
      await assert.rejects(g.tracepoint("syscalls:sys_enter_getppid").collect({ seconds: 1 }), (e: unknown) => e instanceof FleetFailedError && e.reasons.get("old") instanceof AgentProtocolError);
    } finally {
      g.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an agent that hears nothing for its idle timeout (a connection that died without an end) releases everything and exits", async () => {
    const [node, cli] = [process.execPath, join(packageRoot(), "dist", "bpf-lib", "src", "cli", "main.js")];
    const child = spawn(node, [cli, "agent", "--stdio", "--idle-timeout", "1", "--cgroup", join(base, "a")], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    const decoder = new FrameDecoder();
    const started = new Promise<void>((resolve) => child.stdout.on("data", (b: Buffer) => {
      for (const f of decoder.push(b)) if (f.header.type === "started") resolve();
    }));
    // a run, then silence: the stdin stays open, as it does when a network drops
    child.stdin.write(encodeFrame({ type: "run", id: 1, plan: { v: 1, steps: [{ call: "tracepoint", args: ["syscalls:sys_enter_getppid", { fields: [] }] }, { call: "count", args: [{ by: ["comm"] }] }], run: { call: "start", args: [] } } }));
    await started;
    const held = programIdsOf(child.pid!);
    assert.ok(held.length > 0, "the agent holds its programs while it runs");
    assert.equal(await exited, 0);
    assert.match(stderr, /nothing heard from the notebook for 1 s; taking it as lost/);
    assert.match(stderr, /released 1 running collection/);
    const loaded = new Set(loadedProgramIds());
    assert.deepEqual(held.filter((id) => loaded.has(id)), [], "none of its programs is loaded any more");
    child.stdin.destroy();
  });

  it("a host whose agent falls silent while it runs is given up with AgentDisconnectedError, and the others are kept", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-fleet-"));
    // says hello and that the run started, then nothing: a host whose network went away
    const mute = join(dir, "mute-agent.mjs");
    const hello = encodeFrame({ type: "hello", protocol: 1, bpfbook: "0", hostname: "mute", kernel: "6.18", cpus: 2, epochOffsetNs: 0 });
    const startedFrame = encodeFrame({ type: "started", id: 1 });
    writeFileSync(mute, `process.stdout.write(Buffer.from(${JSON.stringify([...hello])}));\nlet once = false;\nprocess.stdin.on("data", () => { if (!once) { once = true; process.stdout.write(Buffer.from(${JSON.stringify([...startedFrame])})); } });\n`);
    const conn = new AgentConnection("mute", spawnAgent(["/bin/sh", "-c", `exec ${process.execPath} ${mute}`]), { silenceMs: 1500 });
    try {
      await conn.hello;
      const error = await new Promise<Error>((resolve) => conn.run(1, { v: 1, steps: [{ call: "tracepoint", args: ["syscalls:sys_enter_getppid"] }], run: { call: "start", args: [] } }, {
        started() {}, progress() {}, table() {}, done() {}, error: resolve,
      }));
      assert.ok(error instanceof AgentDisconnectedError);
      assert.match(error.message, /^mute: .*nothing heard for 1\.5 s while it ran/);
      assert.equal(conn.ended, true);
    } finally {
      conn.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a host that cannot be reached is named with why", async () => {
    const g = fleet({ local: ["nowhere"] }, { command: "/nonexistent/bpfbook agent --stdio" });
    try {
      const [h] = await g.connect();
      assert.equal(h!.error?.name, "HostUnreachableError");
      assert.match(h!.error!.message, /^nowhere: no agent answered: exited with status 127 before its hello \(command not found/);
    } finally {
      g.close();
    }
  });
});

