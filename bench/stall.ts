/* Does collecting ever stall the notebook? The longest event-loop block while a trace
 * collects a flood, and while it stops and builds its table, for: a getppid() flood (numbers only), an openat() flood
 * with its filename (strings decode slower), and a ring that filled while a cell kept
 * the loop busy (millions of records waiting at once).
 *
 * A block is measured as the main thread's own CPU time between two turns of a 1 ms
 * timer (/proc/self/task/<pid>/schedstat, ns): on 2 shared cores the wall-clock gap
 * also counts time the thread sat preempted, which is the machine's, not the tracer's.
 * The wall-clock gap is reported beside it.
 *
 *   node --expose-gc dist/bench/run.js stall     (part of `npm run bench`)
 *   node dist/bench/stall.js                     (this suite alone; BENCH_STALL_EVENTS) */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { tracepoint } from "../bpf-lib/src/index.js";
import type { Trace } from "../bpf-lib/src/engine/trace.js";
import { packageRoot } from "../bpf-lib/src/paths.js";

const WORKLOAD = join(packageRoot(), "test", "fixtures", "build", "workload");
const EVENTS = Number(process.env.BENCH_STALL_EVENTS ?? 2_000_000);

export interface StallRow {
  case: string;
  events: number;
  lost: number;
  /** Longest event-loop block while the trace collected: the main thread's CPU ms between two timer turns. */
  collectingMaxMs: number;
  /** The same from stop() until the finished table. */
  stoppingMaxMs: number;
  /** The longest wall-clock gaps between timer turns (include time preempted by other work on the machine). */
  collectingWallMs: number;
  stoppingWallMs: number;
  /** Time from stop() to the finished table, ms. */
  stopMs: number;
}

function gated(args: string[]) {
  const child = spawn(WORKLOAD, args, { stdio: ["pipe", "ignore", "inherit"] });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return { pid: child.pid!, go: () => (child.stdin!.end("g"), exited) };
}

/** The main thread's on-CPU time so far, ns (the first field of its schedstat). */
function threadCpuNs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "latin1").split(" ")[0]);
}

export interface Monitor { stop(): { cpuMs: number; wallMs: number } }

/** Watches the gaps between turns of a 1 ms timer until stop(). */
export function monitor(): Monitor {
  let lastCpu = threadCpuNs(), lastWall = performance.now(), cpuMax = 0, wallMax = 0;
  const tick = () => {
    const cpu = threadCpuNs(), wall = performance.now();
    cpuMax = Math.max(cpuMax, (cpu - lastCpu) / 1e6);
    wallMax = Math.max(wallMax, wall - lastWall);
    lastCpu = cpu;
    lastWall = wall;
  };
  const timer = setInterval(tick, 1);
  return {
    stop() {
      tick();
      clearInterval(timer);
      return { cpuMs: cpuMax, wallMs: wallMax };
    },
  };
}

async function measure(name: string, trace: Trace, events: number, run: () => Promise<void>): Promise<StallRow> {
  const collecting = monitor();
  await run();
  while (trace.stats().produced < events) await new Promise((r) => setTimeout(r, 5));
  const c = collecting.stop();
  const stopping = monitor();
  const t0 = performance.now();
  const t = await trace.table();
  const stopMs = performance.now() - t0;
  const s = stopping.stop();
  if (t.numRows() + t.stats.lost !== events) throw new Error(`${name}: ${t.numRows()} rows + ${t.stats.lost} lost, expected ${events}`);
  return { case: name, events: t.numRows(), lost: t.stats.lost, collectingMaxMs: c.cpuMs, stoppingMaxMs: s.cpuMs, collectingWallMs: c.wallMs, stoppingWallMs: s.wallMs, stopMs };
}

export async function benchStall(): Promise<StallRow[]> {
  const rows: StallRow[] = [];
  {
    const w = gated(["getppid", String(EVENTS)]);
    const trace = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }).start();
    rows.push(await measure(`getppid flood, ${EVENTS / 1e6} M events`, trace, EVENTS, () => w.go()));
  }
  {
    const n = Math.round(EVENTS / 4);
    const w = gated(["openat", "/tmp/bpfbook-stall-open", String(n)]);
    const trace = tracepoint("syscalls:sys_enter_openat", { fields: ["filename"], where: { pid: w.pid } }).start();
    rows.push(await measure(`openat flood with filename, ${n / 1e3} k events`, trace, n, () => w.go()));
  }
  {
    // A cell that spins after start(): the ring (256 MiB) fills while the loop is blocked,
    // then everything waits at once. The spin itself is the cell's block, not measured.
    const n = Math.round(EVENTS / 2);
    const w = gated(["getppid", String(n)]);
    const trace = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid }, bufferBytes: 256 << 20 }).start();
    const done = w.go();
    const until = performance.now() + 60_000;
    // the workload's exit is seen only after the spin; watch the kernel's count instead
    while (trace.stats().produced < n && performance.now() < until) { /* a cell's synchronous loop */ }
    rows.push(await measure(`a ring of ${n / 1e6} M events filled while the loop was blocked`, trace, n, () => done));
  }
  return rows;
}

export function printStall(rows: StallRow[]): void {
  console.log("\nevent-loop blocks (longest; the main thread's CPU time between turns of a 1 ms timer, wall-clock gap in brackets):");
  console.log("case | events | lost | while collecting | while stopping | stop → table");
  console.log("--- | ---: | ---: | ---: | ---: | ---:");
  for (const r of rows) console.log(`${r.case} | ${r.events} | ${r.lost} | ${r.collectingMaxMs.toFixed(1)} ms (${r.collectingWallMs.toFixed(0)}) | ${r.stoppingMaxMs.toFixed(1)} ms (${r.stoppingWallMs.toFixed(0)}) | ${r.stopMs.toFixed(0)} ms`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) printStall(await benchStall());
