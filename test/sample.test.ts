/* Sampled kernel state (sample(), runqueueLength()) against the real kernel. The
 * workload is known: K busy children pinned to CPU 1, all in one new session (so one
 * autogroup, one CFS queue of their own on that CPU), started before sampling begins
 * and still spinning after it ends. So at every sample of CPU 1 that lands in one of
 * them, their queue holds exactly K tasks and the run-queue length (the tasks waiting)
 * is K - 1; bpftrace reads the same queue side by side. The machine is shared: other
 * processes run on both CPUs, so the assertions that cover every sample are those
 * about our own tasks, and the rest assert the mode. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { release } from "node:os";
import { liveCount, InvalidArgumentError, InvalidOptionError, NotSupportedError, UnknownMemberError, VerifierError, type AggTable } from "../bpf-lib/src/index.js";
import { sample, runqueueLength } from "../bpf-lib/src/index.js";
import { cfsQueuedMember } from "../bpf-lib/src/probes/profile/runqueue.js";
import { refusedKernelRead } from "../bpf-lib/src/probes/profile/sample-object.js";
import { onlineCpus } from "../bpf-lib/src/probes/profile/perf.js";
import { programIdsOf, WORKLOAD } from "./helpers/workload.js";
import { bpftrace } from "./helpers/bpftrace.js";

const K = 3;
const HZ = 99;
const SECONDS = 2;
const twoCpus = onlineCpus().includes(1) ? false : "needs CPUs 0 and 1";

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
const programsBefore = programIdsOf();
const perfBefore = perfFds();

after(() => {
  assert.deepEqual(programIdsOf(), programsBefore, "no BPF program of this process is left loaded");
  assert.equal(perfFds(), perfBefore, "every perf event fd is closed");
  assert.equal(liveCount(), 0);
});

/** The session id (field 6 of /proc/PID/stat) and comm of a process, or null once it is gone. */
function statOf(pid: number): { comm: string; session: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = s.lastIndexOf(")");
    return { comm: s.slice(s.indexOf("(") + 1, close), session: Number(s.slice(close + 2).split(" ")[3]) };
  } catch {
    return null;
  }
}

interface Spinners {
  pids: number[];
  /** Ends them (the whole session's process group) and waits for the shell to exit. */
  stop(): Promise<void>;
}

/**
 * `n` workload children spinning on `cpu`, in one new session; resolves once all of them
 * run. They spin far longer than any test samples (loading and attaching on a busy
 * machine takes a while), until stop().
 */
async function spinners(n: number, cpu: number): Promise<Spinners> {
  const sh: ChildProcess = spawn("setsid", ["sh", "-c", `for i in $(seq ${n}); do taskset -c ${cpu} ${WORKLOAD} --now spin 60 & done; wait`], { stdio: "inherit" });
  const exited = new Promise<void>((r) => sh.once("exit", () => r()));
  const sid = sh.pid!; // setsid execs sh as the leader of a new session and process group
  const stop = async () => {
    try {
      process.kill(-sid, "SIGTERM");
    } catch {
      // already gone
    }
    await exited;
  };
  for (let i = 0; i < 200; i++) {
    const pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
      const st = statOf(p);
      return st?.session === sid && st.comm === "workload";
    });
    if (pids.length === n && pids.every((p) => /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1] === String(cpu))) return { pids, stop };
    await new Promise((r) => setTimeout(r, 20));
  }
  await stop();
  throw new Error(`the ${n} spinners did not start`);
}

type Row = { cpu: number; comm?: string; pid?: number; low: number; count: number };
const rows = (t: AggTable) => t.objects() as Row[];
const sum = (rs: Row[]) => rs.reduce((s, r) => s + r.count, 0);
/** bpftrace's lhist() output per key: "@[1]:" then "[2, 3)   140 |@@@|" lines. */
function parseLhist(out: string): Map<string, Map<number, number>> {
  const m = new Map<string, Map<number, number>>();
  let cur: Map<number, number> | null = null;
  for (const line of out.split("\n")) {
    const key = /^@\[(.*)\]:/.exec(line);
    if (key) m.set(key[1], (cur = new Map()));
    const b = /^\[(\d+), (?:\d+\)|\.\.\.\))\s+(\d+)/.exec(line);
    if (b && cur) cur.set(Number(b[1]), Number(b[2]));
  }
  return m;
}

