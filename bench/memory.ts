/* Memory per retained event: what a finished table holds, per row, for the standard
 * columns (ts, cpu, pid, tid, comm) and for each kind of column a probe can add.
 *
 * Two figures per table: `measured`, the growth of heapUsed + arrayBuffers across building
 * it (every allocation the table keeps, whatever it is), and `structural`, the bytes of its
 * columns counted one by one (typed arrays' byteLength; dictionary strings and string
 * arrays at V8's sizes). They agree when nothing but the columns is kept.
 *
 * The GC must be settled before each reading: V8 frees ArrayBuffer backing stores on a
 * background sweeper after gc() returns, so a reading taken right after one gc() may still
 * count the decoder's discarded working arrays (another 22 bytes per event). We read only
 * once two readings, each after gc() and a macrotask, agree (settled() below).
 *
 *   node --expose-gc dist/bench/run.js memory     (part of `npm run bench`)
 *   node --expose-gc dist/bench/memory.js         (this suite alone; BENCH_MEMORY_EVENTS, BENCH_MEMORY_TRACE_EVENTS) */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { release } from "node:os";
import { pathToFileURL } from "node:url";
import type { ColumnTable } from "arquero";
import { tracepoint } from "../bpf-lib/src/index.js";
import { BpfObject } from "../bpf-lib/src/libbpf/object.js";
import { RingBufferReader } from "../bpf-lib/src/ringbuf/reader.js";
import { EventDecoder, type FieldDecoder } from "../bpf-lib/src/engine/decoder.js";
import { DictColumn } from "../bpf-lib/src/engine/columns.js";
import { decoders } from "../bpf-lib/src/engine/fields.js";
import { toTraceTable } from "../bpf-lib/src/engine/table.js";
import type { TraceStats } from "../bpf-lib/src/engine/stats.js";
import { bpfObjectPath, packageRoot } from "../bpf-lib/src/paths.js";
import { HDR, HDR_SIZE } from "../bpf-lib/src/engine/layout.js";

const ROOT = packageRoot();
const WORKLOAD = join(ROOT, "test", "fixtures", "build", "workload");
/** Rows of the burst and decoder tables: large enough that fixed costs vanish (< 0.01 byte per row). */
const EVENTS = Number(process.env.BENCH_MEMORY_EVENTS ?? 1_000_000);
/** Rows of the real traces (a getppid() loop), which take ~1-2 µs per event to produce. */
const TRACE_EVENTS = Number(process.env.BENCH_MEMORY_TRACE_EVENTS ?? 1_000_000);
/** Events of the warm-up run before each measurement. */
const WARM_UP = 10_000;
/** Two arrayBuffers readings this close (bytes) mean the sweeper is done: 0.06 bytes per event at 1 M rows. */
const SETTLE_TOLERANCE = 64 << 10;

export interface MemoryFigure {
  /** The column measured, on top of the standard ones ("standard" for those alone). */
  column: string;
  kind: string;
  /** burst: the kernel burst producer through the ring; decoder: the field decoders fed a ring built in memory; trace: a real tracepoint trace of a getppid() loop. */
  source: "burst" | "decoder" | "trace";
  rows: number;
  /** heapUsed + arrayBuffers growth per row, GC settled. */
  measured: number;
  /** The columns' own bytes per row. */
  structural: number;
  /** measured minus the standard columns' measured figure from the same source. */
  added: number | null;
  /** What a reading right after a single gc() said (the old method): shows the unsettled sweeper. */
  unsettled: number;
}

export interface MemoryBench { date: string; kernel: string; node: string; standard: MemoryFigure; figures: MemoryFigure[] }

function needGc(): () => void {
  const gc = globalThis.gc;
  if (typeof gc !== "function") throw new Error("the memory bench needs the GC exposed: run node --expose-gc dist/bench/run.js memory");
  return () => void gc();
}

/**
 * heapUsed + arrayBuffers once the GC has settled: gc() and a macrotask (the ArrayBuffer
 * sweeper runs off-thread), repeated until two arrayBuffers readings agree. heapUsed can
 * swing back and forth between two such rounds with nothing retained (225 KB seen), so it
 * is the lower of the last two.
 */
