/* Uprobe and CPU-profiling overhead, measured on the traced workload itself:
 *
 *  - per-hit cost of a uprobe on bpfbook_target: CPU ns per call of `workload call N`
 *    with nothing attached, with bpfbook's uprobe count (and a stream, and
 *    entry→return latency), and with bpftrace's `uprobe:...:bpfbook_target { @ = count(); }`;
 *  - profiling overhead at 99 and 999 Hz (every CPU sampled): how much more CPU
 *    time a fixed CPU-bound run (`workload call M`, no syscalls) takes, i.e. how
 *    much work per CPU-second the profiled program loses, next to bpftrace's profile:hz.
 *
 * Times are the workload's own CPU time (user + system, from bash's `times`), not
 * wall time, so other jobs on a shared machine do not count against it.
 *
 * `benchUprobeProfile()` prints a table and returns JSON-able rows; run this file
 * directly (node dist/bench/uprobe-profile.js) to get just these figures. */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { release } from "node:os";
import { fileURLToPath } from "node:url";
import { packageRoot } from "../bpf-lib/src/paths.js";
import { uprobe } from "../bpf-lib/src/probes/uprobe/probe.js";
import { startProfile } from "../bpf-lib/src/probes/profile/profile.js";

const ROOT = packageRoot();
const WORKLOAD = join(ROOT, "test", "fixtures", "build", "workload");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const UPROBE_CALLS = Number(process.env.BENCH_UPROBE_CALLS ?? 300_000);
const SPIN_CALLS = Number(process.env.BENCH_PROFILE_CALLS ?? 1_000_000_000);

export interface UprobeCostRow { who: string; nsPerCall: number; nsPerHit: number; calls: number }
export interface ProfileCostRow { who: string; cpuSeconds: number; slowdownPct: number; workLostPerSec: number; samples?: number }

/**
 * CPU time (user + system) of a gated `workload ARGS` run, in ns: what the run cost
 * the workload itself, traps and sampling interrupts included, but not the time it
 * waited for a CPU (this matters on a shared machine). Measured by bash's `times`
 * for its child, at clock-tick (10 ms) resolution; runs last seconds.
 */
async function timed(args: string[]): Promise<number> {
  const child = spawn("bash", ["-c", '"$0" "$@"; times', WORKLOAD, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  child.stdin!.on("error", () => {});
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await new Promise((r) => setTimeout(r, 50)); // let it exec and block on the gate
  child.stdin!.end("g");
  await exited;
  // `times`: the shell's user/sys, then its children's: "0m1.234s 0m0.567s"
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/m.exec(out.trim().split("\n")[1] ?? "");
  if (!m) throw new Error(`cannot read the workload's CPU time from: ${out}`);
  return ((Number(m[1]) * 60 + Number(m[2])) + (Number(m[3]) * 60 + Number(m[4]))) * 1e9;
}

type Teardown = () => Promise<unknown>;
interface Config { who: string; setup: () => Promise<Teardown> }

/**
 * Runs every configuration once per round, interleaved (so a slow spell of the
 * machine, or CPU frequency changes, hit all of them alike), and keeps each one's
 * best (least disturbed) time in ns.
 */
async function interleaved(args: string[], configs: Config[]): Promise<Map<string, number>> {
  const best = new Map<string, number>(configs.map((c) => [c.who, Infinity]));
  await timed(args); // warm-up: page cache, CPU frequency
  for (let i = 0; i < ROUNDS; i++) {
    for (const c of configs) {
      const teardown = await c.setup();
      try {
        best.set(c.who, Math.min(best.get(c.who)!, await timed(args)));
      } finally {
        await teardown();
      }
    }
  }
  return best;
}

/** bpftrace peers still running, stopped if this process exits first. */
const peers = new Set<ChildProcess>();
process.once("exit", () => {
  for (const p of peers) p.kill("SIGINT");
});

async function bpftrace(program: string): Promise<Teardown> {
  const p = spawn("bpftrace", ["-e", program], { stdio: ["ignore", "pipe", "ignore"] });
  peers.add(p);
  p.once("exit", () => peers.delete(p));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: p.stdout! }).on("line", (l) => l.startsWith("Attaching") && resolve());
    p.once("exit", (code) => reject(new Error(`bpftrace exited with ${code} before attaching`)));
  });
  await new Promise((r) => setTimeout(r, 300)); // "Attaching" prints before the last probe is live
  return async () => {
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGINT");
    // Printing (and symbolizing) a big map can take minutes: give it a little, then end it.
    const kill = setTimeout(() => p.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(kill);
  };
}

async function hasBpftrace(): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn("bpftrace", ["--version"], { stdio: "ignore" });
    p.once("error", () => resolve(false));
    p.once("exit", (code) => resolve(code === 0));
  });
}

