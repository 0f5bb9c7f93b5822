/* A group of tracepoints against one tracepoint on the same workload: `workload ids N`
 * (N rounds of getppid, getpid, gettid), traced as raw_syscalls:sys_enter (one program,
 * one layout) and as syscalls:sys_enter_{getppid,getpid,gettid} (three programs sharing
 * one ring, decoded per probe id and interleaved). Three figures each:
 *  - decoder: the decoder alone (span + take) over a hand-made ring of 1 M 48-byte events of
 *    one thread (round-robin probe ids for the group): the least user CPU time of 20 rounds
 *    each, the two alternating (JIT warm-up and a busy machine make single runs vary 2x);
 *  - backlog: the workload runs while the event loop is blocked (spawnSync), so the ring
 *    holds every event; then the time to drain and decode it into a table (wall and CPU);
 *  - live: first event → finished table while the workload runs.
 * The CPU figures hold up on a busy machine; the wall-clock ones do not.
 * `node dist/bench/group.js [rounds]`. Not a test: figures vary with the machine. */
import { spawnSync } from "node:child_process";
import { anyTracepoint, tracepoints, type Trace } from "../bpf-lib/src/index.js";
import { EventDecoder } from "../bpf-lib/src/engine/decoder.js";
import { GroupDecoder } from "../bpf-lib/src/engine/group-decoder.js";
import { decoders } from "../bpf-lib/src/engine/fields.js";
import { HDR, HDR_SIZE } from "../bpf-lib/src/engine/layout.js";
import { renamedWorkload, workload } from "../test/helpers/workload.js";

const ROUNDS = Number(process.argv[2] ?? 500_000);
const EVENTS = ROUNDS * 3;
const NAME = "bpfbook-ids";
const binary = renamedWorkload(NAME);

type Start = (where: { pid?: number; comm?: string }, bufferBytes: number) => Trace;
const single: Start = (where, bufferBytes) => anyTracepoint("raw_syscalls:sys_enter", { fields: ["id"], where, bufferBytes }).start();
const group: Start = (where, bufferBytes) => tracepoints("syscalls:sys_enter_{getppid,getpid,gettid}", { fields: ["__syscall_nr"], where, bufferBytes }).start();

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

/** A ring of `events` 48-byte events (header + a 4-byte field) of one thread; probe ids 0, 1, 2 in turn for a group. */
function handMadeRing(events: number, group: boolean) {
  const size = 1 << 26;
  const ring = new Uint8Array(size);
  const dv = new DataView(ring.buffer);
  let at = 0;
  for (let n = 0; n < events; n++, at += 56) {
    dv.setUint32(at, 48, true);
    dv.setUint32(at + 8, n, true);
    dv.setUint32(at + 8 + HDR.tid, 1000, true);
    dv.setUint32(at + 8 + HDR.flags, group ? n % 3 : 0, true);
    ring.set([119, 111, 114, 107], at + 8 + HDR.comm);
    dv.setUint32(at + 8 + HDR_SIZE, n, true);
  }
  return { size, at, view: { u8: ring, u32: new Uint32Array(ring.buffer), dv } };
}

/** User CPU seconds of span + take over the ring: the least of `rounds` runs of each, alternating. */
function decoderOnly(events: number, rounds: number): [number, number] {
  const rings = [handMadeRing(events, false), handMadeRing(events, true)];
  const best: [number, number] = [Infinity, Infinity];
  for (let i = 0; i < 2 * rounds; i++) {
    const g = i % 2, { size, at, view } = rings[g];
    const field = () => [decoders.int("nr", HDR_SIZE, 4, true)];
    const d = g ? new GroupDecoder(view, [0, 1, 2].map(() => ({ eventSize: 48, fields: field() })), ["a", "b", "c"], ["nr"]) : new EventDecoder(view, 48, field());
    const c0 = process.cpuUsage();
    for (let cons = 0; cons < at;) cons = d.span(view.u32, size, cons, at, 1 << 16);
    d.take();
    best[g] = Math.min(best[g], process.cpuUsage(c0).user / 1e6);
  }
  return best;
}

async function backlog(start: Start): Promise<{ rows: number; lost: number; seconds: number; cpu: number }> {
  const trace = start({ comm: NAME }, 1 << 28);
  spawnSync(binary, ["--now", "ids", String(ROUNDS)], { stdio: "ignore" });
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const t = await trace.table();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rows: t.numRows(), lost: t.stats.lost, seconds, cpu: cpuSeconds(c0) };
}

async function live(start: Start): Promise<{ rows: number; lost: number; seconds: number }> {
  const w = workload(["ids", String(ROUNDS)], { binary });
  const trace = start({ pid: w.pid }, 1 << 24);
  await w.go();
  while (trace.received + trace.stats().lost < EVENTS) await new Promise((r) => setTimeout(r, 1));
  const t = await trace.table();
  const ts = t.array("ts") as number[];
  const seconds = (Number(process.hrtime.bigint()) - ts[0]) / 1e9;
  return { rows: t.numRows(), lost: t.stats.lost, seconds };
}

const fmt = (r: { rows: number; lost: number; seconds: number; cpu?: number }) =>
  `${(r.rows / r.seconds / 1e6).toFixed(2)} M events/s${r.cpu ? `, ${(r.rows / r.cpu / 1e6).toFixed(2)} M per CPU s` : ""} (${r.rows} rows, ${r.lost} lost, ${r.seconds.toFixed(3)} s)`;
const DECODED = 1_000_000;
const dec = decoderOnly(DECODED, 20);
for (const [i, name, start] of [[0, "one tracepoint (raw_syscalls:sys_enter)", single], [1, "group of 3 (syscalls:sys_enter_{getppid,getpid,gettid})", group]] as const) {
  console.log(`${name}\n  decoder only:   ${(DECODED / dec[i] / 1e6).toFixed(1)} M events per CPU s (span + take of ${DECODED} events, least of 20)`);
  console.log(`  backlog decode: ${fmt(await backlog(start))}\n  live:           ${fmt(await live(start))}`);
}