async function settled(): Promise<number> {
  const gc = needGc();
  let prev: NodeJS.MemoryUsage | null = null;
  for (let i = 0; i < 50; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
    const m = process.memoryUsage();
    if (prev && Math.abs(m.arrayBuffers - prev.arrayBuffers) < SETTLE_TOLERANCE) return Math.min(m.heapUsed, prev.heapUsed) + m.arrayBuffers;
    prev = m;
  }
  throw new Error("ArrayBuffer memory did not settle in 50 rounds of gc(): something allocates while the memory bench measures");
}

/** V8's size of a sequential string (no pointer compression in Node's build: 16-byte header), 8-byte aligned. */
function stringBytes(s: string): number {
  const perChar = /^[\u0000-\u00ff]*$/.test(s) ? 1 : 2;
  return (16 + perChar * s.length + 7) & ~7;
}

/** The bytes a table's columns hold, counted one by one. */
export function structuralBytes(t: ColumnTable): number {
  let total = 0;
  for (const name of t.columnNames()) {
    const c = t.column(name) as unknown;
    if (ArrayBuffer.isView(c)) total += c.byteLength;
    else if (c instanceof DictColumn) total += c.codes.byteLength + c.dict.length * 8 + c.dict.reduce((s, v) => s + stringBytes(v), 0);
    else if (Array.isArray(c)) {
      // one tagged pointer per row, plus each row's own string (decoders make a new one per row)
      total += 8 * c.length;
      for (const v of c) if (typeof v === "string") total += stringBytes(v);
    } else throw new Error(`column ${name}: no size rule for ${Object.prototype.toString.call(c)}`);
  }
  return total;
}

function stats(n: number, source: string): TraceStats {
  return { received: n, lost: 0, produced: n, filtered: 0, truncated: 0, seconds: 0, startNs: 0, stopNs: 0, epochOffsetNs: 0, bufferBytes: 0, stoppedBy: "stop", source };
}

/**
 * Builds a table between two settled readings. `build` must keep whatever it needs
 * (the ring, the BPF object) alive from before the first reading, so only what the
 * table holds is counted. Also takes the old single-gc() reading, for comparison.
 */
async function retained(column: string, kind: string, source: MemoryFigure["source"], build: () => Promise<ColumnTable> | ColumnTable): Promise<MemoryFigure> {
  const gc = needGc();
  const m0 = await settled();
  const table = await build();
  gc();
  const quick = process.memoryUsage();
  const m1 = await settled();
  const rows = table.numRows();
  return { column, kind, source, rows, measured: (m1 - m0) / rows, structural: structuralBytes(table) / rows, added: null, unsettled: (quick.heapUsed + quick.arrayBuffers - m0) / rows };
}

/** The standard columns from the kernel's burst producer, through the real ring and decoder. */
async function burstStandard(n: number): Promise<MemoryFigure> {
  const bytes = 2 ** Math.ceil(Math.log2(n * 48 + 4096));
  const obj = BpfObject.open(bpfObjectPath("burst"));
  obj.setConstant("cfg_count", n);
  obj.setConstant("cfg_event_size", HDR_SIZE);
  obj.map("events").setMaxEntries(bytes);
  obj.load();
  const reader = new RingBufferReader(obj.map("events").fd, bytes);
  try {
    obj.program("burst").testRun();
    return await retained("standard", "ts f64, cpu u16, pid i32, tid i32, comm dictionary", "burst", () => {
      const dec = new EventDecoder(reader, HDR_SIZE, [], 1 << 16);
      while (reader.drainSpan(dec) > 0);
      return toTraceTable(dec.take(), stats(n, "burst"));
    });
  } finally {
    reader.close();
    obj.dispose();
  }
}

/** Writes one field's bytes for row `row` at `at`, the field's offset in the whole ring (the event's offset + HDR_SIZE). */
type Fill = (u8: Uint8Array, dv: DataView, at: number, row: number) => void;

/** `value`: what row i must decode to, checked on the last row (a wrong layout would measure the wrong thing). */
interface Synthetic { column: string; kind: string; size: number; decoder: (at: number, eventSize: number) => FieldDecoder | null; fill: Fill | null; value?: (i: number) => unknown }

function putString(u8: Uint8Array, at: number, s: string, room: number): void {
  for (let i = 0; i < s.length && i < room - 1; i++) u8[at + i] = s.charCodeAt(i);
  u8[at + Math.min(s.length, room - 1)] = 0;
}

const path = (i: number) => `/var/lib/bench/data/file-${String(i).padStart(7, "0")}.db`; // 35 chars, like a real path

