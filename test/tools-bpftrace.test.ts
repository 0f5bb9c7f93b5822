/* tools.runqlen and tools.profile side by side with bpftrace on the same workload, at the
 * same time. Both are sampled (a perf_event timer at 99 Hz per CPU), and bpfbook's timer and
 * bpftrace's are separate events started at different instants: they never take the same
 * samples, so their counts cannot be equal. What must agree is what the samples see (the
 * same run-queue length, the same hot function) and how many there are per second of the
 * workload's CPU time, within the jitter of two independent timers (stated at each check).
 * tools.biolatency by process counts events, not samples: there the counts are exact. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { tools, liveCount, syscallNumber } from "../bpf-lib/src/index.js";
import { onlineCpus } from "../bpf-lib/src/probes/profile/perf.js";
import { cfsQueuedMember } from "../bpf-lib/src/probes/profile/runqueue.js";
import { workload, programIdsOf, renamedWorkload } from "./helpers/workload.js";
import { bpftrace, parseMap, parseStacks } from "./helpers/bpftrace.js";
import { makeLoop, removeLoop, writeAll, REQUESTS } from "./helpers/loop.js";

type Row = Record<string, unknown>;
const rowsOf = (t: { objects(): object[] }) => t.objects() as Row[];
const total = (rows: Row[], col = "count") => rows.reduce((s, r) => s + Number(r[col]), 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const programsBefore = programIdsOf();

after(() => {
  assert.deepEqual(programIdsOf(), programsBefore, "no BPF program of this process is left loaded");
  assert.equal(liveCount(), 0);
});

/** `@[key]:` blocks of lhist buckets (`[2, 3)   198 |@@@|`) by key, then by the bucket's low bound. */
function parseLhist(out: string): Map<string, Map<number, number>> {
  const m = new Map<string, Map<number, number>>();
  let cur: Map<number, number> | null = null;
  for (const line of out.split("\n")) {
    const key = /^@\[(.*)\]:/.exec(line);
    if (key) m.set(key[1]!, (cur = new Map()));
    const b = /^\[(\d+), (?:\d+\)|\.\.\.\))\s+(\d+)/.exec(line);
    if (b && cur) cur.set(Number(b[1]), Number(b[2]));
  }
  return m;
}

