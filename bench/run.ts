/* `npm run bench`: bpfbook against its peers on the same workloads in the same run.
 * Prints a table, writes bench/results/latest.json. Not a test: figures vary with the machine. */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { release } from "node:os";
import { tracepoint } from "../bpf-lib/src/index.js";
import { BpfObject } from "../bpf-lib/src/libbpf/object.js";
import { RingBufferReader } from "../bpf-lib/src/ringbuf/reader.js";
import { EventDecoder } from "../bpf-lib/src/engine/decoder.js";
import { readCounters } from "../bpf-lib/src/engine/stats.js";
import { toTraceTable } from "../bpf-lib/src/engine/table.js";
import { bpfObjectPath, packageRoot } from "../bpf-lib/src/paths.js";
import { HDR_SIZE } from "../bpf-lib/src/engine/layout.js";
import { benchCollectorCost, printCollectorCost } from "./collector-cost.js";

const ROOT = packageRoot();
const WORKLOAD = join(ROOT, "test", "fixtures", "build", "workload");
const CONSUMER = join(ROOT, "bench", "build", "consumer");
const E2E_N = Number(process.env.BENCH_E2E_EVENTS ?? 2_000_000);
const DRAIN_N = Number(process.env.BENCH_DRAIN_EVENTS ?? 5_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Row { bench: string; who: string; events: number; lost: number; seconds: number; eventsPerSec: number; note?: string }
const rows: Row[] = [];

function gated(args: string[]): { child: ChildProcess; go(): Promise<void> } {
  const child = spawn(WORKLOAD, args, { stdio: ["pipe", "ignore", "inherit"] });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return { child, go: () => (child.stdin!.end("g"), exited) };
}

function lines(child: ChildProcess, stream: "stdout" | "stderr" = "stdout"): AsyncIterableIterator<string> {
  return createInterface({ input: child[stream]! })[Symbol.asyncIterator]();
}

async function bpfbookE2E(): Promise<Row> {
  const w = gated(["getppid", String(E2E_N)]);
  const trace = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.child.pid! } }).start();
  await w.go();
  // Stop once every produced event is in (the workload has exited), then build the table.
  while (trace.stats().produced < E2E_N || trace.received + trace.stats().lost < E2E_N) await new Promise((r) => setTimeout(r, 1));
  const t = await trace.table();
  const done = Number(process.hrtime.bigint());
  const ts = t.array("ts") as number[];
  const seconds = (done - ts[0]) / 1e9;
  return { bench: "e2e getppid", who: "bpfbook → Arquero table", events: t.numRows(), lost: t.stats.lost, seconds, eventsPerSec: t.numRows() / seconds, note: "first event → finished table" };
}

async function cE2E(mode: "poll" | "busy", wakeupBytes = 0): Promise<Row> {
  const w = gated(["getppid", String(E2E_N)]);
  const c = spawn(CONSUMER, ["e2e", "--pid", String(w.child.pid), "--events", String(E2E_N), "--mode", mode, "--wakeup-bytes", String(wakeupBytes)], { stdio: ["ignore", "pipe", "inherit"] });
  const it = lines(c);
  const ready = await it.next();
  if (!String(ready.value).includes("ready")) throw new Error(`C consumer did not get ready: ${ready.value}`);
  await w.go();
  const res = JSON.parse(String((await it.next()).value)) as { received: number; lost: number; seconds: number; events_per_sec: number };
  await new Promise((r) => c.once("exit", r));
  const who = `C libbpf ring_buffer__${mode === "poll" ? "poll" : "consume (busy)"}${wakeupBytes ? ", bpfbook's wakeup threshold" : ""}`;
  return { bench: "e2e getppid", who, events: res.received, lost: res.lost, seconds: res.seconds, eventsPerSec: res.events_per_sec, note: "first → last event" };
}

