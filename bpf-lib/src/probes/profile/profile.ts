/* CPU profiling: sample what runs on every CPU at `hz` (a cpu-clock perf event per
 * CPU running profile.bpf.c), count samples per (pid, comm, kernel stack, user
 * stack) in the kernel, and turn them into folded stacks (Brendan Gregg's
 * format: root→leaf frames joined by ";", kernel frames suffixed "_[k]") in an
 * Arquero table that plot.flamegraph() draws. User addresses are named from the
 * process's mappings, read while it runs (they are gone once it exits).
 * offcpu() is the same machinery on sched_switch: time off the CPU per stack. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { BpfObject } from "../../libbpf/object.js";
import type { Link } from "../../libbpf/link.js";
import { possibleCpus } from "../../libbpf/map.js";
import { bpfObjectPath } from "../../paths.js";
import { requireTracingPrivileges } from "../../privileges.js";
import { InvalidArgumentError, InvalidOptionError } from "../../errors.js";
import { collectOptions, stopOptions } from "../../options/durations.js";
import { cpuList } from "../../options/cpus.js";
import { integerIn } from "../../options/shapes.js";
import { processId } from "../../options/ranges.js";
import { closeFd } from "../../ffi/libc.js";
import { track, untrack } from "../../lifecycle.js";
import { releaseLinks, removeAbort } from "../../engine/release.js";
import { clocks } from "../../engine/stats.js";
import { started, stopped, type Running, type RunningStats, type StoppedBy } from "../../engine/running.js";
import type { StopOptions } from "../../engine/trace.js";
import { cString } from "../../engine/strings.js";
import { KernelSymbols } from "../../symbols/kallsyms.js";
import { snapshotProcess, UserSymbolizer, type ProcessImage } from "../../symbols/process.js";
import { demangle } from "../../symbols/demangle.js";
import { onlineCpus, openSamplingEvents } from "./perf.js";

export interface ProfileOptions extends StopOptions {
  /** Samples per second on each CPU (default 99: not a divisor of common timer rates, so it does not beat with them). */
  hz?: number;
  /** Only this process (tgid): other samples are dropped in the kernel. Default: every process. */
  pid?: number;
  /** Record kernel stacks (default true). */
  kernel?: boolean;
  /** Record user stacks (default true). */
  user?: boolean;
  /** Keep samples of the idle task (pid 0, "swapper/N"); default false: counted in stats.idle only. */
  idle?: boolean;
  /** Distinct stacks the kernel's stack map holds (default 16384; stacks that collide in it are copied to a second map of the same size); more are counted as lost. */
  maxStacks?: number;
  /** Distinct (pid, comm, stacks) keys counted (default 40960); more are counted as dropped. */
  maxKeys?: number;
  /** CPUs to sample (default: every online CPU). */
  cpus?: readonly number[];
  /** Demangle C++ names (`_ZN2v88internal4Heap8ScavengeEv` → `v8::internal::Heap::Scavenge`) with c++filt when it is installed. Default true. */
  demangle?: boolean;
}

export interface OffcpuOptions extends Omit<ProfileOptions, "hz" | "idle" | "cpus"> {
  /** Also count time a runnable task spent preempted (waiting for a CPU), not only time blocked (sleeping, waiting for I/O or a lock). Default false. */
  preempted?: boolean;
  /** Ignore off-CPU periods shorter than this many ns (default 1000). */
  minNs?: number;
  /** Threads off the CPU at once that can be tracked (default 65536); more are counted in stats.dropped. */
  maxThreads?: number;
}

export interface ProfileStats {
  source: string;
  /** "cpu": sampled on-CPU stacks (profile); "offcpu": time off the CPU per stack (offcpu). */
  kind: "cpu" | "offcpu";
  /** Samples in the table (the sum of `count`); for offcpu, the off-CPU periods counted. */
  samples: number;
  /** offcpu: the total time off the CPU in the table, ns (the sum of `ns`). */
  ns?: number;
  /** Samples in the table whose kernel or user stack could not be recorded (the stack maps were full): their frames show as "[lost stack]". */
  lost: number;
  /** Samples not counted at all because the counts map was full (raise maxKeys). */
  dropped: number;
  /** Samples of the idle task left out (see the idle option). */
  idle: number;
  /** Samples of other processes (with a pid filter). */
  filtered: number;
  seconds: number;
  /** Samples per second per CPU (0 for offcpu). */
  hz: number;
  /** CPUs sampled. */
  cpus: number;
  /** Distinct stacks recorded. */
  stacks: number;
  /** Of those, stacks that collided in the kernel's stack map and were copied aside instead (see docs/probes.md). */
  spilled: number;
  /** "ok"; "hidden" when /proc/kallsyms shows zeros (kptr_restrict: kernel frames stay addresses); "off" without kernel stacks. */
  kernelSymbols: "ok" | "hidden" | "off";
  /** Processes whose mappings could not be read (they exited before they were looked at): their user frames stay addresses. */
  exited: number[];
  startNs: number;
  epochOffsetNs: number;
  stoppedBy: StoppedBy;
}

