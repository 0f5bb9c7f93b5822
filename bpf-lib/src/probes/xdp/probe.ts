/* xdp(interface): see and shape the packets arriving on an interface. A description
 * until start()/collect(); then one XDP program (bpf-lib/bpf/xdp.bpf.c) is loaded,
 * configured through .rodata, and attached through a bpf_link, so it goes away with
 * the process whatever happens. Counting runs on AggregationRun (agg.h maps,
 * intervals, bounded keys); sampled headers run on the Trace engine (ring buffer). */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { BpfObject } from "../../libbpf/object.js";
import type { Link } from "../../libbpf/link.js";
import { bpfObjectPath } from "../../paths.js";
import { privileges, requireTracingPrivileges } from "../../privileges.js";
import { InvalidArgumentError, PermissionError } from "../../errors.js";
import { histSpec } from "../../options/hist.js";
import { nameArgument, nameList, optionsObject } from "../../options/shapes.js";
import { bufferBytes, maxKeys as checkMaxKeys } from "../../options/sizes.js";
import { aggregateRunOptions, collectOptions, stopOptions } from "../../options/durations.js";
import { AggregationRun, type AggCollectOptions, type AggShape, type AggStats, type AggTable, type HistSpec } from "../../engine/aggregation.js";
import { Trace, type CollectOptions, type StopOptions } from "../../engine/trace.js";
import type { TraceStats } from "../../engine/stats.js";
import type { TraceTable } from "../../engine/table.js";
import { reportProgress } from "../../engine/consume.js";
import { attachXdpProgram, resolveInterface, type NetworkInterface, type XdpAttachedMode, type XdpAttachment, type XdpMode } from "./attach.js";
import { planXdpKey, type XdpKey, type XdpKeyPlan } from "./keys.js";
import { EVENT_SIZE, MAX_RULES, RunMode } from "./layout.js";
import { encodeMatch, encodeRules, type PacketMatch, type XdpRule } from "./match.js";
import { serviceName } from "./names.js";
import { TotalsReader, type RuleCount, type RuleInfo, type XdpTotals } from "./totals.js";
import { sampleFields } from "./decode.js";

export interface XdpOptions {
  /** "auto" (default): native where the driver supports it, generic otherwise; or force one. */
  mode?: XdpMode;
  /** Actions, only when given: the first matching rule drops or passes the packet; packets no rule matches pass. */
  rules?: readonly XdpRule[];
  /** Count what the rules would drop, and drop nothing. */
  dryRun?: boolean;
  /** Only packets matching this are counted or sampled (rules still see every packet). */
  where?: PacketMatch;
}

export interface XdpCountOptions {
  /** Key columns (see XDP_KEYS), or "flow" for the 5-tuple. Default ["protocol"]. */
  by?: readonly (XdpKey | "flow")[];
  /** Keys the kernel map holds (default 10240); packets of keys beyond it are counted in stats.dropped. */
  maxKeys?: number;
}

export interface XdpHistOptions extends XdpCountOptions {
  /** Buckets of packet sizes: "log2" (default) or linear { min, max, step }. */
  hist?: HistSpec;
}

export interface XdpSampleOptions {
  /** Send one packet in `every` (chosen at random, in the kernel) to user space. Default 1: all. */
  every?: number;
  /** Ring buffer bytes (a power of two, at least 4096; default 4 MiB). */
  bufferBytes?: number;
}

export interface XdpInfo {
  interface: string;
  ifindex: number;
  /** How the program was attached. */
  mode: XdpAttachedMode;
  /** The kernel's id of our program (bpftool prog show id N). */
  programId: number;
  dryRun: boolean;
}

/** Aggregation stats (events = packets counted, filtered = packets `where` left out) plus the program's totals. */
export type XdpStats = AggStats & XdpTotals & XdpInfo;
export type XdpTable = ColumnTable & { readonly stats: XdpStats };
/** Stream stats (received + lost == produced) plus the program's totals and the sampling rate. */
export type XdpPacketStats = TraceStats & XdpTotals & XdpInfo & { every: number };
export type XdpPacketTable = ColumnTable & { readonly stats: XdpPacketStats };