/** Each kind of record field, at the event's first byte past the header. */
const SYNTHETIC: Synthetic[] = [
  { column: "standard", kind: "no field", size: 0, decoder: () => null, fill: null },
  { column: "u32", kind: "int field, 4 bytes (Uint32Array)", size: 8, decoder: (at) => decoders.int("u32", at, 4, false), fill: (_u, dv, at, i) => dv.setUint32(at, i, true), value: (i) => i },
  { column: "u64", kind: "int field, 8 bytes as numbers (Float64Array)", size: 8, decoder: (at) => decoders.int("u64", at, 8, false), fill: (_u, dv, at, i) => dv.setBigUint64(at, BigInt(i), true), value: (i) => i },
  { column: "u64 bigint", kind: "int field, 8 bytes, bigint: true (BigUint64Array)", size: 8, decoder: (at) => decoders.int("u64", at, 8, false, "bigint"), fill: (_u, dv, at, i) => dv.setBigUint64(at, BigInt(i), true), value: (i) => BigInt(i) },
  { column: "char[16], 16 distinct", kind: "char array (dictionary)", size: 16, decoder: (at) => decoders.chars("name", at, 16), fill: (u8, _dv, at, i) => putString(u8, at, `kworker/${i % 16}`, 16), value: (i) => `kworker/${i % 16}` },
  { column: "char[16], all distinct", kind: "char array (dictionary)", size: 16, decoder: (at) => decoders.chars("name", at, 16), fill: (u8, _dv, at, i) => putString(u8, at, `w${i}`, 16), value: (i) => `w${i}` },
  { column: "user string, 16 distinct", kind: "user string slot, 64 bytes (dictionary)", size: 64, decoder: (at) => decoders.chars("filename", at, 64), fill: (u8, _dv, at, i) => putString(u8, at, path(i % 16), 64), value: (i) => path(i % 16) },
  { column: "user string, all distinct", kind: "user string slot, 64 bytes (dictionary)", size: 64, decoder: (at) => decoders.chars("filename", at, 64), fill: (u8, _dv, at, i) => putString(u8, at, path(i), 64), value: (i) => path(i) },
  {
    column: "__data_loc string, 16 distinct", kind: "__data_loc string (a string per row)", size: 72,
    decoder: (at, eventSize) => decoders.dataLoc("name", at, at + 4, false, true, 0, eventSize),
    fill: (u8, dv, at, i) => { const s = path(i % 16); dv.setUint32(at, ((s.length + 1) << 16) | (HDR_SIZE + 8), true); putString(u8, at + 8, s, 64); },
    value: (i) => path(i % 16),
  },
  {
    column: "__data_loc string, all distinct", kind: "__data_loc string (a string per row)", size: 72,
    decoder: (at, eventSize) => decoders.dataLoc("name", at, at + 4, false, true, 0, eventSize),
    fill: (u8, dv, at, i) => { const s = path(i); dv.setUint32(at, ((s.length + 1) << 16) | (HDR_SIZE + 8), true); putString(u8, at + 8, s, 64); },
    value: (i) => path(i),
  },
];

/** A ring buffer's data area built in memory: n committed records of the standard header plus one field. */
function syntheticRing(n: number, eventSize: number, fill: Fill | null): { u8: Uint8Array; u32: Uint32Array; dv: DataView; size: number } {
  const stride = (eventSize + 15) & ~7;
  const buf = new ArrayBuffer(n * stride);
  const u8 = new Uint8Array(buf), u32 = new Uint32Array(buf), dv = new DataView(buf);
  for (let i = 0, off = 0; i < n; i++, off += stride) {
    dv.setUint32(off, eventSize, true); // record header: length, not busy, not discarded
    const e = off + 8;
    dv.setBigUint64(e + HDR.ts, BigInt(1e12 + i * 500), true);
    dv.setUint32(e + HDR.pid, 4242, true);
    dv.setUint32(e + HDR.tid, 4242, true);
    dv.setUint32(e + HDR.cpu, i & 1, true);
    putString(u8, e + HDR.comm, "workload", 16);
    fill?.(u8, dv, e + HDR_SIZE, i);
  }
  return { u8, u32, dv, size: buf.byteLength };
}