/** Folded stacks: pid, comm, stack, (ns,) count, most samples (time) first; `.stats` says what was sampled and what was lost. */
export type ProfileTable = ColumnTable & { readonly stats: ProfileStats };

const EFAULT = 14, EEXIST = 17;
const MAX_DEPTH = 127;
const PS = { samples: 0, idle: 1, filtered: 2, dropped: 3, kstackLost: 4, ustackLost: 5 } as const;
const PS_COUNT = 6;
const KEY_SIZE = 48;
/** How often newly sampled processes get their mappings read while profiling. */
const SNAPSHOT_MS = 500;
/** How often every sampled process gets them read again (libraries loaded at run time). */
const RESNAPSHOT_MS = 5000;

interface Key {
  pid: number;
  kstack: number;
  ustack: number;
  comm: string;
  /** Stacks that collided in the stack map were copied to `spill` under these keys (0n: none). */
  khash: bigint;
  uhash: bigint;
  count: number;
  /** offcpu: ns off the CPU */
  ns: number;
}

function checkOptions(options: ProfileOptions & OffcpuOptions, what: string): void {
  const o = stopOptions(options, what);
  if (o.events !== undefined) throw new InvalidOptionError(what, "events", o.events, "left out: profiles stop on seconds or signal (or stop())");
  if (o.cpus !== undefined) cpuList(o.cpus, onlineCpus(), what);
  integerIn(o.minNs, "minNs", what, 0, Number.MAX_SAFE_INTEGER);
  integerIn(o.maxThreads, "maxThreads", what, 1, 1 << 22);
  integerIn(o.hz, "hz", what, 1, 100000);
  processId(o.pid, "pid", what);
  if (o.kernel === false && o.user === false) throw new InvalidArgumentError("profile needs kernel or user stacks (or both); both are off");
  integerIn(o.maxStacks, "maxStacks", what, 1, 1 << 20);
  integerIn(o.maxKeys, "maxKeys", what, 1, 1 << 22);
}

export class ProfileRun implements Running, Disposable {
  readonly source: string;
  readonly kind: "cpu" | "offcpu";
  readonly hz: number;
  readonly #opts: ProfileOptions & OffcpuOptions;
  readonly #obj: BpfObject;
  readonly #links: Link[] = [];
  readonly #cpus: number;
  readonly #images = new Map<number, ProcessImage>();
  #start = clocks();
  #stopNs = 0;
  #stoppedBy: StoppedBy = "stop";
  #finished = false;
  #table: ProfileTable | null = null;
  #error: unknown = null;
  #timers: NodeJS.Timeout[] = [];
  #done: Promise<void>;
  #resolveDone!: () => void;
  #onAbort = () => void this.stop("signal");

