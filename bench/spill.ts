/* Spill: events written to Parquet files as they arrive and queried with DuckDB,
 * against the in-memory path (one Arquero table) of the same events.
 *
 * Events come from the kernel burst producer (burst.bpf.c: header-only events, ts,
 * cpu, pid, tid, comm, from this process) through a real Trace, run 500 k at a time and
 * kept ahead of the consumer (at most 1 M waiting in a 64 MiB ring), so the ring never
 * runs dry and the reader never sits out its idle period: the time is the consumer's.
 * Each case runs in a child process of its own, so its peak RSS (VmHWM) is its own.
 *   - in memory: N events into one table (`events: N`, as collect() does), then
 *     `groupby("pid").count()`;
 *   - spilled: N events through spill() into files of 1 Mi rows (zstd), then DuckDB's
 *     `SELECT pid, count(*) ... GROUP BY pid` and a scan of every row (count, min/max ts,
 *     distinct cpus).
 * The pair at the smaller size runs interleaved (memory, spill, memory, spill, ...),
 * then the spill at the large size once. Last, a real workload (N getppid() calls,
 * 5 M by default) traced by collect() and by spill(), interleaved: does the drain keep
 * up (lost), and how soon after the workload ends is every row in.
 *
 *   node dist/bench/run.js spill            (part of `npm run bench`)
 *   BENCH_SPILL_EVENTS=100000000 BENCH_SPILL_MEMORY_EVENTS=10000000 BENCH_SPILL_ROUNDS=3 BENCH_SPILL_REAL_EVENTS=5000000
 *   node --expose-gc dist/bench/spill.js case spill 100000000   (one case, JSON on stdout) */
import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { burstObject } from "./burst.js";
import { Trace, type StopOptions, type StreamSetup } from "../bpf-lib/src/engine/trace.js";
import { HDR_SIZE } from "../bpf-lib/src/engine/layout.js";
import { spill } from "../bpf-lib/src/spill/spill.js";
import { SpilledTrace } from "../bpf-lib/src/spill/spilled-trace.js";
import { tracepoint } from "../bpf-lib/src/index.js";
import { packageRoot } from "../bpf-lib/src/paths.js";

const BIG = Number(process.env.BENCH_SPILL_EVENTS ?? 100_000_000);
const SMALL = Number(process.env.BENCH_SPILL_MEMORY_EVENTS ?? 10_000_000);
const ROUNDS = Number(process.env.BENCH_SPILL_ROUNDS ?? 3);
const REAL = Number(process.env.BENCH_SPILL_REAL_EVENTS ?? 5_000_000);
const WORKLOAD = join(packageRoot(), "test", "fixtures", "build", "workload");
const CHUNK = 500_000;
/** 64 MiB: 1.4 M records of 48 bytes. The ring's pages are in every case's RSS alike (mapped twice: up to 128 MiB). */
const RING = 64 << 20;
/** Events let wait in the ring before the producer holds off: with the burst on top, at most 1 M. */
const AHEAD = 500_000;

export interface SpillCase {
  mode: "memory" | "spill";
  events: number;
  lost: number;
  /** First burst → every row in the table (memory) or in a file (spill), wall clock. */
  seconds: number;
  eventsPerSec: number;
  /** CPU of the whole process (every thread), less the producer's bursts. */
  cpuSeconds: number;
  /** The main (JS) thread's CPU, less the producer's bursts: what the notebook's thread paid. */
  mainThreadSeconds: number;
  produceSeconds: number;
  /** Peak RSS of the process (VmHWM) while collecting (the ring's pages included), then including the query, and its RSS before the trace started. */
  peakRssCollectBytes: number;
  peakRssBytes: number;
  baseRssBytes: number;
  /** Files written (spill) and their bytes. */
  files: number;
  fileBytes: number;
  /** The most rows drained but not yet in a file (spill). */
  peakBacklogRows: number;
  /** The GROUP BY pid (DuckDB over the files, or Arquero on the table), and (spill) a scan of every row. */
  groupSeconds: number;
  scanSeconds: number;
  groups: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const threadCpuS = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]) / 1e9;
const processCpuS = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const vm = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"))![1]) * 1024;

