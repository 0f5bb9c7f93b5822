/* Sampled kernel state on a second kernel: Debian's 6.1 under qemu (test/vm/vm.ts),
 * booted twice. As it is, its struct cfs_rq still calls the queue's count nr_running
 * (renamed nr_queued in 6.14), so the run-queue length reads that member: K spinners
 * pinned to the guest's CPU 1 must show K - 1 waiting at every sample of theirs. Booted
 * with lockdown=confidentiality, the kernel refuses bpf_probe_read_kernel: reading state
 * is a NotSupportedError that says so, while sampling without reads and profile() (the
 * same object, other programs) still load. Everything in the guest is emulated, so the
 * checks count exactly rather than time anything. */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { runInVm, vmUnavailableReason } from "./vm/vm.js";
import { ROOT, WORKLOAD } from "./helpers/workload.js";

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

async function boot(tag: string, lockdown: boolean): Promise<Result> {
  const b64 = Buffer.from(checks(tag, lockdown)).toString("base64");
  const command = `(mount -t securityfs securityfs /sys/kernel/security 2>/dev/null || true) && mkdir -p /tmp/sample && cd /tmp/sample && echo ${b64} | base64 -d > checks.mjs && node checks.mjs`;
  const r = await runInVm(command, { timeoutMs: 200_000, append: lockdown ? "lockdown=confidentiality" : undefined });
  process.stderr.write(`# VM${lockdown ? " (lockdown=confidentiality)" : ""}: status ${r.status}, boot ${(r.bootMs / 1000).toFixed(1)} s, total ${(r.totalMs / 1000).toFixed(1)} s\n`);
  const line = r.output.split("\n").find((l) => l.startsWith(tag + " "));
  if (!line) throw new Error(`the VM printed no ${tag} line (status ${r.status}); its output:\n${r.output.slice(-6000)}`);
  return JSON.parse(line.slice(tag.length + 1)) as Result;
}

const why = vmUnavailableReason();

describe("sampled state on Debian's 6.1 kernel (VM)", { skip: why ?? false }, () => {
  let plain: Result;
  before(async () => {
    plain = await boot("@@SAMPLE", false);
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
  before(async () => {
    locked = await boot("@@SAMPLE-LOCKED", true);
  }, { timeout: 210_000 });

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
});
