/* Sampled kernel state on a second kernel: Debian's 6.1 under qemu (test/vm/vm.ts),
 * booted twice. As it is, its struct cfs_rq still calls the queue's count nr_running
 * (renamed nr_queued in 6.14), so the run-queue length reads that member: K spinners
 * pinned to the guest's CPU 1 must show K - 1 waiting at every sample of theirs. Booted
 * with lockdown=confidentiality, the kernel refuses bpf_probe_read_kernel: reading state
 * is a NotSupportedError that says so, while sampling without reads and profile() (the
 * same object, other programs) still load. The same boot then runs every other probe
 * kind's lockdown checks (test/vm/lockdown-guest.ts): tracefs is refused outright, so
 * tracepoints are a NotSupportedError naming tracefs and the lockdown; uprobe and fentry
 * reads of kernel memory (ppid, current.*, kernel paths) are NotSupportedErrors naming
 * their columns; what reads no memory (pid, comm, arguments, uid, gid, cgroup) keeps its
 * exact values; kprobes are refused and say it is the lockdown. User-memory reads do not
 * load there yet (libbpf's feature probe, below): todo tests that say so. Everything in
 * the guest is emulated, so the checks count exactly rather than time anything. */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { runInVm, vmUnavailableReason } from "./vm/vm.js";
import { ROOT, WORKLOAD } from "./helpers/workload.js";
import { N, OPENED, TAG, type LockdownReport, type LockdownRun } from "./vm/lockdown-shared.js";

const K = 3;
const LIB = JSON.stringify(join(ROOT, "dist", "bpf-lib", "src", "index.js"));
const RUNQUEUE = JSON.stringify(join(ROOT, "dist", "bpf-lib", "src", "probes", "profile", "runqueue.js"));

/** Guest-side checks, as an ES module printing one JSON line after `tag`. */
const checks = (tag: string, lockdown: boolean) => `
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
const b = await import(${LIB});
const { cfsQueuedMember } = await import(${RUNQUEUE});
let lockdown = "unreadable";
try { lockdown = readFileSync("/sys/kernel/security/lockdown", "utf8").trim(); } catch {}
const out = { lockdown, member: cfsQueuedMember(), runs: {} };
async function check(name, fn) {
  try { out.runs[name] = await fn(); } catch (e) { out.runs[name] = { error: String(e && e.stack || e), name: e && e.name, code: e && e.code }; }
}
const rows = (t) => t.objects();
if (${lockdown}) {
  await check("runqueueLength", async () => { const t = await b.sched.runqueueLength({ by: ["cpu"] }).collect({ seconds: 1 }); return { rows: rows(t) }; });
  await check("count", async () => { const t = await b.sample().count({ by: ["cpu"] }).collect({ seconds: 1 }); return { rows: rows(t), events: t.stats.events }; });
  await check("profile", async () => { const t = await b.profile({ seconds: 1, idle: true }); return { samples: t.stats.samples }; });
} else {
  // K spinners on CPU 1 in one new session: one queue of their own there
  const sh = spawn("setsid", ["sh", "-c", "for i in $(seq ${K}); do taskset -c 1 ${WORKLOAD} --now spin 600 & done; wait"], { stdio: "inherit" });
  const sid = sh.pid;
  const session = (p) => { try { const s = readFileSync("/proc/" + p + "/stat", "utf8"); const c = s.lastIndexOf(")"); return { comm: s.slice(s.indexOf("(") + 1, c), sid: Number(s.slice(c + 2).split(" ")[3]) }; } catch { return null; } };
  for (let i = 0; i < 600; i++) {
    const n = readdirSync("/proc").filter((d) => /^\\d+$/.test(d)).filter((p) => { const s = session(p); return s && s.sid === sid && s.comm === "workload"; }).length;
    if (n === ${K}) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await check("runqueueLength", async () => { const t = await b.sched.runqueueLength({ by: ["cpu", "comm"] }).collect({ seconds: 3 }); return { rows: rows(t), events: t.stats.events, readFailed: t.stats.readFailed, seconds: t.stats.seconds }; });
  process.kill(-sid, "SIGTERM");
}
console.log(${JSON.stringify(tag)} + " " + JSON.stringify(out));
process.exit(0);
`;

type Row = { cpu: number; comm?: string; low: number; count: number };
interface Result {
  lockdown: string;
  member: string;
  runs: Record<string, { error?: string; name?: string; code?: string; rows?: Row[]; events?: number; readFailed?: number; samples?: number; seconds?: number }>;
}