const DEFAULT_MAX_KEYS = 10240;

/** Describes XDP on an interface; nothing reaches the kernel until a run starts. */
export function xdp(iface: string, opts: XdpOptions = {}): XdpProbe {
  return new XdpProbe(iface, opts);
}

function checkOptions(options: XdpOptions): { rules: RuleInfo[]; ruleBytes: Uint8Array; where: Uint8Array | null; whereText: string | null } {
  const opts = optionsObject(options, "xdp()");
  const known = ["mode", "rules", "dryRun", "where"];
  for (const k of Object.keys(opts)) if (!known.includes(k)) throw new InvalidArgumentError(`xdp(): unknown option "${k}" (options: ${known.join(", ")})`);
  if (opts.mode !== undefined && !["auto", "native", "generic"].includes(opts.mode)) throw new InvalidArgumentError(`xdp(): mode must be "auto", "native" or "generic", got ${JSON.stringify(opts.mode)}`);
  const enc = encodeRules(opts.rules ?? [], MAX_RULES);
  if (opts.dryRun && enc.rules.length === 0) throw new InvalidArgumentError("xdp(): dryRun counts what rules would drop; give rules too");
  const where = opts.where ? encodeMatch(opts.where, "where") : null;
  return { rules: enc.rules, ruleBytes: enc.bytes, where: where?.bytes ?? null, whereText: where?.text ?? null };
}

function requireXdpPrivileges(what: string): void {
  requireTracingPrivileges(what);
  if (!privileges().capNetAdmin) throw new PermissionError(`${what} needs CAP_NET_ADMIN (to attach to an interface), which this process lacks; run as root`);
}

export class XdpProbe {
  readonly interface: string;
  readonly ifindex: number;
  readonly options: Readonly<XdpOptions>;
  /** The rules, as counted: index, name, action, match in words. */
  readonly rules: readonly RuleInfo[];
  readonly #ruleBytes: Uint8Array;
  readonly #where: Uint8Array | null;
  readonly #whereText: string | null;

  /** Checks the interface (nearest names if it does not exist), rules and filter up front. */
  constructor(iface: string, opts: XdpOptions = {}) {
    // "" is a name that does not exist: resolveInterface says so, with the nearest ones.
    if (typeof iface !== "string") nameArgument(iface, "interface", "xdp()", "an interface name such as \"eth0\" (see listInterfaces())");
    const c = checkOptions(opts);
    const i = resolveInterface(iface);
    this.interface = i.name;
    this.ifindex = i.ifindex;
    this.options = Object.freeze({ ...opts });
    this.rules = c.rules;
    this.#ruleBytes = c.ruleBytes;
    this.#where = c.where;
    this.#whereText = c.whereText;
  }

  /** Packets and bytes per key (default by protocol), in the kernel. */
  count(opts: XdpCountOptions = {}): XdpAggregation {
    return new XdpAggregation(this, opts, undefined);
  }

  /** Packet sizes per key as a histogram (log2 by default), in the kernel. */
  hist(opts: XdpHistOptions = {}): XdpAggregation {
    return new XdpAggregation(this, { ...opts, by: opts.by ?? [] }, opts.hist ?? "log2");
  }

  /** The parsed headers of one packet in `every`, as table rows. */
  sample(opts: XdpSampleOptions = {}): XdpSample {
    return new XdpSample(this, opts);
  }

  /**
   * Runs the program on frames (BPF_PROG_TEST_RUN, no interface involved): one row per
   * frame with what the parser saw and the verdict. Tries rules before using them.
   */
  testRun(frames: readonly Uint8Array[]): Promise<XdpPacketTable> {
    return testFrames(frames, { rules: this.options.rules, dryRun: this.options.dryRun });
  }

