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
import { burstObject } from "./burst.js";
import { cOnBpfbookProgram, type CMode } from "./peers.js";

const ROOT = packageRoot();
const WORKLOAD = join(ROOT, "test", "fixtures", "build", "workload");
const CONSUMER = join(ROOT, "bench", "build", "consumer");
const E2E_N = Number(process.env.BENCH_E2E_EVENTS ?? 2_000_000);
const DRAIN_N = Number(process.env.BENCH_DRAIN_EVENTS ?? 5_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** e2e rounds: at least 5, since the rows swing with the load of other jobs. */
const E2E_ROUNDS = Number(process.env.BENCH_E2E_ROUNDS ?? Math.max(ROUNDS, 5));

interface Row { bench: string; who: string; events: number; lost: number; seconds: number; eventsPerSec: number; note?: string }
const rows: Row[] = [];
/** e2e: medians of the per-round ratios (each round runs every peer once). */
let e2ePaired: { e2e_vs_c_fair: number; e2e_vs_limit: number; limit_vs_untraced: number; rounds: number; perRound: Record<string, number[]> } | null = null;

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
  // It stops itself once N events are in, as the C consumer does: no polling loop of the bench's own beside the reader.
  const trace = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.child.pid! } }).start({ events: E2E_N });
  await w.go();
  // with events lost it could never receive N: stop once every produced event is accounted for
  const watch = setInterval(() => {
    const s = trace.stats();
    if (s.lost > 0 && trace.received + s.lost >= E2E_N) void trace.stop();
  }, 100);
  const t = await trace.finished().finally(() => clearInterval(watch));
  const done = Number(process.hrtime.bigint());
  const ts = t.array("ts") as number[];
  const seconds = (done - ts[0]) / 1e9;
  return { bench: "e2e getppid", who: "bpfbook → Arquero table", events: t.numRows(), lost: t.stats.lost, seconds, eventsPerSec: t.numRows() / seconds, note: "first event → finished table" };
}

/** The C consumer's names for its modes, as rows show them. */
const C_WHO = {
  hold: "C libbpf, bpfbook's program and wait policy (edge-triggered epoll, 20 ms hold, 1 MiB threshold)",
  pollThreshold: "C libbpf ring_buffer__poll, bpfbook's wakeup threshold",
  poll: "C libbpf ring_buffer__poll",
  busy: "C libbpf ring_buffer__consume (busy)",
  limit: "producer-bound limit: the traced workload, nothing consuming",
  untraced: "the workload alone, untraced",
} as const;

/**
 * The C consumer on bpfbook's own program (loaded by the library, see peers.ts):
 * hold and poll-threshold keep the library's default wakeup threshold (1 MiB of the
 * 16 MiB ring); plain poll and busy have none (wakeupBytes 0: the kernel's own rule
 * alone); limit has a 128 MiB ring, enough for every event, and nothing consuming.
 */
async function cE2E(mode: CMode, wakeup: "threshold" | "none"): Promise<Row> {
  const w = gated(["getppid", String(E2E_N)]);
  const probe = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.child.pid! }, ...(wakeup === "none" ? { wakeupBytes: 0 } : {}), ...(mode === "limit" ? { bufferBytes: 128 << 20 } : {}) });
  const res = await cOnBpfbookProgram(probe, mode, E2E_N, w.go);
  const who = mode === "hold" ? C_WHO.hold : mode === "limit" ? C_WHO.limit : mode === "busy" ? C_WHO.busy : wakeup === "threshold" ? C_WHO.pollThreshold : C_WHO.poll;
  return { bench: "e2e getppid", who, events: res.received, lost: res.lost, seconds: res.seconds, eventsPerSec: res.events_per_sec, note: mode === "limit" ? "first → last event's timestamp" : "first event's timestamp → last drained" };
}

