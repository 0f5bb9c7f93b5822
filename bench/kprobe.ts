/* The per-hit cost of kernel function probes: fentry vs kprobe vs bpftrace doing the
 * same count (`@[comm] = count()` on vfs_read), measured in the Debian-kernel VM
 * (test/vm/vm.ts), because this host's kernel has neither kprobes nor fentry.
 *
 * The workload reads a small file N times (read + lseek per iteration; only read
 * enters vfs_read), started with every tracer attached, and timed from the outside;
 * the cost per hit is (traced - untraced) / N. Each configuration runs ROUNDS times,
 * interleaved, and the fastest round counts: the emulated VM shares the host's CPUs,
 * and other load only ever adds time. The VM is emulated (TCG): absolute figures are
 * 20-50x a real machine's (and traps, as kprobes take, cost relatively more), so
 * compare the rows with each other.
 *
 *   node dist/bench/kprobe.js             (prints the table, writes bench/results/kprobe.json)
 *   BENCH_KPROBE_READS=200000 BENCH_KPROBE_ROUNDS=5 node dist/bench/kprobe.js */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { runInVm, vmUnavailableReason, PROJECT_ROOT } from "../test/vm/vm.js";

const READS = Number(process.env.BENCH_KPROBE_READS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_KPROBE_ROUNDS ?? 5);

export interface KprobeBenchRow {
  tracer: string;
  mechanism: string;
  /** Fastest round's wall time per workload iteration (read + lseek), ns. */
  nsPerRead: number;
  /** Added per vfs_read hit over the untraced run, ns (emulated). */
  nsPerHit: number;
  /** nsPerHit relative to bpfbook's fentry. */
  vsFentry: number;
  /** What the tracer counted for the workload (should be ≥ READS). */
  counted: number;
  rounds: number[];
}

export interface KprobeBench {
  machine: string;
  reads: number;
  rounds: number;
  vmSeconds: number;
  rows: KprobeBenchRow[];
}

/** The guest side: every configuration ROUNDS times, interleaved, as one ES module. */
function guestScript(): string {
  return `
import { spawn, execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
const k = await import(${JSON.stringify(join(PROJECT_ROOT, "dist", "bpf-lib", "src", "probes", "fentry", "index.js"))});
const WORKLOAD = ${JSON.stringify(join(PROJECT_ROOT, "test", "fixtures", "build", "workload"))};
const READS = ${READS}, ROUNDS = ${ROUNDS};
writeFileSync("/tmp/bench-data.txt", "hello bpfbook\\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Rejects after ms, so one stuck step cannot hold the whole run. */
const within = (ms, what, p) => Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error(what + " took over " + ms / 1000 + " s")), ms).unref())]);
async function workload() {
  const t0 = process.hrtime.bigint();
  let c;
  await within(120_000, "the workload", new Promise((resolve, reject) => {
    c = spawn(WORKLOAD, ["--now", "read", "/tmp/bench-data.txt", String(READS)], { stdio: "ignore" });
    c.once("error", reject);
    c.once("exit", (code) => (code === 0 ? resolve() : reject(new Error("workload exited " + code))));
  })).catch((e) => { c?.kill("SIGKILL"); throw e; });
  return Number(process.hrtime.bigint() - t0);
}
async function bpftrace(probe) {
  const child = spawn("bpftrace", ["-e", probe + " /comm == \\"workload\\"/ { @[comm] = count(); }"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stderr.on("data", (d) => (err += d));
  await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (l) => { out += l + "\\n"; if (l.startsWith("Attaching")) resolve(); });
    child.once("exit", (c) => reject(new Error("bpftrace exited " + c + ": " + err)));
  });
  await sleep(1000); // "Attaching N probes" prints before the probe is live; the VM is slow
  return {
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT");
      await within(60_000, "bpftrace's exit", exited).catch((e) => { child.kill("SIGKILL"); throw e; });
      return Number(/@\\[workload\\]: (\\d+)/.exec(out)?.[1] ?? 0);
    },
  };
}
async function bpfbook(via) {
  const run = k.kprobe("vfs_read", { via, where: { comm: "workload" } }).count({ by: ["comm"] }).start();
  return {
    async stop() {
      await run.stop();
      const t = await run.finished();
      return t.numRows() ? Number(t.get("count", 0)) : 0;
    },
  };
}
const configs = [
  ["none", "untraced", null],
  ["bpfbook", "fentry", () => bpfbook("fentry")],
  ["bpfbook", "kprobe", () => bpfbook("kprobe")],
  ["bpftrace", "fentry (kfunc:)", () => bpftrace("kfunc:vfs_read")],
  ["bpftrace", "kprobe", () => bpftrace("kprobe:vfs_read")],
];
const results = configs.map(([tracer, mechanism]) => ({ tracer, mechanism, ns: [], counted: [] }));
let version = "";
try { version = execFileSync("bpftrace", ["--version"], { encoding: "utf8" }).trim(); } catch {}
await workload(); // warm the page cache and the binary
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < configs.length; i++) {
    const start = configs[i][2];
    try {
      const tracer = start ? await start() : null;
      const ns = await workload();
      const counted = tracer ? await tracer.stop() : ${READS};
      results[i].ns.push(ns);
      results[i].counted.push(counted);
      console.log("round " + r + " " + configs[i][0] + " " + configs[i][1] + ": " + (ns / READS).toFixed(0) + " ns/read, counted " + counted);
    } catch (e) {
      results[i].error = String(e && e.message || e);
      console.log("round " + r + " " + configs[i][0] + " " + configs[i][1] + ": " + results[i].error);
    }
  }
}
console.log("@@KPROBE-BENCH " + JSON.stringify({ results, version, kernel: execFileSync("uname", ["-r"], { encoding: "utf8" }).trim() }));
process.exit(0);
`;
}

