/* The fuzz corpus: bad input to every entry point (tracepoints, aggregations,
 * latency, uprobes, kernel functions, XDP, profiles, collect/stream/start) must be a
 * named bpfbook error that names the option, quotes what was given and says what
 * would work, thrown before anything is loaded. Inputs that once aborted node (an
 * mmap of 2^31 bytes, a callback that is not a function, called from a timer) run
 * in a child process, so a regression cannot kill the test runner. */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import {
  tracepoint, anyTracepoint, latency, syscalls, sched, uprobe, xdp, profile, startProfile, offcpu, startOffcpu,
  stopAll, disposeAll, liveCount, BpfbookError, InvalidArgumentError, InvalidOptionError,
} from "../bpf-lib/src/index.js";
import { kprobe, kretprobe } from "../bpf-lib/src/probes/fentry/index.js";
import { shown } from "../bpf-lib/src/options/describe.js";
import { ROOT, WORKLOAD, programIdsOf } from "./helpers/workload.js";

type Thunk = () => unknown;
interface Case { label: string; run: Thunk; check: (e: unknown) => string | null }

const DAYS_35 = 35 * 86400;
const TP = "syscalls:sys_enter_getppid";
const any = (v: unknown) => v as never;

/** An InvalidOptionError for `option` that quotes `got`. */
function opt(option: string, got: unknown, fragment?: RegExp): Case["check"] {
  return (e) => {
    if (!(e instanceof InvalidOptionError)) return `expected InvalidOptionError(${option})`;
    if (e.option !== option) return `option is "${e.option}", expected "${option}"`;
    if (e.code !== "EINVAL") return `code ${e.code}`;
    if (!e.message.includes(`got ${shown(got)}`)) return `message does not quote ${shown(got)}: ${e.message}`;
    if (fragment && !fragment.test(e.message)) return `message does not match ${fragment}: ${e.message}`;
    return null;
  };
}
/** Another named error (class and message fragment). */
function named(cls: new (...a: never[]) => Error, fragment: RegExp): Case["check"] {
  return (e) => (!(e instanceof cls) ? `expected ${cls.name}` : fragment.test((e as Error).message) ? null : `message does not match ${fragment}: ${(e as Error).message}`);
}

const cases: Case[] = [];
const add = (label: string, run: Thunk, check: Case["check"]) => cases.push({ label, run, check });

// --- tracepoint(): the name and the options object
for (const v of [null, 42, undefined, {}, "", ["syscalls:sys_enter_read"]]) add(`tracepoint(${shown(v)})`, () => tracepoint(any(v)), opt("name", v, /"group:name"/));
for (const v of [null, 42, "fields"]) add(`tracepoint options ${shown(v)}`, () => tracepoint(TP, any(v)), opt("options", v));
for (const v of ["comm", 42, {}, [42], null, [null]]) add(`fields ${shown(v)}`, () => tracepoint(TP, { fields: any(v) }), opt("fields", v, /array of names/));
const badBuffers = [0, 1000, 4095, 6000, NaN, Infinity, -4096, "4096", 2 ** 32 + 4096, 2 ** 40, 4096.5, 2 ** 31 + 4096];
for (const v of badBuffers) add(`tracepoint bufferBytes ${shown(v)}`, () => tracepoint(TP, { bufferBytes: any(v) }), opt("bufferBytes", v, /power of two from 4096 to 1073741824/));
for (const v of [-1, NaN, 1.5, 2 ** 25, Infinity, "0"]) add(`tracepoint wakeupBytes ${shown(v)}`, () => tracepoint(TP, { wakeupBytes: any(v) }), opt("wakeupBytes", v, /from 0 \(no size threshold: collected every 20 ms\) to half of bufferBytes \(8388608\)/));
// a threshold above half the ring can never be crossed before the ring fills
add("tracepoint wakeupBytes = bufferBytes", () => tracepoint(TP, { bufferBytes: 65536, wakeupBytes: 65536 }), opt("wakeupBytes", 65536, /half of bufferBytes \(32768\)/));
for (const v of ["yes", 1, 0, null]) add(`tracepoint includeSelf ${shown(v)}`, () => tracepoint(TP, { includeSelf: any(v) }), opt("includeSelf", v, /true or false/));
for (const v of [NaN, 7, "64"]) add(`stringBytes ${shown(v)}`, () => tracepoint("syscalls:sys_enter_openat", { stringBytes: any(v) }), opt("stringBytes", v));
for (const v of [NaN, -8, 1.5]) add(`dataLocBytes ${shown(v)}`, () => anyTracepoint("sched:sched_process_exec", { dataLocBytes: any(v) }), opt("dataLocBytes", v));

