/* The fleet over real OpenSSH: three "hosts" (network namespaces, each with Debian's sshd and
 * its own cgroup, test/fleet/hosts.ts), each host's agent scoped to its cgroup by sshd's
 * ForceCommand, each host running its own deterministic workload — so every host has its own
 * exact ground truth. Checks exact per-host and merged counts, a stream's host column, a
 * histogram's merged buckets, a host whose sshd dies mid-collection (partial result, nothing
 * left attached there) and an agent of another protocol version. */
import { describe, it, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { ColumnTable } from "arquero";
import { fleet, percentiles, AgentProtocolError, type Fleet } from "../bpf-lib/src/index.js";
import { createFleetHosts, fleetHostsUnavailable, type FleetHost, type FleetHosts } from "./fleet/hosts.js";
import { loadedProgramIds, programIdsOf } from "./helpers/workload.js";

const unavailable = fleetHostsUnavailable();
if (unavailable) console.log(`fleet-ssh: skipped: ${unavailable}`);

const HOSTS = ["web-0", "web-1", "web-2"];
/** web-3's "agent" says hello with protocol 99 and then waits for its stdin to close, as an agent would. */
const PROTOCOL_99 = `exec ${process.execPath} -e '
  const h = Buffer.from(JSON.stringify({ type: "hello", protocol: 99, bpfbook: "9.9.9", hostname: "web-3", kernel: "6.18.0", cpus: 2, epochOffsetNs: 0 }));
  const len = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
  process.stdout.write(Buffer.concat([len(h.length), h, len(0)]));
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));'`;

const rows = (t: ColumnTable) => t.objects() as Record<string, unknown>[];
const num = (v: unknown) => Number(v);

/** log2 bucket of bpfbook's hist(): 0 below 1, else b with 2^(b-1) <= v < 2^b. */
const log2Bucket = (v: number) => (v < 1 ? 0 : Math.floor(Math.log2(v)) + 1);

/** Starts one workload per host (in its cgroup), waits until each waits at its gate. */
async function gated(hosts: FleetHost[], args: (h: FleetHost) => string[]) {
  const ws = hosts.map((h) => h.workload(args(h)));
  await Promise.all(ws.map((w) => w.atGate()));
  return ws;
}

describe("fleet over OpenSSH, three namespaces as hosts", { skip: unavailable ?? false, timeout: 120_000 }, () => {
  let net: FleetHosts;
  const configFile = () => net.configFile;
  const host = (name: string) => net.hosts.find((h) => h.name === name)!;
  // every fleet a test opens is closed after it: its agents release everything and exit
  const fleets: Fleet[] = [];
  const opened = (f: Fleet): Fleet => (fleets.push(f), f);
  afterEach(() => {
    for (const f of fleets.splice(0)) f.close();
  });
  // the runs that need every host well share one fleet: its connections (an ssh session and an agent per host) serve each run in turn
  let shared: Fleet | null = null;
  const sharedFleet = (): Fleet => (shared ??= fleet(HOSTS, { ssh: { configFile: configFile() } }));
  after(() => shared?.close());

  before(async () => {
    net = await createFleetHosts({ count: 4, forceCommand: ({ index }) => (index === 3 ? PROTOCOL_99 : undefined) });
  });
  after(async () => {
    await net?.dispose();
  });

  it("the harness: a host answers over ssh with its own name, address and cgroup, and not once its sshd is killed", async () => {
    // its own host, forcing a command that reports where it runs
    const probe = await createFleetHosts({ count: 1, forceCommand: ({ cgroup }) => `echo "$(hostname) $(ip -4 -o addr show eth0 | awk '{print $4}') ${cgroup} [$SSH_ORIGINAL_COMMAND]"` });
    const h = probe.hosts[0]!;
    try {
      const r = await probe.ssh(h.name, ["bpfbook", "agent", "--stdio"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `web-0 ${h.addr}/24 ${h.cgroup} [bpfbook agent --stdio]\n`);
      const w = h.workload(["getppid", "10"]);
      await w.atGate();
      assert.equal(readFileSync(`/proc/${w.pid}/cgroup`, "utf8").split("\n").find((l) => l.startsWith("0::")), `0::/bpfbook-fleet-${probe.runId}/web-0`);
      assert.equal(await w.go(), 0);
      assert.ok(h.killSshd().length >= 1);
      assert.deepEqual(h.sshdPids(), []);
      const gone = await probe.ssh(h.name);
      assert.equal(gone.code, 255);
      assert.match(gone.stderr, /Connection refused/);
    } finally {
      await probe.dispose();
    }
    // dispose() took the namespace (and so its veth), the cgroups and the keys with it
    assert.equal(execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).includes(h.ns), false);
    assert.equal(existsSync(probe.cgroupRoot), false);
    assert.equal(existsSync(probe.dir), false);
  });

  it("counts by comm: exact per host (each its own cgroup) and merged", async () => {
    const calls: Record<string, number> = { "web-0": 1000, "web-1": 2000, "web-2": 3000 };
    const f = sharedFleet();
    const ws = await gated(HOSTS.map(host), (h) => ["getppid", String(calls[h.name])]);
    const run = await f.tracepoint("syscalls:sys_enter_getppid", { fields: [] }).count({ by: ["comm"] }).start();
    assert.deepEqual(await Promise.all(ws.map((w) => w.go())), [0, 0, 0]);
    await run.stop();
    const t = await run.finished();
    assert.deepEqual(t.fleet.missing, []);
    assert.deepEqual(t.fleet.hosts.map((h) => [h.host, h.ok]), HOSTS.map((h) => [h, true]));
    // each connection reached its own host (its own UTS namespace), and each host counted only its own cgroup
    assert.deepEqual(t.fleet.hosts.map((h) => h.hostname), HOSTS);
    assert.deepEqual(t.fleet.hosts.map((h) => num(h.stats?.events)), HOSTS.map((h) => calls[h]));
    assert.equal(num(t.stats.events), 6000);
    assert.deepEqual(rows(t), [{ comm: "workload", count: 6000 }]);
    const perHost = rows(t.perHost!).map((r) => [r.host, r.comm, num(r.count)]).sort();
    assert.deepEqual(perHost, HOSTS.map((h) => [h, "workload", calls[h]]));
  });

  it("streams: one table with a host column, exact rows per host, wall-clock ts", async () => {
    const calls: Record<string, number> = { "web-0": 100, "web-1": 200, "web-2": 300 };
    const f = sharedFleet();
    const ws = await gated(HOSTS.map(host), (h) => ["getppid", String(calls[h.name])]);
    const before = BigInt(Date.now()) * 1_000_000n;
    const run = await f.tracepoint("syscalls:sys_enter_getppid", { fields: [] }).start();
    const pids = Object.fromEntries(HOSTS.map((h, i) => [h, ws[i]!.pid]));
    assert.deepEqual(await Promise.all(ws.map((w) => w.go())), [0, 0, 0]);
    await run.stop();
    const t = await run.finished();
    const after = BigInt(Date.now()) * 1_000_000n;
    assert.deepEqual(t.fleet.missing, []);
    assert.equal(t.columnNames()[0], "host");
    const byHost = new Map<string, number>();
    for (const r of rows(t)) {
      byHost.set(String(r.host), (byHost.get(String(r.host)) ?? 0) + 1);
      assert.equal(r.pid, pids[String(r.host)], `a row of ${String(r.host)} from another host's process`);
      assert.equal(r.comm, "workload");
      const ts = BigInt(r.ts as bigint | number);
      assert.ok(ts >= before && ts <= after, `ts ${ts} of ${String(r.host)} is not wall-clock time within the run [${before}, ${after}]`);
    }
    assert.deepEqual([...byHost].sort(), Object.entries(calls));
    assert.deepEqual(t.fleet.hosts.map((h) => [h.host, h.rows]), Object.entries(calls));
  });

  it("histograms: merged buckets are the sums of the hosts' buckets, exactly", async () => {
    // lseek offsets base + i * step: known values, so known log2 buckets on every host
    const seek: Record<string, [number, number, number]> = { "web-0": [100, 1, 1], "web-1": [200, 1, 3], "web-2": [300, 0, 7] };
    const expected = new Map<string, Map<number, number>>();
    for (const [h, [n, base, step]] of Object.entries(seek)) {
      const m = new Map<number, number>();
      for (let i = 0; i < n; i++) m.set(log2Bucket(base + i * step), (m.get(log2Bucket(base + i * step)) ?? 0) + 1);
      expected.set(h, m);
    }
    const f = sharedFleet();
    const ws = await gated(HOSTS.map(host), (h) => ["seek", ...seek[h.name]!.map(String)]);
    const run = await f.tracepoint("syscalls:sys_enter_lseek", { fields: [] }).hist("offset", { by: ["comm"] }).start();
    assert.deepEqual(await Promise.all(ws.map((w) => w.go())), [0, 0, 0]);
    await run.stop();
    const t = await run.finished();
    assert.deepEqual(t.fleet.missing, []);
    for (const h of HOSTS) {
      const got = rows(t.perHost!).filter((r) => r.host === h).map((r) => [num(r.bucket), num(r.count)]);
      assert.deepEqual(got, [...expected.get(h)!].sort((a, b) => a[0] - b[0]), `${h}'s buckets`);
    }
    const merged = new Map<number, number>();
    for (const m of expected.values()) for (const [b, c] of m) merged.set(b, (merged.get(b) ?? 0) + c);
    assert.deepEqual(rows(t).map((r) => [r.comm, num(r.bucket), num(r.count)]), [...merged].sort((a, b) => a[0] - b[0]).map(([b, c]) => ["workload", b, c]));
    // percentiles() reads the merged table like a one-host one
    const p = rows(percentiles(t, [50]));
    assert.equal(p.length, 1);
    assert.equal(p[0]!.comm, "workload");
  });

  it("a host whose sshd dies mid-collection: partial result naming it, the others exact, nothing left attached there", async () => {
    const calls: Record<string, number> = { "web-0": 1000, "web-1": 2000, "web-2": 3000 };
    const f = opened(fleet(HOSTS, { ssh: { configFile: configFile() } }));
    const ws = await gated(HOSTS.map(host), (h) => ["getppid", String(calls[h.name])]);
    const run = await f.tracepoint("syscalls:sys_enter_getppid", { fields: [] }).count({ by: ["comm"] }).start();
    const victim = host("web-1");
    // the agent is the node process sshd started in web-1's namespace; its programs are ours to find afterwards
    const agents = victim.pids().filter((p) => programIdsOf(p).length > 0);
    assert.equal(agents.length, 1, `one agent holding programs on web-1, found pids ${agents.join(", ")}`);
    const programs = programIdsOf(agents[0]!);
    assert.deepEqual(await Promise.all(ws.map((w) => w.go())), [0, 0, 0]);
    assert.ok(victim.killSshd().length >= 2, "the listener and the connection's sshd");
    // its agent sees stdin close and exits, releasing its programs
    const deadline = Date.now() + 15_000;
    while (victim.pids().includes(agents[0]!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!victim.pids().includes(agents[0]!), "web-1's agent exited when its connection dropped");
    await run.stop();
    const t = await run.finished();
    assert.deepEqual(t.fleet.missing, ["web-1"]);
    const web1 = t.fleet.hosts.find((h) => h.host === "web-1")!;
    assert.equal(web1.ok, false);
    assert.equal(web1.error?.name, "AgentDisconnectedError");
    assert.match(web1.error!.message, /web-1/);
    assert.deepEqual(t.fleet.hosts.filter((h) => h.ok).map((h) => h.host), ["web-0", "web-2"]);
    assert.deepEqual(rows(t), [{ comm: "workload", count: 4000 }]);
    assert.deepEqual(rows(t.perHost!).map((r) => [r.host, r.comm, num(r.count)]).sort(), [["web-0", "workload", 1000], ["web-2", "workload", 3000]]);
    const loaded = new Set(loadedProgramIds());
    assert.deepEqual(programs.filter((id) => loaded.has(id)), [], "web-1's programs are gone from the kernel (bpftool prog show)");
  });

  it("an agent of another protocol version: AgentProtocolError naming the host, the other host's data kept", async () => {
    const f = opened(fleet(["web-0", "web-3"], { ssh: { configFile: configFile() } }));
    const [w] = await gated([host("web-0")], () => ["getppid", "500"]);
    const run = await f.tracepoint("syscalls:sys_enter_getppid", { fields: [] }).count({ by: ["comm"] }).start();
    assert.equal(await w!.go(), 0);
    await run.stop();
    const t = await run.finished();
    assert.deepEqual(t.fleet.missing, ["web-3"]);
    const web3 = t.fleet.hosts.find((h) => h.host === "web-3")!;
    assert.equal(web3.error?.name, "AgentProtocolError");
    assert.match(web3.error!.message, /^web-3: .*protocol 99.*protocol 1/);
    assert.deepEqual(rows(t), [{ comm: "workload", count: 500 }]);
    // alone, it fails the call, with the same named reason
    await assert.rejects(opened(fleet(["web-3"], { ssh: { configFile: configFile() } })).tracepoint("syscalls:sys_enter_getppid", { fields: [] }).count({ by: ["comm"] }).collect({ seconds: 1 }), (e: Error & { reasons?: ReadonlyMap<string, Error> }) => {
      const reason = e instanceof AgentProtocolError ? e : e.reasons?.get("web-3");
      assert.ok(reason instanceof AgentProtocolError, `${e.name}: ${e.message}`);
      assert.equal(reason.host, "web-3");
      return true;
    });
  });
});
