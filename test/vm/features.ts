/* Every feature once, with a known answer: the checks behind docs/compatibility.md. The same
 * list runs natively on this host (test/vm/reads.test.ts) and in the Debian 6.1 guest
 * (test/vm/features-guest.ts, in the same boot as the kernel-function reads), so the table
 * compares one kernel with the other on identical code and workloads. Each check verifies
 * its own exact answer and says "pass", "fail: why" or "skip: the reason a user would get"
 * (NotSupportedError's words, or the missing piece of the machine). */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { anyTracepoint, tracepoint } from "../../bpf-lib/src/probes/tracepoint/probe.js";
import { UnknownTracepointError } from "../../bpf-lib/src/tracefs/errors.js";
import { syscalls, sched } from "../../bpf-lib/src/probes/presets.js";
import { uprobe, uretprobe } from "../../bpf-lib/src/probes/uprobe/probe.js";
import { startProfile } from "../../bpf-lib/src/probes/profile/profile.js";
import { xdp } from "../../bpf-lib/src/probes/xdp/index.js";
import * as tools from "../../bpf-lib/src/tools/index.js";
import { doctor, type DoctorReport } from "../../bpf-lib/src/doctor/doctor.js";
import { listTracepoints } from "../../bpf-lib/src/tracefs/catalog.js";
import { NotSupportedError } from "../../bpf-lib/src/errors.js";
import { WORKLOAD } from "../helpers/workload.js";
import { createTestNet } from "../helpers/netns.js";
import { gated } from "./gate.js";

export type Outcome = { status: "pass"; detail: string } | { status: "skip"; reason: string } | { status: "fail"; reason: string };

export interface Feature {
  /** The row of the compatibility table. */
  name: string;
  /** What the row proves, for the doc. */
  proves: string;
  run(): Promise<Outcome>;
}

interface Tableish {
  numRows(): number;
  objects(): Record<string, unknown>[];
  array(c: string): ArrayLike<unknown>;
  stats: { lost?: number; readFailed?: number };
}

const N = 20;
const pass = (detail: string): Outcome => ({ status: "pass", detail });
const skip = (reason: string): Outcome => ({ status: "skip", reason });
/** Fails with what was seen unless `ok`. */
const expect = (ok: boolean, detail: string): Outcome => (ok ? pass(detail) : { status: "fail", reason: detail });
const values = (t: Tableish, c: string) => [...new Set(Array.from(t.array(c), (v) => (typeof v === "bigint" ? Number(v) : v)))];
const sum = (rows: Record<string, unknown>[], c = "count") => rows.reduce((a, r) => a + Number(r[c]), 0);

/** Streams a probe over a gated workload: attached before the child's work begins. */
async function stream(start: (pid: number) => { table(): Promise<unknown> }, args: string[]): Promise<{ t: Tableish; pid: number }> {
  const w = await gated(args);
  const tr = start(w.pid);
  await w.go();
  return { t: (await tr.table()) as Tableish, pid: w.pid };
}

/** Aggregates over a gated workload. */
async function aggregate(start: (pid: number) => { stop(): Promise<unknown>; finished(): Promise<unknown> }, args: string[]): Promise<{ rows: Record<string, unknown>[]; pid: number }> {
  const w = await gated(args);
  const run = start(w.pid);
  await w.go();
  await run.stop();
  return { rows: ((await run.finished()) as Tableish).objects(), pid: w.pid };
}