// --- where: shapes, and values against the field's range (they used to wrap and match nothing)
for (const v of ["pid", 42]) add(`where ${shown(v)}`, () => tracepoint(TP, { where: any(v) }), opt("where", v));
for (const v of [42, null]) add(`where.comm ${shown(v)}`, () => tracepoint(TP, { where: { comm: any(v) } }), opt("where.comm", v));
add("uprobe where.comm 7", () => uprobe(WORKLOAD, "bpfbook_target", { where: { comm: any(7) } }), opt("where.comm", 7));
add("kprobe where.comm []", () => kprobe("vfs_read", { where: { comm: any([]) } }), opt("where.comm", []));
for (const v of [-1, 1.5, "1", 0]) add(`where.pid ${shown(v)}`, () => tracepoint(TP, { where: { pid: any(v) } }), opt("where.pid", v));
const SW = "sched:sched_switch";
for (const v of [2 ** 31, -(2 ** 31) - 1, 1.5, NaN, Infinity, "5", 2n ** 40n]) add(`s32 prev_pid ${shown(v)}`, () => anyTracepoint(SW, { where: { prev_pid: any(v) } }), opt("where.prev_pid", v, /-2147483648 to 2147483647/));
add("s32 prev_pid { gt: 2^40 }", () => anyTracepoint(SW, { where: { prev_pid: { gt: 2 ** 40 } } }), opt("where.prev_pid.gt", 2 ** 40));
add("s64 prev_state 2^53 as a number", () => anyTracepoint(SW, { where: { prev_state: 2 ** 53 } }), opt("where.prev_state", 2 ** 53, /as a bigint/));
add("s64 prev_state 2^63", () => anyTracepoint(SW, { where: { prev_state: 2n ** 63n } }), opt("where.prev_state", 2n ** 63n));
for (const v of [-1, 2n ** 64n]) add(`u64 fd ${shown(v)}`, () => tracepoint("syscalls:sys_enter_read", { where: { fd: any(v) } }), opt("where.fd", v, /from 0 to 4294967295 \(the range of fd, u32\)/));
add("u64 fd { lt: -5 }", () => tracepoint("syscalls:sys_enter_read", { where: { fd: { lt: -5 } } }), opt("where.fd.lt", -5));
const SKB = "net:netif_receive_skb_entry";
for (const v of [300, -1, 256]) add(`u8 ip_summed ${shown(v)}`, () => anyTracepoint(SKB, { fields: [], where: { ip_summed: any(v) } }), opt("where.ip_summed", v, /from 0 to 255 \(the range of ip_summed, u8\)/));
add("u8 ip_summed { ge: 1000 }", () => anyTracepoint(SKB, { fields: [], where: { ip_summed: { ge: 1000 } } }), opt("where.ip_summed.ge", 1000));
for (const v of [-1, 0x1ff, 1.5]) add(`u8 mask ${shown(v)}`, () => anyTracepoint(SKB, { fields: [], where: { ip_summed: { eq: 1, mask: any(v) } } }), opt("where.ip_summed.mask", v));