async function bpftraceE2E(): Promise<Row> {
  const w = gated(["getppid", String(E2E_N)]);
  const bt = spawn("bpftrace", ["-e", `tracepoint:syscalls:sys_enter_getppid /pid == ${w.child.pid}/ { printf("%d %d %s\\n", pid, tid, comm); }`], { stdio: ["ignore", "pipe", "pipe"] });
  let count = 0, lost = 0, first = 0, last = 0;
  const out = createInterface({ input: bt.stdout! });
  const attached = new Promise<void>((resolve) => out.on("line", (l) => {
    if (l.startsWith("Attaching")) return resolve();
    const m = /Lost (\d+) events/.exec(l);
    if (m) { lost += Number(m[1]); return; }
    const now = performance.now();
    if (!first) first = now;
    last = now;
    count++;
  }));
  createInterface({ input: bt.stderr! }).on("line", (l) => { const m = /Lost (\d+) events/.exec(l); if (m) lost += Number(m[1]); });
  await attached;
  await w.go();
  for (let prev = -1; prev !== count || count === 0; ) { prev = count; await new Promise((r) => setTimeout(r, 500)); if (count + lost >= E2E_N) break; }
  bt.kill("SIGINT");
  await new Promise((r) => bt.once("exit", r));
  const seconds = (last - first) / 1e3;
  return { bench: "e2e getppid", who: "bpftrace printf", events: count, lost, seconds, eventsPerSec: count / seconds, note: "first → last line" };
}

function burstObject(n: number, bytes: number) {
  const obj = BpfObject.open(bpfObjectPath("burst"));
  obj.setConstant("cfg_count", n);
  obj.setConstant("cfg_event_size", HDR_SIZE);
  obj.map("events").setMaxEntries(bytes);
  obj.load();
  return obj;
}

async function bpfbookDrain(): Promise<Row[]> {
  const bytes = 256 << 20;
  const obj = burstObject(DRAIN_N, bytes);
  const reader = new RingBufferReader(obj.map("events").fd, bytes);
  try {
    const t0 = performance.now();
    obj.program("burst").testRun();
    const produced = (performance.now() - t0) / 1e3;
    const dec = new EventDecoder(reader, HDR_SIZE, [], 1 << 16);
    const t1 = performance.now();
    while (reader.drainSpan(dec) > 0);
    const t2 = performance.now();
    const cols = dec.take();
    const c = readCounters(obj.map("stats"));
    const table = toTraceTable(cols, { received: cols.ts.length, lost: c.lost, produced: c.produced, filtered: 0, truncated: 0, seconds: 0, startNs: 0, stopNs: 0, epochOffsetNs: 0, bufferBytes: bytes, stoppedBy: "stop", source: "burst" });
    const t3 = performance.now();
    const n = table.numRows();
    return [
      { bench: "drain 5M burst", who: "kernel burst producer (bpf_loop)", events: c.produced, lost: c.lost, seconds: produced, eventsPerSec: c.produced / produced },
      { bench: "drain 5M burst", who: "bpfbook → typed columns", events: n, lost: c.lost, seconds: (t2 - t1) / 1e3, eventsPerSec: n / ((t2 - t1) / 1e3), note: "ts, cpu, pid, tid, comm" },
      { bench: "drain 5M burst", who: "bpfbook → Arquero table", events: n, lost: c.lost, seconds: (t3 - t1) / 1e3, eventsPerSec: n / ((t3 - t1) / 1e3), note: "drain + right-size + table" },
    ];
  } finally {
    reader.close();
    obj.dispose();
  }
}

async function cDrain(): Promise<Row> {
  const c = spawn(CONSUMER, ["drain", "--events", String(DRAIN_N)], { stdio: ["ignore", "pipe", "inherit"] });
  const res = JSON.parse(String((await lines(c).next()).value)) as { events: number; lost: number; drain_seconds: number; events_per_sec: number };
  await new Promise((r) => c.once("exit", r));
  return { bench: "drain 5M burst", who: "C libbpf ring_buffer__consume", events: res.events, lost: res.lost, seconds: res.drain_seconds, eventsPerSec: res.events_per_sec, note: "trivial callback" };
}

