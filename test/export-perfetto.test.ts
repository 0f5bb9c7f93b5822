/* exportPerfetto: a real syscall latency stream (the workload's N getppid calls: N
 * complete events, each exactly its row) and a real sched_switch stream (the
 * workload's 5 sleeps: 5 off-CPU spans in state S; CPU tracks that never overlap),
 * each checked against the Trace Event Format's rules. */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as aq from "arquero";
import { CPU_TRACK_TID_BASE, CPU_TRACKS_PID, exportPerfetto, InvalidArgumentError, liveCount, syscalls, tracepoint } from "../bpf-lib/src/index.js";
import type { TraceEvent, TraceEventFile } from "../bpf-lib/src/index.js";
import { workload } from "./helpers/workload.js";

const dir = mkdtempSync(join(tmpdir(), "bpfbook-perfetto-"));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  assert.equal(liveCount(), 0);
});

/**
 * The Trace Event Format's rules for what we write: every event has a name, a phase, a
 * numeric ts, pid and tid; "X" has dur ≥ 0; "M" names a process or thread (or sorts it).
 * Complete events on one thread must nest (Perfetto and chrome://tracing stack them): two
 * spans on a track either do not overlap or one contains the other.
 */
function validate(f: TraceEventFile): void {
  assert.ok(Array.isArray(f.traceEvents));
  assert.equal(f.displayTimeUnit, "ns");
  const tracks = new Map<string, TraceEvent[]>();
  for (const e of f.traceEvents) {
    assert.equal(typeof e.name, "string", JSON.stringify(e));
    assert.ok(e.ph === "X" || e.ph === "M", JSON.stringify(e));
    for (const k of ["ts", "pid", "tid"] as const) assert.ok(typeof e[k] === "number" && Number.isFinite(e[k]), `${k} of ${JSON.stringify(e)}`);
    assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid) && e.pid >= 0 && e.pid < 2 ** 31 && e.tid >= 0 && e.tid < 2 ** 31);
    if (e.ph === "M") {
      assert.ok(["process_name", "thread_name", "process_sort_index", "thread_sort_index"].includes(e.name), e.name);
      assert.ok(e.name.endsWith("_name") ? typeof e.args?.name === "string" : typeof e.args?.sort_index === "number");
      continue;
    }
    assert.ok(typeof e.dur === "number" && e.dur >= 0, JSON.stringify(e));
    const k = `${e.pid}/${e.tid}`;
    tracks.set(k, [...(tracks.get(k) ?? []), e]);
  }
  // in whole ns, as the µs were written (ns / 1000): adding floats would see overlaps of a rounding error
  const ns = (us: number) => Math.round(us * 1000);
  for (const [k, spans] of tracks) {
    const open: { start: number; end: number; e: TraceEvent }[] = [];
    for (const e of [...spans].sort((a, b) => a.ts - b.ts || b.dur! - a.dur!)) {
      const s = { start: ns(e.ts), end: ns(e.ts) + ns(e.dur!), e };
      while (open.length && open.at(-1)!.end <= s.start) open.pop();
      const parent = open.at(-1);
      assert.ok(!parent || s.end <= parent.end, `track ${k}: ${JSON.stringify(e)} overlaps ${JSON.stringify(parent?.e)} without nesting`);
      open.push(s);
    }
  }
}