  /** @internal use startProfile() / profile() / startOffcpu() / offcpu() */
  constructor(opts: ProfileOptions & OffcpuOptions, kind: "cpu" | "offcpu" = "cpu") {
    checkOptions(opts, kind === "cpu" ? "startProfile()" : "startOffcpu()");
    requireTracingPrivileges(kind === "cpu" ? "CPU profiling" : "off-CPU profiling");
    this.#opts = opts;
    this.kind = kind;
    this.hz = kind === "cpu" ? opts.hz ?? 99 : 0;
    const who = opts.pid !== undefined ? ` pid ${opts.pid}` : "";
    this.source = kind === "cpu" ? `profile ${this.hz} Hz${who}` : `offcpu${who}`;
    this.#done = new Promise((r) => (this.#resolveDone = r));
    const obj = BpfObject.open(bpfObjectPath("profile"), "profile");
    let fds: { cpu: number; fd: number }[] = [];
    try {
      if (opts.pid !== undefined) obj.setConstant("cfg_pid", opts.pid);
      obj.setConstant("cfg_kernel", opts.kernel === false ? 0 : 1);
      obj.setConstant("cfg_user", opts.user === false ? 0 : 1);
      obj.setConstant("cfg_idle", opts.idle ? 1 : 0);
      obj.map("stacks").setMaxEntries(opts.maxStacks ?? 16384);
      obj.map("spill").setMaxEntries(opts.maxStacks ?? 16384);
      const keys = opts.maxKeys ?? 40960;
      obj.map("counts").setMaxEntries(kind === "cpu" ? keys : 1);
      obj.map("offcounts").setMaxEntries(kind === "offcpu" ? keys : 1);
      obj.map("offstarts").setMaxEntries(kind === "offcpu" ? opts.maxThreads ?? 65536 : 1);
      obj.program("on_sample").setAutoload(kind === "cpu");
      obj.program("on_switch").setAutoload(kind === "offcpu");
      if (kind === "offcpu") {
        obj.setConstant("cfg_preempted", opts.preempted ? 1 : 0);
        obj.setConstant("cfg_min_ns", BigInt(opts.minNs ?? 1000));
      }
      obj.load();
      if (kind === "cpu") {
        fds = openSamplingEvents(this.hz, opts.cpus ?? onlineCpus());
        this.#cpus = fds.length;
        const prog = obj.program("on_sample");
        // Each link owns its perf event fd from here on (libbpf closes it on detach).
        while (fds.length) {
          const { cpu, fd } = fds[0];
          this.#links.push(prog.attachPerfEvent(fd, `cpu-clock ${this.hz} Hz on CPU ${cpu}`));
          fds.shift();
        }
      } else {
        this.#cpus = onlineCpus().length;
        this.#links.push(obj.program("on_switch").attachTracepoint("sched", "sched_switch"));
      }
    } catch (e) {
      for (const l of this.#links) l.dispose();
      for (const { fd } of fds) closeFd(fd);
      obj.dispose();
      throw e;
    }
    this.#obj = obj;
    this.#start = clocks();
    track(this);
    // Attached from here on: whatever throws (a "start" listener, a bad signal object) detaches before it propagates.
    try {
      started(this);
      if (opts.pid !== undefined) this.#snapshot(opts.pid);
      this.#timers.push(setInterval(() => this.#snapshotSeen(), SNAPSHOT_MS));
      if (opts.seconds !== undefined) this.#timers.push(setTimeout(() => void this.stop("seconds"), opts.seconds * 1000));
      if (opts.signal?.aborted) void this.stop("signal");
      opts.signal?.addEventListener("abort", this.#onAbort, { once: true });
    } catch (e) {
      this.#error = e;
      this.#finish("error");
      throw e;
    }
  }

  get running(): boolean {
    return !this.#finished;
  }

  /** Reads a process's mappings now, keeping the last good read once it has exited. */
  #snapshot(pid: number): void {
    if (pid === 0) return;
    const img = snapshotProcess(pid);
    const old = this.#images.get(pid);
    if (img.maps || !old) this.#images.set(pid, img);
  }

  #lastFull = Date.now();

  /** Processes sampled for the first time get their mappings read; every few seconds all of them again (libraries load at run time). */
  #snapshotSeen(): void {
    if (this.#finished || this.#opts.user === false) return;
    try {
      const full = Date.now() - this.#lastFull >= RESNAPSHOT_MS;
      if (full) this.#lastFull = Date.now();
      for (const pid of this.#sampledPids()) if (full || !this.#images.has(pid)) this.#snapshot(pid);
    } catch {
      // the map went away under us: the run is finishing
    }
  }

  #sampledPids(): Set<number> {
    const pids = new Set<number>();
    for (const k of this.#obj.map(this.kind === "cpu" ? "counts" : "offcounts").entries().keys) pids.add(new DataView(k.buffer, k.byteOffset).getUint32(0, true));
    return pids;
  }

  #counters(): { samples: number; idle: number; filtered: number; dropped: number } {
    const ncpu = possibleCpus();
    const map = this.#obj.map("pstats");
    const sum = (idx: number) => {
      const key = new Uint8Array(4);
      new DataView(key.buffer).setUint32(0, idx, true);
      const v = map.lookup(key);
      if (!v) return 0;
      const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
      let s = 0;
      for (let c = 0; c < ncpu; c++) s += Number(dv.getBigUint64(c * 8, true));
      return s;
    };
    void PS_COUNT;
    return { samples: sum(PS.samples), idle: sum(PS.idle), filtered: sum(PS.filtered), dropped: sum(PS.dropped) };
  }

  #readKeys(): Key[] {
    const cpu = this.kind === "cpu";
    const { keys, values } = this.#obj.map(cpu ? "counts" : "offcounts").entries();
    const out: Key[] = [];
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const dv = new DataView(k.buffer, k.byteOffset, KEY_SIZE);
      const v = new DataView(values[i].buffer, values[i].byteOffset, values[i].byteLength);
      // counts: u64 samples; offcounts: { u64 ns; u64 count }
      const count = Number(v.getBigUint64(cpu ? 0 : 8, true));
      const ns = cpu ? 0 : Number(v.getBigUint64(0, true));
      out.push({ pid: dv.getUint32(0, true), kstack: dv.getInt32(4, true), ustack: dv.getInt32(8, true), comm: cString(k, 16, 16), khash: dv.getBigUint64(32, true), uhash: dv.getBigUint64(40, true), count, ns });
    }
    return out;
  }

  /** Symbolizes the counted stacks into a folded-stack table (while the object, and its stack map, is loaded). */
  #makeTable(final: boolean): ProfileTable {
    const keys = this.#readKeys();
    const stackMap = this.#obj.map("stacks"), spill = this.#obj.map("spill");
    const raw = new Map<string, bigint[]>();
    /** A stack by id in `stacks`, or (id −EEXIST) by hash in `spill`. */
    const readStack = (id: number, hash: bigint): bigint[] => {
      const rk = id >= 0 ? `${id}` : `h${hash}`;
      let s = raw.get(rk);
      if (s) return s;
      s = [];
      let v: Uint8Array | undefined;
      if (id >= 0) {
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, id, true);
        v = stackMap.lookup(key);
      } else {
        const key = new Uint8Array(8);
        new DataView(key.buffer).setBigUint64(0, hash, true);
        v = spill.lookup(key);
      }
      if (v) {
        const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
        for (let i = 0; i < MAX_DEPTH && i * 8 < v.byteLength; i++) {
          const ip = dv.getBigUint64(i * 8, true);
          if (ip === 0n) break;
          s.push(ip);
        }
      }
      raw.set(rk, s);
      return s;
    };
    const recorded = (id: number, hash: bigint) => id >= 0 || (id === -EEXIST && hash !== 0n);

    const wantKernel = this.#opts.kernel !== false;
    const ksyms = wantKernel && keys.some((k) => recorded(k.kstack, k.khash)) ? KernelSymbols.load() : null;
    const kframes = new Map<string, string[]>();
    const kernelFrames = (id: number, hash: bigint): string[] => {
      if (!recorded(id, hash)) return id === -EFAULT ? [] : ["[lost stack]_[k]"];
      const ck = `${id}:${hash}`;
      let f = kframes.get(ck);
      if (f) return f;
      f = readStack(id, hash).map((ip, i) => {
        const s = ksyms?.symbolize(i === 0 ? ip : ip - 1n);
        return `${s ? s.name : "0x" + ip.toString(16)}_[k]`;
      }).reverse();
      kframes.set(ck, f);
      return f;
    };

    // The latest mappings of every process still alive (kept: the last good read of those that exited).
    if (final && this.#opts.user !== false) for (const pid of new Set(keys.map((k) => k.pid))) this.#snapshot(pid);
    const users = new UserSymbolizer();
    const uframes = new Map<string, string[]>();
    const exited = new Set<number>();
    const userFrames = (pid: number, id: number, hash: bigint): string[] => {
      if (!recorded(id, hash)) return id === -EFAULT ? [] : ["[lost stack]"];
      const ck = `${pid}:${id}:${hash}`;
      let f = uframes.get(ck);
      if (f) return f;
      const img = this.#images.get(pid) ?? null;
      if (pid !== 0 && !img?.maps) exited.add(pid);
      f = readStack(id, hash).map((ip, i) => users.symbolize(img, Number(ip), i > 0)).reverse();
      // Runs of garbage frames (a frame-pointer walk gone astray) fold into one.
      f = f.filter((x, i) => !(x === "[unknown]" && f![i - 1] === "[unknown]"));
      uframes.set(ck, f);
      return f;
    };

    const frameLists = keys.map((k) => [...userFrames(k.pid, k.ustack, k.uhash), ...kernelFrames(k.kstack, k.khash)]);
    if (this.#opts.demangle !== false) {
      const names = demangle(frameLists.flat());
      if (names.size) for (const f of frameLists) for (let i = 0; i < f.length; i++) f[i] = names.get(f[i]) ?? f[i];
    }
    // Different stack ids can fold to the same names (other call sites in the same functions): merge them.
    const merged = new Map<string, { pid: number; comm: string; stack: string; count: number; ns: number }>();
    let lost = 0;
    for (const [j, k] of keys.entries()) {
      const frames = frameLists[j];
      if ((!recorded(k.kstack, k.khash) && k.kstack !== -EFAULT) || (!recorded(k.ustack, k.uhash) && k.ustack !== -EFAULT)) lost += k.count;
      const stack = frames.length ? frames.join(";") : "[unknown]";
      const mk = `${k.pid}\0${k.comm}\0${stack}`;
      const row = merged.get(mk);
      if (row) {
        row.count += k.count;
        row.ns += k.ns;
      } else {
        merged.set(mk, { pid: k.pid, comm: k.comm, stack, count: k.count, ns: k.ns });
      }
    }
    const cpu = this.kind === "cpu";
    const rows = [...merged.values()].sort((a, b) => (cpu ? b.count - a.count : b.ns - a.ns) || a.pid - b.pid || (a.stack < b.stack ? -1 : 1));
    const t = aq.table({
      pid: rows.map((r) => r.pid),
      comm: rows.map((r) => r.comm),
      stack: rows.map((r) => r.stack),
      ...(cpu ? {} : { ns: rows.map((r) => r.ns) }),
      count: rows.map((r) => r.count),
    });
    const c = this.#counters();
    const samples = keys.reduce((s, k) => s + k.count, 0);
    const stats: ProfileStats = {
      source: this.source, kind: this.kind, samples, ...(cpu ? {} : { ns: keys.reduce((s, k) => s + k.ns, 0) }), lost, dropped: c.dropped, idle: c.idle, filtered: c.filtered,
      seconds: ((this.#stopNs || clocks().monoNs) - this.#start.monoNs) / 1e9, hz: this.hz, cpus: this.#cpus,
      stacks: raw.size, spilled: [...raw.keys()].filter((k) => k.startsWith("h")).length, kernelSymbols: !wantKernel ? "off" : ksyms?.hidden ? "hidden" : "ok",
      exited: [...exited].sort((a, b) => a - b),
      startNs: this.#start.monoNs, epochOffsetNs: this.#start.epochOffsetNs, stoppedBy: this.#stoppedBy,
    };
    Object.defineProperty(t, "stats", { value: Object.freeze(stats), enumerable: false });
    return t as ProfileTable;
  }

  /** The stacks so far, symbolized, without stopping. */
  snapshot(): ProfileTable {
    if (this.#table) return this.#table;
    return this.#makeTable(false);
  }

  #finish(by: StoppedBy): void {
    if (this.#finished) return;
    try {
      this.#finishWork(by);
    } finally {
      // whatever threw above (a dispose, a "stop" listener), stop() and finished() settle
      this.#finished = true;
      this.#resolveDone();
    }
  }

  #finishWork(by: StoppedBy): void {
    this.#stoppedBy = by;
    for (const t of this.#timers) clearInterval(t);
    removeAbort(this.#opts.signal, this.#onAbort);
    // Detaching closes the perf events: no sample arrives after this.
    const detachError = releaseLinks(this.#links);
    if (detachError) this.#error ??= detachError;
    this.#stopNs = clocks().monoNs;
    try {
      if (!this.#error) this.#table = this.#makeTable(true);
    } catch (e) {
      this.#error = e;
    } finally {
      const error = releaseLinks([this.#obj]);
      if (error) this.#error ??= error;
      untrack(this);
      this.#finished = true;
    }
    const s = this.#table?.stats;
    if (s && (s.lost > 0 || s.dropped > 0)) {
      process.emitWarning(`${this.source}: ${s.lost ? `${s.lost} samples lost their stack (raise maxStacks)` : ""}${s.lost && s.dropped ? "; " : ""}${s.dropped ? `${s.dropped} samples were not counted (raise maxKeys)` : ""}`, { code: "BPFBOOK_PROFILE_LOST" });
    }
    try {
      stopped(this);
    } catch (e) {
      // a throwing "stop" listener: released already; finished() reports it
      this.#error ??= e;
    }
  }

  /** Stops sampling (idempotent) and resolves once the table is made. */
  async stop(by: StoppedBy = "stop"): Promise<void> {
    this.#finish(by);
    await this.#done;
  }

  /** Waits for a stop condition (seconds, signal, or stop()), then returns the folded stacks. */
  async finished(): Promise<ProfileTable> {
    await this.#done;
    if (this.#error) throw this.#error;
    return this.#table!;
  }

  /** Stops now and returns the folded stacks. */
  async table(): Promise<ProfileTable> {
    await this.stop();
    return this.finished();
  }

  result(): ColumnTable | null {
    return this.#table;
  }

  progressStats(): RunningStats {
    const c = this.#table ? { samples: this.#table.stats.samples, dropped: this.#table.stats.dropped } : this.#finished ? { samples: 0, dropped: 0 } : this.#counters();
    return { source: this.source, received: c.samples, lost: c.dropped, seconds: ((this.#stopNs || clocks().monoNs) - this.#start.monoNs) / 1e9, stoppedBy: this.#stoppedBy };
  }

  describe(): string {
    const s = this.#table?.stats;
    if (!s) return `${this.source}: ${this.kind === "cpu" ? "sampling" : "recording"}`;
    const extra = [s.lost ? `${s.lost} lost stacks` : "", s.dropped ? `${s.dropped} dropped` : "", s.exited.length ? `${s.exited.length} processes exited before symbolization` : ""].filter(Boolean);
    const what = s.kind === "cpu" ? `${s.samples} samples in ${this.#table!.numRows()} stacks on ${s.cpus} CPUs` : `${((s.ns ?? 0) / 1e9).toFixed(3)} s off CPU in ${s.samples} periods, ${this.#table!.numRows()} stacks`;
    return `${s.source}: ${what}${extra.length ? ", " + extra.join(", ") : ""}, ${s.seconds.toFixed(2)} s`;
  }

  /** The perf event links (one per CPU) while sampling. */
  get links(): readonly Link[] {
    return this.#links;
  }

  [Symbol.dispose](): void {
    this.#finish("stop");
  }
}

/** Starts sampling; stop it with stop()/table(), or let `seconds`/`signal` end it. */
export function startProfile(opts: ProfileOptions = {}): ProfileRun {
  return new ProfileRun(opts);
}

/** Starts recording off-CPU time per stack; stop it with stop()/table(), or let `seconds`/`signal` end it. */
export function startOffcpu(opts: OffcpuOptions = {}): ProfileRun {
  return new ProfileRun(opts, "offcpu");
}

/**
 * Off-CPU time per stack for `seconds` (or until `signal`): at each context switch
 * the stacks of the thread leaving the CPU are recorded, and when it comes back the
 * time it was away is added to them. Columns pid, comm, stack, ns (time off the
 * CPU), count (off-CPU periods), most time first; draw with
 * plot.flamegraph(t, { value: "ns" }).
 */
export async function offcpu(options: OffcpuOptions = {}): Promise<ProfileTable> {
  checkOptions(options, "offcpu()");
  const opts = collectOptions(options, "offcpu()", "{ seconds: 5 } or { signal }", "startOffcpu()");
  return startOffcpu(opts).finished();
}

/**
 * Profiles for `seconds` (or until `signal`) and returns folded stacks: columns pid,
 * comm, stack (root→leaf, ";"-joined, kernel frames suffixed "_[k]"), count.
 */
export async function profile(options: ProfileOptions = {}): Promise<ProfileTable> {
  checkOptions(options, "profile()");
  const opts = collectOptions(options, "profile()", "{ seconds: 5 } or { signal }", "startProfile()");
  return startProfile(opts).finished();
}

/**
 * Folded-stack text ("stack count" lines), as flamegraph.pl and speedscope read it;
 * prefixes the comm as the root frame when `comm` is set. `value`: the column counted
 * (default "count"; "ns" for offcpu tables).
 */
export function foldedText(t: ColumnTable, opts: { comm?: boolean; value?: string } = {}): string {
  const stacks = t.array("stack") as ArrayLike<string>, counts = t.array(opts.value ?? "count") as ArrayLike<number>;
  const comms = opts.comm ? (t.array("comm") as ArrayLike<string>) : null;
  let out = "";
  for (let i = 0; i < stacks.length; i++) out += `${comms ? comms[i] + ";" : ""}${stacks[i]} ${counts[i]}\n`;
  return out;
}

