/* The guest half of test/vm/reads.test.ts: runs inside the Debian-kernel VM (node
 * dist/test/vm/reads-guest.js), where kprobes and fentry work. Kernel function probes
 * with `read`/`columns` on gated workloads, the BTF offsets this kernel gives the paths,
 * the user's BPF C compiled on the host (CUSTOM_C) loaded with bpf.object(), by fentry and
 * by kprobe, and the verifier enumeration (test/helpers/combos.ts) with a per-kind limit. Prints one
 * `@@VMREADS <json>` line; every check records its result or its error, and the host
 * asserts. Not a test file itself (no .test. in its name), so the host never runs it. */
import { readFileSync, writeFileSync } from "node:fs";
import { kprobe, kretprobe, kernelFunctionSupport } from "../../bpf-lib/src/probes/fentry/index.js";
import { bpf } from "../../bpf-lib/src/probes/custom/index.js";
import { BtfBlob } from "../../bpf-lib/src/btf/blob.js";
import { currentTaskPath, resolvePath } from "../../bpf-lib/src/btf/path.js";
import { KINDS, loadCombos, type LoadResult } from "../helpers/combos.js";
import { gated } from "./gate.js";
import { CUSTOM_ENV, PATHS, READS_N, type GuestReport, type RunResult } from "./reads-shared.js";

const DATA = "/tmp/bpfbook-vmreads-data.txt";
const OPENED = "/tmp/bpfbook-vmreads-open";

interface Tableish {
  numRows(): number;
  columnNames(): string[];
  array(c: string): ArrayLike<unknown>;
  objects(): object[];
  stats: { readFailed?: number; source?: string; stacksLost?: number };
}

const uniq = (t: Tableish, c: string) => [...new Set(Array.from(t.array(c), (v) => (typeof v === "bigint" ? v.toString() : v)))];

const report: GuestReport = { kernel: "", support: {}, runs: {}, ms: {}, offsets: {}, combos: [], nodePid: process.pid };

async function check(name: string, fn: () => Promise<RunResult>): Promise<void> {
  const t0 = performance.now();
  try {
    report.runs[name] = await fn();
  } catch (e) {
    report.runs[name] = { error: String((e as Error)?.stack ?? e) };
  }
  report.ms[name] = Math.round(performance.now() - t0);
}

/** Streams a probe over a gated workload: the probe starts (attached) before the child's work. */
async function events(start: (pid: number) => { table(): Promise<Tableish>; source: string }, args: string[]): Promise<{ t: Tableish; source: string; pid: number; exit: number }> {
  const w = await gated(args);
  const tr = start(w.pid);
  const exit = await w.go();
  return { t: await tr.table(), source: tr.source, pid: w.pid, exit };
}

/** Aggregates over a gated workload. */
async function aggregate(start: (pid: number) => { stop(): Promise<unknown>; finished(): Promise<Tableish> }, args: string[]): Promise<{ t: Tableish; pid: number }> {
  const w = await gated(args);
  const run = start(w.pid);
  await w.go();
  await run.stop();
  return { t: await run.finished(), pid: w.pid };
}

