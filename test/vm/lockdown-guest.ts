/* The guest half of the lockdown checks in test/vm-sample.test.ts: runs inside the
 * Debian-kernel VM booted with lockdown=confidentiality (node dist/test/vm/lockdown-guest.js),
 * after that test's sample() checks, in the same boot. Such a kernel refuses
 * bpf_probe_read_kernel (the verifier does not know the helper), tracefs and kprobes, so
 * every probe kind that needs them must say so with a NotSupportedError naming what it
 * reads or needs, and everything that reads no memory (pid/comm, arguments, uid/gid, the
 * cgroup id and path, counts) must still work, with exact values. User strings should too;
 * they do not load yet (test/vm-sample.test.ts says why). Each check records its result or
 * its error; the host asserts. Prints one `@@LOCKDOWN <json>` line. Not a test file itself. */
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tracepoint, uprobe, kprobe, kernelFunctionSupport } from "../../bpf-lib/src/index.js";
import { WORKLOAD } from "../helpers/workload.js";
import { gated } from "./gate.js";
import { DATA, N, OPENED, TAG, type LockdownReport, type LockdownRun } from "./lockdown-shared.js";

interface Tableish {
  numRows(): number;
  columnNames(): string[];
  array(c: string): ArrayLike<unknown>;
  stats: { readFailed?: number };
}

const report: LockdownReport = { lockdown: "unreadable", kernel: "", support: {}, cgroup: null, warnings: [], runs: {} };
process.on("warning", (w) => report.warnings.push(`${(w as Error & { code?: string }).code ?? w.name}: ${w.message}`));

const uniq = (t: Tableish, c: string) => [...new Set(Array.from(t.array(c), (v) => (typeof v === "bigint" ? Number(v) : v)))];

async function check(name: string, fn: () => Promise<LockdownRun>): Promise<void> {
  try {
    report.runs[name] = await fn();
  } catch (e) {
    const err = e as Error & { code?: string };
    report.runs[name] = { error: String(err?.stack ?? e), name: err?.name, code: err?.code, message: err?.message };
  }
}

/** A probe that must be refused at load: starts it, and stops it at once if the kernel took it after all. */
async function refused(start: () => { table?: () => Promise<unknown>; stop?: () => Promise<unknown> }): Promise<LockdownRun> {
  const r = start();
  if (r.table) await r.table();
  else if (r.stop) await r.stop();
  return { loaded: true };
}

/** Streams a probe over a gated workload (attached before the child's work). */
async function events(start: (pid: number) => { table(): Promise<Tableish> }, args: string[]): Promise<{ t: Tableish; pid: number; exit: number }> {
  const w = await gated(args);
  const tr = start(w.pid);
  const exit = await w.go();
  return { t: await tr.table(), pid: w.pid, exit };
}

/** How tracefs looks here: mounted (per /proc/mounts), and what listing it gives. */
function tracefsState(): { mounted: boolean; list: string } {
  const mounted = readFileSync("/proc/mounts", "utf8").split("\n").some((l) => l.split(" ")[2] === "tracefs");
  let list: string;
  try {
    list = `${readdirSync("/sys/kernel/tracing").length} entries`;
  } catch (e) {
    list = (e as NodeJS.ErrnoException).code ?? String(e);
  }
  return { mounted, list };
}

function cgroupOf(pid: number): { id: number; path: string } {
  const line = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").find((l) => l.startsWith("0::"))!;
  const path = line.slice(3);
  return { id: statSync(`/sys/fs/cgroup${path}`).ino, path };
}

