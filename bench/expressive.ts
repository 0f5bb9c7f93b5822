/* The cost of expressiveness, per traced call, bpfbook beside bpftrace in one run:
 *  (a) state across probes: openat entry → exit with the filename carried, as a kernel
 *      pair() stream, as two plain streams joined by tid in JavaScript, and as bpftrace's
 *      `@f[tid]` map + printf;
 *  (b) reads through kernel pointers: a getppid() count keyed by pid (no read), by
 *      ppid (current → real_parent → tgid) and by a 3-read path (→ real_parent → tgid);
 *  (c) stack capture: the same count keyed by kstack.
 *
 * Times are the workload's own CPU time (user + system, from bash's `times`: the BPF
 * program and the ring buffer wakeups it triggers run in its syscalls), best of ROUNDS
 * runs interleaved across configurations, so other load on the shared machine hits all
 * of them alike and only ever adds time; wall time is kept too. Every tracer filters on
 * the workload's pid, and each run's result is checked against what the workload did.
 *
 *   node --expose-gc dist/bench/run.js expressive   (part of `npm run bench`)
 *   node dist/bench/expressive.js                   (alone; writes bench/results/expressive.json)
 *   BENCH_EXPR_OPENS, BENCH_EXPR_CALLS, BENCH_EXPR_ROUNDS change the sizes; BENCH_EXPR_ONLY=pair|getppid runs one half. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import * as aq from "arquero";
import { anyTracepoint, pair, tracepoint, type Aggregation } from "../bpf-lib/src/index.js";
import { packageRoot } from "../bpf-lib/src/paths.js";

const ROOT = packageRoot();
const WORKLOAD = join(ROOT, "test", "fixtures", "build", "workload");
const OPENS = Number(process.env.BENCH_EXPR_OPENS ?? 200_000);
const CALLS = Number(process.env.BENCH_EXPR_CALLS ?? 750_000);
const ROUNDS = Number(process.env.BENCH_EXPR_ROUNDS ?? 3);
const OPEN_PATH = "/tmp/bpfbook-bench-expressive";
const CLK_TCK = 100; // /proc/PID/stat times are in USER_HZ ticks, 100 on Linux

/** What a tracer reports for one run, checked against the workload. */
interface Outcome {
  /** Rows or counted calls the tracer delivered for the workload. */
  counted: number;
  lost: number;
  /** Streams: CPU time of the tracing process (bpfbook: this process; bpftrace: its process), workload start → result ready. */
  tracerCpuNs?: number;
  /** JavaScript join of two streams: CPU time of the join itself (included in tracerCpuNs). */
  joinCpuNs?: number;
  /** Anything wrong with the result (a wrong key, a missing row). */
  problem?: string;
}

type Teardown = () => Promise<Outcome | null>;
interface Config { case: "pair" | "path" | "stack"; who: string; setup: (pid: number, parent: number) => Promise<Teardown> }

export interface ExpressiveRow {
  case: "pair" | "path" | "stack";
  who: string;
  calls: number;
  /** Best round: workload CPU ns per call, and what it adds over the untraced run. */
  cpuNsPerCall: number;
  addedNs: number;
  /** Every round's CPU ns per call, for the spread. */
  rounds: number[];
  /** Wall ns per call of the best-CPU round (noisy on a shared machine). */
  wallNsPerCall: number;
  counted: number;
  lost: number;
  /** Tracer CPU per call (ns), of the best round. */
  tracerCpuNsPerCall?: number;
  joinCpuNsPerCall?: number;
  problem?: string;
}

export interface ExpressiveBench { kernel: string; opens: number; calls: number; rounds: number; load: number[]; rows: ExpressiveRow[] }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpuNow = () => { const c = process.cpuUsage(); return (c.user + c.system) * 1e3; };

/** A process's CPU time (user + system) in ns, from /proc/PID/stat (10 ms resolution). */
function procCpuNs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) / CLK_TCK) * 1e9; // utime, stime: fields 14, 15
}

/**
 * One gated workload run under bash (`times` gives the child's CPU time). bash forks the
 * workload, which blocks on its stdin gate; the tracer is set up for that pid (and bash's,
 * its parent), then the gate opens.
 */
