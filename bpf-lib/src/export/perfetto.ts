/* exportPerfetto: events with durations as Chrome/Perfetto trace event JSON, which
 * ui.perfetto.dev and chrome://tracing open: latency()/pair() rows as complete ("X")
 * events on their thread's track, and sched_switch streams as what ran on each CPU
 * and each thread's time off the CPU; process and thread names as metadata ("M"). */
import type { ColumnTable } from "arquero";
import { InvalidOptionError } from "../errors.js";
import { nameList, optionsObject } from "../options/shapes.js";
import { jsonValue, requireColumns, statsOf, tableArgument } from "./columns.js";
import { writePrivate, type WriteOptions } from "../engine/write-private.js";

/** One event of the Trace Event Format: "X" (complete: ts and dur) or "M" (metadata: a name for a process or thread). Times in µs. */
export interface TraceEvent {
  name: string;
  ph: "X" | "M";
  /** Start, µs (CLOCK_MONOTONIC: the tables' `ts` / 1000); 0 for metadata. */
  ts: number;
  /** Length, µs ("X" only). */
  dur?: number;
  pid: number;
  tid: number;
  cat?: string;
  args?: Record<string, unknown>;
}

/** A trace event file: what exportPerfetto() returns and writes. */
export interface TraceEventFile {
  traceEvents: TraceEvent[];
  displayTimeUnit: "ns";
  /** The table's source and the clock, shown by Perfetto's trace info page. */
  metadata: Record<string, string>;
}

export interface PerfettoOptions extends WriteOptions {
  /** Also write the JSON to this file (mode 0600 unless `mode` says otherwise). */
  path?: string;
  /**
   * "spans": one complete event per row, ending at `ts` and lasting `duration` ns
   * (latency()/pair() rows); "sched": spans derived from consecutive sched:sched_switch
   * rows. Default: "sched" when the table has sched_switch's prev_pid and next_pid, else "spans".
   */
  kind?: "spans" | "sched";
  /** spans: what each span is called: a column's value, or this text when no column has that name. Default: the `syscall` or `probe` column, else the table's `stats.source`, else "span". */
  name?: string;
  /** spans: the column holding each span's length in ns (default "latency"); `ts` is where it ended. */
  duration?: string;
  /** spans: the columns naming the process and thread whose track a span goes on (default "pid" and "tid"; e.g. "start_pid" for block requests, whose completion runs in whatever task the interrupt hit). */
  pid?: string;
  tid?: string;
  /** spans: the columns copied into each event's `args` (default: every column but ts, the duration, and the pid/tid columns). */
  args?: readonly string[];
  /** sched: each thread's time off the CPU as spans on its own track, named by the state it left in (default true). */
  offcpu?: boolean;
  /** sched: the idle task's time on the CPU tracks (default false: idle time shows as gaps). */
  idle?: boolean;
}

/** The process that holds one track per CPU (above pid_max, so no real process has it). */
export const CPU_TRACKS_PID = 0x7f000000;
/** Thread ids of the CPU tracks: CPU n is CPU_TRACKS_PID + 1 + n (thread ids must not collide with real threads'). */
export const CPU_TRACK_TID_BASE = CPU_TRACKS_PID + 1;

const WHAT = "exportPerfetto()";
const SCHED_COLUMNS = ["ts", "cpu", "prev_pid", "prev_comm", "prev_state", "next_pid", "next_comm"];

/** ns → µs, the Trace Event Format's unit (fractions keep the ns). */
const us = (ns: number) => ns / 1000;

