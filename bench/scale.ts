/* Scale: how bpfbook behaves as the work grows.
 *  - events into one table: 1 M, 10 M and 50 M events from the kernel burst producer
 *    (bpf_loop, run repeatedly, the ring drained between runs) into one Trace and
 *    its Arquero table: JS thread CPU, events/s, RSS and heap + array buffers per event;
 *  - distinct keys: `count({ by: ["offset"] })` of lseek() with `interval: 1`, each
 *    interval seeing 10 k or 100 k distinct offsets: how long each interval's read
 *    and table block the event loop, and the JS thread's CPU per interval;
 *  - concurrent traces: 10 traces of getppid(), each filtered to its own workload
 *    child, collected at once: total events/s, each exact, the collector's CPU;
 *    then one trace of the same 10 children, the peer in the same run.
 *
 *   node dist/bench/run.js scale            (part of `npm run bench`)
 *   BENCH_SCALE_SIZES=1000000,10000000,50000000 BENCH_SCALE_KEYS=10000,100000
 *   BENCH_SCALE_TRACES=10 BENCH_SCALE_TRACE_EVENTS=200000 */
import { burstObject } from "./burst.js";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, symlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tracepoint } from "../bpf-lib/src/index.js";
import { BpfObject } from "../bpf-lib/src/libbpf/object.js";
import { Trace, type StreamSetup } from "../bpf-lib/src/engine/trace.js";
import { bpfObjectPath, packageRoot } from "../bpf-lib/src/paths.js";
import { HDR_SIZE } from "../bpf-lib/src/engine/layout.js";
import { monitor, type Monitor } from "./stall.js";

const WORKLOAD = join(packageRoot(), "test", "fixtures", "build", "workload");
const list = (v: string | undefined, d: number[]) => (v !== undefined ? v.split(",").map(Number).filter((x) => x > 0) : d);
const SIZES = list(process.env.BENCH_SCALE_SIZES, [1_000_000, 10_000_000, 50_000_000]);
const KEYS = list(process.env.BENCH_SCALE_KEYS, [10_000, 100_000]);
const INTERVALS = 4;
/** Seconds per interval: long enough for the 100 k-call workload to finish inside one on a loaded machine. */
const INTERVAL_S = 3;
const TRACES = Number(process.env.BENCH_SCALE_TRACES ?? 10);
const TRACE_EVENTS = Number(process.env.BENCH_SCALE_TRACE_EVENTS ?? 200_000);
/** Events per burst run: bpf_loop allows 8 M; 5 M records of 48 bytes fill 240 MB of the 256 MiB ring. */
const CHUNK = 5_000_000;
const RING = 256 << 20;

export interface ScaleEvents { events: number; lost: number; drainSeconds: number; tableSeconds: number; eventsPerSec: number; produceSeconds: number; rssBytesPerEvent: number; bytesPerEvent: number }
export interface ScaleKeys { keys: number; intervals: number; intervalSeconds: number; rowsPerInterval: number[]; blockMs: number[]; medianBlockMs: number; threadCpuMs: number[]; medianThreadCpuMs: number }
export interface ScaleTraces { traces: number; eventsEach: number; exact: boolean; received: number[]; lost: number; seconds: number; eventsPerSec: number; cpuSeconds: number; cpuSecondsPerMillionEvents: number }
export interface ScaleResult { events: ScaleEvents[]; keys: ScaleKeys[]; traces: ScaleTraces | null; oneTrace: ScaleTraces | null }

/** CPU time of this process's main (JS) thread, in ms: schedstat's first field is ns on a CPU. */
function threadCpuMs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
}

/**
 * The workload under a name (its comm) no other job uses, so a comm filter sees only
 * this suite's children even while others run the workload: a symlink to it.
 */