async function timedRun(args: string[], setup: Config["setup"]): Promise<{ cpuNs: number; wallNs: number; outcome: Outcome | null }> {
  const bash = spawn("bash", ["-c", '"$0" "$@"; times', WORKLOAD, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  bash.stdin!.on("error", () => {});
  let out = "";
  bash.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => bash.once("exit", () => r()));
  let pid = 0;
  for (let i = 0; i < 400 && !pid; i++) {
    await sleep(5);
    const kids = readFileSync(`/proc/${bash.pid}/task/${bash.pid}/children`, "utf8").trim();
    if (kids) pid = Number(kids.split(" ")[0]);
  }
  if (!pid) throw new Error("the workload did not start under bash");
  let teardown: Teardown | null = null;
  try {
    teardown = await setup(pid, bash.pid!);
    const t0 = process.hrtime.bigint();
    bash.stdin!.end("g");
    await exited;
    const wallNs = Number(process.hrtime.bigint() - t0);
    const outcome = await teardown();
    teardown = null;
    const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/m.exec(out.trim().split("\n")[1] ?? "");
    if (!m) throw new Error(`cannot read the workload's CPU time from: ${out}`);
    const cpuNs = (Number(m[3]) * 60 + Number(m[4]) + (Number(m[1]) * 60 + Number(m[2]))) * 1e9;
    return { cpuNs, wallNs, outcome };
  } finally {
    if (teardown) await teardown().catch(() => null);
    bash.kill();
  }
}

/** bpftrace running a script: waits until attached; the script's output lines go to onLine. */
async function bpftrace(script: string, onLine: (l: string) => void = () => {}): Promise<{ child: ChildProcess; lost(): number; stop(): Promise<string> }> {
  const child = spawn("bpftrace", ["-e", script], { stdio: ["ignore", "pipe", "pipe"] });
  let lost = 0, err = "", tail = "", stopping = false;
  const noteLost = (l: string) => { const m = /Lost (\d+) events/.exec(l); if (m) lost += Number(m[1]); return m !== null; };
  let probes = 0;
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (l) => {
      const a = /^Attaching (\d+) probe/.exec(l);
      if (a) return (probes = Number(a[1])), resolve();
      if (noteLost(l)) return;
      if (stopping) tail += l + "\n";
      else onLine(l);
    });
    createInterface({ input: child.stderr! }).on("line", (l) => { if (!noteLost(l)) err += l + "\n"; });
    child.once("exit", (code) => reject(new Error(`bpftrace exited with ${code} before attaching: ${err}`)));
  });
  // "Attaching N probes..." prints before the probes are live, and under load the last one
  // can take a while: wait for a perf_event fd per probe, past the output buffer's one per CPU.
  const want = probes + cpus().length;
  for (let i = 0; i < 1000 && perfEventFds(child.pid!) < want; i++) await sleep(10);
  await sleep(50);
  return {
    child,
    lost: () => lost,
    async stop() {
      stopping = true;
      let gone = false;
      const exited = new Promise<void>((r) => child.once("exit", () => r((gone = true, undefined))));
      // bpftrace 0.17 can miss a SIGINT (seen once in ~100 stops here: it slept in
      // epoll_wait until a second one): repeat it, then give up on its maps.
      for (let i = 0; i < 5 && !gone; i++) {
        child.kill("SIGINT");
        await Promise.race([exited, sleep(2000)]);
      }
      if (!gone) child.kill("SIGKILL");
      await exited;
      return tail;
    },
  };
}

function perfEventFds(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === "anon_inode:[perf_event]") n++;
    } catch { /* closed meanwhile */ }
  }
  return n;
}

/** Sum of the counts bpftrace printed for its maps at exit, per key line ("@[123]: 456", "]: 456" after a stack). */
function bpftraceCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  let key = "";
  for (const l of text.split("\n")) {
    const m = /^(@\[?.*?\]?|\]): (\d+)$/.exec(l);
    if (m) counts.set(m[1] === "]" ? key : m[1]!, (counts.get(m[1] === "]" ? key : m[1]!) ?? 0) + Number(m[2]));
    else if (l.startsWith("@[")) key = l;
    else if (key.startsWith("@[") && l.trim()) key += ";" + l.trim();
  }
  return counts;
}

// (a) state across probes ----------------------------------------------------------

const enterOpen = (pid: number) => tracepoint("syscalls:sys_enter_openat", { fields: ["filename"], where: { pid } });
const exitOpen = (pid: number) => tracepoint("syscalls:sys_exit_openat", { fields: ["ret"], where: { pid } });