describe("sample(): options and reads, checked before anything loads", () => {
  it("resolves reads from the current task by BTF, with or without current.", () => {
    const s = sample({ read: { prio: "current.prio", name: "comm", exe: "current.mm.exe_file.f_path.dentry.d_name.name" } });
    assert.deepEqual(s.reads.map((r) => [r.name, r.kind.kind, r.field.doff]), [["prio", "int", 0], ["name", "string", 8], ["exe", "string", 24]]);
    assert.equal(s.reads[2].field.offsets!.length, 5, "a char * leaf is one more pointer");
    assert.equal(s.hz, 99);
  });

  it("names what is wrong: unknown members, names, values, keys and options", () => {
    assert.throws(() => sample({ read: { q: "current.se.cfs_rq.nr_queud" } }), (e: unknown) => e instanceof UnknownMemberError && /nr_queued/.test(e.message));
    assert.throws(() => sample({ read: { cpu: "current.prio" } }), (e: unknown) => e instanceof InvalidArgumentError && /taken by a standard column/.test(e.message));
    assert.throws(() => sample({ read: { "a-b": "current.prio" } }), InvalidArgumentError);
    assert.throws(() => sample({ read: { p: 5 as unknown as string } }), (e: unknown) => e instanceof InvalidOptionError && e.option === "read.p");
    assert.throws(() => sample({ read: { s: "current.se" } }), (e: unknown) => e instanceof InvalidArgumentError && /pick a member/.test(e.message));
    assert.throws(() => sample({ hz: 0 }), (e: unknown) => e instanceof InvalidOptionError && e.option === "hz");
    assert.throws(() => sample({ cpus: [99] }), (e: unknown) => e instanceof InvalidOptionError && e.option === "cpus");
    assert.throws(() => sample({ seconds: 2 } as never), (e: unknown) => e instanceof InvalidOptionError && /collect\(\) takes seconds/.test(e.message));
    const s = sample({ read: { prio: "current.prio", name: "current.comm" } });
    assert.throws(() => s.stats("nope" as "prio"), (e: unknown) => e instanceof InvalidArgumentError && /not one of the reads \(prio\)/.test(e.message));
    assert.throws(() => s.hist("name"), (e: unknown) => e instanceof InvalidArgumentError && /not an integer.*integer reads: prio/.test(e.message));
    assert.throws(() => s.count({ by: ["cpus" as "cpu"] }), (e: unknown) => e instanceof InvalidArgumentError && /did you mean "cpu"/.test(e.message));
    assert.throws(() => s.aggregate({ hist: "log2" }), (e: unknown) => e instanceof InvalidArgumentError && /a histogram needs a value/.test(e.message));
    assert.throws(() => s.lhist("prio", { min: 5, max: 1, step: 1 }), InvalidOptionError);
    assert.throws(() => runqueueLength({ queue: "all" as "cpu" }), (e: unknown) => e instanceof InvalidOptionError && e.option === "queue");
    assert.throws(() => runqueueLength({ by: ["tid" as "cpu"] }), (e: unknown) => e instanceof InvalidOptionError && e.option === "by");
    assert.throws(() => runqueueLength({ seconds: 5 } as never), (e: unknown) => e instanceof InvalidOptionError && e.option === "seconds" && /collect\(\) and start\(\) take seconds/.test(e.message));
  });

  it("reads the CFS queue's nr_queued from 6.14 on, nr_running before", () => {
    const [major, minor] = release().split(".").map(Number);
    assert.equal(cfsQueuedMember(), major > 6 || (major === 6 && minor >= 14) ? "nr_queued" : "nr_running");
  });

  it("turns the verifier's refusal of kernel reads (lockdown=confidentiality) into NotSupportedError", () => {
    // The log a 6.x kernel gives when bpf_probe_read_kernel is locked down: the helper is unknown to the verifier.
    const refused = new VerifierError("on_sample_read", "117: (85) call bpf_probe_read_kernel#113\nunknown func bpf_probe_read_kernel#113", 22);
    const s = sample({ read: { prio: "current.prio" } });
    const e = refusedKernelRead(refused, { source: s.source, derived: s.layout });
    assert.ok(e instanceof NotSupportedError && /prio \(current\.prio\)/.test(e.message) && /lockdown=confidentiality/.test(e.message), String(e));
    // Other refusals, and samplers that read nothing, keep their own error.
    assert.equal(refusedKernelRead(refused, { source: "x", derived: sample().layout }), refused);
    const other = new VerifierError("on_sample_read", "R1 invalid mem access", 13);
    assert.equal(refusedKernelRead(other, { source: s.source, derived: s.layout }), other);
  });
});