/** The workload alone: go → exit, no program attached. */
async function untracedE2E(): Promise<Row> {
  const ns = await perCall(E2E_N);
  return { bench: "e2e getppid", who: C_WHO.untraced, events: E2E_N, lost: 0, seconds: (ns * E2E_N) / 1e9, eventsPerSec: 1e9 / ns, note: "go → exit" };
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

/** columns: the callback keeps what bpfbook's decoder keeps, in fresh memory (the fair peer); else it only counts. */
async function cDrain(columns: boolean): Promise<Row> {
  const c = spawn(CONSUMER, ["drain", "--events", String(DRAIN_N), ...(columns ? ["--columns"] : [])], { stdio: ["ignore", "pipe", "inherit"] });
  const res = JSON.parse(String((await lines(c).next()).value)) as { events: number; lost: number; drain_seconds: number; events_per_sec: number };
  await new Promise((r) => c.once("exit", r));
  return columns
    ? { bench: "drain 5M burst", who: "C libbpf ring_buffer__consume → columns", events: res.events, lost: res.lost, seconds: res.drain_seconds, eventsPerSec: res.events_per_sec, note: "ts, cpu, pid, tid, comm code into fresh columns" }
    : { bench: "drain 5M burst", who: "C libbpf ring_buffer__consume", events: res.events, lost: res.lost, seconds: res.drain_seconds, eventsPerSec: res.events_per_sec, note: "trivial callback" };
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

/**
 * Cost added to the traced workload: nothing, an empty program (the floor), bpftrace
 * count, bpfbook count by comm (the same aggregation), with no key and by pid. The
 * setups take turns round by round (ABCD ABCD ...), so a busy spell of the machine
 * hits them all alike; each keeps its best round.
 */
async function overhead(): Promise<OverheadRow[]> {
  const N = Number(process.env.BENCH_OVERHEAD_CALLS ?? 3_000_000);
  const bpfbook = (by?: ("comm" | "pid")[]) => async () => {
    const run = tracepoint("syscalls:sys_enter_getppid").count(by ? { by } : {}).start();
    return async () => {
      await run.stop();
    };
  };
  const setups: [string, () => Promise<() => Promise<void>>][] = [
    ["no tracing", async () => async () => {}],
    ["empty BPF program (floor)", async () => {
      const obj = BpfObject.open(bpfObjectPath("features"));
      for (const p of obj.programs.values()) if (p.name !== "f_tracepoint") p.setAutoload(false);
      obj.load();
      obj.program("f_tracepoint").attachTracepoint("syscalls", "sys_enter_getppid");
      return async () => obj.dispose();
    }],
    ["bpftrace @[comm] = count()", async () => {
      const p = spawn("bpftrace", ["-e", "tracepoint:syscalls:sys_enter_getppid { @[comm] = count(); }"], { stdio: ["ignore", "pipe", "ignore"] });
      await new Promise<void>((resolve) => createInterface({ input: p.stdout! }).on("line", (l) => l.startsWith("Attaching") && resolve()));
      await new Promise((r) => setTimeout(r, 300));
      return async () => {
        p.kill("SIGINT");
        await new Promise((r) => p.once("exit", r));
      };
    }],
    ["bpfbook count({ by: [\"comm\"] })", bpfbook(["comm"])],
    ["bpfbook count()", bpfbook()],
    ["bpfbook count({ by: [\"pid\"] })", bpfbook(["pid"])],
  ];
  const best = setups.map(() => Infinity);
  for (let i = 0; i < ROUNDS; i++) {
    for (const [k, [, setup]] of setups.entries()) {
      const teardown = await setup();
      try {
        best[k] = Math.min(best[k], await perCall(N));
      } finally {
        await teardown();
      }
    }
  }
  return setups.map(([who], k) => ({ who, nsPerCall: best[k], addedNs: best[k] - best[0] }));
}

interface KernelTimes { kernel_info_seconds: number; first_cell_seconds: number; roundtrip_median_ms: number; roundtrip_p90_ms: number }

async function kernelTimes(): Promise<KernelTimes> {
  const p = spawn("/usr/bin/python3", [join(ROOT, "bench", "kernel_bench.py")], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await lines(p).next();
  await new Promise((r) => p.once("exit", r));
  return JSON.parse(String(line.value)) as KernelTimes;
}

function fmtRate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} k` : n.toFixed(0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function best(rs: Row[]): Row {
  return rs.reduce((a, b) => (b.eventsPerSec > a.eventsPerSec ? b : a));
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const want = (name: string) => only.length === 0 || only.includes(name);
  if (want("e2e")) {
    // Rounds interleave every peer (A B C … A B C …), so load from other jobs falls on all of them alike.
    const peers: [string, () => Promise<Row>][] = [
      ["bpfbook", bpfbookE2E],
      ["c-hold", () => cE2E("hold", "threshold")],
      ["c-poll-threshold", () => cE2E("poll", "threshold")],
      ["c-poll", () => cE2E("poll", "none")],
      ["c-busy", () => cE2E("busy", "none")],
      ["limit", () => cE2E("limit", "none")],
      ["untraced", untracedE2E],
    ];
    // BENCH_E2E_PEERS=bpfbook,c-hold,limit: more rounds of the rows that matter, in less time
    const pick = process.env.BENCH_E2E_PEERS?.split(",").filter(Boolean);
    if (pick) {
      const unknown = pick.filter((k) => !peers.some(([p]) => p === k));
      if (unknown.length) throw new Error(`BENCH_E2E_PEERS: no peer ${unknown.join(", ")}; the peers are ${peers.map(([p]) => p).join(", ")}`);
      peers.splice(0, peers.length, ...peers.filter(([k]) => pick.includes(k)));
    }
    const got = new Map<string, Row[]>(peers.map(([k]) => [k, []]));
    for (let i = 0; i < E2E_ROUNDS; i++) for (const [k, fn] of peers) got.get(k)!.push(await fn());
    for (const [k] of peers) {
      const rs = got.get(k)!;
      const b = best(rs);
      const rates = rs.map((r) => r.eventsPerSec).sort((x, y) => x - y);
      rows.push({ ...b, note: `${b.note ?? ""}; best of ${E2E_ROUNDS} (range ${fmtRate(rates[0])}–${fmtRate(rates[rates.length - 1])})`.replace(/^; /, "") });
    }
    // Load from other jobs moves whole rounds: the ratio within each round, then its median, is steadier than a ratio of bests.
    const paired = (a: string, b: string) => (got.get(a)?.length && got.get(b)?.length ? median(got.get(a)!.map((r, i) => r.eventsPerSec / got.get(b)![i]!.eventsPerSec)) : NaN);
    const perRound = Object.fromEntries(peers.map(([k]) => [k, got.get(k)!.map((r) => Math.round(r.eventsPerSec))]));
    e2ePaired = { e2e_vs_c_fair: paired("bpfbook", "c-hold"), e2e_vs_limit: paired("bpfbook", "limit"), limit_vs_untraced: paired("limit", "untraced"), rounds: E2E_ROUNDS, perRound };
    if (!pick || pick.includes("bpftrace")) rows.push(await bpftraceE2E());
  }
  if (want("drain")) {
    const rs: Row[][] = [];
    for (let i = 0; i < ROUNDS; i++) rs.push(await bpfbookDrain());
    for (let k = 0; k < rs[0].length; k++) rows.push(best(rs.map((r) => r[k])));
    const cs: Row[] = [], cc: Row[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      cc.push(await cDrain(true));
      cs.push(await cDrain(false));
    }
    rows.push(best(cc), best(cs));
  }
  const mem = want("memory") ? (await (await import("./memory.js")).benchMemory()).standard.measured : NaN;
  const kernel = want("kernel") ? await kernelTimes() : null;
  const over = want("overhead") ? await overhead() : null;
  const xdpBench = want("xdp") ? await (await import("./xdp.js")).benchXdp() : null;
  const uprobeBench = want("uprobe") ? await (await import("./uprobe-profile.js")).benchUprobeProfile() : null;
  const kprobeBench = want("kprobe") ? await (await import("./kprobe.js")).benchKprobe() : null;
  const cost = want("cost") ? await benchCollectorCost() : null;
  const expressive = want("expressive") ? await (await import("./expressive.js")).benchExpressive() : null;
  // before the scale suite, whose grown heap would lengthen every GC pause measured here
  const stallMod = want("stall") ? await import("./stall.js") : null;
  const stall = stallMod ? await stallMod.benchStall() : null;
  if (stallMod && stall) stallMod.printStall(stall);
  // last: the scale suite leaves a heap grown to gigabytes, which the memory suite must not measure beside
  const strings = want("strings") ? await (await import("./strings.js")).benchStrings() : null;
  if (strings) rows.push(...strings.rows);
  const scale = want("scale") ? await (await import("./scale.js")).benchScale() : null;
  // each case in a child process of its own, so the heaps grown above do not count in its peak RSS
  const spillBench = want("spill") ? await (await import("./spill.js")).benchSpill() : null;

  const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0));
  const ratio = (bench: string, who: string, ref: string) => {
    const find = (w: string) => rows.find((r) => r.bench === bench && r.who === w) ?? rows.find((r) => r.bench === bench && r.who.startsWith(w));
    const a = find(who), b = find(ref);
    return a && b ? a.eventsPerSec / b.eventsPerSec : NaN;
  };
  console.log(`\nbpfbook benchmarks — kernel ${release()}, node ${process.version}, ${E2E_N} e2e events, ${DRAIN_N} drain events\n`);
  console.log(["bench", "who", "events", "lost", "seconds", "events/s", "note"].join(" | "));
  console.log("--- | --- | ---: | ---: | ---: | ---: | ---");
  for (const r of rows) console.log([r.bench, r.who, r.events, r.lost, r.seconds.toFixed(3), fmt(r.eventsPerSec) + "/s", r.note ?? ""].join(" | "));
  const ratios = {
    e2e_vs_c_fair: ratio("e2e getppid", "bpfbook", C_WHO.hold),
    e2e_vs_limit: ratio("e2e getppid", "bpfbook", C_WHO.limit),
    limit_vs_untraced: ratio("e2e getppid", C_WHO.limit, C_WHO.untraced),
    e2e_vs_c_poll_threshold: ratio("e2e getppid", "bpfbook", C_WHO.pollThreshold),
    e2e_vs_c_poll: ratio("e2e getppid", "bpfbook", C_WHO.poll),
    e2e_vs_c_busy: ratio("e2e getppid", "bpfbook", C_WHO.busy),
    e2e_vs_bpftrace: ratio("e2e getppid", "bpfbook", "bpftrace"),
    drain_columns_vs_c: ratio("drain 5M burst", "bpfbook → typed", "C libbpf ring_buffer__consume → columns"),
    drain_table_vs_c: ratio("drain 5M burst", "bpfbook → Arquero", "C libbpf ring_buffer__consume → columns"),
    drain_columns_vs_c_trivial: ratio("drain 5M burst", "bpfbook → typed", "C libbpf ring_buffer__consume"),
    strings_vs_c: ratio("strings openat", "bpfbook", "C libbpf"),
  };
  console.log(`\nratios: ${Object.entries(ratios).filter(([, v]) => !Number.isNaN(v)).map(([k, v]) => `${k} ${v.toFixed(2)}×`).join(", ")}`);
  if (e2ePaired) {
    console.log(`e2e, median of the ${e2ePaired.rounds} per-round ratios: e2e_vs_c_fair ${e2ePaired.e2e_vs_c_fair.toFixed(2)}×, e2e_vs_limit ${e2ePaired.e2e_vs_limit.toFixed(2)}×, limit_vs_untraced ${e2ePaired.limit_vs_untraced.toFixed(2)}×`);
    console.log(`e2e, events/s per round: ${Object.entries(e2ePaired.perRound).map(([k, v]) => `${k} ${v.map((x) => fmtRate(x)).join(" ")}`).join("; ")}`);
  }
  if (!Number.isNaN(mem)) console.log(`memory per retained event (ts, cpu, pid, tid, comm): ${mem.toFixed(1)} bytes`);
  if (over) {
    console.log(`\noverhead on the traced workload (getppid() loop, best of ${ROUNDS}):`);
    console.log("who | ns per call | ns added");
    console.log("--- | ---: | ---:");
    for (const o of over) console.log(`${o.who} | ${o.nsPerCall.toFixed(0)} | ${o.addedNs.toFixed(0)}`);
  }
  if (kernel) console.log(`kernel: kernel_info answered ${kernel.kernel_info_seconds.toFixed(2)} s after launch; first cell ${kernel.first_cell_seconds.toFixed(2)} s; trivial cell round trip median ${kernel.roundtrip_median_ms.toFixed(1)} ms (p90 ${kernel.roundtrip_p90_ms.toFixed(1)} ms)`);
  if (cost) printCollectorCost(cost);
  if (strings) (await import("./strings.js")).printStrings(strings);
  if (scale) (await import("./scale.js")).printScale(scale);
  if (spillBench) (await import("./spill.js")).printSpill(spillBench);
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  const out = join(ROOT, "bench", "results", only.length ? `partial-${only.join("-")}.json` : "latest.json");
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), kernel: release(), node: process.version, rows, ratios, e2ePairedRatios: e2ePaired, memoryPerEventBytes: mem, notebookKernel: kernel, overhead: over, xdp: xdpBench, uprobeProfile: uprobeBench, kprobe: kprobeBench, collectorCost: cost, expressive, strings, scale, stall, spill: spillBench }, null, 2));
  console.log(`wrote ${out}`);
}

await main();