/** /proc/PID/stat's fields after the comm: [0] is the state, [11] utime, [12] stime. */
function statOf(pid: number): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return s.slice(s.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

const syscallOf = (pid: number): number | null => {
  try {
    return Number(readFileSync(`/proc/${pid}/syscall`, "utf8").split(" ")[0]);
  } catch {
    return null;
  }
};

describe("tools.runqlen and bpftrace's runqlen.bt, side by side", { skip: onlineCpus().includes(1) ? false : "needs CPUs 0 and 1" }, () => {
  const K = 3;
  const COMM = "bpfbook-rqbt";
  const SECONDS = 2;

  it(`both see ${K - 1} tasks waiting behind each of ${K} spinners sharing CPU 1, at the same rate of samples`, async (ctx) => {
    // K spinners on CPU 1 in one new session: one CFS queue of K, so at every sample that lands in one, K - 1 wait
    const binary = renamedWorkload(COMM);
    const sh: ChildProcess = spawn("setsid", ["sh", "-c", `for i in $(seq ${K}); do taskset -c 1 ${binary} --now spin 60 & done; wait`], { stdio: "inherit" });
    const exited = new Promise<void>((r) => sh.once("exit", () => r()));
    try {
      for (let i = 0; i < 200; i++) {
        const running = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).filter((d) => {
          try {
            return readFileSync(`/proc/${d}/comm`, "utf8").trim() === COMM;
          } catch {
            return false;
          }
        });
        if (running.length === K) break;
        await sleep(20);
      }
      const member = cfsQueuedMember();
      // bpftrace's runqlen.bt (tools/runqlen.bt), per CPU and for our comm only: the running task's CFS queue, less itself
      // (its window from BEGIN to END, as @ns: the probes are attached before BEGIN runs). A second
      // variable: runqlen.bt's own `$len = $len > 0 ? $len - 1 : 0` left $len as it was in bpftrace
      // 0.17 here (every sample read K).
      // bpfbook's window holds bpftrace's (bpftrace 0.17 can take several SIGINTs, seconds, to stop)
      const tool = tools.runqlen({ comm: COMM, by: "cpu" });
      const run = tool.start();
      const bt = await bpftrace(`BEGIN { @t0 = nsecs; } profile:hz:99 /comm == "${COMM}"/ { $q = curtask->se.cfs_rq->${member}; $len = $q > 0 ? $q - 1 : 0; @[cpu] = lhist($len, 0, 33, 1); } END { @ns = nsecs - @t0; clear(@t0); }`);
      await sleep(SECONDS * 1000);
      const out = await bt.stop();
      await run.stop();
      const raw = await run.finished();
      const t = tool.shape(raw);
      const btSeconds = (parseMap(out, "ns").get("") ?? NaN) / 1e9;
      const mine = new Map(rowsOf(t).filter((r) => r.cpu === 1).map((r) => [Number(r.low), Number(r.count)]));
      const theirs = parseLhist(out).get("1") ?? new Map<number, number>();
      const n = [...mine.values()].reduce((a, b) => a + b, 0);
      const m = [...theirs.values()].reduce((a, b) => a + b, 0);
      ctx.diagnostic(`CPU 1: bpfbook ${JSON.stringify([...mine])} in ${raw.stats.seconds.toFixed(3)} s; bpftrace ${JSON.stringify([...theirs])} in ${btSeconds.toFixed(3)} s`);
      // the machine is shared: the spinners get part of CPU 1 only; enough samples to say something
      assert.ok(n >= 30 && m >= 30, `samples of the spinners on CPU 1: bpfbook ${n}, bpftrace ${m}`);
      // The same queue, read the same way: the distributions agree. A sample in which the queue
      // is not K is a spinner sampled while another task of the session was briefly out of it
      // (rare): each side may catch such instants or not, so allow 5% of the samples per side.
      const at = (h: Map<number, number>) => h.get(K - 1) ?? 0;
      assert.ok(at(mine) >= 0.95 * n, `bpfbook: ${at(mine)} of ${n} samples saw ${K - 1} waiting`);
      assert.ok(at(theirs) >= 0.95 * m, `bpftrace: ${at(theirs)} of ${m} samples saw ${K - 1} waiting`);
      // Rates: both sample CPU 1 at 99 Hz and keep the samples that land in a spinner, over nearly
      // the same window (bpfbook's also holds bpftrace's attach). Two independent timers, each
      // sample landing in a spinner or in other work sharing CPU 1: within 15% of a rate, plus 5 samples.
      const rMine = n / raw.stats.seconds, rTheirs = m / btSeconds;
      assert.ok(Math.abs(rMine - rTheirs) <= 0.15 * Math.max(rMine, rTheirs) + 5 / SECONDS, `samples per second of the spinners on CPU 1: bpfbook ${rMine.toFixed(1)}, bpftrace ${rTheirs.toFixed(1)}`);
      // and no sample of a spinner anywhere but CPU 1 (they are pinned)
      assert.deepEqual([...new Set(rowsOf(t).map((r) => r.cpu))], [1]);
      assert.deepEqual([...parseLhist(out).keys()], ["1"]);
    } finally {
      try {
        process.kill(-sh.pid!, "SIGTERM");
      } catch {
        // gone already
      }
      await exited;
    }
  });
});