describe("the run-queue length, against the kernel", { skip: twoCpus }, () => {
  let spin: Spinners[];
  let task: AggTable, cpuQueue: AggTable, raw: AggTable;
  let peer: Map<string, Map<number, number>>;
  const member = cfsQueuedMember();
  /** Enough samples of a spinner to say something, even when other work shares its CPU. */
  const ENOUGH = 20;
  /** A sleeping task whose dequeue EEVDF delays still counts in nr_queued until it is picked: rare and short. */
  const NEARLY_ALL = 0.95;

  before(async () => {
    // K on CPU 1 share one queue; one alone on CPU 0 has a queue of its own
    spin = [await spinners(K, 1), await spinners(1, 0)];
    const bt = await bpftrace(`profile:hz:${HZ} /comm == "workload"/ { @[cpu] = lhist(curtask->se.cfs_rq->${member}, 0, 10, 1); }`);
    const runs = [
      runqueueLength({ by: ["cpu", "comm"] }).start({ seconds: SECONDS }),
      runqueueLength({ by: ["cpu", "comm"], queue: "cpu" }).start({ seconds: SECONDS }),
      sample({ hz: HZ, read: { queued: `current.se.cfs_rq.${member}` } }).lhist("queued", { min: 0, max: 10, step: 1 }, { by: ["cpu", "comm"] }).start({ seconds: SECONDS }),
    ];
    try {
      [task, cpuQueue, raw] = await Promise.all(runs.map((r) => r.finished()));
      peer = parseLhist(await bt.stop());
    } finally {
      await Promise.all(spin.map((s) => s.stop()));
    }
  });

  it(`samples each CPU ${HZ} times a second (within 10%), losing nothing`, (ctx) => {
    for (const t of [task, cpuQueue, raw]) {
      const expected = HZ * t.stats.seconds;
      for (const cpu of [0, 1]) {
        const n = sum(rows(t).filter((r) => r.cpu === cpu));
        ctx.diagnostic(`${t.stats.source}: CPU ${cpu}: ${n} samples in ${t.stats.seconds.toFixed(3)} s (${expected.toFixed(1)} expected)`);
        assert.ok(Math.abs(n - expected) <= 0.1 * expected, `${t.stats.source}: CPU ${cpu}: ${n} samples in ${t.stats.seconds.toFixed(2)} s, expected ${expected.toFixed(0)}`);
      }
      assert.equal(t.stats.events, sum(rows(t)));
      assert.equal(t.stats.readFailed, 0);
      assert.equal(t.stats.dropped, 0);
    }
  });

  it(`counts the tasks waiting behind the running one (bcc's runqlen): ${K - 1} on CPU 1, 0 for the one alone on CPU 0 and for the idle task`, (ctx) => {
    const on = (cpu: number) => rows(task).filter((r) => r.cpu === cpu && r.comm === "workload");
    for (const [cpu, want] of [[1, K - 1], [0, 0]] as const) {
      const ours = on(cpu);
      const exact = sum(ours.filter((r) => r.low === want));
      ctx.diagnostic(`CPU ${cpu}: the spinners' samples at ${want}: ${exact} of ${sum(ours)}`);
      assert.ok(sum(ours) >= ENOUGH, `CPU ${cpu}: ${sum(ours)} samples of the spinners`);
      assert.ok(exact >= NEARLY_ALL * sum(ours), `CPU ${cpu}: ${exact} of ${sum(ours)} samples of the spinners saw ${want}: ${JSON.stringify(ours)}`);
    }
    const idle = rows(task).filter((r) => r.comm?.startsWith("swapper/"));
    ctx.diagnostic(`idle task: ${JSON.stringify(idle.map((r) => [r.cpu, r.low, r.count]))}; others: ${JSON.stringify(rows(task).filter((r) => r.comm !== "workload" && !r.comm?.startsWith("swapper/")).map((r) => [r.cpu, r.comm, r.low, r.count]))}`);
    assert.deepEqual(idle.filter((r) => r.low !== 0), [], "an idle CPU has no queue");
  });

  it("counts every task of the CPU's queue with queue: \"cpu\" (never fewer than the spinners)", (ctx) => {
    const ours = rows(cpuQueue).filter((r) => r.cpu === 1 && r.comm === "workload");
    ctx.diagnostic(`CPU 1, the spinners' samples by length: ${JSON.stringify(ours.map((r) => [r.low, r.count]))}`);
    assert.ok(sum(ours) >= ENOUGH);
    assert.ok(sum(ours.filter((r) => r.low >= K - 1)) >= NEARLY_ALL * sum(ours), "every sample of a spinner sees the other spinners waiting");
  });

  it(`reads the same queue as bpftrace's curtask->se.cfs_rq->${member}`, (ctx) => {
    for (const [cpu, want] of [[1, K], [0, 1]] as const) {
      const mine = rows(raw).filter((r) => r.cpu === cpu && r.comm === "workload");
      const theirs = peer.get(String(cpu));
      assert.ok(theirs, `bpftrace printed CPU ${cpu}'s histogram: ${JSON.stringify([...peer.keys()])}`);
      const total = [...theirs.values()].reduce((s, x) => s + x, 0);
      ctx.diagnostic(`CPU ${cpu}, the spinners' raw queue: bpfbook ${JSON.stringify(mine.map((r) => [r.low, r.count]))}, bpftrace ${JSON.stringify([...theirs])}`);
      assert.ok(sum(mine.filter((r) => r.low === want)) >= NEARLY_ALL * sum(mine), `bpfbook: the queue holds ${want}`);
      assert.ok((theirs.get(want) ?? 0) >= NEARLY_ALL * total, `bpftrace: the queue holds ${want}`);
    }
  });
});