async function main(): Promise<void> {
  try {
    report.lockdown = readFileSync("/sys/kernel/security/lockdown", "utf8").trim();
  } catch {
    // securityfs not mounted: the host's assertion says so
  }
  report.kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  const s = kernelFunctionSupport();
  for (const kind of ["fentry", "fexit", "kprobe", "kretprobe"] as const) report.support[kind] = s[kind].ok || s[kind].reason || "refused";
  report.cgroup = cgroupOf(process.pid);
  writeFileSync(DATA, "hello bpfbook\n");
  const open = ["openat", OPENED, String(N)];
  const names = ["names", String(N)];

  // ---- tracepoints: tracefs itself is refused (LOCKDOWN_TRACEFS), before any program
  report.tracefs = tracefsState();
  await check("tracepoint user string", async () => {
    const { t, pid, exit } = await events((pid) => tracepoint("syscalls:sys_enter_openat", { fields: ["filename"], where: { pid } }).start(), open);
    return { exit, pid, rows: t.numRows(), filename: uniq(t, "filename") };
  });
  await check("tracepoint ppid pcomm", () => refused(() => tracepoint("syscalls:sys_enter_openat", { fields: [], columns: ["ppid", "pcomm"] }).start()));
  await check("tracepoint read kernel pointer", () => refused(() => tracepoint("sock:inet_sock_set_state", { fields: ["skaddr"], read: { rcvbuf: "(struct sock *)skaddr->sk_rcvbuf" } } as never).start()));

  // ---- uprobes: what reads no memory works; kernel reads are refused by name
  await check("uprobe args only", async () => {
    const { t, pid, exit } = await events((pid) => uprobe(WORKLOAD, "bpfbook_name", { pid }).start(), names);
    return { exit, pid, rows: t.numRows(), columns: t.columnNames(), pids: uniq(t, "pid"), comm: uniq(t, "comm") };
  });
  await check("uprobe uid gid cgroup", async () => {
    const { t, pid } = await events((pid) => uprobe(WORKLOAD, "bpfbook_name", { pid, columns: ["uid", "gid", "cgroup"] }).start(), names);
    return { pid, rows: t.numRows(), uid: uniq(t, "uid"), gid: uniq(t, "gid"), cgroup: uniq(t, "cgroup"), readFailed: t.stats.readFailed ?? 0 };
  });
  await check("uprobe cgroup_path", async () => {
    const { t } = await events((pid) => uprobe(WORKLOAD, "bpfbook_name", { pid, columns: ["cgroup_path"] }).start(), names);
    return { rows: t.numRows(), cgroup_path: uniq(t, "cgroup_path") };
  });
  await check("uprobe count by comm", async () => {
    const w = await gated(names);
    const run = uprobe(WORKLOAD, "bpfbook_name", { pid: w.pid }).count({ by: ["comm"] }).start();
    await w.go();
    await run.stop();
    const t = (await run.finished()) as unknown as Tableish & { objects(): object[] };
    return { rows: t.objects() };
  });
  await check("uprobe user string", async () => {
    const { t, pid, exit } = await events((pid) => uprobe(WORKLOAD, "bpfbook_name", { pid, read: { name: { from: "arg0", string: 32 } } }).start(), names);
    return { exit, pid, rows: t.numRows(), names: Array.from(t.array("name")), readFailed: t.stats.readFailed ?? 0 };
  });
  await check("uprobe ppid", () => refused(() => uprobe(WORKLOAD, "bpfbook_name", { columns: ["ppid"] }).start()));
  await check("uprobe read current", () => refused(() => uprobe(WORKLOAD, "bpfbook_name", { read: { parent: "current.real_parent.tgid" } } as never).start()));

  // ---- kernel functions: fentry loads here (kprobes are refused: LOCKDOWN_KPROBES)
  for (const via of ["fentry", "kprobe"] as const) {
    await check(`${via} args only`, async () => {
      const { t, pid, exit } = await events((pid) => kprobe("vfs_read", { via, where: { pid }, args: ["count"] } as never).start() as never, ["read", DATA, String(N)]);
      return { exit, pid, rows: t.numRows(), count: uniq(t, "count"), pids: uniq(t, "pid"), comm: uniq(t, "comm") };
    });
    await check(`${via} user string`, async () => {
      // filename is `const char __user *`; 6.1's BTF does not say so: user: true
      const { t, pid, exit } = await events((pid) => kprobe("do_sys_openat2", { via, where: { pid }, args: [], read: { fname: { from: "filename", user: true, string: 64 } } } as never).start() as never, open);
      return { exit, pid, rows: t.numRows(), fname: uniq(t, "fname"), readFailed: t.stats.readFailed ?? 0 };
    });
    await check(`${via} kernel path`, () => refused(() => kprobe("vfs_read", { via, read: { name: "file->f_path.dentry->d_name.name" } } as never).start() as never));
    await check(`${via} ppid`, () => refused(() => kprobe("vfs_read", { via, args: [], columns: ["ppid"] } as never).start() as never));
  }
}

await main();
console.log(`${TAG} ${JSON.stringify(report)}`);
process.exit(0);
