/* What collecting costs the collecting process (its CPU time, every thread):
 * busy (a getppid() flood, per million events), idle (a trace that sees nothing),
 * a trickle (longest wait between batches), idle traces beside fs calls (libuv's
 * pool), and a whole-machine syscall trace, where the tracer must not see itself.
 *
 *   node dist/bench/run.js cost           (part of `npm run bench`)
 *   node dist/bench/collector-cost.js     (this suite alone; BENCH_COST_EVENTS, BENCH_COST_IDLE_SECONDS) */
import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { tracepoint } from "../bpf-lib/src/index.js";
import { packageRoot } from "../bpf-lib/src/paths.js";

const WORKLOAD = join(packageRoot(), "test", "fixtures", "build", "workload");
const EVENTS = Number(process.env.BENCH_COST_EVENTS ?? 1_000_000);
const IDLE_SECONDS = Number(process.env.BENCH_COST_IDLE_SECONDS ?? 5);
const SYSTEM_SECONDS = Number(process.env.BENCH_COST_SYSTEM_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

export interface CollectorCost {
  busy: { events: number; lost: number; cpuSeconds: number; wallSeconds: number; cpuSecondsPerMillionEvents: number };
  idle: { seconds: number; cpuSeconds: number; cpuFraction: number };
  /** ~900 events/s (1 ms sleeps): the longest time between two batches. */
  trickle: { events: number; batches: number; longestGapMs: number };
  /** fs.promises.stat("/") beside idle traces: the slowest of 10 calls. */
  pool: { traces: number; worstStatMs: number }[];
  /** raw_syscalls:sys_enter on the whole machine, by default and with includeSelf. */
  systemWide: { includeSelf: boolean; seconds: number; events: number; selfEvents: number; excludedSelf: number; cpuSeconds: number }[];
}

function cpuSeconds(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function gated(args: string[]) {
  const child = spawn(WORKLOAD, args, { stdio: ["pipe", "ignore", "inherit"] });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return { pid: child.pid!, kill: () => child.kill(), go: () => (child.stdin!.end("g"), exited) };
}

/** From the workload's start until the table is built: the whole price of collecting N events. */
async function busy(): Promise<CollectorCost["busy"]> {
  const w = gated(["getppid", String(EVENTS)]);
  const trace = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }).start();
  await sleep(100);
  const c0 = cpuSeconds(), t0 = performance.now();
  await w.go();
  while (trace.received + trace.stats().lost < EVENTS) await sleep(5);
  const t = await trace.table();
  const cpu = cpuSeconds() - c0;
  return { events: t.numRows(), lost: t.stats.lost, cpuSeconds: cpu, wallSeconds: (performance.now() - t0) / 1e3, cpuSecondsPerMillionEvents: cpu / (t.numRows() / 1e6) };
}

/** A trace whose filter matches a process that never runs: the cost of waiting. */
async function idle(): Promise<CollectorCost["idle"]> {
  const w = gated(["getppid", "1"]);
  const trace = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }).start();
  try {
    await sleep(200);
    const c0 = cpuSeconds(), t0 = performance.now();
    await sleep(IDLE_SECONDS * 1000);
    const cpu = cpuSeconds() - c0, seconds = (performance.now() - t0) / 1e3;
    return { seconds, cpuSeconds: cpu, cpuFraction: cpu / seconds };
  } finally {
    await trace.stop();
    w.kill();
  }
}

async function trickle(): Promise<CollectorCost["trickle"]> {
  const N = 2000;
  const w = gated(["sleep", "1", String(N)]);
  const trace = tracepoint("syscalls:sys_enter_nanosleep", { fields: [], where: { pid: w.pid } }).start({ seconds: 60 });
  const done = w.go();
  let rows = 0, batches = 0, last = 0, longest = 0;
  for await (const b of trace.batches()) {
    const now = performance.now();
    if (last) longest = Math.max(longest, now - last);
    last = now;
    batches++;
    rows += (b.ts as ArrayLike<unknown>).length;
    if (rows >= N) break;
  }
  await done;
  return { events: rows, batches, longestGapMs: longest };
}

async function pool(traces: number): Promise<CollectorCost["pool"][number]> {
  const ws = Array.from({ length: traces }, () => gated(["getppid", "1"]));
  const trs = ws.map((w) => tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }).start());
  try {
    await sleep(700);
    let worst = 0;
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await stat("/");
      worst = Math.max(worst, performance.now() - t0);
      await sleep(37);
    }
    return { traces, worstStatMs: worst };
  } finally {
    await Promise.all(trs.map((t) => t.stop()));
    for (const w of ws) w.kill();
  }
}

async function systemWide(includeSelf: boolean): Promise<CollectorCost["systemWide"][number]> {
  const c0 = cpuSeconds();
  const t = await tracepoint("raw_syscalls:sys_enter", { fields: ["id"], includeSelf }).collect({ seconds: SYSTEM_SECONDS });
  const cpu = cpuSeconds() - c0;
  const pids = t.array("pid");
  let self = 0;
  for (let i = 0; i < pids.length; i++) if (pids[i] === process.pid) self++;
  return { includeSelf, seconds: t.stats.seconds, events: t.numRows(), selfEvents: self, excludedSelf: t.stats.excludedSelf ?? 0, cpuSeconds: cpu };
}

export async function benchCollectorCost(): Promise<CollectorCost> {
  let b: CollectorCost["busy"] | null = null;
  for (let i = 0; i < ROUNDS; i++) {
    const r = await busy();
    if (!b || r.cpuSeconds < b.cpuSeconds) b = r; // other load only ever adds CPU time
  }
  const i = await idle();
  const tr = await trickle();
  const p = [await pool(1), await pool(6)];
  const s = [await systemWide(false), await systemWide(true)];
  return { busy: b!, idle: i, trickle: tr, pool: p, systemWide: s };
}

export function printCollectorCost(c: CollectorCost): void {
  console.log(`\ncollector CPU time (this process, all threads):`);
  console.log("what | events | CPU s | wall s | cost");
  console.log("--- | ---: | ---: | ---: | ---");
  console.log(`busy: getppid() flood → table (best of ${ROUNDS}) | ${c.busy.events} | ${c.busy.cpuSeconds.toFixed(3)} | ${c.busy.wallSeconds.toFixed(2)} | ${c.busy.cpuSecondsPerMillionEvents.toFixed(3)} CPU s per million events`);
  console.log(`idle: a trace that sees nothing | 0 | ${c.idle.cpuSeconds.toFixed(3)} | ${c.idle.seconds.toFixed(2)} | ${(c.idle.cpuFraction * 100).toFixed(2)}% of a CPU`);
  console.log(`trickle: 1 ms sleeps → batches | ${c.trickle.events} | | | ${c.trickle.batches} batches, longest gap ${c.trickle.longestGapMs.toFixed(0)} ms`);
  for (const p of c.pool) console.log(`fs.promises.stat beside ${p.traces} idle trace(s) | | | | slowest of 10: ${p.worstStatMs.toFixed(1)} ms`);
  for (const s of c.systemWide) {
    console.log(`raw_syscalls:sys_enter, whole machine${s.includeSelf ? ", includeSelf" : ""} | ${s.events} (${s.selfEvents} its own, ${s.excludedSelf} left out) | ${s.cpuSeconds.toFixed(3)} | ${s.seconds.toFixed(2)} | load, attach, collect, table`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) printCollectorCost(await benchCollectorCost());