describe("sample() with a pid filter, against the kernel", { skip: twoCpus }, () => {
  it("reads the running task's fields, and leaves out samples whose read faulted (readFailed)", async (ctx) => {
    const spin = await spinners(1, 1);
    const pid = spin.pids[0];
    const s = sample({ pid, read: { prio: "current.prio", name: "current.comm", exe: "current.mm.exe_file.f_path.dentry.d_name.name", tgid: "current.tgid" } });
    // set_child_tid is a user address (the fork of a glibc parent sets it): a kernel read of it faults
    const bad = sample({ pid, read: { childTid: "current.set_child_tid[0]" } });
    const [prio, names, failed] = await Promise.all([
      s.stats("prio", { by: ["pid", "tgid"] }).collect({ seconds: SECONDS }),
      s.count({ by: ["name", "exe"] }).collect({ seconds: SECONDS }),
      bad.stats("childTid").collect({ seconds: SECONDS }),
    ]).finally(() => spin.stop());
    const p = prio.objects() as { pid: number; tgid: number; count: number; min: number; max: number }[];
    assert.equal(p.length, 1);
    assert.deepEqual([p[0].pid, p[0].tgid, p[0].min, p[0].max], [pid, pid, 120, 120], "a nice-0 task's prio is 120");
    assert.ok(p[0].count >= 20, `${p[0].count} samples`);
    assert.ok(prio.stats.filtered > 0, "samples of other tasks are counted as filtered");
    assert.deepEqual((names.objects() as { name: string; exe: string }[]).map((r) => [r.name, r.exe]), [["workload", "workload"]]);
    assert.equal(failed.numRows(), 0);
    assert.equal(failed.stats.events, 0);
    assert.ok(failed.stats.readFailed >= 20, `${failed.stats.readFailed} failed reads`);
    const total = failed.stats.readFailed + failed.stats.filtered;
    ctx.diagnostic(`pid ${pid}: prio samples ${p[0].count}, filtered ${prio.stats.filtered}; failed reads ${failed.stats.readFailed} + filtered ${failed.stats.filtered} in ${failed.stats.seconds.toFixed(3)} s`);
    const expected = 2 * HZ * failed.stats.seconds;
    assert.ok(Math.abs(total - expected) <= 0.1 * expected, `every sample is counted somewhere: ${total} of ~${expected.toFixed(0)}`);
  });
});
