/* Strings: 2 M openat() events, each carrying its filename (a user-space string the
 * program reads with bpf_probe_read_user_str), into a finished bpfbook table, against
 * the C libbpf consumer reading *the same program*: bpfbook loads and attaches the
 * probe (streamSetup), and hands the C consumer its ring and stats maps as inherited
 * fds. Both wait the same way (bpfbook's policy: edge-triggered epoll, 20 ms hold,
 * the program's wakeup threshold); the C callback interns each filename (one copy per
 * distinct string in an arena, a 32-bit code per event: what bpfbook's dictionary
 * column does) besides copying the header fields.
 *
 *   node dist/bench/run.js strings          (part of `npm run bench`)
 *   BENCH_STRINGS_EVENTS=2000000 BENCH_ROUNDS=3 */
import { spawn, type ChildProcess } from "node:child_process";
import { cOnBpfbookProgram } from "./peers.js";
import { join } from "node:path";
import { tracepoint } from "../bpf-lib/src/index.js";
import { packageRoot } from "../bpf-lib/src/paths.js";
import { HDR_SIZE } from "../bpf-lib/src/engine/layout.js";

const ROOT = packageRoot();
const WORKLOAD = join(ROOT, "test", "fixtures", "build", "workload");
const N = Number(process.env.BENCH_STRINGS_EVENTS ?? 2_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** The file every call opens (O_CREAT), on the tmpfs. */
const PATH = "/tmp/bpfbook-bench-strings-openat";
/** Bytes of the filename slot: the library's default, said explicitly so the C side knows where the string lies. */
const SLOT = 256;

export interface StringsRow { bench: string; who: string; events: number; lost: number; seconds: number; eventsPerSec: number; note?: string }
export interface StringsResult {
  rows: StringsRow[];
  /** Bytes each event takes in the ring: the record plus the ring's 8-byte header. */
  ringBytesPerEvent: number;
  /** bpfbook: heap + array buffers retained per row of the finished table (ts, cpu, pid, tid, comm, filename). */
  tableBytesPerEvent: number;
  /** C: its interning arena (one copy per distinct filename). */
  cDistinctStrings: number;
  cArenaBytes: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function gated(): { child: ChildProcess; go(): Promise<void> } {
  const child = spawn(WORKLOAD, ["openat", PATH, String(N)], { stdio: ["pipe", "ignore", "inherit"] });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return { child, go: () => (child.stdin!.end("g"), exited) };
}

/** The probe both read: the same options make the same program (.rodata). */
const probe = (pid: number) => tracepoint("syscalls:sys_enter_openat", { fields: ["filename"], where: { pid }, stringBytes: SLOT });

async function bpfbook(): Promise<{ row: StringsRow; tableBytesPerEvent: number; eventBytes: number }> {
  const w = gated();
  // the dynamic loader opens libraries before the gate: attach after it is done
  await sleep(150);
  globalThis.gc?.();
  const m0 = process.memoryUsage();
  const p = probe(w.child.pid!);
  // it stops itself once N events are in, as the C consumer does
  const trace = p.start({ events: N });
  await w.go();
  // with events lost it could never receive N: stop once every produced event is accounted for
  const watch = setInterval(() => {
    const s = trace.stats();
    if (s.lost > 0 && trace.received + s.lost >= N) void trace.stop();
  }, 100);
  const t = await trace.finished().finally(() => clearInterval(watch));
  const done = Number(process.hrtime.bigint());
  // the columns themselves (t.array() would copy them into JS arrays, which the memory reading would count)
  const ts = t.column("ts") as unknown as ArrayLike<number>;
  const seconds = (done - ts[0]!) / 1e9;
  const names = t.column("filename") as unknown as { at(i: number): string };
  if (t.numRows() > 0 && (names.at(0) !== PATH || names.at(t.numRows() - 1) !== PATH)) throw new Error(`strings bench: filename decoded as ${names.at(0)}, not ${PATH}`);
  // let V8's ArrayBuffer sweeper finish before reading (bench/memory.ts: one gc() is not enough)
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await sleep(10);
  }
  const m1 = process.memoryUsage();
  const tableBytesPerEvent = (m1.heapUsed - m0.heapUsed + m1.arrayBuffers - m0.arrayBuffers) / t.numRows();
  const row = { bench: "strings openat", who: "bpfbook → Arquero table", events: t.numRows(), lost: t.stats.lost, seconds, eventsPerSec: t.numRows() / seconds, note: "first event → finished table" };
  return { row, tableBytesPerEvent, eventBytes: p.plan().eventBytes };
}

async function c(): Promise<{ row: StringsRow; distinct: number; arenaBytes: number }> {
  const w = gated();
  await sleep(150);
  const p = probe(w.child.pid!);
  const eventBytes = p.plan().eventBytes;
  const res = await cOnBpfbookProgram(p, "hold", N, w.go, ["--str-off", String(eventBytes - SLOT), "--str-len", String(SLOT)]);
  if (res.distinct_strings !== 1) throw new Error(`strings bench: the C consumer saw ${res.distinct_strings} distinct filenames, not 1`);
  const row = { bench: "strings openat", who: "C libbpf, bpfbook's program and wait policy, interning", events: res.received, lost: res.lost, seconds: res.seconds, eventsPerSec: res.events_per_sec, note: "first event's timestamp → last drained" };
  return { row, distinct: res.distinct_strings, arenaBytes: res.string_arena_bytes };
}

export async function benchStrings(): Promise<StringsResult> {
  const b: Awaited<ReturnType<typeof bpfbook>>[] = [], cs: Awaited<ReturnType<typeof c>>[] = [];
  // interleaved rounds: B C B C …
  for (let i = 0; i < ROUNDS; i++) {
    b.push(await bpfbook());
    cs.push(await c());
  }
  const pick = <T extends { row: StringsRow }>(xs: T[]): T => xs.reduce((a, x) => (x.row.eventsPerSec > a.row.eventsPerSec ? x : a));
  const range = (xs: { row: StringsRow }[]) => {
    const r = xs.map((x) => x.row.eventsPerSec).sort((x, y) => x - y);
    return `best of ${xs.length} (range ${(r[0]! / 1e3).toFixed(0)}–${(r[r.length - 1]! / 1e3).toFixed(0)} k/s)`;
  };
  const bb = pick(b), cb = pick(cs);
  return {
    rows: [{ ...bb.row, note: `${bb.row.note}; ${range(b)}` }, { ...cb.row, note: `${cb.row.note}; ${range(cs)}` }],
    ringBytesPerEvent: bb.eventBytes + 8,
    tableBytesPerEvent: Math.min(...b.map((x) => x.tableBytesPerEvent)),
    cDistinctStrings: cb.distinct,
    cArenaBytes: cb.arenaBytes,
  };
}

export function printStrings(s: StringsResult): void {
  console.log(`\nstrings (openat filename, ${N} events): ring ${s.ringBytesPerEvent} bytes per event (header ${HDR_SIZE}, record window, ${SLOT}-byte string slot, ring header 8); bpfbook table ${s.tableBytesPerEvent.toFixed(1)} bytes per retained row; C arena ${s.cDistinctStrings} distinct string(s), ${s.cArenaBytes} bytes (its columns: 8 + 3 × 4 + 8 (comm pointer) + 4 (code) bytes per event)`);
}