/** One boot; under lockdown the other probe kinds' checks run after sample()'s, in the same guest. */
async function boot(tag: string, lockdown: boolean): Promise<{ sample: Result; others: LockdownReport | null }> {
  const b64 = Buffer.from(checks(tag, lockdown)).toString("base64");
  const guest = JSON.stringify(join(ROOT, "dist", "test", "vm", "lockdown-guest.js"));
  const command = `(mount -t securityfs securityfs /sys/kernel/security 2>/dev/null || true) && mkdir -p /tmp/sample && cd /tmp/sample && echo ${b64} | base64 -d > checks.mjs && node checks.mjs${lockdown ? ` && node ${guest}` : ""}`;
  const r = await runInVm(command, { timeoutMs: lockdown ? 480_000 : 200_000, append: lockdown ? "lockdown=confidentiality" : undefined });
  process.stderr.write(`# VM${lockdown ? " (lockdown=confidentiality)" : ""}: status ${r.status}, boot ${(r.bootMs / 1000).toFixed(1)} s, total ${(r.totalMs / 1000).toFixed(1)} s\n`);
  const found = (t: string) => r.output.split("\n").find((l) => l.startsWith(t + " "));
  const line = found(tag);
  if (!line) throw new Error(`the VM printed no ${tag} line (status ${r.status}); its output:\n${r.output.slice(-6000)}`);
  const others = lockdown ? found(TAG) : undefined;
  if (lockdown && !others) throw new Error(`the VM printed no ${TAG} line (status ${r.status}); its output:\n${r.output.slice(-6000)}`);
  return { sample: JSON.parse(line.slice(tag.length + 1)) as Result, others: others ? (JSON.parse(others.slice(TAG.length + 1)) as LockdownReport) : null };
}

const why = vmUnavailableReason();

describe("sampled state on Debian's 6.1 kernel (VM)", { skip: why ?? false }, () => {
  let plain: Result;
  before(async () => {
    plain = (await boot("@@SAMPLE", false)).sample;
  }, { timeout: 210_000 });

  it("reads the queue as cfs_rq.nr_running there, and counts K - 1 waiting behind each spinner", (ctx) => {
    assert.equal(plain.member, "nr_running");
    const r = plain.runs.runqueueLength;
    assert.equal(r.error, undefined, r.error);
    const ours = r.rows!.filter((x) => x.cpu === 1 && x.comm === "workload");
    const n = ours.reduce((s, x) => s + x.count, 0);
    const exact = ours.filter((x) => x.low === K - 1).reduce((s, x) => s + x.count, 0);
    ctx.diagnostic(`${exact} of ${n} samples of the spinners at ${K - 1}; ${r.events} samples in ${r.seconds?.toFixed(2)} s; rows ${JSON.stringify(r.rows)}`);
    assert.ok(n >= 20, `${n} samples of the spinners`);
    // The guest runs them in the root task group (no autogroup there), whose queue on CPU 1 also
    // holds any other task that wakes there (kworkers, node's threads): a few samples see K.
    assert.ok(exact >= 0.9 * n, `${exact} of ${n}`);
    assert.equal(r.readFailed, 0);
  });
});