/** A loop device over a fresh file of `bytes`, or why there is none (the guest may lack the loop module). */
function loopDevice(bytes = 8 << 20): { dev: string; dispose(): void } | string {
  const dir = mkdtempSync(join(tmpdir(), "bpfbook-feat-"));
  try {
    execFileSync("truncate", ["-s", String(bytes), join(dir, "disk.img")]);
    const dev = execFileSync("losetup", ["--find", "--show", join(dir, "disk.img")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    return { dev, dispose: () => { spawnSync("losetup", ["-d", dev]); rmSync(dir, { recursive: true, force: true }); } };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return `no loop device: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim().split("\n")[0]}`;
  }
}

/** Pages of the loop device cachestat's check reads, twice. */
const CACHE_PAGES = 16;

/** Waits until `pid` sleeps in nanosleep(2) (syscall 35 on x86-64): the workload's --linger after its work. */
async function untilLingering(pid: number): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    let sc = "";
    try {
      sc = readFileSync(`/proc/${pid}/syscall`, "utf8");
    } catch {
      // gone: let the caller find out from the counts
      return;
    }
    if (sc.startsWith("35 ")) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const FEATURES: Feature[] = [
  {
    name: "tracepoint stream, user string field",
    proves: `sys_enter_openat's filename (a user pointer) in ${N} rows`,
    async run() {
      const path = join(tmpdir(), "bpfbook-feat-open");
      const { t } = await stream((pid) => tracepoint("syscalls:sys_enter_openat", { fields: ["filename"], where: { pid } }).start(), ["openat", path, String(N)]);
      return expect(t.numRows() === N && JSON.stringify(values(t, "filename")) === JSON.stringify([path]), `${t.numRows()} rows, ${JSON.stringify(values(t, "filename"))}`);
    },
  },
  {
    name: "tracepoint stream, __data_loc string",
    proves: `sched_process_exec's filename (__data_loc char[]) for ${N} execs, matched by ppid`,
    async run() {
      const { t, pid } = await stream(() => tracepoint("sched:sched_process_exec", { fields: ["filename"], columns: ["ppid"] }).start(), ["exec", String(N), "x"]);
      const mine = t.objects().filter((r) => Number(r.ppid) === pid);
      return expect(mine.length === N && mine.every((r) => r.filename === "/bin/true"), `${mine.length} execs, ${JSON.stringify([...new Set(mine.map((r) => r.filename))])}`);
    },
  },
  {
    name: "user memory array read (execve argv)",
    proves: `read: { argv: { from: "argv", array: 4, string: 16 } } gives ["true", "alpha"] ${N} times`,
    async run() {
      const { t, pid } = await stream(() => tracepoint("syscalls:sys_enter_execve", { fields: [], columns: ["ppid"], read: { argv: { from: "argv", array: 4, string: 16 } } }).start(), ["exec", String(N), "alpha"]);
      const mine = t.objects().filter((r) => Number(r.ppid) === pid);
      const argv = [...new Set(mine.map((r) => JSON.stringify(r.argv)))];
      return expect(mine.length === N && argv.length === 1 && argv[0] === JSON.stringify(["true", "alpha"]), `${mine.length} execve, argv ${argv.join(" | ")}`);
    },
  },
  {
    name: "aggregation: count by key",
    proves: `count({ by: ["pid"] }) of ${N} getppid calls is one row of ${N}`,
    async run() {
      const { rows, pid } = await aggregate((p) => tracepoint("syscalls:sys_enter_getppid", { where: { pid: p } }).count({ by: ["pid"] }).start(), ["getppid", String(N)]);
      return expect(rows.length === 1 && rows[0].pid === pid && rows[0].count === N, JSON.stringify(rows));
    },
  },
  {
    name: "aggregation: sum, min, max",
    proves: `stats("count") of ${N} writes of 100 bytes: sum ${N * 100}, min = max = 100`,
    async run() {
      const { rows } = await aggregate((pid) => tracepoint("syscalls:sys_enter_write", { where: { pid } }).stats("count", { by: ["pid"] }).start(), ["write", "100", String(N)]);
      const r = rows[0] ?? {};
      return expect(rows.length === 1 && Number(r.sum) === N * 100 && Number(r.min) === 100 && Number(r.max) === 100 && Number(r.count) === N, JSON.stringify(rows));
    },
  },
  {
    name: "aggregation: log2 histogram",
    proves: `hist("count") of ${N} writes of 100 bytes: one bucket [64, 128) of ${N}`,
    async run() {
      const { rows } = await aggregate((pid) => tracepoint("syscalls:sys_enter_write", { where: { pid } }).hist("count").start(), ["write", "100", String(N)]);
      return expect(rows.length === 1 && rows[0].low === 64 && rows[0].high === 128 && rows[0].count === N, JSON.stringify(rows));
    },
  },
  {
    name: "aggregation: intervals",
    proves: "count per 100 ms interval of 15 sleeps of 20 ms: the intervals add up to 15",
    async run() {
      const w = await gated(["sleep", "20", "15"]);
      const run = tracepoint("syscalls:sys_enter_nanosleep", { where: { pid: w.pid } }).count({ by: ["pid"] }).start({ interval: 0.1 });
      await w.go();
      await run.stop();
      const rows = ((await run.finished()) as Tableish).objects();
      const intervals = new Set(rows.map((r) => r.interval)).size;
      return expect(sum(rows) === 15 && intervals >= 2, `${sum(rows)} sleeps in ${intervals} intervals`);
    },
  },
  {
    name: "latency: syscalls (entry → exit)",
    proves: "syscalls.latency() pairs 15 nanosleeps of 20 ms; the median is in [16.8 ms, 33.6 ms)",
    async run() {
      const { rows } = await aggregate((pid) => syscalls.latency({ by: ["syscall"], where: { pid } }).start(), ["sleep", "20", "15"]);
      const sleeps = rows.filter((r) => r.syscall === "nanosleep" || r.syscall === "clock_nanosleep");
      const n = sum(sleeps);
      let acc = 0, median = -1;
      for (const r of [...sleeps].sort((a, b) => Number(a.low) - Number(b.low))) if ((acc += Number(r.count)) >= n / 2 && median < 0) median = Number(r.low);
      return expect(n === 15 && median === 2 ** 24, `${n} sleeps, median bucket from ${median} ns`);
    },
  },
  {
    name: "latency: run queue (wakeup → switch)",
    proves: "sched.runqueueLatency() sees the 30 wakeups of 30 sleeps, plus the start gate's and any page fault's (in the VM the binary's pages come over 9p: a few more)",
    async run() {
      const { rows, pid } = await aggregate(() => sched.runqueueLatency({ by: ["pid"] }).start(), ["sleep", "1", "30"]);
      const n = sum(rows.filter((r) => r.pid === pid));
      return expect(n >= 30 && n <= 36, `${n} wakeups`);
    },
  },
  {
    name: "latency: block I/O (loop device)",
    proves: "tools.biosnoop() on a loop device: 8 direct 4 KiB writes by dd, each with its latency",
    async run() {
      const loop = loopDevice();
      if (typeof loop === "string") return skip(loop);
      try {
        const disk = loop.dev.replace("/dev/", "");
        const snoop = tools.biosnoop({ disk, comm: "dd" }).start();
        spawnSync("dd", ["if=/dev/zero", `of=${loop.dev}`, "bs=4096", "count=8", "oflag=direct"], { stdio: "ignore" });
        await snoop.stop();
        const rows = ((await snoop.finished()) as Tableish).objects();
        return expect(rows.length === 8 && rows.every((r) => Number(r.bytes) === 4096 && Number(r.latency) > 0), `${rows.length} I/Os: ${JSON.stringify(rows[0] ?? null)}`);
      } finally {
        loop.dispose();
      }
    },
  },
  {
    name: "uprobe with arguments",
    proves: `uprobe(workload, "bpfbook_target") gives arg0 = 0..${N - 1}`,
    async run() {
      const { t } = await stream((pid) => uprobe(WORKLOAD, "bpfbook_target", { pid, args: 1 }).start(), ["call", String(N)]);
      const got = Array.from(t.array("arg0"), Number);
      return expect(JSON.stringify(got) === JSON.stringify(Array.from({ length: N }, (_, i) => i)), `arg0 ${JSON.stringify(got.slice(0, 5))}… (${got.length})`);
    },
  },
  {
    name: "uretprobe with a returned string",
    proves: `uretprobe(workload, "bpfbook_line") reads the returned char * "line-<i>", ${N} times`,
    async run() {
      const { t } = await stream((pid) => uretprobe(WORKLOAD, "bpfbook_line", { pid, read: { line: { from: "ret", user: true, string: 32 } } }).start(), ["names", String(N)]);
      const got = Array.from(t.array("line"));
      return expect(JSON.stringify(got) === JSON.stringify(Array.from({ length: N }, (_, i) => `line-${i}`)), `${got.length} lines, ${JSON.stringify(got.slice(0, 2))}`);
    },
  },
  {
    name: "profile: sampled stacks, symbolized",
    proves: "profile() of a 1 s spin at 99 Hz: most samples in spin_here, named from the binary's symbols",
    async run() {
      const w = await gated(["spin", "1"]);
      const run = startProfile({ pid: w.pid, hz: 99 });
      await w.go();
      await run.stop();
      const rows = ((await run.finished()) as Tableish).objects();
      const total = sum(rows), spinning = sum(rows.filter((r) => String(r.stack).split(";").includes("spin_here")));
      return expect(total > 10 && spinning >= 0.8 * total, `${spinning} of ${total} samples in spin_here`);
    },
  },
  {
    name: "cachestat hit ratio (kernel functions)",
    proves: `tools.cachestat({ pid }) of ${CACHE_PAGES} one-page preads of a cold ${CACHE_PAGES}-page loop device, then the same ${CACHE_PAGES} again: ${CACHE_PAGES} misses, ${CACHE_PAGES} hits, ratio 0.5, the same in sum per 0.5 s interval; ${CACHE_PAGES} folios added, and removed at the last close`,
    async run() {
      // where kernel functions cannot be traced the tool runs without a hit ratio, and says why
      const notice = tools.cachestat().notice;
      if (notice !== null) return skip(notice);
      // a block device's page cache is dropped at its last close, so a fresh loop device is cold, and
      // readahead stops at its end: every page is added once, by the first round's reads
      const loop = loopDevice(CACHE_PAGES * 4096);
      if (typeof loop === "string") return skip(loop);
      try {
        // --linger: the counts are read before the workload exits (unmapping its binary marks those pages accessed)
        const w = await gated(["--linger", "120000", "pages", loop.dev, String(CACHE_PAGES), "2"]);
        const tool = tools.cachestat({ pid: w.pid });
        const runs = [tool.start(), tool.start({ interval: 0.5 })];
        const exited = w.go();
        await untilLingering(w.pid);
        await Promise.all(runs.map((r) => r.stop()));
        process.kill(w.pid, "SIGKILL");
        await exited;
        const [total, per] = await Promise.all(runs.map(async (r) => tool.shape(await r.finished()).objects() as Record<string, unknown>[]));
        const want = { added: CACHE_PAGES, removed: CACHE_PAGES, dirtied: 0, hits: CACHE_PAGES, misses: CACHE_PAGES, ratio: 0.5 };
        const sums = Object.fromEntries(["added", "removed", "dirtied", "hits", "misses"].map((c) => [c, sum(per!, c)]));
        const sources = tool.hitSources;
        const ok = JSON.stringify(total) === JSON.stringify([want]) && JSON.stringify(sums) === JSON.stringify({ added: CACHE_PAGES, removed: CACHE_PAGES, dirtied: 0, hits: CACHE_PAGES, misses: CACHE_PAGES })
          && sources.length >= 3 && sources.every((x) => /^(fentry|kprobe):/.test(x));
        return expect(ok, `${JSON.stringify(total)}; per interval ${JSON.stringify(per)}; counted ${sources.join(", ")}`);
      } finally {
        loop.dispose();
      }
    },
  },
  ...(["generic", "native"] as const).map((mode): Feature => ({
    name: `XDP on a veth pair (${mode})`,
    proves: `xdp(veth, { mode: "${mode}" }).count({ by: ["protocol"] }) counts ${N} UDP datagrams exactly`,
    async run() {
      let net;
      try {
        net = createTestNet();
      } catch (e) {
        return skip(`no veth pair: ${(e as Error).message.split("\n")[0]}`);
      }
      try {
        const run = xdp(net.host, { mode }).count({ by: ["protocol"] }).start();
        await net.udp({ port: 9999, count: N });
        await run.stop();
        const rows = ((await run.finished()) as Tableish).objects();
        const udp = rows.filter((r) => r.protocol === "ipv4/udp");
        return expect(sum(udp, "packets") === N, JSON.stringify(rows));
      } catch (e) {
        if (e instanceof NotSupportedError) return skip(e.message);
        throw e;
      } finally {
        net.dispose();
      }
    },
  })),
  {
    name: "tracepoint catalog vs the generated types",
    proves: "the tracepoint names the types were generated from (on the host) that this kernel lacks: a call to one is a run-time UnknownTracepointError with the nearest names",
    async run() {
      const here = new Set(listTracepoints());
      // the host's list (the one bpf-lib/src/generated/tracepoints.ts was made from), when given
      const file = process.env.BPFBOOK_TYPED_TRACEPOINTS;
      const typed: string[] = file && existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : [...here];
      const missing = typed.filter((n) => !here.has(n));
      if (missing.length === 0) return expect(here.size === typed.length, `${here.size} tracepoints, all ${typed.length} typed names here`);
      // a typed name this kernel lacks: the probe must refuse it by name, with the names it has
      try {
        anyTracepoint(missing[0]!);
        return { status: "fail", reason: `${missing[0]} is missing here, yet tracepoint() accepted it` };
      } catch (e) {
        const named = e instanceof UnknownTracepointError && e.tracepoint === missing[0] && e.suggestions.length > 0;
        return expect(named, `${here.size} tracepoints; ${missing.length} of the ${typed.length} typed names missing (e.g. ${missing.slice(0, 3).join(", ")}); ${missing[0]}: ${(e as Error).message.slice(0, 160)}`);
      }
    },
  },
];

/** Runs every feature, each to an outcome (an exception is a failure with its message). */
export async function runFeatures(only?: (f: Feature) => boolean): Promise<{ outcomes: Record<string, Outcome>; ms: Record<string, number>; doctor: DoctorReport | null }> {
  const outcomes: Record<string, Outcome> = {}, ms: Record<string, number> = {};
  for (const f of FEATURES.filter(only ?? (() => true))) {
    const t0 = performance.now();
    try {
      outcomes[f.name] = await f.run();
    } catch (e) {
      outcomes[f.name] = e instanceof NotSupportedError ? skip(e.message) : { status: "fail", reason: String((e as Error)?.stack ?? e).split("\n").slice(0, 4).join(" | ") };
    }
    ms[f.name] = Math.round(performance.now() - t0);
  }
  let report: DoctorReport | null = null;
  try {
    report = await doctor();
  } catch {
    report = null;
  }
  return { outcomes, ms, doctor: report };
}
