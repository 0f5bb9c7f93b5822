/* A group of tracepoints against one tracepoint on the same workload: `workload ids N`
 * (N rounds of getppid, getpid, gettid), traced as raw_syscalls:sys_enter (one program,
 * one layout) and as syscalls:sys_enter_{getppid,getpid,gettid} (three programs sharing
 * one ring, decoded per probe id and interleaved). Two figures each:
 *  - backlog: the workload runs while the event loop is blocked (spawnSync), so the ring
 *    holds every event; then the time to drain and decode it into a table;
 *  - live: first event → finished table while the workload runs.
 * `node dist/bench/group.js [rounds]`. Not a test: figures vary with the machine. */
import { spawnSync } from "node:child_process";
import { anyTracepoint, tracepoints, type Trace } from "../bpf-lib/src/index.js";
import { renamedWorkload, workload } from "../test/helpers/workload.js";

const ROUNDS = Number(process.argv[2] ?? 500_000);
const EVENTS = ROUNDS * 3;
const NAME = "bpfbook-ids";
const binary = renamedWorkload(NAME);

type Start = (where: { pid?: number; comm?: string }, bufferBytes: number) => Trace;
const single: Start = (where, bufferBytes) => anyTracepoint("raw_syscalls:sys_enter", { fields: ["id"], where, bufferBytes }).start();
const group: Start = (where, bufferBytes) => tracepoints("syscalls:sys_enter_{getppid,getpid,gettid}", { fields: ["__syscall_nr"], where, bufferBytes }).start();

async function backlog(start: Start): Promise<{ rows: number; lost: number; seconds: number }> {
  const trace = start({ comm: NAME }, 1 << 28);
  spawnSync(binary, ["--now", "ids", String(ROUNDS)], { stdio: "ignore" });
  const t0 = process.hrtime.bigint();
  const t = await trace.table();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rows: t.numRows(), lost: t.stats.lost, seconds };
}

async function live(start: Start): Promise<{ rows: number; lost: number; seconds: number }> {
  const w = workload(["ids", String(ROUNDS)], { binary });
  const trace = start({ pid: w.pid }, 1 << 24);
  await w.go();
  while (trace.received + trace.stats().lost < EVENTS) await new Promise((r) => setTimeout(r, 1));
  const t = await trace.table();
  const ts = t.array("ts") as Float64Array;
  const seconds = (Number(process.hrtime.bigint()) - ts[0]) / 1e9;
  return { rows: t.numRows(), lost: t.stats.lost, seconds };
}

const fmt = (r: { rows: number; lost: number; seconds: number }) => `${(r.rows / r.seconds / 1e6).toFixed(2)} M events/s (${r.rows} rows, ${r.lost} lost, ${r.seconds.toFixed(3)} s)`;
for (const [name, start] of [["one tracepoint (raw_syscalls:sys_enter)", single], ["group of 3 (syscalls:sys_enter_{getppid,getpid,gettid})", group]] as const) {
  console.log(`${name}\n  backlog decode: ${fmt(await backlog(start))}\n  live:           ${fmt(await live(start))}`);
}