function checkOpens(filenames: ArrayLike<unknown>, rets: ArrayLike<unknown>): string | undefined {
  for (let i = 0; i < filenames.length; i++) {
    if (filenames[i] !== OPEN_PATH) return `row ${i}: filename ${String(filenames[i])}`;
    if (Number(rets[i]) < 0) return `row ${i}: ret ${String(rets[i])}`;
  }
  return undefined;
}

/** A numeric column without a copy: TraceTable keeps numbers as typed arrays (Arquero's array() copies row by row). */
function numbers(t: aq.ColumnTable, name: string): ArrayLike<number> {
  const c: unknown = t.column(name);
  return c instanceof Float64Array || c instanceof Int32Array || c instanceof Uint32Array || c instanceof Int16Array || c instanceof Uint16Array ? c : Float64Array.from(t.array(name) as ArrayLike<number>, Number);
}

/**
 * Joins entry and exit streams as a user would without pair(): each exit matched with
 * the latest unmatched entry of its thread, in time order. Returns the joined table.
 */
export function joinByTid(enter: aq.ColumnTable, exit: aq.ColumnTable): aq.ColumnTable {
  const eTs = numbers(enter, "ts"), eTid = numbers(enter, "tid"), eFile = enter.column("filename") as unknown as { at(i: number): string };
  const xTs = numbers(exit, "ts"), xTid = numbers(exit, "tid"), xRet = numbers(exit, "ret");
  const order = (ts: ArrayLike<number>) => {
    const idx = Uint32Array.from({ length: ts.length }, (_, i) => i);
    for (let i = 1; i < ts.length; i++) if (ts[i]! < ts[i - 1]!) return idx.sort((a, b) => ts[a]! - ts[b]!);
    return idx; // already in time order (one thread, or one CPU): skip the sort
  };
  const eo = order(eTs), xo = order(xTs);
  const pending = new Map<number, number>();
  const n = xo.length;
  const ts = new Float64Array(n), tid = new Int32Array(n), ret = new Float64Array(n), latency = new Float64Array(n), filename: string[] = [];
  let i = 0, k = 0;
  for (let j = 0; j < n; j++) {
    const x = xo[j]!;
    for (; i < eo.length && eTs[eo[i]!]! <= xTs[x]!; i++) pending.set(eTid[eo[i]!]!, eo[i]!);
    const e = pending.get(xTid[x]!);
    if (e === undefined) continue;
    pending.delete(xTid[x]!);
    ts[k] = xTs[x]!; tid[k] = xTid[x]!; ret[k] = xRet[x]!; latency[k] = xTs[x]! - eTs[e]!; filename.push(eFile.at(e));
    k++;
  }
  return aq.table({ ts: ts.subarray(0, k), tid: tid.subarray(0, k), filename, ret: ret.subarray(0, k), latency: latency.subarray(0, k) });
}

function pairConfigs(): Config[] {
  const bpftraceScript = (pid: number) =>
    `tracepoint:syscalls:sys_enter_openat /pid == ${pid}/ { @f[tid] = args->filename; }
     tracepoint:syscalls:sys_exit_openat /@f[tid]/ { printf("%s %d\\n", str(@f[tid]), args->ret); delete(@f[tid]); }`;
  return [
    { case: "pair", who: "no tracing", setup: async () => async () => null },
    {
      case: "pair", who: "bpfbook pair(enter{filename}, exit{ret}) stream",
      setup: async (pid) => {
        const trace = pair(enterOpen(pid), exitOpen(pid)).start();
        const c0 = cpuNow();
        return async () => {
          const t = await trace.table();
          const cpu = cpuNow() - c0; // not the check below
          const problem = checkOpens(t.array("filename") as ArrayLike<unknown>, t.array("ret") as ArrayLike<unknown>);
          return { counted: t.numRows(), lost: t.stats.lost, tracerCpuNs: cpu, ...(problem ? { problem } : {}) };
        };
      },
    },
    {
      case: "pair", who: "bpfbook two streams + JS join by tid",
      setup: async (pid) => {
        const enter = enterOpen(pid).start(), exit = exitOpen(pid).start();
        const c0 = cpuNow();
        return async () => {
          const [e, x] = [await enter.table(), await exit.table()];
          const j0 = cpuNow();
          const joined = joinByTid(e, x);
          const c1 = cpuNow();
          const problem = checkOpens(joined.array("filename") as ArrayLike<unknown>, joined.array("ret") as ArrayLike<unknown>);
          return { counted: joined.numRows(), lost: e.stats.lost + x.stats.lost, tracerCpuNs: c1 - c0, joinCpuNs: c1 - j0, ...(problem ? { problem } : {}) };
        };
      },
    },
    {
      case: "pair", who: "bpftrace @f[tid] + printf",
      setup: async (pid) => {
        let rows = 0, bad = "";
        const bt = await bpftrace(bpftraceScript(pid), (l) => { rows++; if (!bad && !l.startsWith(OPEN_PATH + " ")) bad = l; });
        const c0 = procCpuNs(bt.child.pid!);
        return async () => {
          // bpftrace prints as it reads: wait until it has printed everything (or stalls)
          for (let prev = -1; rows + bt.lost() < OPENS && prev !== rows; ) { prev = rows; await sleep(300); }
          const cpu = procCpuNs(bt.child.pid!) - c0;
          await bt.stop();
          return { counted: rows, lost: bt.lost(), tracerCpuNs: cpu, ...(bad ? { problem: `line: ${bad}` } : {}) };
        };
      },
    },
  ];
}