/** One case, in this process. */
export async function runCase(mode: "memory" | "spill", n: number): Promise<SpillCase> {
  const obj = burstObject(CHUNK, RING);
  const setup: StreamSetup = { source: "burst", object: obj, eventSize: HDR_SIZE, bufferBytes: RING, fields: [], attach: () => [] };
  let trace: Trace | null = null;
  const probe = { start: (o: StopOptions) => (trace = new Trace(setup, o)) };
  globalThis.gc?.();
  const baseRss = vm("VmRSS");
  const t0 = performance.now(), c0 = processCpuS(), m0 = threadCpuS();
  let produce = 0;
  const compression = (process.env.BENCH_SPILL_COMPRESSION ?? "zstd") as "zstd";
  const fileRows = process.env.BENCH_SPILL_FILE_ROWS ? Number(process.env.BENCH_SPILL_FILE_ROWS) : undefined;
  const finished = mode === "spill" ? spill(probe, { events: n, compression, fileRows }) : probe.start({ events: n }).finished();
  for (let made = 0; made < n;) {
    if (made - trace!.received < AHEAD) {
      const p0 = threadCpuS();
      obj.program("burst").testRun();
      produce += threadCpuS() - p0;
      made += CHUNK;
    } else await sleep(1);
  }
  const result = await finished;
  const seconds = (performance.now() - t0) / 1e3;
  const peakRssCollect = vm("VmHWM");
  const cpuSeconds = processCpuS() - c0 - produce, mainThreadSeconds = threadCpuS() - m0 - produce;
  let groupSeconds = 0, scanSeconds = 0, groups = 0, lost = 0, files = 0, fileBytes = 0, peakBacklogRows = 0, rows = 0;
  if (!(result instanceof SpilledTrace)) {
    const t = result;
    lost = t.stats.lost;
    rows = t.numRows();
    const g0 = performance.now();
    groups = t.groupby("pid").count().numRows();
    groupSeconds = (performance.now() - g0) / 1e3;
  } else {
    const s = result;
    lost = s.stats.lost;
    rows = s.numRows;
    files = s.files.length;
    fileBytes = s.spill.bytes;
    peakBacklogRows = s.spill.peakBacklogRows;
    if (process.env.BENCH_SPILL_VERBOSE) console.error(s.fileInfo.map((f) => `${f.rows}:${f.ms}`).join(" "), s.spill);
    const g0 = performance.now();
    groups = (await s.query("SELECT pid, count(*) AS n FROM trace GROUP BY pid")).numRows();
    const g1 = performance.now();
    const scan = (await s.query("SELECT count(*) AS n, min(ts) AS first, max(ts) AS last, count(DISTINCT cpu) AS cpus FROM trace")).object(0) as { n: number };
    scanSeconds = (performance.now() - g1) / 1e3;
    groupSeconds = (g1 - g0) / 1e3;
    if (scan.n !== rows) throw new Error(`DuckDB counted ${scan.n} rows, the spill wrote ${rows}`);
    await s.dispose();
  }
  obj.dispose();
  return {
    mode, events: rows, lost, seconds, eventsPerSec: rows / seconds, cpuSeconds, mainThreadSeconds, produceSeconds: produce,
    peakRssCollectBytes: peakRssCollect, peakRssBytes: vm("VmHWM"), baseRssBytes: baseRss, files, fileBytes, peakBacklogRows, groupSeconds, scanSeconds, groups,
  };
}

/** One case in a child process of its own (its peak RSS is then its own). */
function inChild(mode: "memory" | "spill", n: number): SpillCase {
  const out = execFileSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "case", mode, String(n)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split("\n").pop()!) as SpillCase;
}

/** A real workload: N getppid() calls traced by collect() or spill(): does the drain keep up (lost), and how long after the workload's end is every row in? */
export interface RealCase { mode: "collect" | "spill"; events: number; lost: number; workloadSeconds: number; afterSeconds: number; files: number; bytesPerEvent: number; peakBacklogRows: number }