async function main(): Promise<void> {
  report.kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  writeFileSync(DATA, "hello bpfbook\n");
  const s = kernelFunctionSupport();
  for (const kind of ["fentry", "fexit", "kprobe", "kretprobe"] as const) report.support[kind] = s[kind].ok || s[kind].reason || "refused";

  // The offsets this kernel's BTF gives the paths the probes read (the host computes its own).
  const btf = BtfBlob.vmlinux();
  for (const [name, p] of Object.entries(PATHS)) {
    try {
      report.offsets[name] = (p.root === "current" ? currentTaskPath(btf, p.path) : resolvePath(btf, p.root, p.path)).offsets;
    } catch (e) {
      report.offsets[name] = String(e);
    }
  }

  const N = READS_N;
  const read = ["read", DATA, String(N)];
  for (const via of ["fentry", "kprobe"] as const) {
    await check(`${via} user read`, async () => {
      // filename is `const char __user *`: a read of it must be a user read
      const { t, source, exit } = await events((pid) => kprobe("do_sys_openat2", { via, where: { pid }, read: { fname: { from: "filename", string: 64 } } }).start(), ["openat", OPENED, String(N)]);
      return { source, exit, rows: t.numRows(), values: uniq(t, "fname"), readFailed: t.stats.readFailed ?? 0, columns: t.columnNames() };
    });
    await check(`${via} kernel by address`, async () => {
      // seq_puts's s is a kernel string, untagged too: the same read goes to kernel memory
      const { t } = await events((pid) => kprobe("seq_puts", { via, where: { pid }, args: [], read: { s: { from: "s", string: 32 } } }).start(), ["read", "/proc/self/status", "2"]);
      return { rows: t.numRows(), values: uniq(t, "s").slice(0, 3), readFailed: t.stats.readFailed ?? 0 };
    });
    await check(`${via} kernel path`, async () => {
      const { t, source, exit } = await events((pid) => kprobe("vfs_read", { via, where: { pid }, read: { name: "file->f_path.dentry->d_name.name" } }).start(), read);
      return { source, exit, rows: t.numRows(), values: uniq(t, "name"), readFailed: t.stats.readFailed ?? 0, columns: t.columnNames() };
    });
    await check(`${via} count by path`, async () => {
      const { t } = await aggregate((pid) => kprobe("vfs_read", { via, where: { pid }, read: { name: "file->f_path.dentry->d_name.name" } }).count({ by: ["name"] }).start(), read);
      return { rows: t.objects(), readFailed: t.stats.readFailed ?? 0 };
    });
    await check(`${via} ppid uid`, async () => {
      const { t, source } = await events((pid) => kprobe("vfs_read", { via, where: { pid }, args: ["count"], columns: ["ppid", "uid"] }).start(), read);
      return { source, rows: t.numRows(), ppid: uniq(t, "ppid"), uid: uniq(t, "uid"), readFailed: t.stats.readFailed ?? 0, columns: t.columnNames() };
    });
    await check(`${via} count by ppid`, async () => {
      const { t } = await aggregate((pid) => kprobe("vfs_read", { via, where: { pid } }).count({ by: ["ppid"] }).start(), read);
      return { rows: t.objects() };
    });
    await check(`${via} return reads`, async () => {
      // reads at the return, through the argument saved at entry (fexit: the program's own arguments)
      const { t, source } = await events((pid) => kretprobe("vfs_read", { via, where: { pid }, args: [], columns: ["ppid"], read: { name: "file->f_path.dentry->d_name.name" } }).start(), read);
      return { source, rows: t.numRows(), values: uniq(t, "name"), ppid: uniq(t, "ppid"), ret: uniq(t, "ret"), readFailed: t.stats.readFailed ?? 0, columns: t.columnNames() };
    });
    await check(`${via} entry reads`, async () => {
      // reads through an argument happen at the entry and reach the return's row (at: "return" reads there);
      // putname frees its argument before it returns: only a read at entry still sees the path
      const open = ["openat", OPENED, String(N)];
      const { t, source } = await events((pid) => kretprobe("do_sys_openat2", { via, where: { pid }, args: [], read: { fname: { from: "filename", string: 64 }, again: { from: "filename", string: 64, at: "return" } } }).start(), open);
      const { t: freed } = await events((pid) => kretprobe("putname", { via, where: { pid }, args: [], read: { path: "name->name" } }).start(), open);
      const { t: lat } = await aggregate((pid) => kretprobe("do_sys_openat2", { via, where: { pid }, args: [], read: { fname: { from: "filename", string: 64 } } }).latency({ by: ["fname"], hist: "stats" }).start(), open);
      return {
        source, rows: t.numRows(), fname: uniq(t, "fname"), again: uniq(t, "again"), ret: uniq(t, "ret"), readFailed: t.stats.readFailed ?? 0,
        freedSource: (freed.stats as { source?: string }).source, freedRows: freed.numRows(), freed: uniq(freed, "path"), freedFailed: freed.stats.readFailed ?? 0,
        latency: (lat.objects() as { fname: string; count: number }[]).map((x) => ({ fname: x.fname, count: x.count })),
      };
    });
    await check(`${via} kstack`, async () => {
      const { t, source } = await events((pid) => kprobe("vfs_read", { via, where: { pid }, args: [], columns: ["kstack"] }).start(), read);
      return { source, rows: t.numRows(), stacks: uniq(t, "kstack"), stacksLost: t.stats.stacksLost ?? null, columns: t.columnNames() };
    });
    await check(`${via} count by kstack`, async () => {
      const { t } = await aggregate((pid) => kprobe("vfs_read", { via, where: { pid } }).count({ by: ["kstack"] }).start(), read);
      return { rows: t.objects(), stacksLost: t.stats.stacksLost ?? null, columns: t.columnNames() };
    });
    await check(`${via} ustack`, async () => {
      // the workload lingers after its reads, so its mappings are still there to name user frames
      const w = await gated(["--linger", "3000", ...read]);
      const tr = kprobe("vfs_read", { via, where: { pid: w.pid }, args: [], columns: ["ustack"] }).start({ events: N });
      const exited = w.go();
      const t = await tr.finished() as unknown as Tableish;
      await exited;
      return { rows: t.numRows(), stacks: uniq(t, "ustack"), stacksLost: t.stats.stacksLost ?? null };
    });
  }

  // the user's BPF C, compiled on the host against its own vmlinux.h: CO-RE relocates it to 6.1 at load
  for (const via of ["fentry", "kprobe"] as const) {
    await check(`custom C ${via}`, async () => {
      const path = process.env[CUSTOM_ENV[via]];
      if (!path) throw new Error(`no object to load: ${CUSTOM_ENV[via]} is not set`);
      using prog = bpf.object(path);
      const w = await gated(read);
      prog.set({ target: w.pid });
      const trace = prog.events("reads").start();
      const exit = await w.go();
      await trace.stop();
      const t = (await trace.table()) as unknown as Tableish & { stats: { received: number; produced: number; lost: number } };
      const { received, produced, lost } = t.stats;
      return {
        programs: prog.programs, exit, pid: w.pid, rows: t.numRows(), columns: t.columnNames(), pids: uniq(t, "pid"), names: uniq(t, "name"), counts: uniq(t, "count"),
        byPid: prog.map("by_pid").table().objects(), stats: { received, produced, lost },
      };
    });
  }

  const limit = Number(process.env.BPFBOOK_VM_COMBO_LIMIT ?? 20);
  for (const kind of Object.keys(KINDS)) {
    const t0 = performance.now();
    let r: LoadResult | { kind: string; error: string };
    try {
      r = loadCombos(kind, { limit });
    } catch (e) {
      r = { kind, error: String((e as Error)?.stack ?? e) };
    }
    report.combos.push(r);
    report.ms[`combos ${kind}`] = Math.round(performance.now() - t0);
  }
}

await main();
console.log(`@@VMREADS ${JSON.stringify(report)}`);
process.exit(0);