// (b) kernel paths and (c) stacks: a getppid() count -----------------------------------

/** A bpfbook count whose keys must all be `expect` (a number), or any key for stacks; total must be CALLS. */
function bpfbookCount(make: (pid: number) => Aggregation, key: string, expect: (pid: number, parent: number) => number | null): Config["setup"] {
  return async (pid, parent) => {
    const run = make(pid).start();
    return async () => {
      await run.stop();
      const t = run.result()!;
      const counts = t.array("count") as ArrayLike<number>, keys = t.array(key) as ArrayLike<unknown>;
      let counted = 0, problem: string | undefined;
      const want = expect(pid, parent);
      for (let i = 0; i < t.numRows(); i++) {
        counted += Number(counts[i]);
        if (want !== null && Number(keys[i]) !== want) problem ??= `${key} ${String(keys[i])}, expected ${want}`;
      }
      return { counted, lost: 0, ...(problem ? { problem } : {}) };
    };
  };
}

function bpftraceCount(key: string, expect: (pid: number, parent: number) => number | null): Config["setup"] {
  return async (pid, parent) => {
    const bt = await bpftrace(`tracepoint:syscalls:sys_enter_getppid /pid == ${pid}/ { @[${key}] = count(); }`);
    return async () => {
      const text = await bt.stop();
      const counts = bpftraceCounts(text);
      const want = expect(pid, parent);
      let counted = 0, problem: string | undefined;
      for (const [k, n] of counts) {
        counted += n;
        if (want !== null && k !== `@[${want}]`) problem ??= `key ${k}, expected @[${want}]`;
      }
      if (counted !== CALLS) problem ??= `bpftrace printed: ${text.replace(/\s+/g, " ").slice(0, 400)}`;
      return { counted, lost: bt.lost(), ...(problem ? { problem } : {}) };
    };
  };
}

function getppidConfigs(): Config[] {
  const getppid = "syscalls:sys_enter_getppid" as const;
  // The workload's parent is bash, whose parent is this process: known answers for both paths.
  const self = (pid: number) => pid, parent = (_: number, p: number) => p, grandparent = () => process.pid;
  return [
    { case: "path", who: "no tracing", setup: async () => async () => null },
    { case: "path", who: "bpfbook count by pid (no read)", setup: bpfbookCount((pid) => tracepoint(getppid, { where: { pid } }).count({ by: ["pid"] }), "pid", self) },
    { case: "path", who: "bpftrace @[pid] = count()", setup: bpftraceCount("pid", self) },
    { case: "path", who: "bpfbook count by ppid (columns, 2 reads)", setup: bpfbookCount((pid) => tracepoint(getppid, { columns: ["ppid"], where: { pid } }).count({ by: ["ppid"] }), "ppid", parent) },
    { case: "path", who: "bpftrace @[curtask->real_parent->tgid]", setup: bpftraceCount("curtask->real_parent->tgid", parent) },
    // anyTracepoint: the typed keys of tracepoint() do not include `read` names yet
    { case: "path", who: "bpfbook count by current.real_parent.real_parent.tgid (3 reads)", setup: bpfbookCount((pid) => anyTracepoint(getppid, { read: { gpp: "current.real_parent.real_parent.tgid" }, where: { pid } }).count({ by: ["gpp"] }), "gpp", grandparent) },
    { case: "path", who: "bpftrace @[curtask->real_parent->real_parent->tgid]", setup: bpftraceCount("curtask->real_parent->real_parent->tgid", grandparent) },
    { case: "stack", who: "bpfbook count by kstack", setup: bpfbookCount((pid) => tracepoint(getppid, { where: { pid } }).count({ by: ["kstack"] }), "kstack", () => null) },
    { case: "stack", who: "bpftrace @[kstack] = count()", setup: bpftraceCount("kstack", () => null) },
  ];
}

