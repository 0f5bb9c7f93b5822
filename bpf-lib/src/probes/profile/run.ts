/* ProfileRun: profile.bpf.c loaded and attached (a cpu-clock perf event per CPU, or
 * sched_switch for off-CPU time), counting stacks in the kernel until it stops; the
 * processes it samples get their mappings read while they run. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { BpfObject } from "../../libbpf/object.js";
import type { Link } from "../../libbpf/link.js";
import { possibleCpus } from "../../libbpf/map.js";
import { bpfObjectPath } from "../../paths.js";
import { requireTracingPrivileges } from "../../privileges.js";
import { track, untrack } from "../../lifecycle.js";
import { releaseLinks, removeAbort } from "../../engine/release.js";
import { clocks } from "../../engine/stats.js";
import { started, stopped, type Running, type RunningStats, type StoppedBy } from "../../engine/running.js";
import { cString } from "../../engine/strings.js";
import { snapshotProcess, type ProcessImage } from "../../symbols/process.js";
import { attachSampling, onlineCpus } from "./perf.js";
import type { OffcpuOptions, ProfileOptions, ProfileStats, ProfileTable } from "./types.js";
import { checkOptions } from "./options.js";
import { foldStacks, type Key } from "./symbolize.js";
import { unusedSampleReadMaps } from "./sample-object.js";
import { kernelReadsAllowed } from "./kernel-reads.js";

const PS = { samples: 0, idle: 1, filtered: 2, dropped: 3, kstackLost: 4, ustackLost: 5, recovered: 6, unseen: 7 } as const;
const KEY_SIZE = 48;
/** How often newly sampled processes get their mappings read while profiling. */
const SNAPSHOT_MS = 500;
/** How often every sampled process gets them read again (libraries loaded at run time). */
const RESNAPSHOT_MS = 5000;


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
      obj.program("on_sample_read").setAutoload(false);
      unusedSampleReadMaps(obj);
      if (kind === "offcpu") {
        obj.setConstant("cfg_preempted", opts.preempted ? 1 : 0);
        obj.setConstant("cfg_min_ns", BigInt(opts.minNs ?? 1000));
        obj.setConstant("cfg_recover", kernelReadsAllowed() ? 1 : 0);
      }
      obj.load();
      if (kind === "cpu") {
        this.#links.push(...attachSampling(obj.program("on_sample"), this.hz, opts.cpus ?? onlineCpus()));
        this.#cpus = this.#links.length;
      } else {
        this.#cpus = onlineCpus().length;
        this.#links.push(obj.program("on_switch").attachTracepoint("sched", "sched_switch"));
      }
    } catch (e) {
      for (const l of this.#links) l.dispose();
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

  #counters(): { samples: number; idle: number; filtered: number; dropped: number; recovered: number; unseen: number } {
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
    return { samples: sum(PS.samples), idle: sum(PS.idle), filtered: sum(PS.filtered), dropped: sum(PS.dropped), recovered: sum(PS.recovered), unseen: sum(PS.unseen) };
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
    // The latest mappings of every process still alive (kept: the last good read of those that exited).
    if (final && this.#opts.user !== false) for (const pid of new Set(keys.map((k) => k.pid))) this.#snapshot(pid);
    const cpu = this.kind === "cpu";
    const { rows, lost, stacks, spilled, kernelSymbols, exited } = foldStacks(keys, { stacks: this.#obj.map("stacks"), spill: this.#obj.map("spill") }, this.#images, { kernel: this.#opts.kernel, demangle: this.#opts.demangle, cpu });
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
      ...(cpu ? {} : { recovered: c.recovered, unseen: c.unseen }),
      seconds: ((this.#stopNs || clocks().monoNs) - this.#start.monoNs) / 1e9, hz: this.hz, cpus: this.#cpus,
      stacks, spilled, kernelSymbols, exited,
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
    const losses = s ? [
      s.lost ? `${s.lost} samples lost their stack (raise maxStacks)` : "",
      s.dropped ? `${s.dropped} samples were not counted (raise maxKeys)` : "",
      s.unseen ? `${s.unseen} off-CPU periods were not counted: the kernel never reported the thread's return to the CPU, and rebuilding it needs kernel reads, which this kernel refuses` : "",
    ].filter(Boolean) : [];
    if (losses.length) process.emitWarning(`${this.source}: ${losses.join("; ")}`, { code: "BPFBOOK_PROFILE_LOST" });
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
    const extra = [s.lost ? `${s.lost} lost stacks` : "", s.dropped ? `${s.dropped} dropped` : "", s.recovered ? `${s.recovered} returns rebuilt` : "", s.unseen ? `${s.unseen} returns unseen` : "", s.exited.length ? `${s.exited.length} processes exited before symbolization` : ""].filter(Boolean);
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