async function realCase(mode: "collect" | "spill", n: number): Promise<RealCase> {
  const child = spawn(WORKLOAD, ["getppid", String(n)], { stdio: ["pipe", "ignore", "inherit"] });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const probe = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: child.pid! } });
  const run = mode === "spill" ? spill(probe, { events: n, seconds: 600 }) : probe.collect({ events: n, seconds: 600 });
  const t0 = performance.now();
  child.stdin!.end("g");
  await exited;
  const t1 = performance.now();
  const r = await run;
  const t2 = performance.now();
  const spilled = r instanceof SpilledTrace ? r : null;
  const out: RealCase = {
    mode, events: r.stats.received, lost: r.stats.lost, workloadSeconds: (t1 - t0) / 1e3, afterSeconds: (t2 - t1) / 1e3,
    files: spilled?.files.length ?? 0, bytesPerEvent: spilled ? spilled.spill.bytes / spilled.numRows : 0, peakBacklogRows: spilled?.spill.peakBacklogRows ?? 0,
  };
  await spilled?.dispose();
  return out;
}

export interface SpillResult { small: SpillCase[]; big: SpillCase | null; real: RealCase[] }

export async function benchSpill(): Promise<SpillResult> {
  const small: SpillCase[] = [];
  for (let i = 0; i < ROUNDS; i++) for (const mode of ["memory", "spill"] as const) small.push(inChild(mode, SMALL));
  const real: RealCase[] = [];
  if (REAL > 0) for (let i = 0; i < ROUNDS; i++) for (const mode of ["collect", "spill"] as const) real.push(await realCase(mode, REAL));
  const big = BIG > 0 ? inChild("spill", BIG) : null;
  return { small, big, real };
}

const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };

export function printSpill(r: SpillResult): void {
  console.log(`\nspill: events into Parquet files and DuckDB, against one in-memory table (burst producer; each case its own process)\n`);
  console.log("path | events | lost | seconds | events/s | CPU s (main thread) | peak RSS collecting (with query; base) | files | file bytes | B/event | GROUP BY pid | scan");
  console.log("--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---:");
  const row = (c: SpillCase) => console.log([
    c.mode === "spill" ? "spilled to Parquet" : "in memory (one table)", c.events, c.lost, c.seconds.toFixed(2), `${(c.eventsPerSec / 1e6).toFixed(2)} M/s`,
    `${c.cpuSeconds.toFixed(2)} (${c.mainThreadSeconds.toFixed(2)})`, `${mb(c.peakRssCollectBytes)} (${mb(c.peakRssBytes)}; ${mb(c.baseRssBytes)})`, c.files || "", c.fileBytes ? mb(c.fileBytes) : "",
    c.fileBytes ? (c.fileBytes / c.events).toFixed(2) : "", `${c.groupSeconds.toFixed(2)} s`, c.scanSeconds ? `${c.scanSeconds.toFixed(2)} s` : "",
  ].join(" | "));
  for (const c of r.small) row(c);
  if (r.big) row(r.big);
  const of = (m: string) => r.small.filter((c) => c.mode === m);
  const ratio = (f: (c: SpillCase) => number) => median(of("spill").map((s, i) => f(s) / f(of("memory")[i]!)));
  if (r.real.length) {
    console.log(`\na real workload: ${REAL} getppid() calls, traced by collect() or spill() (interleaved)\n`);
    console.log("path | received | lost | workload s | every row in, s after the workload | files | B/event | peak backlog rows");
    console.log("--- | ---: | ---: | ---: | ---: | ---: | ---: | ---:");
    for (const c of r.real) console.log([c.mode, c.events, c.lost, c.workloadSeconds.toFixed(2), c.afterSeconds.toFixed(2), c.files || "", c.bytesPerEvent ? c.bytesPerEvent.toFixed(2) : "", c.peakBacklogRows || ""].join(" | "));
  }
  if (of("spill").length) console.log(`at ${SMALL} events, median of ${of("spill").length} rounds, spill / memory: time ${ratio((c) => c.seconds).toFixed(2)}×, peak RSS collecting ${ratio((c) => c.peakRssCollectBytes).toFixed(2)}×, main-thread CPU ${ratio((c) => c.mainThreadSeconds).toFixed(2)}×`);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "case") {
  const mode = process.argv[3] as "memory" | "spill";
  const r = await runCase(mode, Number(process.argv[4]));
  console.log(JSON.stringify(r));
  process.exit(0);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchSpill();
  printSpill(r);
}