export async function uprobeCost(n = UPROBE_CALLS): Promise<UprobeCostRow[]> {
  const configs: Config[] = [
    { who: "no uprobe", setup: async () => async () => {} },
    { who: "bpfbook uprobe count()", setup: async () => { const run = uprobe(WORKLOAD, "bpfbook_target").count().start(); return () => run.stop(); } },
    { who: "bpfbook uprobe count({ by: [\"pid\"] })", setup: async () => { const run = uprobe(WORKLOAD, "bpfbook_target").count({ by: ["pid"] }).start(); return () => run.stop(); } },
    { who: "bpfbook uprobe events (arg0 → table)", setup: async () => { const trace = uprobe(WORKLOAD, "bpfbook_target", { args: 1 }).start(); return () => trace.table(); } },
    { who: "bpfbook uprobe+uretprobe latency()", setup: async () => { const run = uprobe(WORKLOAD, "bpfbook_target").latency().start(); return () => run.stop(); } },
  ];
  if (await hasBpftrace()) configs.push({ who: "bpftrace uprobe { @ = count(); }", setup: () => bpftrace(`uprobe:${WORKLOAD}:bpfbook_target { @ = count(); }`) });
  const t = await interleaved(["call", String(n)], configs);
  const none = t.get("no uprobe")!;
  return configs.map((c) => ({ who: c.who, nsPerCall: t.get(c.who)! / n, nsPerHit: (t.get(c.who)! - none) / n, calls: n }));
}

export async function profileCost(m = SPIN_CALLS): Promise<ProfileCostRow[]> {
  const samples = new Map<string, number>();
  const configs: Config[] = [{ who: "not profiled", setup: async () => async () => {} }];
  for (const hz of [99, 999]) {
    const who = `bpfbook profile({ hz: ${hz} }), all CPUs`;
    configs.push({
      who,
      setup: async () => {
        const run = startProfile({ hz });
        return async () => samples.set(who, Math.max(samples.get(who) ?? 0, (await run.table()).stats.samples));
      },
    });
  }
  // END clears the map so bpftrace exits without symbolizing and printing every stack (bpfbook's symbolization is not timed either).
  if (await hasBpftrace()) for (const hz of [99, 999]) configs.push({ who: `bpftrace profile:hz:${hz} { @[kstack, ustack, pid] = count(); }`, setup: () => bpftrace(`profile:hz:${hz} { @[kstack, ustack, pid] = count(); } END { clear(@); }`) });
  const t = await interleaved(["call", String(m)], configs);
  const none = t.get("not profiled")!;
  const callsPerSec = m / (none / 1e9);
  return configs.map((c) => {
    const ns = t.get(c.who)!;
    const s = samples.get(c.who);
    return { who: c.who, cpuSeconds: ns / 1e9, slowdownPct: (ns / none - 1) * 100, workLostPerSec: callsPerSec * (1 - none / ns), ...(s !== undefined ? { samples: s } : {}) };
  });
}

/** Runs both benchmarks (or the ones named), prints them, returns the rows. */
export async function benchUprobeProfile(which: readonly ("uprobe" | "profile")[] = ["uprobe", "profile"]): Promise<object> {
  const out: { kernel: string; rounds: number; uprobe?: UprobeCostRow[]; profile?: ProfileCostRow[] } = { kernel: release(), rounds: ROUNDS };
  if (which.includes("uprobe")) {
    const uprobes = (out.uprobe = await uprobeCost());
    console.log(`\nuprobe cost per hit on bpfbook_target (workload call ${UPROBE_CALLS}, CPU time, best of ${ROUNDS} interleaved; kernel ${release()}):`);
    console.log("who | CPU ns per call | ns per hit (added)");
    console.log("--- | ---: | ---:");
    for (const r of uprobes) console.log(`${r.who} | ${r.nsPerCall.toFixed(0)} | ${r.nsPerHit.toFixed(0)}`);
  }
  if (which.includes("profile")) {
    const prof = (out.profile = await profileCost());
    const base = prof[0];
    console.log(`\nprofiling overhead on a CPU-bound run (workload call ${SPIN_CALLS}: ${(SPIN_CALLS / base.cpuSeconds / 1e6).toFixed(0)} M calls per CPU-second unprofiled, best of ${ROUNDS} interleaved):`);
    console.log("who | CPU seconds | slowdown | calls/s lost | samples");
    console.log("--- | ---: | ---: | ---: | ---:");
    for (const r of prof) console.log(`${r.who} | ${r.cpuSeconds.toFixed(3)} | ${r.slowdownPct.toFixed(2)} % | ${(r.workLostPerSec / 1e6).toFixed(2)} M | ${r.samples ?? ""}`);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const which = process.argv.slice(2).filter((a): a is "uprobe" | "profile" => a === "uprobe" || a === "profile");
  const out = await benchUprobeProfile(which.length ? which : undefined);
  console.log(JSON.stringify(out));
}