describe("sampled state under lockdown=confidentiality (VM)", { skip: why ?? false }, () => {
  let locked: Result;
  let g: LockdownReport;
  before(async () => {
    const r = await boot("@@SAMPLE-LOCKED", true);
    locked = r.sample;
    g = r.others!;
  }, { timeout: 490_000 });

  it("refuses kernel reads with a NotSupportedError naming them and the lockdown", () => {
    assert.match(locked.lockdown, /\[confidentiality\]/);
    const r = locked.runs.runqueueLength;
    assert.equal(r.name, "NotSupportedError", r.error);
    assert.equal(r.code, "ENOTSUP");
    assert.match(r.error!, /reading kernel memory at each sample \(runqlen \(current\.se\.cfs_rq\.nr_running\)\).*lockdown=confidentiality/);
  });

  it("still samples without reads, and profile() still loads from the same object", () => {
    const c = locked.runs.count;
    assert.equal(c.error, undefined, c.error);
    assert.ok((c.events ?? 0) > 0 && c.rows!.length >= 1, JSON.stringify(c));
    const p = locked.runs.profile;
    assert.equal(p.error, undefined, p.error);
    assert.ok((p.samples ?? 0) > 0);
  });

  // ---- every other probe kind in the same boot (test/vm/lockdown-guest.ts)

  const run = (name: string): LockdownRun => {
    const r = g.runs[name];
    assert.ok(r, `no result for ${name}`);
    return r;
  };
  const refusedWith = (name: string, pattern: RegExp) => {
    const r = run(name);
    assert.equal(r.name, "NotSupportedError", r.error ?? JSON.stringify(r));
    assert.equal(r.code, "ENOTSUP");
    assert.match(r.message!, pattern);
  };
  const values = (name: string): LockdownRun => {
    const r = run(name);
    assert.equal(r.error, undefined, r.error);
    return r;
  };

  it("tracepoints: tracefs is refused, and says it is the lockdown (not \"not mounted\")", (ctx) => {
    ctx.diagnostic(`tracefs: ${JSON.stringify(g.tracefs)}`);
    const tracefs = /^tracefs \(tracepoint names, formats and ids\) is not supported here: this kernel is in lockdown=confidentiality, which refuses tracefs even to root/;
    for (const name of ["tracepoint user string", "tracepoint ppid pcomm", "tracepoint read kernel pointer"]) refusedWith(name, tracefs);
  });

  it("uprobes: pid, comm, uid, gid, cgroup and counts read no memory and keep their exact values", () => {
    const a = values("uprobe args only");
    assert.deepEqual({ exit: a.exit, rows: a.rows, pids: a.pids, comm: a.comm }, { exit: 0, rows: N, pids: [a.pid], comm: ["workload"] });
    const ids = values("uprobe uid gid cgroup");
    assert.deepEqual({ rows: ids.rows, uid: ids.uid, gid: ids.gid, cgroup: ids.cgroup, readFailed: ids.readFailed }, { rows: N, uid: [0], gid: [0], cgroup: [g.cgroup!.id], readFailed: 0 });
    const path = values("uprobe cgroup_path");
    assert.deepEqual({ rows: path.rows, cgroup_path: path.cgroup_path }, { rows: N, cgroup_path: [g.cgroup!.path] });
    assert.deepEqual(values("uprobe count by comm").rows, [{ comm: "workload", count: N }]);
  });

  it("uprobes: reads of kernel memory (ppid, current.*) are refused, naming the columns", () => {
    refusedWith("uprobe ppid", /^reading ppid in uprobe:\S+:bpfbook_name is not supported here: it reads kernel memory \(bpf_probe_read_kernel\), which this kernel refuses \(lockdown=confidentiality\?\)/);
    refusedWith("uprobe read current", /^reading parent in uprobe:\S+:bpfbook_name is not supported here: it reads kernel memory/);
  });

  it("kernel functions: fentry loads, arguments keep their exact values; kernel reads are refused naming the columns; kprobes are refused as the lockdown", () => {
    assert.deepEqual(g.support, { fentry: true, fexit: true, kprobe: "lockdown=confidentiality refuses it", kretprobe: "lockdown=confidentiality refuses it" });
    const a = values("fentry args only");
    assert.deepEqual({ exit: a.exit, rows: a.rows, count: a.count, pids: a.pids, comm: a.comm }, { exit: 0, rows: N, count: [64], pids: [a.pid], comm: ["workload"] });
    refusedWith("fentry kernel path", /^reading name in kprobe\("vfs_read"\) is not supported here: it reads kernel memory \(bpf_probe_read_kernel\), which this kernel refuses/);
    refusedWith("fentry ppid", /^reading ppid in kprobe\("vfs_read"\) is not supported here: it reads kernel memory/);
    for (const name of ["kprobe args only", "kprobe user string", "kprobe kernel path", "kprobe ppid"]) {
      refusedWith(name, /via kprobe is not supported here: kprobes: lockdown=confidentiality refuses it/);
    }
  });

  // libbpf (1.1 here) probes for bpf_probe_read_kernel once per object; lockdown refuses that
  // probe, so libbpf takes the kernel for one older than 5.5 and rewrites every
  // bpf_probe_read_user[_str] into the legacy bpf_probe_read[_str], which lockdown refuses
  // too: the verifier says "unknown func bpf_probe_read#4". Until bpfbook keeps libbpf from
  // rewriting them, user strings do not load under lockdown=confidentiality.
  const USER_READS = "libbpf rewrites bpf_probe_read_user into bpf_probe_read under lockdown=confidentiality (its probe_read_kernel feature probe is refused)";
  it("uprobes: a char * argument (user memory) reads exactly", { todo: USER_READS }, () => {
    const r = values("uprobe user string");
    assert.deepEqual({ rows: r.rows, names: r.names, readFailed: r.readFailed }, { rows: N, names: Array.from({ length: N }, (_, i) => `name-${i}`), readFailed: 0 });
  });
  it("fentry: a user string argument (user: true) reads exactly", { todo: USER_READS }, () => {
    const r = values("fentry user string");
    assert.deepEqual({ rows: r.rows, fname: r.fname, readFailed: r.readFailed }, { rows: N, fname: [OPENED], readFailed: 0 });
  });
  it("user reads fail today exactly as explained above (bpf_probe_read#4), so the todo tests are that and nothing else", () => {
    for (const name of ["uprobe user string", "fentry user string"]) {
      const r = run(name);
      if (r.error === undefined) continue; // fixed: the todo test above passes
      assert.equal(r.name, "VerifierError", r.error);
      assert.match(r.message!, /unknown func bpf_probe_read#4/);
    }
  });
});
