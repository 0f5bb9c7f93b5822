/* What collecting costs the collecting process (its CPU time, every thread):
 * busy (a getppid() flood, per million events), idle (a trace that sees nothing),
 * and a whole-machine syscall trace, where the tracer must not see itself.
 *
 *   node dist/bench/run.js cost           (part of `npm run bench`)
 *   node dist/bench/collector-cost.js     (this suite alone; BENCH_COST_EVENTS, BENCH_COST_IDLE_SECONDS) */
import { spawn } from "node:child_process";
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
  /** raw_syscalls:sys_enter on the whole machine, by default and with includeSelf. */
  systemWide: { includeSelf: boolean; seconds: number; events: number; selfEvents: number; cpuSeconds: number }[];
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

async function systemWide(includeSelf: boolean): Promise<CollectorCost["systemWide"][number]> {
  const c0 = cpuSeconds();
  const t = await tracepoint("raw_syscalls:sys_enter", { fields: ["id"], includeSelf }).collect({ seconds: SYSTEM_SECONDS });
  const cpu = cpuSeconds() - c0;
  const pids = t.array("pid") as Int32Array;
  let self = 0;
  for (let i = 0; i < pids.length; i++) if (pids[i] === process.pid) self++;
  return { includeSelf, seconds: t.stats.seconds, events: t.numRows(), selfEvents: self, cpuSeconds: cpu };
}

export async function benchCollectorCost(): Promise<CollectorCost> {
  let b: CollectorCost["busy"] | null = null;
  for (let i = 0; i < ROUNDS; i++) {
    const r = await busy();
    if (!b || r.cpuSeconds < b.cpuSeconds) b = r; // other load only ever adds CPU time
  }
  const i = await idle();
  const s = [await systemWide(false), await systemWide(true)];
  return { busy: b!, idle: i, systemWide: s };
}

export function printCollectorCost(c: CollectorCost): void {
  console.log(`\ncollector CPU time (this process, all threads):`);
  console.log("what | events | CPU s | wall s | cost");
  console.log("--- | ---: | ---: | ---: | ---");
  console.log(`busy: getppid() flood → table (best of ${ROUNDS}) | ${c.busy.events} | ${c.busy.cpuSeconds.toFixed(3)} | ${c.busy.wallSeconds.toFixed(2)} | ${c.busy.cpuSecondsPerMillionEvents.toFixed(3)} CPU s per million events`);
  console.log(`idle: a trace that sees nothing | 0 | ${c.idle.cpuSeconds.toFixed(3)} | ${c.idle.seconds.toFixed(2)} | ${(c.idle.cpuFraction * 100).toFixed(2)}% of a CPU`);
  for (const s of c.systemWide) {
    console.log(`raw_syscalls:sys_enter, whole machine${s.includeSelf ? ", includeSelf" : ""} | ${s.events} (${s.selfEvents} its own) | ${s.cpuSeconds.toFixed(3)} | ${s.seconds.toFixed(2)} | load, attach, collect, table`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) printCollectorCost(await benchCollectorCost());