/** One field kind through the engine's own decoders, fed from a ring built in memory. */
async function decoderFigure(s: Synthetic, n: number): Promise<MemoryFigure> {
  const eventSize = HDR_SIZE + s.size;
  const ring = syntheticRing(n, eventSize, s.fill);
  return retained(s.column, s.kind, "decoder", () => {
    const f = s.decoder(HDR_SIZE, eventSize);
    const dec = new EventDecoder(ring, eventSize, f ? [f] : [], 1 << 16);
    dec.span(ring.u32, ring.size, 0, ring.size, Infinity);
    if (dec.n !== n) throw new Error(`decoded ${dec.n} of ${n} synthetic events`);
    const t = toTraceTable(dec.take(), stats(n, "synthetic ring"));
    const got = f ? (t as ColumnTable).get(f.name, n - 1) : undefined, want = s.value?.(n - 1);
    if (got !== want) throw new Error(`${s.column}: the last row decoded to ${String(got)}, not ${String(want)}`);
    return t;
  });
}

interface Started { readonly received: number; stats(): { produced: number; lost: number }; table(): Promise<ColumnTable> }
interface TraceCase { column: string; kind: string; start(pid: number): Started }

const TRACES: TraceCase[] = [
  { column: "standard", kind: "no field", start: (pid) => tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid } }).start() },
  { column: "ppid", kind: "derived read (current->real_parent->tgid)", start: (pid) => tracepoint("syscalls:sys_enter_getppid", { fields: [], columns: ["ppid"], where: { pid } }).start() },
  { column: "kstack", kind: "kernel stack (folded, dictionary)", start: (pid) => tracepoint("syscalls:sys_enter_getppid", { fields: [], columns: ["kstack"], where: { pid } }).start() },
];

/** A real trace of a getppid() loop into one table, after a small warm-up run of the same probe (its code, BTF, tracefs and symbol caches stay for the process). */
async function traceFigure(c: TraceCase, n: number): Promise<MemoryFigure> {
  const run = async (events: number) => {
    const child = spawn(WORKLOAD, ["getppid", String(events)], { stdio: ["pipe", "ignore", "inherit"] });
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    const trace = c.start(child.pid!);
    child.stdin!.end("g");
    await exited;
    // every event the workload made, received or counted lost (a trace that stopped on an error would never get there)
    for (const deadline = Date.now() + 30_000; trace.stats().produced < events || trace.received + trace.stats().lost < events; ) {
      if (Date.now() > deadline) throw new Error(`${c.column}: ${trace.received} of ${events} events after 30 s (stats ${JSON.stringify(trace.stats())})`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return trace.table();
  };
  await run(WARM_UP);
  return retained(c.column, c.kind, "trace", () => run(n));
}

export async function benchMemory(): Promise<MemoryBench> {
  // Warm-ups: the first run of a code path leaves compiled code and type feedback on the heap (~0.2 MB), which is not the table's.
  await burstStandard(WARM_UP);
  const standard = await burstStandard(EVENTS);
  const figures: MemoryFigure[] = [standard];
  const base = { decoder: 0, trace: 0 };
  for (const s of SYNTHETIC) {
    await decoderFigure(s, WARM_UP);
    const f = await decoderFigure(s, EVENTS);
    if (s.column === "standard") base.decoder = f.measured;
    figures.push({ ...f, added: s.column === "standard" ? null : f.measured - base.decoder });
  }
  for (const c of TRACES) {
    const f = await traceFigure(c, TRACE_EVENTS);
    if (c.column === "standard") base.trace = f.measured;
    figures.push({ ...f, added: c.column === "standard" ? null : f.measured - base.trace });
  }
  const out: MemoryBench = { date: new Date().toISOString(), kernel: release(), node: process.version, standard, figures };
  printMemory(out);
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  const file = join(ROOT, "bench", "results", "memory.json");
  writeFileSync(file, JSON.stringify(out, null, 2));
  console.log(`wrote ${file}`);
  return out;
}

export function printMemory(b: MemoryBench): void {
  const f1 = (x: number | null) => (x === null ? "" : x.toFixed(1));
  console.log(`\nmemory per retained event (bytes per row; measured: heapUsed + arrayBuffers growth, GC settled; structural: the columns' own bytes):`);
  console.log("column | kind | source | rows | measured | structural | added over standard | single gc() reading");
  console.log("--- | --- | --- | ---: | ---: | ---: | ---: | ---:");
  for (const f of b.figures) console.log([f.column, f.kind, f.source, f.rows, f1(f.measured), f1(f.structural), f1(f.added), f1(f.unsettled)].join(" | "));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchMemory();