async function memoryPerEvent(): Promise<number> {
  const n = 1_000_000;
  const bytes = 64 << 20;
  const obj = burstObject(n, bytes);
  const reader = new RingBufferReader(obj.map("events").fd, bytes);
  try {
    obj.program("burst").testRun();
    globalThis.gc?.();
    const m0 = process.memoryUsage();
    // The decoder's working arrays go out of scope; only the table is retained.
    const table = (() => {
      const dec = new EventDecoder(reader, HDR_SIZE, [], 1 << 16);
      while (reader.drainSpan(dec) > 0);
      return toTraceTable(dec.take(), { received: n, lost: 0, produced: n, filtered: 0, truncated: 0, seconds: 0, startNs: 0, stopNs: 0, epochOffsetNs: 0, bufferBytes: bytes, stoppedBy: "stop", source: "burst" });
    })();
    globalThis.gc?.();
    const m1 = process.memoryUsage();
    const per = (m1.heapUsed - m0.heapUsed + m1.arrayBuffers - m0.arrayBuffers) / table.numRows();
    return per;
  } finally {
    reader.close();
    obj.dispose();
  }
}

/** ns per getppid() call of a gated workload child, from go to exit. */
async function perCall(n: number): Promise<number> {
  const w = gated(["getppid", String(n)]);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = process.hrtime.bigint();
  await w.go();
  return Number(process.hrtime.bigint() - t0) / n;
}

interface OverheadRow { who: string; nsPerCall: number; addedNs: number }

/** Cost added to the traced workload: nothing, an empty program (the floor), bpftrace count, bpfbook count. */
async function overhead(): Promise<OverheadRow[]> {
  const N = Number(process.env.BENCH_OVERHEAD_CALLS ?? 3_000_000);
  const best = async (setup: () => Promise<() => Promise<void>>) => {
    let b = Infinity;
    for (let i = 0; i < ROUNDS; i++) {
      const teardown = await setup();
      try {
        b = Math.min(b, await perCall(N));
      } finally {
        await teardown();
      }
    }
    return b;
  };
  const none = await best(async () => async () => {});
  const floor = await best(async () => {
    const obj = BpfObject.open(bpfObjectPath("features"));
    for (const p of obj.programs.values()) if (p.name !== "f_tracepoint") p.setAutoload(false);
    obj.load();
    obj.program("f_tracepoint").attachTracepoint("syscalls", "sys_enter_getppid");
    return async () => obj.dispose();
  });
  const bt = await best(async () => {
    const p = spawn("bpftrace", ["-e", "tracepoint:syscalls:sys_enter_getppid { @[comm] = count(); }"], { stdio: ["ignore", "pipe", "ignore"] });
    await new Promise<void>((resolve) => createInterface({ input: p.stdout! }).on("line", (l) => l.startsWith("Attaching") && resolve()));
    await new Promise((r) => setTimeout(r, 300));
    return async () => {
      p.kill("SIGINT");
      await new Promise((r) => p.once("exit", r));
    };
  });
  const ours = await best(async () => {
    const run = tracepoint("syscalls:sys_enter_getppid").count({ by: ["comm"] }).start();
    return async () => {
      await run.stop();
    };
  });
  return [
    { who: "no tracing", nsPerCall: none, addedNs: 0 },
    { who: "empty BPF program (floor)", nsPerCall: floor, addedNs: floor - none },
    { who: "bpftrace @[comm] = count()", nsPerCall: bt, addedNs: bt - none },
    { who: "bpfbook count({ by: [\"comm\"] })", nsPerCall: ours, addedNs: ours - none },
  ];
}

interface KernelTimes { kernel_info_seconds: number; first_cell_seconds: number; roundtrip_median_ms: number; roundtrip_p90_ms: number }