describe("exportPerfetto", () => {
  it("syscalls.latency() rows of N getppid calls: N complete events, each its row's span on the workload's thread", async () => {
    const N = 20;
    const w = workload(["getppid", String(N)]);
    const trace = syscalls.latency({ where: { pid: w.pid } }).startEvents({ seconds: 30 });
    assert.equal(await w.go(), 0);
    const t = await trace.table();
    assert.equal(t.numRows(), N, "one row per getppid (the gate's read began before the trace: unmatched)");
    const file = join(dir, "syscalls.json");
    const f = exportPerfetto(t, { path: file });
    assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), f, "the file holds what was returned");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    validate(f);
    const spans = f.traceEvents.filter((e) => e.ph === "X");
    assert.equal(spans.length, N);
    const rows = t.objects() as { ts: number; cpu: number; pid: number; tid: number; comm: string; latency: number }[];
    assert.deepEqual(spans, rows.map((r) => ({
      name: "raw_syscalls:sys_enter → raw_syscalls:sys_exit", ph: "X", ts: (r.ts - r.latency) / 1000, dur: r.latency / 1000, pid: w.pid, tid: w.pid,
      cat: "raw_syscalls:sys_enter → raw_syscalls:sys_exit", args: { cpu: r.cpu, comm: "workload" },
    })), "each event is its row: start = ts − latency, in µs");
    assert.deepEqual(f.traceEvents.filter((e) => e.ph === "M"), [
      { name: "process_name", ph: "M", ts: 0, pid: w.pid, tid: w.pid, args: { name: "workload" } },
      { name: "thread_name", ph: "M", ts: 0, pid: w.pid, tid: w.pid, args: { name: "workload" } },
    ]);
    assert.equal(f.metadata.source, t.stats.source);
    assert.equal(f.metadata.epochOffsetNs, String(t.stats.epochOffsetNs));
    // a name of its own, and fewer args
    const named = exportPerfetto(t, { name: "getppid", args: [] });
    assert.ok(named.traceEvents.filter((e) => e.ph === "X").every((e) => e.name === "getppid" && Object.keys(e.args!).length === 0));
  });

  it("a sched_switch stream: what ran on each CPU (never two at once), and the workload's 5 sleeps as off-CPU spans in state S", async () => {
    const w = workload(["sleep", "20", "5"]);
    const trace = tracepoint("sched:sched_switch", { names: true }).start({ seconds: 30 });
    assert.equal(await w.go(), 0);
    const t = await trace.table();
    assert.equal(t.stats.lost, 0);
    const f = exportPerfetto(t, { path: join(dir, "sched.json") });
    validate(f);
    const x = f.traceEvents.filter((e) => e.ph === "X");
    const off = x.filter((e) => e.pid === w.pid && e.tid === w.pid);
    const sleeps = off.filter((e) => e.args!.state === "S");
    // Each sleep is a switch out in state S (seen: it runs in the workload) and a switch back in, which runs in
    // whatever task was on that CPU: the stream can lack it (switches of some tasks outside this pid namespace
    // never reach the program here, with nothing counted lost), and then there is no span to draw.
    const own = (t.objects() as { ts: number; prev_pid: number; prev_state: number; next_pid: number }[])
      .filter((r) => r.prev_pid === w.pid || r.next_pid === w.pid).sort((a, b) => a.ts - b.ts);
    const sleepsOut = own.filter((r) => r.prev_pid === w.pid && r.prev_state === 1).length;
    const sleepsBack = own.filter((r, i) => r.prev_pid === w.pid && r.prev_state === 1 && own[i + 1]?.next_pid === w.pid).length;
    assert.equal(sleepsOut, 5, "the workload's 5 nanosleeps switch it out in state S");
    assert.ok(sleepsBack >= 4, `${sleepsBack} of 5 switches back in were seen`);
    assert.equal(sleeps.length, sleepsBack, JSON.stringify(off));
    for (const s of sleeps) {
      assert.equal(s.name, "off-CPU (S)");
      assert.equal(s.args!.prev_state, 1);
      assert.ok(s.dur! >= 20_000 && s.dur! < 1_000_000, `a 20 ms sleep lasted ${s.dur} µs`);
    }
    // CPU tracks: one per CPU seen, named; the workload ran there between its switches
    const cpuTracks = f.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name" && e.pid === CPU_TRACKS_PID);
    const cpus = new Set(Array.from(t.array("cpu") as ArrayLike<number>));
    assert.deepEqual(cpuTracks.map((e) => e.tid).sort((a, b) => a - b), [...cpus].sort((a, b) => a - b).map((c) => CPU_TRACK_TID_BASE + c));
    assert.deepEqual(cpuTracks.map((e) => e.args!.name).sort(), [...cpus].sort((a, b) => a - b).map((c) => `CPU ${c}`));
    const ran = x.filter((e) => e.pid === CPU_TRACKS_PID && e.args!.tid === w.pid);
    const runsToSleep = own.filter((r, i) => r.prev_pid === w.pid && r.prev_state === 1 && own[i - 1]?.next_pid === w.pid).length;
    assert.ok(runsToSleep >= 4, `${runsToSleep} of 5 runs ending in a sleep were seen from their start`);
    assert.equal(ran.filter((e) => e.args!.end_state === "S").length, runsToSleep, "runs ended by a sleep");
    assert.ok(ran.every((e) => e.name === "workload" && e.args!.pid === w.pid));
    assert.ok(!x.some((e) => e.pid === CPU_TRACKS_PID && e.args!.tid === 0), "idle time is left out by default");
    // without state names, the spans say the number; without offcpu, only CPU tracks
    const plain = exportPerfetto(t.select(aq.not("prev_state_name")));
    const plainOff = plain.traceEvents.filter((e) => e.ph === "X" && e.tid === w.pid && e.args!.prev_state === 1);
    assert.equal(plainOff.length, sleepsBack);
    assert.ok(plainOff.every((e) => e.name === "off-CPU"));
    const cpuOnly = exportPerfetto(t, { offcpu: false, idle: true });
    validate(cpuOnly);
    assert.ok(cpuOnly.traceEvents.every((e) => e.ph === "M" || e.pid === CPU_TRACKS_PID));
    // a switch closes the span of what its CPU's previous switch started, when that is the task it switches out
    // (not so for each CPU's first switch, nor where the stream skipped a switch: tasks outside this pid namespace can be missing)
    const last = new Map<number, number>(), closes: number[] = [];
    const byTime = (t.objects() as { ts: number; cpu: number; prev_pid: number; next_pid: number }[]).sort((a, b) => a.ts - b.ts);
    for (const r of byTime) {
      if (last.get(r.cpu) === r.prev_pid) closes.push(r.prev_pid);
      last.set(r.cpu, r.next_pid);
    }
    const idleCloses = closes.filter((p) => p === 0);
    assert.ok(closes.length >= t.numRows() * 0.9, `${closes.length} of ${t.numRows()} switches close a span`);
    assert.equal(cpuOnly.traceEvents.filter((e) => e.ph === "X").length, closes.length, "one span per switch that ends one");
    assert.equal(cpuOnly.traceEvents.filter((e) => e.ph === "X" && e.args!.tid === 0).length, idleCloses.length, "idle: true keeps the idle task's spans");
    assert.equal(x.filter((e) => e.pid === CPU_TRACKS_PID).length, closes.length - idleCloses.length, "by default, all but the idle task's");
  });

  it("columns by option: a duration, a process and thread other than the end's, a name column", () => {
    const t = aq.table({ ts: [5000, 9000], latency: [1000, 3000], pid: [1, 1], tid: [1, 1], start_pid: [42, 43], start_comm: ["dd", "cp"], op: ["R", "W"] });
    const f = exportPerfetto(t, { pid: "start_pid", tid: "start_pid", name: "op" });
    validate(f);
    assert.deepEqual(f.traceEvents, [
      { name: "process_name", ph: "M", ts: 0, pid: 42, tid: 42, args: { name: "dd" } },
      { name: "process_name", ph: "M", ts: 0, pid: 43, tid: 43, args: { name: "cp" } },
      { name: "thread_name", ph: "M", ts: 0, pid: 42, tid: 42, args: { name: "dd" } },
      { name: "thread_name", ph: "M", ts: 0, pid: 43, tid: 43, args: { name: "cp" } },
      { name: "R", ph: "X", ts: 4, dur: 1, pid: 42, tid: 42, cat: "bpfbook", args: { pid: 1, tid: 1, start_comm: "dd", op: "R" } },
      { name: "W", ph: "X", ts: 6, dur: 3, pid: 43, tid: 43, cat: "bpfbook", args: { pid: 1, tid: 1, start_comm: "cp", op: "W" } },
    ]);
    const d = exportPerfetto(aq.table({ ts: [10], took: [BigInt(4)], pid: [1], tid: [2], addr: [2n ** 60n + 1n] }), { duration: "took" });
    assert.deepEqual(d.traceEvents.at(-1), { name: "span", ph: "X", ts: 0.006, dur: 0.004, pid: 1, tid: 2, cat: "bpfbook", args: { addr: "1152921504606846977" } });
  });

  it("a table without durations is a named error listing the columns it needs and has", () => {
    assert.throws(() => exportPerfetto(aq.table({ ts: [1], pid: [1], tid: [1] })), (e: Error) => e instanceof InvalidArgumentError && /needs events with durations .*: columns ts, latency, pid, tid; this table lacks latency \(it has ts, pid, tid\)/.test(e.message));
    assert.throws(() => exportPerfetto(aq.table({ ts: [1], cpu: [0], prev_pid: [1], next_pid: [2] })), /needs sched:sched_switch rows: columns ts, cpu, prev_pid, prev_comm, prev_state, next_pid, next_comm; this table lacks prev_comm, prev_state, next_comm/);
    assert.throws(() => exportPerfetto(aq.table({ ts: [1], latency: [1], pid: [1], tid: [1] }), { args: ["nope"] }), /columns named in args: columns nope; this table lacks nope/);
    assert.throws(() => exportPerfetto(aq.table({ ts: [1] }), { kind: "flows" as "spans" }), /kind must be "spans" or "sched"/);
  });
});