function namedWorkload(comm: string): string {
  const path = join(tmpdir(), comm);
  rmSync(path, { force: true });
  symlinkSync(WORKLOAD, path);
  return path;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gc = () => globalThis.gc?.();

const burst = (count: number): BpfObject => burstObject(count, RING);

/**
 * n events into one table through a real Trace (chunked columns, the table joined in
 * slices): the burst object stands in for a probe (nothing to attach), and each burst
 * run waits until the trace has received the previous one. The burst submits without
 * wakeups and nothing can make the reader drain at once, so each run waits up to the
 * reader's 500 ms idle period: the time measured is the JS thread's CPU time, not wall
 * time, less what BPF_PROG_TEST_RUN (the producer, run by this thread) took.
 */
async function eventsIntoOneTable(n: number): Promise<ScaleEvents> {
  const chunk = Math.min(n, CHUNK);
  const obj = burst(chunk);
  gc();
  const m0 = process.memoryUsage();
  const setup: StreamSetup = { source: "burst", object: obj, eventSize: HDR_SIZE, bufferBytes: RING, fields: [], attach: () => [] };
  const trace = new Trace(setup);
  try {
    let produce = 0;
    const c0 = threadCpuMs();
    for (let done = 0; done < n; done += chunk) {
      const p0 = threadCpuMs();
      obj.program("burst").testRun();
      produce += threadCpuMs() - p0;
      while (trace.received < done + chunk) await sleep(2);
    }
    const drainMs = threadCpuMs() - c0 - produce;
    const c1 = threadCpuMs();
    const table = await trace.table();
    const tableMs = threadCpuMs() - c1;
    gc();
    const m1 = process.memoryUsage();
    const rows = table.numRows();
    const seconds = (drainMs + tableMs) / 1e3;
    return {
      events: rows, lost: table.stats.lost, drainSeconds: drainMs / 1e3, tableSeconds: tableMs / 1e3, eventsPerSec: rows / seconds, produceSeconds: produce / 1e3,
      rssBytesPerEvent: (m1.rss - m0.rss) / rows,
      bytesPerEvent: (m1.heapUsed - m0.heapUsed + m1.arrayBuffers - m0.arrayBuffers) / rows,
    };
  } finally {
    trace[Symbol.dispose]();
  }
}

/**
 * A count by lseek offset with an interval; a fresh `workload --now seek K 0 1` per
 * interval makes K distinct offsets in it. Two measures of each interval's read +
 * table (the library times nothing of its own): the main thread's longest stretch of
 * CPU between two turns of a 1 ms timer from just after the workload was spawned to the
 * interval's onInterval (the flip, the read of K keys and the table: spawning the
 * workload, a fork of this process, is left out), and the main thread's CPU time from
 * one onInterval to the next (the read and table, plus one spawn and the timer's ticks).
 */
async function distinctKeys(k: number): Promise<ScaleKeys> {
  const children: ChildProcess[] = [];
  const comm = "bpfbook-keys-w";
  const bin = namedWorkload(comm);
  let watch: Monitor | null = null;
  const work = () => {
    children.push(spawn(bin, ["--now", "seek", String(k), "0", "1"], { stdio: "ignore" }));
    watch = monitor();
  };
  const ends: number[] = [];
  const cpu: number[] = [];
  const rowsPer: number[] = [];
  const blockMs: number[] = [];
  try {
    cpu.push(threadCpuMs());
    const run = tracepoint("syscalls:sys_enter_lseek", { where: { comm } })
      .count({ by: ["offset"], maxKeys: Math.max(1 << 17, 2 * k) })
      .start({
        interval: INTERVAL_S,
        onInterval: (t, i) => {
          ends.push(performance.now());
          cpu.push(threadCpuMs());
          if (watch) blockMs.push(watch.stop().cpuMs);
          watch = null;
          rowsPer.push(t.numRows() - rowsPer.reduce((a, b) => a + b, 0));
          // the next interval's workload, after the timers had their turn
          if (i < INTERVALS) setTimeout(work, 20);
        },
      });
    work();
    while (ends.length < INTERVALS) await sleep(50);
    await run.stop();
    (watch as Monitor | null)?.stop();
    await Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once("exit", r)))));
  } finally {
    rmSync(bin, { force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const blocks = blockMs.slice(0, INTERVALS);
  const threadCpu = cpu.slice(1, INTERVALS + 1).map((c, i) => c - cpu[i]!);
  return { keys: k, intervals: INTERVALS, intervalSeconds: INTERVAL_S, rowsPerInterval: rowsPer.slice(0, INTERVALS), blockMs: blocks, medianBlockMs: median(blocks), threadCpuMs: threadCpu, medianThreadCpuMs: median(threadCpu) };
}

/**
 * TRACES workload children making getppid() calls, collected at once: by one trace
 * each (filtered to its pid), or, as the peer in the same run, by one trace of them
 * all (filtered to their comm, a name only they have).
 */
async function concurrentTraces(split: boolean): Promise<ScaleTraces> {
  const comm = "bpfbook-scale-w";
  const bin = namedWorkload(comm);
  const kids = Array.from({ length: TRACES }, () => spawn(bin, ["getppid", String(TRACE_EVENTS)], { stdio: ["pipe", "ignore", "inherit"] }));
  const exited = kids.map((c) => new Promise<void>((r) => c.once("exit", () => r())));
  // (the comm filter matches once each child has exec'd: wait for that)
  if (!split) await sleep(100);
  const cpu0 = process.cpuUsage();
  const traces = split
    ? kids.map((c) => tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: c.pid! } }).start())
    : [tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { comm } }).start()];
  const want = split ? TRACE_EVENTS : TRACES * TRACE_EVENTS;
  try {
    for (const c of kids) c.stdin!.end("g");
    await Promise.all(exited);
    for (const t of traces) while (t.stats().produced < want || t.received + t.stats().lost < want) await sleep(1);
    const tables = await Promise.all(traces.map((t) => t.table()));
    const done = Number(process.hrtime.bigint());
    const cpu = process.cpuUsage(cpu0);
    const first = Math.min(...tables.map((t) => (t.array("ts") as ArrayLike<number>)[0]!));
    const received = tables.map((t) => t.numRows());
    const lost = tables.reduce((a, t) => a + t.stats.lost, 0);
    const total = received.reduce((a, b) => a + b, 0);
    const seconds = (done - first) / 1e9;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    return { traces: traces.length, eventsEach: want, exact: received.every((r) => r === want) && lost === 0, received, lost, seconds, eventsPerSec: total / seconds, cpuSeconds, cpuSecondsPerMillionEvents: cpuSeconds / (total / 1e6) };
  } finally {
    for (const t of traces) t[Symbol.dispose]();
    rmSync(bin, { force: true });
  }
}