// --- collect / start / stream of a tracepoint
const tp = () => tracepoint(TP, { where: { pid: process.pid } });
for (const v of [undefined, {}]) add(`collect(${shown(v)})`, () => tp().collect(any(v)), named(InvalidOptionError, /needs a stop condition: \{ seconds: 5 \}.*use start\(\)/));
for (const v of [null, 5, "5"]) add(`collect(${shown(v)})`, () => tp().collect(any(v)), opt("options", v));
const badSeconds = [0, -1, NaN, Infinity, DAYS_35, "5", -Infinity, null];
for (const v of badSeconds) add(`collect seconds ${shown(v)}`, () => tp().collect({ seconds: any(v) }), opt("seconds", v, /at most 2147483 \(24\.8 days/));
for (const v of [0, -5, 1.5, NaN, Infinity, "10", 2 ** 53]) add(`collect events ${shown(v)}`, () => tp().collect({ events: any(v) }), opt("events", v, /positive integer/));
for (const v of [{}, "abort", 1, { aborted: false }]) add(`collect signal ${shown(v)}`, () => tp().collect({ signal: any(v) }), opt("signal", v, /an AbortSignal/));
for (const v of [1, "f", {}]) add(`collect onProgress ${shown(v)}`, () => tp().collect({ seconds: 1, onProgress: any(v) }), opt("onProgress", v, /a function/));
for (const v of [0, -1, NaN]) add(`collect progressMs ${shown(v)}`, () => tp().collect({ seconds: 1, progressMs: any(v) }), opt("progressMs", v));
add("start seconds 0", () => tp().start({ seconds: 0 }), opt("seconds", 0));
add("start seconds Infinity", () => tp().start({ seconds: Infinity }), opt("seconds", Infinity, /leave it out/));
add("start signal {}", () => tp().start({ signal: any({}) }), opt("signal", {}));
add("start(42)", () => tp().start(any(42)), opt("options", 42));
add("start events -1", () => tp().start({ events: -1 }), opt("events", -1));
for (const v of [-1, NaN, "250"]) add(`stream batchMs ${shown(v)}`, () => tp().stream({ batchMs: any(v) }), opt("batchMs", v));
add("stream seconds NaN", () => tp().stream({ seconds: NaN }), opt("seconds", NaN));
add("stream signal 1", () => tp().stream({ signal: any(1) }), opt("signal", 1));
add("stream(null)", () => tp().stream(any(null)), opt("options", null));

// --- aggregations of a tracepoint
const rd = () => tracepoint("syscalls:sys_enter_read", { where: { pid: process.pid } });
for (const v of ["comm", [42], {}]) add(`aggregate by ${shown(v)}`, () => rd().count({ by: any(v) }), opt("by", v));
const badHist = ["linear", "log10", 42, null, { min: 0, max: 10 }, { min: 0, max: 10, step: 0 }, { min: 10, max: 0, step: 1 }, { min: 0, max: 1e9, step: 1 }, { min: 0.5, max: 10, step: 1 }];
for (const v of badHist) add(`aggregate hist ${shown(v)}`, () => rd().aggregate({ value: "count", hist: any(v) }), opt("hist", v, /"log2" or a linear/));
add("lhist range null", () => rd().lhist("count", any(null)), opt("hist", null));
add("lhist range 'log2'", () => rd().lhist("count", any("log2")), opt("hist", "log2"));
for (const v of [0, NaN, 2 ** 23]) add(`aggregate maxKeys ${shown(v)}`, () => rd().count({ maxKeys: v }), opt("maxKeys", v, /from 1 to 4194304/));
add("aggregate value 42", () => rd().aggregate({ value: any(42) }), opt("value", 42));
add("count(null)", () => rd().count(any(null)), opt("options", null, /an object such as \{ by: \["pid"\] \}/));
add("withFields('fd')", () => rd().withFields(any("fd")), opt("fields", "fd"));
add("aggregate stringBytes 128", () => rd().count({ by: ["comm"], stringBytes: 128 }), opt("stringBytes", 128, /from 8 to 120/));
add("aggregate options null", () => rd().aggregate(any(null)), opt("options", null));
const agg = () => rd().count({ by: ["comm"] });
for (const v of [undefined, {}]) add(`aggregation collect(${shown(v)})`, () => agg().collect(any(v)), named(InvalidOptionError, /needs a stop condition/));
for (const v of [0, Infinity, DAYS_35, NaN]) add(`aggregation seconds ${shown(v)}`, () => agg().collect({ seconds: v }), opt("seconds", v));
for (const v of [0, -1, NaN, Infinity, DAYS_35, 0.01]) add(`aggregation interval ${shown(v)}`, () => agg().collect({ seconds: 1, interval: v }), opt("interval", v, /from 0\.05 to 2147483/));
add("aggregation onInterval 1", () => agg().collect({ seconds: 1, onInterval: any(1) }), opt("onInterval", 1));
add("aggregation live 'x'", () => agg().collect({ seconds: 1, live: any("x") }), opt("live", "x"));
add("aggregation signal {}", () => agg().collect({ signal: any({}) }), opt("signal", {}));
add("aggregation events 0", () => agg().collect({ events: 0 }), opt("events", 0));
add("aggregation start seconds Infinity", () => agg().start({ seconds: Infinity }), opt("seconds", Infinity));
add("aggregation start interval 0.01", () => agg().start({ interval: 0.01 }), opt("interval", 0.01));
add("aggregation start(null)", () => agg().start(any(null)), opt("options", null));

// --- latency
const anyRd = () => anyTracepoint("syscalls:sys_enter_read");
add("syscalls.latency hist 'linear'", () => syscalls.latency({ hist: any("linear") }), opt("hist", "linear", /or "stats"/));
add("syscalls.latency seconds Infinity", () => syscalls.latency({ hist: "stats" }).collect({ seconds: Infinity }), opt("seconds", Infinity));
add("runqueueLatency by 'comm'", () => sched.runqueueLatency({ by: any("comm") }), opt("by", "comm"));
add("syscalls.latency where.pid -1", () => syscalls.latency({ where: { pid: -1 } }), opt("where.pid", -1));
add("latency events bufferBytes 2^32+4096", () => syscalls.latency().collectEvents({ seconds: 1, bufferBytes: 2 ** 32 + 4096 }), opt("bufferBytes", 2 ** 32 + 4096));
add("latency collectEvents({})", () => syscalls.latency().collectEvents({}), named(InvalidOptionError, /needs a stop condition/));
add("latency interval NaN", () => syscalls.latency().collect({ seconds: 1, interval: NaN }), opt("interval", NaN));
add("latency hist step -1", () => syscalls.latency({ hist: { min: 0, max: 10, step: -1 } }), opt("hist", { min: 0, max: 10, step: -1 }));
add("latency start is a string", () => latency({ start: any("syscalls:sys_enter_read"), end: anyRd() }), opt("start", "syscalls:sys_enter_read", /tracepoint probe/));
add("latency end null", () => latency({ start: anyRd(), end: any(null) }), opt("end", null));
add("latency match not arrays", () => latency({ start: anyRd(), end: anyRd(), match: any({ start: "tid", end: ["tid"] }) }), opt("match.start", "tid"));
add("latency(null)", () => latency(any(null)), opt("options", null));

// --- uprobes
const up = (o: object = {}) => uprobe(WORKLOAD, "bpfbook_target", o);
add("uprobe(null, ...)", () => uprobe(any(null), "main"), opt("binary", null));
add("uprobe(..., 42)", () => uprobe(WORKLOAD, any(42)), opt("symbol", 42));
add("uprobe options null", () => uprobe(WORKLOAD, "bpfbook_target", any(null)), opt("options", null));
for (const v of [2 ** 32 + 4096, NaN, 1000]) add(`uprobe bufferBytes ${shown(v)}`, () => up({ bufferBytes: v }), opt("bufferBytes", v));
for (const v of [-1, 2 ** 30, 2 ** 24]) add(`uprobe wakeupBytes ${shown(v)}`, () => up({ wakeupBytes: v }), opt("wakeupBytes", v));
add("uprobe u8 arg0 300", () => up({ args: 1, argTypes: ["u8"], where: { arg0: 300 } }), opt("where.arg0", 300, /0 to 255/));
add("uprobe u32 arg0 -1", () => up({ args: 1, argTypes: ["u32"], where: { arg0: -1 } }), opt("where.arg0", -1));
add("uprobe i16 arg0 { lt: 40000 }", () => up({ args: 1, argTypes: ["i16"], where: { arg0: { lt: 40000 } } }), opt("where.arg0.lt", 40000));
add("uprobe collect seconds Infinity", () => up().collect({ seconds: Infinity }), opt("seconds", Infinity));
add("uprobe collect()", () => up().collect(any(undefined)), named(InvalidOptionError, /needs a stop condition/));
add("uprobe lhist step 0", () => up({ args: 1 }).lhist("arg0", { min: 0, max: 5, step: 0 }), opt("hist", { min: 0, max: 5, step: 0 }));
add("uprobe latency hist 'linear'", () => uretprobe_latency("linear"), opt("hist", "linear"));
add("uprobe count interval 0", () => up().count().collect({ seconds: 1, interval: 0 }), opt("interval", 0));
add("uprobe count seconds 35 days", () => up().count().collect({ seconds: DAYS_35 }), opt("seconds", DAYS_35));
add("uprobe count start signal 'x'", () => up().count().start({ signal: any("x") }), opt("signal", "x"));
add("uprobe count by 'pid'", () => up().count({ by: any("pid") }), opt("by", "pid"));
add("uprobe stream batchMs -5", () => up().stream({ batchMs: -5 }), opt("batchMs", -5));
add("uprobe start events 1.5", () => up().start({ events: 1.5 }), opt("events", 1.5));
add("uprobe latency(null)", () => uprobe(WORKLOAD, "bpfbook_target", { retprobe: true }).latency(any(null)), opt("options", null, /\{ by: \["pid"\] \}/));
add("uprobe count(null)", () => up().count(any(null)), opt("options", null, /\{ by: \["pid"\] \}/));
for (const v of ["yes", 1, null]) add(`uprobe includeSelf ${shown(v)}`, () => up({ includeSelf: v }), opt("includeSelf", v, /true or false/));
function uretprobe_latency(h: string): unknown {
  return uprobe(WORKLOAD, "bpfbook_target", { retprobe: true }).latency({ hist: any(h) });
}

// --- kernel functions (the attach is refused here, but options are checked first)
add("kprobe(null)", () => kprobe(any(null)), named(InvalidArgumentError, /kernel function name/));
add("kprobe options null", () => kprobe("vfs_read", any(null)), opt("options", null));
add("kprobe bufferBytes 2^32+4096", () => kprobe("vfs_read", { bufferBytes: 2 ** 32 + 4096 }), opt("bufferBytes", 2 ** 32 + 4096));
add("kprobe wakeupBytes NaN", () => kprobe("vfs_read", { wakeupBytes: NaN }), opt("wakeupBytes", NaN));
add("kprobe where count -1 (size_t)", () => kprobe("vfs_read", { where: { count: -1 } as never }), opt("where.count", -1));
add("kprobe collect seconds NaN", () => kprobe("vfs_read").collect({ seconds: NaN }), opt("seconds", NaN));
add("kprobe collect()", () => kprobe("vfs_read").collect(any(undefined)), named(InvalidOptionError, /needs a stop condition/));
add("kprobe count seconds Infinity", () => kprobe("vfs_read").count().collect({ seconds: Infinity }), opt("seconds", Infinity));
add("kprobe lhist step 0", () => kprobe("vfs_read").lhist("count" as never, { min: 0, max: 10, step: 0 }), opt("hist", { min: 0, max: 10, step: 0 }));
add("kprobe count interval 0", () => kprobe("vfs_read").count().start({ interval: 0 }), opt("interval", 0));
add("kretprobe latency hist 'linear'", () => kretprobe("vfs_read").latency({ hist: any("linear") }), opt("hist", "linear"));
add("kprobe stream signal {}", () => kprobe("vfs_read").stream({ signal: any({}) }), opt("signal", {}));
add("kprobe count by 'pid'", () => kprobe("vfs_read").count({ by: any("pid") }), opt("by", "pid"));
add("kretprobe latency(null)", () => kretprobe("vfs_read").latency(any(null)), opt("options", null, /\{ by: \["pid"\] \}/));
add("kprobe includeSelf 'yes'", () => kprobe("vfs_read", { includeSelf: any("yes") }), opt("includeSelf", "yes", /true or false/));

// --- XDP
add("xdp(null)", () => xdp(any(null)), opt("interface", null));
add("xdp(42)", () => xdp(any(42)), opt("interface", 42));
add("xdp options null", () => xdp("lo", any(null)), opt("options", null));
add("xdp count seconds Infinity", () => xdp("lo").count().collect({ seconds: Infinity }), opt("seconds", Infinity));
add("xdp count seconds 35 days", () => xdp("lo").count().collect({ seconds: DAYS_35 }), opt("seconds", DAYS_35));
add("xdp count collect({})", () => xdp("lo").count().collect({}), named(InvalidOptionError, /needs a stop condition/));
add("xdp count interval NaN", () => xdp("lo").count().start({ interval: NaN }), opt("interval", NaN));
add("xdp hist 'linear'", () => xdp("lo").hist({ hist: any("linear") }), opt("hist", "linear"));
add("xdp count by 'protocol'", () => xdp("lo").count({ by: any("protocol") }), opt("by", "protocol"));
add("xdp count onInterval 3", () => xdp("lo").count().collect({ seconds: 1, onInterval: any(3) }), opt("onInterval", 3));
add("xdp sample bufferBytes 2^32+4096", () => xdp("lo").sample({ bufferBytes: 2 ** 32 + 4096 }), opt("bufferBytes", 2 ** 32 + 4096));
add("xdp sample collect seconds 0", () => xdp("lo").sample().collect({ seconds: 0 }), opt("seconds", 0));
add("xdp sample start signal 1", () => xdp("lo").sample().start({ signal: any(1) }), opt("signal", 1));
add("xdp sample collect onProgress 'f'", () => xdp("lo").sample().collect({ seconds: 1, onProgress: any("f") }), opt("onProgress", "f"));

// --- profiles
for (const v of [Infinity, DAYS_35, NaN, 0]) add(`profile seconds ${shown(v)}`, () => profile({ seconds: v }), opt("seconds", v));
add("profile()", () => profile(), named(InvalidOptionError, /needs a stop condition: \{ seconds: 5 \} or \{ signal \}/));
add("profile(null)", () => profile(any(null)), opt("options", null));
for (const v of [[], [99], [-1], [0.5], "0", [0, 0], 0]) add(`profile cpus ${shown(v)}`, () => profile({ seconds: 1, cpus: any(v) }), opt("cpus", v, /distinct online CPU numbers/));
add("profile signal {}", () => profile({ signal: any({}) }), opt("signal", {}));
add("profile events 100", () => profile({ seconds: 1, events: 100 }), opt("events", 100, /seconds or signal/));
add("startProfile hz NaN", () => startProfile({ hz: NaN }), opt("hz", NaN, /from 1 to 100000/));
add("startProfile maxStacks 0", () => startProfile({ maxStacks: 0 }), opt("maxStacks", 0));
add("startOffcpu minNs -1", () => startOffcpu({ minNs: -1 }), opt("minNs", -1));
add("profile pid 1.5", () => profile({ seconds: 1, pid: 1.5 }), opt("pid", 1.5));
add("xdp count maxKeys 0", () => xdp("lo").count({ maxKeys: 0 }), opt("maxKeys", 0));
add("uprobe count maxKeys NaN", () => up().count({ maxKeys: NaN }), opt("maxKeys", NaN));
add("startProfile seconds NaN", () => startProfile({ seconds: NaN }), opt("seconds", NaN));
add("startProfile events 5", () => startProfile({ events: 5 }), opt("events", 5));
add("offcpu seconds Infinity", () => offcpu({ seconds: Infinity }), opt("seconds", Infinity));
add("offcpu()", () => offcpu(), named(InvalidOptionError, /needs a stop condition/));
add("startOffcpu signal 5", () => startOffcpu({ signal: any(5) }), opt("signal", 5));

/** What an input did: threw (sync or async), or was accepted (then whatever started is stopped). */
async function outcome(run: Thunk): Promise<{ error: unknown } | { accepted: true }> {
  try {
    const r = run();
    const pending = Symbol("pending");
    const settle = async (p: PromiseLike<unknown>) => {
      Promise.resolve(p).catch(() => {}); // an abandoned (late) rejection must not fail the runner
      return Promise.race([p, new Promise((res) => setTimeout(() => res(pending), 300))]);
    };
    if (r && typeof (r as PromiseLike<unknown>).then === "function") await settle(r as PromiseLike<unknown>);
    else if (r && typeof (r as AsyncIterator<unknown>).next === "function" && Symbol.asyncIterator in (r as object)) {
      const it = r as AsyncGenerator<unknown>;
      await settle(it.next());
      await settle(it.return(undefined));
    }
    return { accepted: true };
  } catch (e) {
    return { error: e };
  }
}

/** Only reached when an input was wrongly accepted: stop what it started, whatever state it is in. */
async function cleanUp(): Promise<void> {
  // A run whose stop never settles must not hang the corpus: give it a second, then dispose.
  await Promise.race([stopAll("stop").catch(() => []), new Promise((r) => setTimeout(r, 1000))]);
  disposeAll();
}

describe("fuzz: bad input gets a named error, every time", () => {
  const before = new Set(programIdsOf());
  after(cleanUp);

  it(`${cases.length} inputs: each its named error, and nothing loaded`, { timeout: 120_000 }, async () => {
    assert.ok(cases.length >= 170, `the corpus has ${cases.length} inputs`);
    const failures: string[] = [];
    // A bad option that reached a running trace once surfaced as an unhandled rejection; count them.
    const stray: unknown[] = [];
    const onStray = (e: unknown) => stray.push(e);
    process.on("unhandledRejection", onStray);
    const tally = { ok: 0, wrong: 0, raw: 0, accepted: 0 };
    for (const c of cases) {
      if (process.env.BPFBOOK_FUZZ_VERBOSE) console.log(c.label);
      const r = await outcome(c.run);
      const leaked = programIdsOf().filter((id) => !before.has(id));
      if ("accepted" in r) {
        tally.accepted++;
        failures.push(`${c.label}: accepted`);
        await cleanUp();
        continue;
      }
      const wrong = c.check(r.error);
      if (wrong === null) tally.ok++;
      else if (r.error instanceof BpfbookError) tally.wrong++;
      else tally.raw++;
      if (wrong !== null) failures.push(`${c.label}: ${wrong} (${r.error instanceof Error ? `${r.error.name}: ${r.error.message}` : String(r.error)})`);
      if (leaked.length || liveCount()) {
        failures.push(`${c.label}: left ${leaked.length} programs loaded, ${liveCount()} live`);
        await cleanUp();
      }
    }
    await new Promise((r) => setTimeout(r, 50));
    process.off("unhandledRejection", onStray);
    for (const e of stray) failures.push(`unhandled rejection: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    console.log(`fuzz: ${cases.length} inputs: ${tally.ok} right, ${tally.wrong} other named error, ${tally.raw} raw error, ${tally.accepted} accepted`);
    assert.deepEqual(failures, []);
    // The kernel's view: no program of this process is left (bpftool, filtered to its ids).
    const ours = new Set(programIdsOf());
    const shown = (JSON.parse(execFileSync("bpftool", ["prog", "show", "--json"], { encoding: "utf8" })) as { id: number }[]).filter((p) => ours.has(p.id) && !before.has(p.id));
    assert.deepEqual(shown, []);
    assert.equal(liveCount(), 0);
  });
});

/** Inputs that once killed node: each in its own child process. */
const CHILD: { label: string; code: string; option: string; got: string }[] = [
  { label: "tracepoint bufferBytes 2^31, started", option: "bufferBytes", got: "2147483648", code: `await tracepoint("${TP}", { bufferBytes: 2 ** 31 }).collect({ seconds: 0.2 })` },
  { label: "tracepoint bufferBytes 2^32, started", option: "bufferBytes", got: "4294967296", code: `await tracepoint("${TP}", { bufferBytes: 2 ** 32 }).collect({ seconds: 0.2 })` },
  { label: "uprobe bufferBytes 2^31, started", option: "bufferBytes", got: "2147483648", code: `await uprobe(${JSON.stringify(WORKLOAD)}, "bpfbook_target", { bufferBytes: 2 ** 31 }).collect({ seconds: 0.2 })` },
  { label: "latency events bufferBytes 2^31", option: "bufferBytes", got: "2147483648", code: `await syscalls.latency().collectEvents({ seconds: 0.2, bufferBytes: 2 ** 31 })` },
  { label: "onProgress not a function, called from a timer", option: "onProgress", got: "42", code: `await tracepoint("${TP}").collect({ seconds: 0.3, progressMs: 10, onProgress: 42 })` },
  { label: "onInterval not a function, called from a timer", option: "onInterval", got: "\"x\"", code: `await tracepoint("${TP}").count().collect({ seconds: 0.3, interval: 0.05, onInterval: "x" })` },
];

describe("fuzz: inputs that once aborted node, in a child process", () => {
  for (const c of CHILD) {
    it(c.label, () => {
      const script = `import { tracepoint, uprobe, syscalls } from ${JSON.stringify(join(ROOT, "dist", "bpf-lib", "src", "index.js"))};
try { ${c.code}; console.log(JSON.stringify({ accepted: true })); }
catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, option: e.option, message: e.message })); }`;
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
      assert.equal(r.signal, null, `the child died of ${r.signal}: ${r.stderr}`);
      assert.equal(r.status, 0, `the child exited ${r.status}: ${r.stderr}`);
      const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { name?: string; code?: string; option?: string; message?: string };
      assert.equal(out.name, "InvalidOptionError", r.stdout);
      assert.equal(out.option, c.option);
      assert.equal(out.code, "EINVAL");
      assert.match(out.message!, new RegExp(`got ${c.got.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    });
  }
});