  describe(): string {
    const parts = [`xdp:${this.interface}`];
    if (this.rules.length) parts.push(`${this.rules.length} rule${this.rules.length > 1 ? "s" : ""}${this.options.dryRun ? " (dry run)" : ""}`);
    if (this.#whereText) parts.push(`where ${this.#whereText}`);
    return parts.join(" ");
  }

  /** @internal Opens and configures the object (not loaded). */
  open(mode: number, opts: { where?: boolean } = {}): BpfObject {
    const obj = BpfObject.open(bpfObjectPath("xdp"), "xdp");
    try {
      configureCommon(obj, mode, this.rules.length, this.#ruleBytes, Boolean(this.options.dryRun), opts.where === false ? null : this.#where);
      return obj;
    } catch (e) {
      obj.dispose();
      throw e;
    }
  }

  /** @internal Resolves the interface again (it may have gone since) and attaches. */
  attach(obj: BpfObject): XdpAttachment {
    const iface: NetworkInterface = resolveInterface(this.interface);
    return attachXdpProgram(obj.program("xdp_packets"), iface, this.options.mode ?? "auto");
  }
}

function configureCommon(obj: BpfObject, mode: number, nrules: number, ruleBytes: Uint8Array, dryRun: boolean, where: Uint8Array | null): void {
  obj.program("xdp_pass").setAutoload(false);
  obj.setConstant("cfg_mode", mode);
  obj.setConstant("cfg_nrules", nrules);
  if (nrules) obj.setConstant("cfg_rules", ruleBytes);
  obj.setConstant("cfg_dry_run", dryRun);
  obj.setConstant("cfg_has_where", where !== null);
  if (where) obj.setConstant("cfg_where", where);
}

/* ---------- aggregations ---------- */

function portColumn(t: ColumnTable, col: string, protoCol: string | null): (string | null)[] {
  const ports = t.array(col) as ArrayLike<number>;
  const protos = protoCol ? (t.array(protoCol) as ArrayLike<string | null>) : null;
  const out = new Array<string | null>(ports.length);
  for (let i = 0; i < ports.length; i++) {
    const p = protos?.[i];
    const l4 = p ? (p.includes("/") ? p.slice(p.indexOf("/") + 1) : p) : undefined;
    out[i] = ports[i] === 0 ? null : serviceName(ports[i], l4 && ["tcp", "udp", "sctp", "udplite"].includes(l4) ? l4 : undefined);
  }
  return out;
}

/**
 * Names the value columns packets/bytes (the engine's count/sum), adds service names
 * after sport/dport, and per-second rates when the table has intervals. Idempotent.
 */
export function packetColumns(t: ColumnTable, nominalInterval?: number): ColumnTable {
  const names = t.columnNames();
  if (!names.includes("count")) return t;
  const protoCol = names.includes("protocol") ? "protocol" : names.includes("ipProto") ? "ipProto" : null;
  const cols: Record<string, ArrayLike<unknown>> = {};
  for (const c of names) {
    if (c === "min" || c === "max" || c === "avg") continue;
    cols[c === "count" ? "packets" : c === "sum" ? "bytes" : c] = t.array(c) as ArrayLike<unknown>;
    if (c === "sport" || c === "dport") cols[`${c}Name`] = portColumn(t, c, protoCol);
  }
  if (names.includes("interval") && names.includes("time")) {
    const iv = t.array("interval") as ArrayLike<number>, time = t.array("time") as ArrayLike<number>;
    const at = new Map<number, number>();
    for (let i = 0; i < iv.length; i++) at.set(iv[i], time[i]);
    const seconds = (k: number) => {
      const prev = at.get(k - 1);
      const d = prev !== undefined ? at.get(k)! - prev : k === 0 ? at.get(k)! : nominalInterval ?? at.get(k)! / (k + 1);
      return d > 0 ? d : NaN;
    };
    const packets = cols.packets as ArrayLike<number>;
    const bytes = cols.bytes as ArrayLike<number> | undefined;
    const pps = new Float64Array(iv.length), bps = new Float64Array(iv.length);
    for (let i = 0; i < iv.length; i++) {
      const s = seconds(iv[i]);
      pps[i] = packets[i] / s;
      if (bytes) bps[i] = bytes[i] / s;
    }
    cols.packetsPerSec = pps;
    if (bytes) cols.bytesPerSec = bps;
  }
  return aq.table(cols as Record<string, ArrayLike<unknown>>);
}

function withStats<S>(table: ColumnTable, stats: S): ColumnTable & { readonly stats: S } {
  // a table that already carries (the engine's) stats is shared: give ours to a new table over the same columns
  const t = Object.prototype.hasOwnProperty.call(table, "stats") ? table.select(...table.columnNames()) : table;
  Object.defineProperty(t, "stats", { value: Object.freeze(stats), enumerable: false });
  return t as ColumnTable & { readonly stats: S };
}

export class XdpAggregation {
  readonly probe: XdpProbe;
  readonly by: readonly XdpKey[];
  readonly hist: HistSpec | undefined;
  readonly maxKeys: number;
  readonly #plan: XdpKeyPlan;

  /** Validates keys and sizes up front. */
  constructor(probe: XdpProbe, options: XdpCountOptions, hist: HistSpec | undefined) {
    const opts = optionsObject(options, probe.describe());
    nameList(opts.by, "by", probe.describe());
    histSpec(hist, probe.describe());
    for (const k of Object.keys(opts)) if (!["by", "maxKeys", "hist"].includes(k)) throw new InvalidArgumentError(`unknown option "${k}" (options: by, maxKeys${hist ? ", hist" : ""})`);
    this.probe = probe;
    this.hist = hist;
    this.#plan = planXdpKey(opts.by ?? (hist ? [] : ["protocol"]), { bucket: Boolean(hist), ruleNames: probe.rules.map((r) => r.name) });
    this.by = this.#plan.columns;
    this.maxKeys = opts.maxKeys ?? DEFAULT_MAX_KEYS;
    checkMaxKeys(this.maxKeys, probe.describe());
  }

  get source(): string {
    return `${this.probe.describe()} ${this.hist ? "sizes" : "packets"}${this.by.length ? ` by ${this.by.join(", ")}` : ""}`;
  }

  /** The engine's columns (before packetColumns renames them). */
  columns(interval: boolean): string[] {
    const vals = this.hist ? ["bucket", "low", "high", "count"] : ["count", "sum", "min", "max", "avg"];
    return [...(interval ? ["interval", "time"] : []), ...this.by, ...vals];
  }

  shape(interval?: number): AggShape {
    return {
      source: this.source, hist: this.hist, latency: false, maxKeys: this.maxKeys,
      columns: (iv) => this.columns(iv), decorate: (t) => packetColumns(t, interval),
    };
  }

  /** @internal Sets the key layout, histogram and map sizes on an opened object. */
  configure(obj: BpfObject): void {
    const p = this.#plan;
    obj.setConstant("cfg_ncopies", p.ncopies);
    obj.setConstant("cfg_copies", p.copies);
    obj.setConstant("cfg_key_end", p.keyEnd);
    obj.setConstant("cfg_bucket_koff", p.bucketKoff);
    const h = this.hist;
    obj.setConstant("cfg_hist", !h ? 0 : h === "log2" ? 1 : 2);
    if (h && h !== "log2") {
      obj.setConstant("cfg_lmin", BigInt(h.min));
      obj.setConstant("cfg_lmax", BigInt(h.max));
      obj.setConstant("cfg_lstep", BigInt(h.step));
    }
    for (const m of ["agg0", "agg1"]) {
      obj.map(m).setKeySize(p.plan.size);
      obj.map(m).setMaxEntries(this.maxKeys);
    }
    obj.map("events").setMaxEntries(4096);
  }

  /** Loads and attaches; the run stops on its own with seconds/events/signal, or with stop(). */
  start(options: AggCollectOptions = {}): XdpRun {
    const opts = aggregateRunOptions(options, "start()");
    requireXdpPrivileges(`counting packets on ${this.probe.interface}`);
    const obj = this.probe.open(RunMode.aggregate);
    let totals: TotalsReader | null = null;
    try {
      this.configure(obj);
      obj.load();
      totals = new TotalsReader(obj.map("xdp_totals"), this.probe.rules);
    } catch (e) {
      obj.dispose();
      throw e;
    }
    return new XdpRun(this, obj, totals, opts);
  }

  /** Counts until a stop condition; returns the table (one row per key, or per interval and key). */
  async collect(options: AggCollectOptions): Promise<XdpTable> {
    const opts = collectOptions(aggregateRunOptions(options, "collect()"), "collect()");
    return this.start(opts).finished();
  }

  /** @internal */
  keyPlan(): XdpKeyPlan {
    return this.#plan;
  }
}

/** A running XDP aggregation: attached until stop() (or its stop condition). */
export class XdpRun implements Disposable {
  readonly source: string;
  readonly interface: string;
  readonly rules: readonly RuleInfo[];
  readonly #run: AggregationRun;
  readonly #totals: TotalsReader;
  readonly #info: XdpInfo;
  readonly #done: Promise<XdpTable>;

  /** @internal use XdpAggregation.start() */
  constructor(agg: XdpAggregation, obj: BpfObject, totals: TotalsReader, opts: AggCollectOptions) {
    const probe = agg.probe;
    this.source = agg.source;
    this.interface = probe.interface;
    this.rules = probe.rules;
    this.#totals = totals;
    const info: XdpInfo = { interface: probe.interface, ifindex: probe.ifindex, mode: "native", programId: 0, dryRun: Boolean(probe.options.dryRun) };
    this.#info = info;
    const wrap = (t: AggTable): XdpTable => this.#wrap(t);
    const attach = (): Link[] => {
      const a = probe.attach(obj);
      info.mode = a.mode;
      info.programId = a.programId;
      return [a.link];
    };
    const runOpts: AggCollectOptions = {
      ...opts,
      onInterval: opts.onInterval && ((t, n) => opts.onInterval!(wrap(t), n)),
      live: opts.live && ((t) => opts.live!(wrap(t))),
    };
    try {
      this.#run = new AggregationRun(agg.shape(opts.interval), { objects: [obj], end: obj, attach, plan: agg.keyPlan().plan }, runOpts);
    } catch (e) {
      totals.close();
      throw e;
    }
    this.#done = this.#run.finished().then(
      (t) => {
        this.#totals.close();
        return wrap(t);
      },
      (e) => {
        this.#totals.close();
        throw e;
      },
    );
    this.#done.catch(() => {}); // reported to whoever awaits finished()
  }

  #wrap(t: AggTable): XdpTable {
    const table = packetColumns(t);
    return withStats<XdpStats>(table, { ...t.stats, ...this.#totals.read(), ...this.#info });
  }

  get running(): boolean {
    return this.#run.running;
  }

  /** How the program is attached ("native" or "generic"). */
  get mode(): XdpAttachedMode {
    return this.#info.mode;
  }

  get programId(): number {
    return this.#info.programId;
  }

  /** The rows so far without stopping (see AggregationRun.snapshot). */
  snapshot(): XdpTable {
    return this.#wrap(this.#run.snapshot());
  }

  /** The program's counters now: packets seen, rule matches and drops. */
  totals(): XdpTotals {
    return this.#totals.read();
  }

  /** Rule counters as a table: rule, name, action, match, packets, bytes. */
  ruleCounts(): ColumnTable {
    return ruleTable(this.#totals.read().rules);
  }

  /** Detaches (the rules stop acting at once) and resolves when the table is final. */
  async stop(): Promise<void> {
    await this.#run.stop();
    await this.#done.catch(() => {});
  }

  /** Waits for a stop condition, then returns the table. */
  finished(): Promise<XdpTable> {
    return this.#done;
  }

  describe(): string {
    const t = this.#totals.read();
    return `${this.#run.describe()}; ${t.packetsSeen} packets seen on ${this.interface} (${this.mode})${t.xdpDropped ? `, ${t.xdpDropped} dropped by rules` : ""}${t.wouldDrop ? `, ${t.wouldDrop} would be dropped` : ""}`;
  }

  [Symbol.dispose](): void {
    this.#run[Symbol.dispose]();
  }
}

/** Rule counters as a table. */
export function ruleTable(rules: readonly RuleCount[]): ColumnTable {
  return aq.table({
    rule: rules.map((r) => r.index), name: rules.map((r) => r.name), action: rules.map((r) => r.action),
    match: rules.map((r) => r.match), packets: rules.map((r) => r.packets), bytes: rules.map((r) => r.bytes),
  });
}

/* ---------- sampled packets ---------- */

const SAMPLE_COLUMNS_DROPPED = new Set(["pid", "tid", "comm"]);

function packetTable(t: TraceTable, stats: XdpPacketStats, extra?: Record<string, ArrayLike<unknown>>): XdpPacketTable {
  const keep = t.columnNames().filter((c) => !SAMPLE_COLUMNS_DROPPED.has(c));
  let out = t.select(...keep);
  if (extra) out = out.assign(aq.table(extra));
  return withStats(out, stats);
}

export class XdpSample {
  readonly probe: XdpProbe;
  readonly every: number;
  readonly bufferBytes: number;

  constructor(probe: XdpProbe, options: XdpSampleOptions) {
    const opts = optionsObject(options, probe.describe());
    for (const k of Object.keys(opts)) if (!["every", "bufferBytes"].includes(k)) throw new InvalidArgumentError(`unknown option "${k}" (options: every, bufferBytes)`);
    this.probe = probe;
    this.every = opts.every ?? 1;
    if (!Number.isInteger(this.every) || this.every < 1) throw new InvalidArgumentError(`every must be a positive integer (1: every packet), got ${opts.every}`);
    this.bufferBytes = bufferBytes(opts.bufferBytes, probe.describe(), 4 << 20);
  }

  get source(): string {
    return `${this.probe.describe()} packets${this.every > 1 ? ` (1 in ${this.every})` : ""}`;
  }

  /** Loads and attaches; a running stream of packet rows. */
  start(options: StopOptions = {}): XdpSampleRun {
    const stop = stopOptions(options, "start()");
    requireXdpPrivileges(`sampling packets on ${this.probe.interface}`);
    const obj = this.probe.open(RunMode.sample);
    let totals: TotalsReader;
    try {
      obj.setConstant("cfg_sample_every", this.every);
      obj.setConstant("cfg_wakeup_bytes", Math.min(this.bufferBytes / 4, 1 << 20));
      obj.map("events").setMaxEntries(this.bufferBytes);
      for (const m of ["agg0", "agg1"]) {
        obj.map(m).setKeySize(8);
        obj.map(m).setMaxEntries(1);
      }
      obj.load();
      totals = new TotalsReader(obj.map("xdp_totals"), this.probe.rules);
    } catch (e) {
      obj.dispose();
      throw e;
    }
    return new XdpSampleRun(this, obj, totals, stop);
  }

  /** Samples until a stop condition; one row per sampled packet. */
  async collect(options: CollectOptions): Promise<XdpPacketTable> {
    const opts = collectOptions(options, "collect()");
    const run = this.start(opts);
    const stopReporting = reportProgress(run.trace, opts);
    try {
      return await run.finished();
    } finally {
      stopReporting();
      await run.stop();
    }
  }
}

export class XdpSampleRun implements Disposable {
  readonly source: string;
  readonly interface: string;
  /** The underlying event stream (progress, batches). */
  readonly trace: Trace;
  readonly #totals: TotalsReader;
  readonly #info: XdpInfo;
  readonly #every: number;
  #table: XdpPacketTable | null = null;

  /** @internal use XdpSample.start() */
  constructor(sample: XdpSample, obj: BpfObject, totals: TotalsReader, stop: StopOptions) {
    const probe = sample.probe;
    this.source = sample.source;
    this.interface = probe.interface;
    this.#every = sample.every;
    this.#totals = totals;
    const info: XdpInfo = { interface: probe.interface, ifindex: probe.ifindex, mode: "native", programId: 0, dryRun: Boolean(probe.options.dryRun) };
    this.#info = info;
    const attach = (): Link[] => {
      const a = probe.attach(obj);
      info.mode = a.mode;
      info.programId = a.programId;
      return [a.link];
    };
    try {
      this.trace = new Trace({ source: sample.source, object: obj, eventSize: EVENT_SIZE, bufferBytes: sample.bufferBytes, fields: sampleFields(probe.rules.map((r) => r.name)), attach }, stop);
    } catch (e) {
      totals.close();
      throw e;
    }
  }

  get running(): boolean {
    return this.trace.running;
  }

  get mode(): XdpAttachedMode {
    return this.#info.mode;
  }

  totals(): XdpTotals {
    return this.#totals.read();
  }

  #stats(): XdpPacketStats {
    return { ...this.trace.stats(), ...this.#totals.read(), ...this.#info, every: this.#every };
  }

  /** The rows so far, without stopping. */
  snapshot(): XdpPacketTable {
    return packetTable(this.trace.snapshot(), this.#stats());
  }

  async stop(): Promise<void> {
    await this.trace.stop();
    this.#totals.close();
  }

  /** Waits for a stop condition, then returns the rows. */
  async finished(): Promise<XdpPacketTable> {
    if (this.#table) return this.#table;
    try {
      const t = await this.trace.finished();
      this.#totals.close();
      this.#table = packetTable(t, this.#stats());
      return this.#table;
    } finally {
      this.#totals.close();
    }
  }

  /** Stops now and returns the rows. */
  async table(): Promise<XdpPacketTable> {
    await this.stop();
    return this.finished();
  }

  [Symbol.dispose](): void {
    this.trace[Symbol.dispose]();
    this.#totals.close();
  }
}

/* ---------- offline: the program on given frames ---------- */

const XDP_RETVALS = ["aborted", "drop", "pass", "tx", "redirect"];

/**
 * Runs the XDP program on frames with BPF_PROG_TEST_RUN (nothing is attached): one
 * row per frame, in order, with what the parser saw, the rule that matched and
 * `verdict` (what the program returned: "pass" or "drop").
 */
export async function testFrames(frames: readonly Uint8Array[], opts: { rules?: readonly XdpRule[]; dryRun?: boolean } = {}): Promise<XdpPacketTable> {
  requireTracingPrivileges("running the XDP program on test frames");
  const c = checkOptions({ rules: opts.rules, dryRun: opts.dryRun });
  for (const [i, f] of frames.entries()) {
    if (!(f instanceof Uint8Array) || f.length < 14) throw new InvalidArgumentError(`frame ${i}: test frames are Uint8Arrays of at least 14 bytes (an Ethernet header)`);
  }
  let bufferBytes = 4096;
  while (bufferBytes < frames.length * (EVENT_SIZE + 8)) bufferBytes *= 2;
  const obj = BpfObject.open(bpfObjectPath("xdp"), "xdp");
  let totals: TotalsReader;
  try {
    configureCommon(obj, RunMode.sample, c.rules.length, c.ruleBytes, Boolean(opts.dryRun), null);
    obj.map("events").setMaxEntries(bufferBytes);
    for (const m of ["agg0", "agg1"]) {
      obj.map(m).setKeySize(8);
      obj.map(m).setMaxEntries(1);
    }
    obj.load();
    totals = new TotalsReader(obj.map("xdp_totals"), c.rules);
  } catch (e) {
    obj.dispose();
    throw e;
  }
  const source = `xdp test run of ${frames.length} frames`;
  const prog = obj.program("xdp_packets");
  const trace = new Trace({ source, object: obj, eventSize: EVENT_SIZE, bufferBytes, fields: sampleFields(c.rules.map((r) => r.name)), attach: () => [] });
  const verdicts: string[] = [];
  try {
    for (const f of frames) verdicts.push(XDP_RETVALS[prog.testRun({ dataIn: f }).retval] ?? "unknown");
    const t = await trace.table();
    const stats: XdpPacketStats = { ...t.stats, ...totals.read(), interface: "(test run)", ifindex: 0, mode: "native", programId: 0, dryRun: Boolean(opts.dryRun), every: 1 };
    if (t.numRows() !== frames.length) throw new InvalidArgumentError(`test run: ${frames.length} frames gave ${t.numRows()} rows (${t.stats.lost} lost)`);
    return packetTable(t, stats, { verdict: verdicts });
  } finally {
    await trace.stop();
    totals.close();
  }
}