export async function benchScale(): Promise<ScaleResult> {
  const events: ScaleEvents[] = [];
  for (const n of SIZES) {
    events.push(await eventsIntoOneTable(n));
    gc();
  }
  const keys: ScaleKeys[] = [];
  for (const k of KEYS) keys.push(await distinctKeys(k));
  const traces = TRACES > 0 ? await concurrentTraces(true) : null;
  const oneTrace = TRACES > 0 ? await concurrentTraces(false) : null;
  return { events, keys, traces, oneTrace };
}

export function printScale(s: ScaleResult): void {
  const M = (n: number) => `${(n / 1e6).toFixed(n % 1e6 ? 1 : 0)} M`;
  console.log("\nscale: events into one table through a Trace (kernel burst producer, drained between runs; JS thread CPU)");
  console.log("events | drain CPU s | table CPU s | events/s | ns per event | heap + buffers per event | RSS per event");
  console.log("---: | ---: | ---: | ---: | ---: | ---: | ---:");
  for (const e of s.events) console.log(`${M(e.events)} | ${e.drainSeconds.toFixed(2)} | ${e.tableSeconds.toFixed(2)} | ${(e.eventsPerSec / 1e6).toFixed(1)} M/s | ${((e.drainSeconds + e.tableSeconds) / e.events * 1e9).toFixed(1)} | ${e.bytesPerEvent.toFixed(1)} B | ${e.rssBytesPerEvent.toFixed(1)} B`);
  console.log(`\nscale: distinct keys, count by lseek offset, interval ${INTERVAL_S} s (per interval: longest main-thread CPU stretch between 1 ms timer turns while the interval was read; JS thread CPU)`);
  for (const k of s.keys) console.log(`${k.keys} keys: rows per interval ${k.rowsPerInterval.join(", ")}; block ${k.blockMs.map((b) => b.toFixed(0)).join(", ")} ms (median ${k.medianBlockMs.toFixed(0)}); JS thread CPU ${k.threadCpuMs.map((b) => b.toFixed(0)).join(", ")} ms (median ${k.medianThreadCpuMs.toFixed(0)})`);
  for (const t of [s.traces, s.oneTrace]) {
    if (!t) continue;
    const what = t.traces > 1 ? `${t.traces} concurrent traces × ${t.eventsEach}` : `1 trace of the same ${TRACES} children, ${t.eventsEach}`;
    console.log(`${t === s.traces ? "\n" : ""}scale: ${what} getppid events: ${(t.eventsPerSec / 1e3).toFixed(0)} k events/s in total, ${t.exact ? "each exact" : `NOT exact (received ${t.received.join(", ")}; lost ${t.lost})`}; collector CPU ${t.cpuSeconds.toFixed(2)} s (${t.cpuSecondsPerMillionEvents.toFixed(2)} CPU s per million events)`);
  }
}