describe("tools.profile and bpftrace's profile:hz:99 { @[ustack] = count(); }, side by side", () => {
  it("the same hot function (spin_here) dominates both, with as many samples within two timers' jitter", async (ctx) => {
    const w = workload(["--linger", "60000", "spin", "1"]);
    for (let i = 0; i < 500 && !(statOf(w.pid)?.[0] === "S" && syscallOf(w.pid) === syscallNumber("readv")); i++) await sleep(10);
    const bt = await bpftrace(`profile:hz:99 /pid == ${w.pid}/ { @[ustack] = count(); }`);
    const tool = tools.profile({ pid: w.pid });
    const run = tool.start();
    const done = w.go();
    // stop both while it lingers (asleep, still mapped): bpftrace names user frames from /proc/PID/maps at print time
    const asleep = () => [syscallNumber("clock_nanosleep"), syscallNumber("nanosleep")].includes(syscallOf(w.pid) ?? -1);
    for (let i = 0; i < 1000 && !asleep(); i++) await sleep(10);
    const stat = statOf(w.pid);
    assert.ok(asleep(), `the workload should linger asleep when both stop (state ${stat?.[0]}, syscall ${syscallOf(w.pid)})`);
    let out: string;
    try {
      await run.stop();
      out = await bt.stop();
    } finally {
      w.child.kill();
      await done;
    }
    const cpuSeconds = (Number(stat![11]) + Number(stat![12])) / 100; // USER_HZ
    const t = tool.shape(await run.table());
    const mine = rowsOf(t).map((r) => ({ frames: String(r.stack).split(";"), count: Number(r.count) }));
    // bpftrace's frames are leaf first, "name+offset" (offsets dropped by parseStacks)
    const theirs = parseStacks(out, "").map((s) => ({ frames: s.frames.map((f) => f.split(/\s/)[0]!).reverse(), count: s.count }));
    const inSpin = (stacks: { frames: string[]; count: number }[]) => stacks.filter((s) => s.frames.includes("spin_here")).reduce((a, s) => a + s.count, 0);
    const all = (stacks: { count: number }[]) => stacks.reduce((a, s) => a + s.count, 0);
    const topStack = (stacks: { frames: string[]; count: number }[]) => [...stacks].sort((a, b) => b.count - a.count)[0]?.frames;
    ctx.diagnostic(`${cpuSeconds} s on the CPU; bpfbook: ${inSpin(mine)} of ${all(mine)} samples in spin_here; bpftrace: ${inSpin(theirs)} of ${all(theirs)}`);
    ctx.diagnostic(`bpfbook's top stack: ${JSON.stringify(topStack(mine))}; bpftrace's: ${JSON.stringify(topStack(theirs))}`);
    // the hot function: nearly every sample of either is in spin_here (the rest: the gate, the exit path)
    assert.ok(inSpin(mine) >= 0.9 * all(mine), `bpfbook: ${inSpin(mine)} of ${all(mine)} samples in spin_here`);
    assert.ok(inSpin(theirs) >= 0.9 * all(theirs), `bpftrace: ${inSpin(theirs)} of ${all(theirs)} samples in spin_here: ${out.slice(0, 600)}`);
    // both sample the same task for the same CPU time (both attached before it started, stopped
    // after it stopped spinning): about 99 per CPU second each. Two independent 99 Hz timers over
    // ~1 s of CPU time, on a shared machine where the task is preempted between ticks: within 15%, plus 3
    const a = inSpin(mine), b = inSpin(theirs);
    assert.ok(Math.abs(a - b) <= 0.15 * Math.max(a, b) + 3, `samples in spin_here: bpfbook ${a}, bpftrace ${b}`);
    const expected = 99 * cpuSeconds;
    for (const [who, n] of [["bpfbook", a], ["bpftrace", b]] as const) assert.ok(Math.abs(n - expected) <= 0.15 * expected + 3, `${who}: ${n} samples in spin_here for ${cpuSeconds} s on the CPU`);
  });
});

describe("tools.biolatency by process and bpftrace's biolatency keyed by the issuing comm, side by side", () => {
  const loop = makeLoop("tools-bpftrace");
  const skip = typeof loop === "string" ? loop : false;
  after(() => removeLoop(loop));

  it("count the same requests per issuing process: dd's 15 direct writes, head's reads through the page cache", { skip }, async (ctx) => {
    const { dev, name, devt } = loop as Exclude<typeof loop, string>;
    // the issuer is known at the issue only (a completion runs in whatever task the interrupt hit): both carry it to the completion
    const bt = await bpftrace(`tracepoint:block:block_rq_issue /args->dev == ${devt}/ { @s[args->dev, args->sector] = nsecs; @c[args->dev, args->sector] = comm; }
      tracepoint:block:block_rq_complete /@s[args->dev, args->sector]/ { @n[@c[args->dev, args->sector]] = count(); delete(@s[args->dev, args->sector]); delete(@c[args->dev, args->sector]); }`);
    const tool = tools.biolatency({ disk: name, by: "comm" });
    const run = tool.start();
    try {
      writeAll(dev);
      execFileSync("head", ["-c", String(1 << 20), dev], { stdio: ["ignore", "ignore", "ignore"] });
    } finally {
      await run.stop();
    }
    const t = tool.shape(await run.finished());
    const peer = parseMap(await bt.stop(), "n");
    assert.deepEqual(t.columnNames(), ["comm", "bucket", "low", "high", "count"]);
    const mine = new Map<string, number>();
    for (const r of rowsOf(t)) mine.set(String(r.comm), (mine.get(String(r.comm)) ?? 0) + Number(r.count));
    ctx.diagnostic(`requests per issuer: bpfbook ${JSON.stringify([...mine])}, bpftrace ${JSON.stringify([...peer])}`);
    assert.equal(mine.get("dd"), REQUESTS);
    assert.ok((mine.get("head") ?? 0) > 0, "head's reads reached the disk");
    assert.deepEqual(mine, peer);
    assert.equal((tool.chart(t).layout.title as { text: string }).text, "block I/O latency");
  });

  it("names comm among the keys it takes, and by: \"comm\" where a pid or comm filter was asked for", () => {
    assert.throws(() => tools.biolatency({ by: "pid" as "disk" }), /tools\.biolatency\(\): by must be "none", "disk", "rwbs", "comm"; got "pid"/);
    assert.throws(() => tools.biolatency({ comm: "dd" }), /comm is not supported: block I\/O completes in whatever task the interrupt hit; by: "comm" keys the histograms by the issuing process/);
  });
});