const fastest = (xs: number[]) => (xs.length ? Math.min(...xs) : NaN);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

/** Runs the comparison in the VM; prints a table; resolves to the figures. */
export async function benchKprobe(): Promise<KprobeBench> {
  const why = vmUnavailableReason();
  if (why) throw new Error(`the kprobe benchmark runs in the Debian-kernel VM, which cannot run here: ${why}`);
  const script = Buffer.from(guestScript()).toString("base64");
  const t0 = performance.now();
  const r = await runInVm(`mkdir -p /tmp/bench && cd /tmp/bench && echo ${script} | base64 -d > kprobe.mjs && node kprobe.mjs`, {
    timeoutMs: 900_000,
    cpus: Number(process.env.BENCH_KPROBE_CPUS ?? 2),
    onOutput: (l) => { if (process.env.BENCH_VERBOSE) process.stderr.write(`[vm] ${l}\n`); },
    onConsole: (l) => { if (process.env.BENCH_VERBOSE === "console") process.stderr.write(`[console] ${l}\n`); },
  });
  const vmSeconds = (performance.now() - t0) / 1000;
  const line = r.output.split("\n").find((l) => l.startsWith("@@KPROBE-BENCH "));
  if (!line) throw new Error(`the VM printed no results (status ${r.status}):\n${r.output.slice(-4000)}`);
  const got = JSON.parse(line.slice("@@KPROBE-BENCH ".length)) as {
    results: { tracer: string; mechanism: string; ns: number[]; counted: number[]; error?: string }[];
    version: string;
    kernel: string;
  };
  const base = fastest(got.results[0]!.ns) / READS;
  const rows: KprobeBenchRow[] = got.results.map((x) => {
    const nsPerRead = fastest(x.ns) / READS;
    return {
      tracer: x.tracer, mechanism: x.mechanism + (x.error ? ` (error: ${x.error})` : ""),
      nsPerRead, nsPerHit: nsPerRead - base, vsFentry: NaN, counted: median(x.counted), rounds: x.ns.map((n) => n / READS),
    };
  });
  const fentry = rows.find((x) => x.tracer === "bpfbook" && x.mechanism === "fentry")?.nsPerHit ?? NaN;
  for (const row of rows) row.vsFentry = row.tracer === "none" ? NaN : row.nsPerHit / fentry;
  const result: KprobeBench = { machine: `qemu TCG, Debian ${got.kernel}, ${got.version}`, reads: READS, rounds: ROUNDS, vmSeconds, rows };
  printTable(result);
  return result;
}

function printTable(b: KprobeBench): void {
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : "—");
  const lines = [
    `kernel function probe cost, vfs_read, ${b.reads} reads × ${b.rounds} rounds (fastest), in ${b.machine}; emulated: compare rows, not absolute ns`,
    `${"tracer".padEnd(10)} ${"mechanism".padEnd(18)} ${"ns/read".padStart(9)} ${"+ns/hit".padStart(9)} ${"vs fentry".padStart(9)} ${"counted".padStart(9)}`,
    ...b.rows.map((r) => `${r.tracer.padEnd(10)} ${r.mechanism.padEnd(18)} ${f(r.nsPerRead).padStart(9)} ${r.tracer === "none" ? "—".padStart(9) : f(r.nsPerHit).padStart(9)} ${(Number.isFinite(r.vsFentry) ? f(r.vsFentry, 2) + "x" : "—").padStart(9)} ${String(r.counted).padStart(9)}`),
  ];
  console.log(lines.join("\n"));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const b = await benchKprobe();
  mkdirSync(join(PROJECT_ROOT, "bench", "results"), { recursive: true });
  writeFileSync(join(PROJECT_ROOT, "bench", "results", "kprobe.json"), JSON.stringify(b, null, 2) + "\n");
}