/** Every configuration once per round, interleaved; each keeps its best (least disturbed) round. */
async function interleaved(args: string[], calls: number, configs: Config[]): Promise<ExpressiveRow[]> {
  const runs = configs.map(() => [] as { cpuNs: number; wallNs: number; outcome: Outcome | null }[]);
  await timedRun(args, async () => async () => null); // warm-up: page cache, CPU frequency
  for (let r = 0; r < ROUNDS; r++) for (const [i, c] of configs.entries()) runs[i]!.push(await timedRun(args, c.setup));
  const rows = configs.map((c, i): ExpressiveRow => {
    const rs = runs[i]!;
    const b = rs.reduce((a, x) => (x.cpuNs < a.cpuNs ? x : a));
    const o = b.outcome;
    const problems = rs.map((x) => x.outcome?.problem ?? (x.outcome && x.outcome.counted + x.outcome.lost < calls ? `${x.outcome.counted} counted + ${x.outcome.lost} lost of ${calls}` : "")).filter(Boolean);
    return {
      case: c.case, who: c.who, calls, cpuNsPerCall: b.cpuNs / calls, addedNs: 0, rounds: rs.map((x) => x.cpuNs / calls), wallNsPerCall: b.wallNs / calls,
      counted: o?.counted ?? calls, lost: o?.lost ?? 0,
      ...(o?.tracerCpuNs !== undefined ? { tracerCpuNsPerCall: o.tracerCpuNs / calls } : {}),
      ...(o?.joinCpuNs !== undefined ? { joinCpuNsPerCall: o.joinCpuNs / calls } : {}),
      ...(problems.length ? { problem: problems.join("; ") } : {}),
    };
  });
  for (const row of rows) row.addedNs = row.cpuNsPerCall - rows[0]!.cpuNsPerCall;
  return rows;
}

export async function benchExpressive(): Promise<ExpressiveBench> {
  const load0 = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
  const only = process.env.BENCH_EXPR_ONLY; // "pair" or "getppid": one half
  const rows = [
    ...(only === "getppid" ? [] : await interleaved(["openat", OPEN_PATH, String(OPENS)], OPENS, pairConfigs())),
    ...(only === "pair" ? [] : await interleaved(["getppid", String(CALLS)], CALLS, getppidConfigs())),
  ];
  const result: ExpressiveBench = { kernel: release(), opens: OPENS, calls: CALLS, rounds: ROUNDS, load: load0, rows };
  printExpressive(result);
  return result;
}

export function printExpressive(b: ExpressiveBench): void {
  const f = (n: number | undefined, d = 0) => (n === undefined || !Number.isFinite(n) ? "" : n.toFixed(d));
  console.log(`\nexpressiveness: workload CPU ns per call, best of ${b.rounds} interleaved (load average at start ${b.load.join(" ")}); (a) ${b.opens} openat+close, (b)/(c) ${b.calls} getppid`);
  console.log("case | who | CPU ns/call | added | rounds | wall ns/call | counted | lost | tracer CPU ns/call | of which JS join | problem");
  console.log("--- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---");
  for (const r of b.rows) {
    console.log([r.case, r.who, f(r.cpuNsPerCall), r.who === "no tracing" ? "" : f(r.addedNs), r.rounds.map((x) => f(x)).join("/"), f(r.wallNsPerCall), r.counted, r.lost, f(r.tracerCpuNsPerCall), f(r.joinCpuNsPerCall), r.problem ?? ""].join(" | "));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const b = await benchExpressive();
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  const out = join(ROOT, "bench", "results", "expressive.json");
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, ...b }, null, 2) + "\n");
  console.log(`wrote ${out}`);
}