/** Names for processes and threads, as "M" events: the process is named after its main thread (tid == pid) when seen, else its first thread. */
class Names {
  readonly #threads = new Map<string, { pid: number; tid: number; name: string }>();
  readonly #processes = new Map<number, { name: string; main: boolean }>();
  thread(pid: number, tid: number, name: string): void {
    this.#threads.set(`${pid}:${tid}`, { pid, tid, name });
    const p = this.#processes.get(pid);
    if (!p || (!p.main && tid === pid)) this.#processes.set(pid, { name, main: tid === pid });
  }
  process(pid: number, name: string): void {
    this.#processes.set(pid, { name, main: true });
  }
  events(): TraceEvent[] {
    const out: TraceEvent[] = [];
    for (const [pid, p] of this.#processes) out.push({ name: "process_name", ph: "M", ts: 0, pid, tid: pid, args: { name: p.name } });
    for (const t of this.#threads.values()) out.push({ name: "thread_name", ph: "M", ts: 0, pid: t.pid, tid: t.tid, args: { name: t.name } });
    return out;
  }
}

/**
 * Events with durations as Chrome/Perfetto trace event JSON (open it in ui.perfetto.dev):
 * latency()/pair() rows as complete events on their thread's track (`kind: "spans"`),
 * or a sched:sched_switch stream as the task running on each CPU, one track per CPU,
 * and each thread's time off the CPU on the thread's track (`kind: "sched"`). Process
 * and thread names come from the comm columns. Times are µs of CLOCK_MONOTONIC (the
 * `ts` column's clock). Returns the file's content and writes it to `path`.
 */
export function exportPerfetto(table: ColumnTable, options: PerfettoOptions = {}): TraceEventFile {
  const t = tableArgument(table, WHAT);
  const opts = optionsObject(options, WHAT, '{ path: "trace.json" }');
  const cols = t.columnNames();
  const kind = opts.kind ?? (cols.includes("prev_pid") && cols.includes("next_pid") ? "sched" : "spans");
  if (kind !== "spans" && kind !== "sched") throw new InvalidOptionError(WHAT, "kind", opts.kind, '"spans" or "sched"');
  const stats = statsOf<{ source: string; epochOffsetNs: number }>(t);
  const events = kind === "sched" ? schedEvents(t, opts) : spanEvents(t, opts, stats?.source);
  const file: TraceEventFile = {
    traceEvents: events,
    displayTimeUnit: "ns",
    metadata: {
      source: stats?.source ?? "bpfbook table",
      clock: "CLOCK_MONOTONIC, µs",
      ...(stats?.epochOffsetNs !== undefined ? { epochOffsetNs: String(stats.epochOffsetNs) } : {}),
    },
  };
  if (opts.path !== undefined) writePrivate(opts.path, JSON.stringify(file), opts);
  return file;
}

/** latency()/pair() rows: each one span that ended at ts. */
function spanEvents(t: ColumnTable, opts: PerfettoOptions, source: string | undefined): TraceEvent[] {
  const cols = t.columnNames();
  const durCol = opts.duration ?? "latency";
  const pidCol = opts.pid ?? "pid", tidCol = opts.tid ?? "tid";
  requireColumns(t, WHAT, ["ts", durCol, pidCol, tidCol], `events with durations (latency()/pair() rows, or name the columns with the duration, pid and tid options)`);
  const argCols = nameList(opts.args, "args", WHAT) ?? cols.filter((c) => c !== "ts" && c !== durCol && c !== pidCol && c !== tidCol);
  requireColumns(t, WHAT, argCols, "the columns named in args");
  const nameCol = opts.name !== undefined ? (cols.includes(opts.name) ? opts.name : null) : cols.find((c) => c === "syscall" || c === "probe") ?? null;
  const fixedName = opts.name ?? source ?? "span";
  // the thread's name: its comm (start_comm for start_pid)
  const commCol = [pidCol.replace(/pid$/, "comm"), "comm"].find((c) => cols.includes(c) && (c !== "comm" || pidCol === "pid"));

  const ts = t.array("ts") as ArrayLike<number>;
  const dur = t.array(durCol) as ArrayLike<number | bigint>;
  const pids = t.array(pidCol) as ArrayLike<number>, tids = t.array(tidCol) as ArrayLike<number>;
  const names = nameCol ? (t.array(nameCol) as ArrayLike<unknown>) : null;
  const comms = commCol ? (t.array(commCol) as ArrayLike<string>) : null;
  const argArrays = argCols.map((c) => [c, t.array(c) as ArrayLike<unknown>] as const);
  const cat = source ?? "bpfbook";
  const meta = new Names();
  const spans: TraceEvent[] = [];
  for (let i = 0; i < ts.length; i++) {
    const d = Number(dur[i]);
    const pid = Number(pids[i]), tid = Number(tids[i]);
    const args: Record<string, unknown> = {};
    for (const [c, a] of argArrays) args[c] = jsonValue(a[i]);
    spans.push({ name: names ? String(names[i]) : fixedName, ph: "X", ts: us(Number(ts[i]) - d), dur: us(d), pid, tid, cat, args });
    if (comms) meta.thread(pid, tid, String(comms[i]));
  }
  spans.sort((a, b) => a.ts - b.ts);
  return [...meta.events(), ...spans];
}

/** A task switched in on a CPU, until the next switch there. */
interface Running {
  tid: number;
  comm: string;
  since: number;
  prio: number;
}

/** sched_switch rows: what ran on each CPU between consecutive switches there, and each thread's time off the CPU. */
function schedEvents(t: ColumnTable, opts: PerfettoOptions): TraceEvent[] {
  requireColumns(t, WHAT, SCHED_COLUMNS, "sched:sched_switch rows");
  const cols = t.columnNames();
  const n = t.numRows();
  const ts = t.array("ts") as ArrayLike<number>, cpus = t.array("cpu") as ArrayLike<number>;
  const prevPid = t.array("prev_pid") as ArrayLike<number>, nextPid = t.array("next_pid") as ArrayLike<number>;
  const prevComm = t.array("prev_comm") as ArrayLike<string>, nextComm = t.array("next_comm") as ArrayLike<string>;
  const prevState = t.array("prev_state") as ArrayLike<number>;
  const stateNames = cols.includes("prev_state_name") ? (t.array("prev_state_name") as ArrayLike<string>) : null;
  const nextPrio = cols.includes("next_prio") ? (t.array("next_prio") as ArrayLike<number>) : null;
  // The switch runs in the task switched out: its row's pid is that thread's process.
  const tgid = new Map<number, number>();
  if (cols.includes("pid")) {
    const pid = t.array("pid") as ArrayLike<number>;
    for (let i = 0; i < n; i++) tgid.set(Number(prevPid[i]), Number(pid[i]));
  }
  const processOf = (tid: number) => tgid.get(tid) ?? tid;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ts[a] - ts[b] || a - b);

  const meta = new Names();
  meta.process(CPU_TRACKS_PID, "CPUs");
  const sortIndex: TraceEvent[] = [{ name: "process_sort_index", ph: "M", ts: 0, pid: CPU_TRACKS_PID, tid: CPU_TRACKS_PID, args: { sort_index: -1 } }];
  const spans: TraceEvent[] = [];
  const running = new Map<number, Running>();
  const off = new Map<number, { since: number; cpu: number; state: number; stateName: string | null }>();
  const offcpu = opts.offcpu !== false, idle = opts.idle === true;
  const seenCpus = new Set<number>();
  for (const i of order) {
    const now = Number(ts[i]), cpu = Number(cpus[i]);
    const prev = Number(prevPid[i]), next = Number(nextPid[i]);
    if (!seenCpus.has(cpu)) {
      seenCpus.add(cpu);
      meta.thread(CPU_TRACKS_PID, CPU_TRACK_TID_BASE + cpu, `CPU ${cpu}`);
      sortIndex.push({ name: "thread_sort_index", ph: "M", ts: 0, pid: CPU_TRACKS_PID, tid: CPU_TRACK_TID_BASE + cpu, args: { sort_index: cpu } });
    }
    // what ran here since the last switch on this CPU (unknown before the first one)
    const r = running.get(cpu);
    if (r && r.tid === prev && (prev !== 0 || idle)) {
      spans.push({
        name: r.comm, ph: "X", ts: us(r.since), dur: us(now - r.since), pid: CPU_TRACKS_PID, tid: CPU_TRACK_TID_BASE + cpu, cat: "sched",
        args: { pid: processOf(r.tid), tid: r.tid, prio: r.prio, end_state: stateNames ? stateNames[i] : Number(prevState[i]) },
      });
    }
    running.set(cpu, { tid: next, comm: String(nextComm[i]), since: now, prio: nextPrio ? Number(nextPrio[i]) : 0 });
    if (prev !== 0) meta.thread(processOf(prev), prev, String(prevComm[i]));
    if (next !== 0) meta.thread(processOf(next), next, String(nextComm[i]));
    if (!offcpu) continue;
    const o = next !== 0 ? off.get(next) : undefined;
    if (o) {
      off.delete(next);
      spans.push({
        name: o.stateName !== null ? `off-CPU (${o.stateName})` : "off-CPU", ph: "X", ts: us(o.since), dur: us(now - o.since), pid: processOf(next), tid: next, cat: "sched",
        args: { prev_state: o.state, ...(o.stateName !== null ? { state: o.stateName } : {}), from_cpu: o.cpu, to_cpu: cpu },
      });
    }
    if (prev !== 0) off.set(prev, { since: now, cpu, state: Number(prevState[i]), stateName: stateNames ? String(stateNames[i]) : null });
  }
  spans.sort((a, b) => a.ts - b.ts);
  return [...meta.events(), ...sortIndex, ...spans];
}