async function kernelTimes(): Promise<KernelTimes> {
  const p = spawn("/usr/bin/python3", [join(ROOT, "bench", "kernel_bench.py")], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await lines(p).next();
  await new Promise((r) => p.once("exit", r));
  return JSON.parse(String(line.value)) as KernelTimes;
}

function best(rs: Row[]): Row {
  return rs.reduce((a, b) => (b.eventsPerSec > a.eventsPerSec ? b : a));
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const want = (name: string) => only.length === 0 || only.includes(name);
  if (want("e2e")) {
    for (const [who, fn] of [["bpfbook", bpfbookE2E], ["c-poll", () => cE2E("poll")], ["c-busy", () => cE2E("busy")], ["c-busy-threshold", () => cE2E("busy", 1 << 20)]] as const) {
      const rs: Row[] = [];
      for (let i = 0; i < ROUNDS; i++) rs.push(await fn());
      const b = best(rs);
      rows.push({ ...b, note: `${b.note ?? ""}; best of ${ROUNDS}`.replace(/^; /, "") });
      void who;
    }
    rows.push(await bpftraceE2E());
  }
  if (want("drain")) {
    const rs: Row[][] = [];
    for (let i = 0; i < ROUNDS; i++) rs.push(await bpfbookDrain());
    for (let k = 0; k < rs[0].length; k++) rows.push(best(rs.map((r) => r[k])));
    const cs: Row[] = [];
    for (let i = 0; i < ROUNDS; i++) cs.push(await cDrain());
    rows.push(best(cs));
  }
  const mem = want("memory") ? await memoryPerEvent() : NaN;
  const kernel = want("kernel") ? await kernelTimes() : null;
  const over = want("overhead") ? await overhead() : null;
  const xdpBench = want("xdp") ? await (await import("./xdp.js")).benchXdp() : null;
  const uprobeBench = want("uprobe") ? await (await import("./uprobe-profile.js")).benchUprobeProfile() : null;
  const kprobeBench = want("kprobe") ? await (await import("./kprobe.js")).benchKprobe() : null;
  const cost = want("cost") ? await benchCollectorCost() : null;
  const expressive = want("expressive") ? await (await import("./expressive.js")).benchExpressive() : null;

  const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0));
  const ratio = (bench: string, who: string, ref: string) => {
    const a = rows.find((r) => r.bench === bench && r.who.startsWith(who)), b = rows.find((r) => r.bench === bench && r.who.startsWith(ref));
    return a && b ? a.eventsPerSec / b.eventsPerSec : NaN;
  };
  console.log(`\nbpfbook benchmarks — kernel ${release()}, node ${process.version}, ${E2E_N} e2e events, ${DRAIN_N} drain events\n`);
  console.log(["bench", "who", "events", "lost", "seconds", "events/s", "note"].join(" | "));
  console.log("--- | --- | ---: | ---: | ---: | ---: | ---");
  for (const r of rows) console.log([r.bench, r.who, r.events, r.lost, r.seconds.toFixed(3), fmt(r.eventsPerSec) + "/s", r.note ?? ""].join(" | "));
  const ratios = {
    e2e_vs_c_poll: ratio("e2e getppid", "bpfbook", "C libbpf ring_buffer__poll"),
    e2e_vs_c_busy: ratio("e2e getppid", "bpfbook", "C libbpf ring_buffer__consume"),
    e2e_vs_bpftrace: ratio("e2e getppid", "bpfbook", "bpftrace"),
    drain_columns_vs_c: ratio("drain 5M burst", "bpfbook → typed", "C libbpf"),
  };
  console.log(`\nratios: ${Object.entries(ratios).map(([k, v]) => `${k} ${v.toFixed(2)}×`).join(", ")}`);
  if (!Number.isNaN(mem)) console.log(`memory per retained event (ts, cpu, pid, tid, comm): ${mem.toFixed(1)} bytes`);
  if (over) {
    console.log(`\noverhead on the traced workload (getppid() loop, best of ${ROUNDS}):`);
    console.log("who | ns per call | ns added");
    console.log("--- | ---: | ---:");
    for (const o of over) console.log(`${o.who} | ${o.nsPerCall.toFixed(0)} | ${o.addedNs.toFixed(0)}`);
  }
  if (kernel) console.log(`kernel: kernel_info answered ${kernel.kernel_info_seconds.toFixed(2)} s after launch; first cell ${kernel.first_cell_seconds.toFixed(2)} s; trivial cell round trip median ${kernel.roundtrip_median_ms.toFixed(1)} ms (p90 ${kernel.roundtrip_p90_ms.toFixed(1)} ms)`);
  if (cost) printCollectorCost(cost);
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  const out = join(ROOT, "bench", "results", only.length ? `partial-${only.join("-")}.json` : "latest.json");
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), kernel: release(), node: process.version, rows, ratios, memoryPerEventBytes: mem, notebookKernel: kernel, overhead: over, xdp: xdpBench, uprobeProfile: uprobeBench, kprobe: kprobeBench, collectorCost: cost, expressive }, null, 2));
  console.log(`wrote ${out}`);
}

await main();
