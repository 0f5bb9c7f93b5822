/* Verifier acceptance: every program kind configured with combinations of the features
 * that change its verified paths (filters, derived fields of each source and leaf kind,
 * pointer chains 0..4 deep, user/kernel/by-address reads, buffers with a length, key part kinds, value sources,
 * histogram kinds, stream modes, pairing and carried bytes, user strings, __data_loc; profile
 * and off-CPU stack options; sampled reads of each leaf kind; XDP rules, filters, keys, samples).
 * The product explodes (1,728 to 82,944 loads per kind), so each kind's factors are covered
 * in all pairs (a seeded greedy covering array): every two levels of any two factors load
 * together at least once, as options interact in the verifier two at a time through the
 * registers and stack one leaves the other (test/verifier-combos.test.ts says more). A kind
 * whose product is small is loaded whole (`full`). Kinds with their own loader (`load`:
 * sample() through loadSampleObject, XDP through xdp("lo", ...).open() and its aggregation's
 * configure) load exactly what the library would.
 * The rodata is encoded by the engine's own encoders (encodePreds, KeyLayout, layoutDerived),
 * so what loads here is what the planners produce. Shared by the host test and the VM run
 * (test/vm/reads.test.ts), which loads `limit` rows per kind chosen to hold every level. */
import { BpfObject } from "../../bpf-lib/src/libbpf/object.js";
import { bpfObjectPath } from "../../bpf-lib/src/paths.js";
import { encodePreds, type Pred } from "../../bpf-lib/src/engine/filter.js";
import { KeyLayout, PartSrc, STRING_BYTES, encodeParts, type KeyPlan } from "../../bpf-lib/src/engine/keys.js";
import { layoutDerived, MAX_DERIVED, type DeriveSpec } from "../../bpf-lib/src/engine/derive.js";
import { HDR_SIZE, MAX_PREDS, MAX_USTR, MAX_WINDOW } from "../../bpf-lib/src/engine/layout.js";
import { loadSampleObject, unusedSampleReadMaps } from "../../bpf-lib/src/probes/profile/sample-object.js";
import { xdp, type XdpKey, type XdpRule, type PacketMatch } from "../../bpf-lib/src/probes/xdp/index.js";
import { RunMode } from "../../bpf-lib/src/probes/xdp/layout.js";

type Level = string;
export interface Factor { name: string; levels: readonly Level[] }
export type Row = Record<string, Level>;

/** All pairs of levels of any two factors, covered greedily from seeded random candidates. */
export function allPairs(factors: readonly Factor[], seed = 1): Row[] {
  let s = seed >>> 0;
  const rnd = (n: number) => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const key = (a: number, la: string, b: number, lb: string) => `${a}=${la}|${b}=${lb}`;
  const todo = new Set<string>();
  factors.forEach((fa, a) => factors.forEach((fb, b) => {
    if (b <= a) return;
    for (const la of fa.levels) for (const lb of fb.levels) todo.add(key(a, la, b, lb));
  }));
  const covers = (r: string[]) => {
    let n = 0;
    for (let a = 0; a < r.length; a++) for (let b = a + 1; b < r.length; b++) if (todo.has(key(a, r[a]!, b, r[b]!))) n++;
    return n;
  };
  const rows: Row[] = [];
  while (todo.size) {
    // seed each candidate with one uncovered pair, so every round makes progress
    const [first] = todo;
    const m = /^(\d+)=(.*)\|(\d+)=(.*)$/.exec(first!)!;
    let best: string[] = [];
    let bestN = -1;
    for (let c = 0; c < 40; c++) {
      const r = factors.map((f) => f.levels[rnd(f.levels.length)]!);
      r[Number(m[1])] = m[2]!;
      r[Number(m[3])] = m[4]!;
      const n = covers(r);
      if (n > bestN) [best, bestN] = [r, n];
    }
    for (let a = 0; a < best.length; a++) for (let b = a + 1; b < best.length; b++) todo.delete(key(a, best[a]!, b, best[b]!));
    rows.push(Object.fromEntries(factors.map((f, i) => [f.name, best[i]!])));
  }
  return rows;
}

/** Every combination of the factors' levels (the full product), for kinds small enough to load all of it. */
export function product(factors: readonly Factor[]): Row[] {
  let rows: Row[] = [{}];
  for (const f of factors) rows = rows.flatMap((r) => f.levels.map((l) => ({ ...r, [f.name]: l })));
  return rows;
}

/** How many rows the full product of the factors has. */
export function productSize(factors: readonly Factor[]): number {
  return factors.reduce((n, f) => n * f.levels.length, 1);
}

/** The level pairs a row covers, as keys (`a=la|b=lb`, factor indexes a < b). */
function pairsOf(factors: readonly Factor[], row: Row): string[] {
  const out: string[] = [];
  for (let a = 0; a < factors.length; a++) for (let b = a + 1; b < factors.length; b++) out.push(`${a}=${row[factors[a]!.name]}|${b}=${row[factors[b]!.name]}`);
  return out;
}

export interface Coverage {
  /** Factor levels (`factor=level`) the rows hold, and how many there are. */
  levels: number;
  ofLevels: number;
  /** Level pairs the rows hold, and how many there are. */
  pairs: number;
  ofPairs: number;
  /** Levels no row holds (empty when every level is covered). */
  missing: string[];
}

/** How much of the factors' levels and level pairs `rows` cover. */
export function coverage(factors: readonly Factor[], rows: readonly Row[]): Coverage {
  const levels = new Set(rows.flatMap((r) => factors.map((f) => `${f.name}=${r[f.name]}`)));
  const pairs = new Set(rows.flatMap((r) => pairsOf(factors, r)));
  const all = factors.flatMap((f) => f.levels.map((l) => `${f.name}=${l}`));
  let ofPairs = 0;
  for (let a = 0; a < factors.length; a++) for (let b = a + 1; b < factors.length; b++) ofPairs += factors[a]!.levels.length * factors[b]!.levels.length;
  return { levels: levels.size, ofLevels: all.length, pairs: pairs.size, ofPairs, missing: all.filter((l) => !levels.has(l)) };
}

/**
 * At most `limit` of the all-pairs rows, for a slow kernel (the VM): chosen greedily so
 * that every level of every factor appears first (a row is worth the levels it adds, ties
 * broken by the pairs it adds), then the most pairs. The all-pairs rows hold every level, so
 * any limit of at least the rows this cover needs (about the largest factor's level count)
 * covers every level; `coverage()` says what a smaller one left out.
 */
export function limitRows(factors: readonly Factor[], rows: readonly Row[], limit: number): Row[] {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number of rows, got ${limit}`);
  if (limit >= rows.length) return [...rows];
  const levels = new Set<string>();
  const pairs = new Set<string>();
  const left = rows.map((r) => ({ r, levels: factors.map((f) => `${f.name}=${r[f.name]}`), pairs: pairsOf(factors, r) }));
  const out: Row[] = [];
  while (out.length < limit && left.length) {
    let best = 0, bestScore = [-1, -1];
    left.forEach((c, i) => {
      const score = [c.levels.filter((l) => !levels.has(l)).length, c.pairs.filter((p) => !pairs.has(p)).length];
      if (score[0]! > bestScore[0]! || (score[0] === bestScore[0] && score[1]! > bestScore[1]!)) [best, bestScore] = [i, score];
    });
    const [c] = left.splice(best, 1);
    c!.levels.forEach((l) => levels.add(l));
    c!.pairs.forEach((p) => pairs.add(p));
    out.push(c!.r);
  }
  return out;
}

// ---- the features, as rodata -------------------------------------------------------

/** Filters: none, one, MAX_PREDS of every comparison (integers of each size, signed, a string). */
function preds(level: Level, charAt: number): Pred[] {
  if (level === "0") return [];
  const one: Pred = { field: "a", op: "eq", off: 0, size: 8, signed: false, value: [5n, 0n], mask: [0n, 0n] };
  if (level === "1") return [one];
  const ops = ["eq", "ne", "lt", "le", "gt", "ge"] as const;
  const out: Pred[] = [];
  for (let i = 0; i < MAX_PREDS - 1; i++) out.push({ field: `f${i}`, op: ops[i % ops.length]!, off: (i * 8 + (i % 3)) % 56, size: ([1, 2, 4, 8] as const)[i % 4]!, signed: i % 2 === 1, value: [BigInt(i), 0n], mask: [0n, 0n] });
  out.push({ field: "s", op: "streq", off: charAt, size: 16, signed: false, value: [0x6873616264n, 0n], mask: [0xffffffffffn, 0n] });
  return out;
}

/** Derived fields: each source and leaf kind, chains 0..4 deep, a length, the full table. `ptrAt`: a pointer's window offset. */
function derives(level: Level, ptrAt: number, lenAt: number): DeriveSpec[] {
  const int = (size: 1 | 2 | 4 | 8) => ({ kind: "int" as const, size, signed: false });
  const task = (n: number, leaf: "bytes" | "string", size: number): DeriveSpec => ({ column: `t${n}${leaf}`, src: "task", offsets: [...Array(n).fill(8), 16], leaf, size, value: leaf === "string" ? { kind: "string", bytes: size } : int(8) });
  switch (level) {
    case "none": return [];
    case "std": return [{ column: "uid", src: "uid", size: 4, value: int(4) }, { column: "gid", src: "gid", size: 4, value: int(4) }, { column: "cg", src: "cgroup", size: 8, value: int(8) }];
    case "task0": case "task1": case "task2": case "task3": case "task4": return [task(Number(level.slice(4)), "bytes", 8)];
    case "kstr": return [task(2, "string", 64)];
    case "kptr": return [{ column: "k", src: "kptr", woff: ptrAt, offsets: [0, 8], leaf: "bytes", size: 8, value: int(8) }, { column: "ks", src: "kptr", woff: ptrAt, offsets: [0], leaf: "string", size: 32, value: { kind: "string", bytes: 32 } }];
    case "ustr": return [{ column: "u", src: "uptr", woff: ptrAt, offsets: [0], leaf: "string", size: 256, value: { kind: "string", bytes: 256 } }];
    case "ulen": return [{ column: "b", src: "uptr", woff: ptrAt, offsets: [0], leaf: "bytes", size: 64, length: { woff: lenAt, size: 8 }, value: { kind: "bytes", size: 64 } }, { column: "b4", src: "uptr", woff: ptrAt, offsets: [8, 0], leaf: "bytes", size: 16, length: { woff: lenAt, size: 4 }, value: { kind: "bytes", size: 16 } }];
    case "aptr": return [{ column: "a", src: "aptr", woff: ptrAt, offsets: [0], leaf: "string", size: 64, value: { kind: "string", bytes: 64 } }, { column: "ab", src: "aptr", woff: ptrAt, offsets: [8, 0], leaf: "bytes", size: 16, length: { woff: lenAt, size: 4 }, value: { kind: "bytes", size: 16 } }];
    case "argv": return Array.from({ length: 8 }, (_, i) => ({ column: `argv${i}`, src: "uptr" as const, woff: ptrAt, offsets: [i * 8, 0], leaf: "string" as const, size: 32, value: { kind: "string" as const, bytes: 32 } }));
    case "stack": return [{ column: "ks", src: "kstack", size: 4, value: int(4) }, { column: "us", src: "ustack", size: 4, value: int(4) }];
    case "word": return [{ column: "w", src: "word", woff: 0, size: 64, value: { kind: "bytes", size: 64 } }];
    case "max": {
      // MAX_DERIVED entries of every kind, 1024 bytes in all
      const all: DeriveSpec[] = [...derives("std", ptrAt, lenAt), task(4, "bytes", 8), task(3, "string", 128), ...derives("kptr", ptrAt, lenAt), ...derives("ustr", ptrAt, lenAt), ...derives("ulen", ptrAt, lenAt), ...derives("stack", ptrAt, lenAt), ...derives("word", ptrAt, lenAt), derives("aptr", ptrAt, lenAt)[0]!];
      while (all.length < MAX_DERIVED) all.push(task(1, "bytes", 8));
      const used = all.reduce((n, d) => n + Math.ceil(d.size / 8) * 8, 0);
      all[all.length - 1] = { ...task(1, "string", 1024 - used + 8) };
      return all.slice(0, MAX_DERIVED);
    }
  }
  throw new Error(`derive level ${level}`);
}
const DERIVES = ["none", "std", "task0", "task1", "task2", "task3", "task4", "kstr", "kptr", "ustr", "ulen", "aptr", "argv", "stack", "word", "max"] as const;

/** Key parts: none, the standard columns, integer/char/pointer fields, each string source, the full key. */
function keyPlan(level: Level, strAt: number, kernelStrings: boolean, bucket: boolean, derivedAt: number): KeyPlan {
  const by: string[] = [];
  const k = new KeyLayout(["x"]);
  const add = (n: string, f: () => void) => { by.push(n); f(); };
  switch (level) {
    case "none": break;
    case "std": for (const s of ["pid", "tid", "comm", "cpu", "cgroup"]) k.standard(s); break;
    case "fields": add("i", () => k.int("i1", 1, 1, true)); add("j", () => k.int("i2", 2, 2, false)); add("l", () => k.int("i4", 12, 4, true)); add("m", () => k.int("i8", 16, 8, false)); add("c", () => k.chars("c", 24, 16)); add("p", () => k.pointer("p", 40)); break;
    case "derived": k.int("d", derivedAt, 4, false); k.chars("ds", derivedAt + 8, 64); break;
    case "strings":
      k.string("u", PartSrc.ustr, strAt, 32);
      if (kernelStrings) { k.string("ks", PartSrc.kstr, strAt, 16); k.string("as", PartSrc.astr, strAt, 16); }
      break;
    case "max": k.standard("comm"); k.string("u", PartSrc.ustr, strAt, 96); k.standard("pid"); break;
  }
  return k.finish(bucket);
}

// ---- loading -----------------------------------------------------------------------

export interface Combo { kind: string; row: Row }
export interface LoadResult { kind: string; count: number; failures: { row: Row; error: string }[]; ms: number; programs: number; coverage: Coverage }

function common(obj: BpfObject, row: Row, opts: { charAt: number; ptrAt: number; lenAt: number; base: number }): number {
  const p = preds(row.preds!, opts.charAt);
  obj.setConstant("cfg_npreds", p.length);
  obj.setConstant("cfg_preds", encodePreds(p));
  const d = derives(row.derive!, opts.ptrAt, opts.lenAt);
  const layout = d.length ? layoutDerived(d, opts.base, "combo") : null;
  obj.setConstant("cfg_nderive", d.length);
  if (layout) obj.setConstant("cfg_derive", layout.rodata);
  if (d.some((x) => x.src === "kstack" || x.src === "ustack")) obj.map("stacks").setMaxEntries(1024);
  if (row.pid === "yes") { obj.setConstant("cfg_pid", 1); obj.setConstant("cfg_comm_len", 5); obj.setConstant("cfg_comm", new TextEncoder().encode("bash\0\0\0\0\0\0\0\0\0\0\0\0")); }
  return layout ? layout.base + layout.bytes : opts.base;
}

function aggregateMaps(obj: BpfObject, plan: KeyPlan | null): void {
  for (const m of ["agg0", "agg1"]) {
    obj.map(m).setKeySize(plan ? plan.size : 8);
    obj.map(m).setMaxEntries(plan ? 64 : 1);
  }
}

function setAgg(obj: BpfObject, row: Row, plan: KeyPlan, valueWoff: number): void {
  obj.setConstant("cfg_nparts", plan.parts.length);
  obj.setConstant("cfg_parts", encodeParts(plan.parts));
  obj.setConstant("cfg_value_src", row.value === "field" ? 1 : 0);
  obj.setConstant("cfg_value_woff", valueWoff);
  obj.setConstant("cfg_value_size", 4);
  const h = row.hist === "log2" ? 1 : row.hist === "linear" ? 2 : 0;
  obj.setConstant("cfg_hist", h);
  if (h === 2) { obj.setConstant("cfg_lmin", 0n); obj.setConstant("cfg_lmax", 1000n); obj.setConstant("cfg_lstep", 10n); }
  aggregateMaps(obj, plan);
  obj.map("events").setMaxEntries(4096);
}

const BASE: Factor[] = [
  { name: "preds", levels: ["0", "1", "max"] },
  { name: "derive", levels: DERIVES },
  { name: "pid", levels: ["no", "yes"] },
];
const AGG: Factor[] = [
  { name: "keys", levels: ["none", "std", "fields", "derived", "strings", "max"] },
  { name: "value", levels: ["one", "field"] },
  { name: "hist", levels: ["none", "log2", "linear"] },
];

/** Reads besides those the key and the value use: each leaf kind, 0 and MAX_DEREFS pointers deep, the longest string, MAX_DERIVED reads. */
const SAMPLE_READS = ["none", "int0", "int4", "chars", "kstring", "pointer", "max"] as const;
/** count; stats of an integer of each size and sign; log2 and linear histograms, with the runqlen preset's value adjustments. */
const SAMPLE_AGGS = ["count", "stats s1", "stats u8", "log2 u2", "log2 s4 lessOne", "linear u4 lessRunning"] as const;

/** Rules: none, one with every field, MAX_RULES of each kind; each as a dry run too. */
const XDP_RULES = ["0", "1", "1 dry", "max", "max dry"] as const;
/** The where filter: none, one field, every field, the either-direction fields. */
const XDP_WHERE = ["none", "one", "all", "either"] as const;
const XDP_MAX_KEY: XdpKey[] = ["protocol", "vlan", "innerVlan", "icmpType", "tcpFlags", "ttl", "length", "action", "rule", "rxQueue"];

/** What a program kind varies, and how a row configures its object. */
export interface Kind {
  /** The object (bpf-lib/bpf/<object>.bpf.c), opened and configured by `configure`; or `load`, which does both and loads. */
  object: string;
  factors: Factor[];
  configure?(obj: BpfObject, row: Row): void;
  /** Opens, configures and loads through the library's own loader; returns the loaded object. */
  load?(row: Row): BpfObject;
  /** Loads the full product of the factors, not a covering array: it is small enough. */
  full?: boolean;
  /** With a limit (a slow kernel: the VM), at most this many rows: a kind whose loads are slow there. */
  slowLimit?: number;
  vmOnly?: boolean;
  target?: string;
}

export const KINDS: Record<string, Kind> = {
  "tracepoint stream": {
    object: "tracepoint",
    factors: [...BASE, { name: "window", levels: ["0", "8", "max"] }, { name: "ustr", levels: ["0", "1", "max"] }, { name: "dyn", levels: ["no", "yes"] }],
    configure(obj, row) {
      const window = row.window === "0" ? 0 : row.window === "8" ? 8 : MAX_WINDOW;
      const dyn = row.dyn === "yes" ? 256 : 0;
      const base = Math.ceil((window + dyn) / 8) * 8;
      const end = common(obj, row, { charAt: 0, ptrAt: 0, lenAt: 8, base: Math.max(base, 64) });
      obj.setConstant("cfg_window", Math.max(window, row.derive === "none" ? 0 : 16));
      obj.program(dyn ? "on_tracepoint" : "on_tracepoint_dyn").setAutoload(false);
      const nustr = row.ustr === "0" ? 0 : row.ustr === "1" ? 1 : MAX_USTR;
      obj.setConstant("cfg_nustr", nustr);
      obj.setConstant("cfg_ustr_off", new Uint8Array(MAX_USTR * 4).map((_, i) => (i % 4 === 0 ? 8 * (i / 4) : 0)));
      obj.setConstant("cfg_ustr_len", 256);
      obj.setConstant("cfg_dyn_bytes", dyn);
      const derived = end - Math.max(base, 64);
      obj.setConstant("cfg_derive_base", row.derive === "none" ? 0 : Math.max(base, 64));
      obj.setConstant("cfg_derive_bytes", row.derive === "none" ? 0 : derived);
      const slot = row.derive === "none" ? base : end;
      obj.setConstant("cfg_window_slot", slot);
      obj.setConstant("cfg_event_size", HDR_SIZE + slot + nustr * 256);
      obj.map("events").setMaxEntries(1 << 16);
    },
  },
  "tracepoint aggregation": {
    object: "aggregate",
    factors: [...BASE, ...AGG, { name: "role", levels: ["agg", "start", "end"] }, { name: "stream", levels: ["0", "1", "2"] }, { name: "carry", levels: ["0", "max"] }],
    configure(obj, row) {
      const end = common(obj, row, { charAt: 0, ptrAt: 0, lenAt: 8, base: 520 });
      obj.setConstant("cfg_window", 64);
      const plan = keyPlan(row.keys!, 0, false, row.hist !== "none", 520);
      setAgg(obj, row, plan, 4);
      const role = row.role === "start" ? 1 : row.role === "end" ? 2 : 0;
      obj.setConstant("cfg_role", role);
      const pair = keyPlan("std", 0, false, false, 0);
      obj.setConstant("cfg_npair", role ? 1 : 0);
      obj.setConstant("cfg_pair", encodeParts(pair.parts.slice(1, 2)));
      const carry = row.carry === "max" && role ? 512 : 0;
      obj.setConstant("cfg_carry_off", carry ? 1024 : 0);
      obj.setConstant("cfg_carry_bytes", carry);
      obj.map("starts").setValueSize(8 + carry);
      if (!role) obj.map("starts").setMaxEntries(1);
      const stream = row.role === "start" ? 0 : Number(row.stream);
      obj.setConstant("cfg_stream", stream);
      const sb = Math.min(end, 2048);
      obj.setConstant("cfg_stream_bytes", stream ? sb : 0);
      obj.setConstant("cfg_event_size", HDR_SIZE + 8 + (stream ? sb : 0));
      if (stream) obj.map("events").setMaxEntries(1 << 16);
    },
  },
  uprobe: {
    object: "uprobe",
    factors: [...BASE, ...AGG, { name: "prog", levels: ["entry", "return", "paired"] }, { name: "mode", levels: ["stream", "aggregate"] }, { name: "nargs", levels: ["0", "6"] }, { name: "multi", levels: ["0", "1"] }],
    configure(obj, row) {
      const end = common(obj, row, { charAt: 16, ptrAt: 16, lenAt: 24, base: 64 });
      const nargs = Number(row.nargs);
      obj.setConstant("cfg_nargs", nargs);
      // several functions: the attach cookie read into the window, the header and a probe key part
      obj.setConstant("cfg_multi", Number(row.multi));
      const paired = row.prog === "paired";
      obj.setConstant("cfg_paired", paired ? 1 : 0);
      if (!paired) obj.map("starts").setMaxEntries(1);
      obj.program("on_entry").setAutoload(row.prog !== "return");
      obj.program("on_return").setAutoload(row.prog !== "entry");
      slotMode(obj, row, end, false);
    },
  },
  kprobe: {
    object: "kprobe",
    factors: [...BASE, ...AGG, { name: "prog", levels: ["entry", "return", "paired"] }, { name: "mode", levels: ["stream", "aggregate"] }, { name: "nargs", levels: ["0", "6"] }, { name: "strings", levels: ["0", "max"] }],
    configure(obj, row) {
      const end = common(obj, row, { charAt: 16, ptrAt: 16, lenAt: 24, base: 64 });
      kfuncProgs(obj, row, "kp_entry", "kp_return", Number(row.nargs), true);
      slotMode(obj, row, end, true);
    },
  },
  fentry: {
    object: "kprobe",
    vmOnly: true,
    target: "vfs_read", // (struct file *, char *, size_t, loff_t *): 4 argument slots, returns ssize_t
    factors: [...BASE, ...AGG, { name: "prog", levels: ["entry", "return", "paired"] }, { name: "mode", levels: ["stream", "aggregate"] }, { name: "nargs", levels: ["0", "4"] }, { name: "strings", levels: ["0", "max"] }],
    configure(obj, row) {
      const end = common(obj, row, { charAt: 16, ptrAt: 16, lenAt: 24, base: 64 });
      kfuncProgs(obj, row, "fe_entry", "fe_exit", Number(row.nargs), false);
      obj.setConstant("cfg_has_ret", 1);
      obj.setConstant("cfg_ret_slot", 4);
      for (const n of ["fe_entry", "fe_exit"]) obj.program(n).setAttachTarget("vfs_read");
      slotMode(obj, row, end, true);
    },
  },
  profile: {
    object: "profile",
    full: true,
    // profile(): on_sample, a stack count per (pid, stacks, comm) at each cpu-clock sample
    factors: [{ name: "kernel", levels: ["yes", "no"] }, { name: "user", levels: ["yes", "no"] }, { name: "idle", levels: ["no", "yes"] }, { name: "pid", levels: ["no", "yes"] }],
    configure(obj, row) {
      profileCommon(obj, row, "cpu");
      obj.setConstant("cfg_idle", row.idle === "yes" ? 1 : 0);
    },
  },
  offcpu: {
    object: "profile",
    full: true,
    // offcpu(): on_switch at sched_switch, time off the CPU per (pid, stacks, comm)
    factors: [{ name: "kernel", levels: ["yes", "no"] }, { name: "user", levels: ["yes", "no"] }, { name: "pid", levels: ["no", "yes"] }, { name: "preempted", levels: ["no", "yes"] }, { name: "minNs", levels: ["0", "1000"] }, { name: "recover", levels: ["yes", "no"] }],
    configure(obj, row) {
      profileCommon(obj, row, "offcpu");
      obj.setConstant("cfg_preempted", row.preempted === "yes" ? 1 : 0);
      obj.setConstant("cfg_recover", row.recover === "yes" ? 1 : 0);
      obj.setConstant("cfg_min_ns", BigInt(row.minNs!));
    },
  },
  sample: {
    object: "profile",
    // sample({ read }): on_sample_read, reads from the current task at each sample, keyed and aggregated through agg.h
    factors: [
      { name: "reads", levels: SAMPLE_READS },
      { name: "keys", levels: ["none", "std", "int", "string", "pointer", "max"] },
      { name: "agg", levels: SAMPLE_AGGS },
      { name: "pid", levels: ["no", "yes"] },
    ],
    load: loadSample,
  },
  "xdp aggregation": {
    object: "xdp",
    // xdp(iface, { rules, dryRun, where }).count({ by }) / .hist({ by, hist }): by no key, the default, the 5-tuple, MAX_COPIES byte ranges
    factors: [
      { name: "rules", levels: XDP_RULES },
      { name: "where", levels: XDP_WHERE },
      { name: "agg", levels: ["count", "log2", "linear"] },
      { name: "by", levels: ["none", "protocol", "flow", "max"] },
    ],
    load: loadXdp,
    // XDP loads take 1-2 s each under TCG: 8 rows still hold every level (the largest factor has 5)
    slowLimit: 8,
  },
  "xdp sample": {
    object: "xdp",
    // xdp(iface, { rules, dryRun, where }).sample({ every }): every packet, or 1 in 100
    factors: [{ name: "rules", levels: XDP_RULES }, { name: "where", levels: XDP_WHERE }, { name: "every", levels: ["1", "100"] }],
    load: loadXdp,
    slowLimit: 8,
  },
};

/** What profile() and offcpu() set on the object (probes/profile/run.ts), one program loaded. */
function profileCommon(obj: BpfObject, row: Row, kind: "cpu" | "offcpu"): void {
  if (row.pid === "yes") obj.setConstant("cfg_pid", 1);
  obj.setConstant("cfg_kernel", row.kernel === "yes" ? 1 : 0);
  obj.setConstant("cfg_user", row.user === "yes" ? 1 : 0);
  obj.map("stacks").setMaxEntries(1024);
  obj.map("spill").setMaxEntries(1024);
  obj.map("counts").setMaxEntries(kind === "cpu" ? 1024 : 1);
  obj.map("offcounts").setMaxEntries(kind === "offcpu" ? 1024 : 1);
  obj.map("offstarts").setMaxEntries(kind === "offcpu" ? 1024 : 1);
  obj.program("on_sample").setAutoload(kind === "cpu");
  obj.program("on_switch").setAutoload(kind === "offcpu");
  obj.program("on_sample_read").setAutoload(false);
  unusedSampleReadMaps(obj);
}

// ---- sample({ read }): reads from the current task, as probes/profile/reads.ts plans them

/** One read from the current task: `depth` pointers, then an integer, a pointer, an inline char array or a string through a `char *`. */
function taskRead(column: string, depth: number, leaf: "int" | "pointer" | "chars" | "kstring", size: number, signed = false): DeriveSpec {
  const offsets = [...Array(depth).fill(8), 16];
  const base = { column, src: "task" as const, what: `current.${column}`, kernelRead: true };
  switch (leaf) {
    case "int": return { ...base, offsets, leaf: "bytes", size, value: { kind: "int", size: size as 1 | 2 | 4 | 8, signed } };
    case "pointer": return { ...base, offsets, leaf: "bytes", size: 8, value: { kind: "int", size: 8, signed: false } };
    case "chars": return { ...base, offsets, leaf: "string", size, value: { kind: "string", bytes: size } };
    case "kstring": return { ...base, offsets: [...offsets, 0], leaf: "string", size, value: { kind: "string", bytes: size } };
  }
}

function sampleReads(level: Level): DeriveSpec[] {
  switch (level) {
    case "none": case "max": return [];
    case "int0": return [taskRead("r_int0", 0, "int", 4, true)];
    case "int4": return [taskRead("r_int4", 4, "int", 2, true)];
    case "chars": return [taskRead("r_chars", 0, "chars", 16)];
    case "kstring": return [taskRead("r_kstr", 2, "kstring", STRING_BYTES.max)];
    case "pointer": return [taskRead("r_ptr", 2, "pointer", 8)];
  }
  throw new Error(`sample reads level ${level}`);
}

function loadSample(row: Row): BpfObject {
  const reads = sampleReads(row.reads!);
  const by: string[] = [];
  const key = (name: string, spec?: DeriveSpec) => { by.push(name); if (spec) reads.push(spec); };
  switch (row.keys) {
    case "none": break;
    case "std": for (const s of ["cpu", "pid", "tid", "comm", "cgroup"]) key(s); break;
    case "int": key("k_int", taskRead("k_int", 2, "int", 4)); break;
    case "string": key("k_str", taskRead("k_str", 1, "kstring", STRING_BYTES.default)); break;
    case "pointer": key("k_ptr", taskRead("k_ptr", 1, "pointer", 8)); break;
    case "max":
      for (const s of ["cpu", "pid", "tid", "comm", "cgroup"]) key(s);
      // seven columns (the most with a histogram's bucket) filling MAX_KEY: 48 + 8 + 64 + the bucket's 8
      key("k_int", taskRead("k_int", 3, "int", 1, true));
      key("k_str", taskRead("k_str", 1, "kstring", 64));
      break;
  }
  const [agg, type, adjust] = row.agg!.split(" ") as [string, string | undefined, string | undefined];
  if (type) reads.push(taskRead("v", 1, "int", Number(type.slice(1)), type[0] === "s"));
  if (row.reads === "max") while (reads.length < MAX_DERIVED) reads.push(taskRead(`r_fill${reads.length}`, reads.length % 5, "int", 8));
  const derived = layoutDerived(reads, 0, "combo sample");
  // the key as probes/profile/sample-aggregate.ts plans it
  const k = new KeyLayout(by);
  for (const name of by) {
    k.name(name);
    if (k.standard(name)) continue;
    const f = derived.fields.find((x) => x.column === name)!;
    if (f.value.kind === "string") k.chars(name, f.doff, f.value.bytes);
    else if (name === "k_ptr") k.pointer(name, f.doff);
    else if (f.value.kind === "int") k.int(name, f.doff, f.value.size, f.value.signed);
  }
  const hist = agg === "log2" ? "log2" as const : agg === "linear" ? { min: 0, max: 32, step: 1 } : undefined;
  const plan = k.finish(Boolean(hist));
  const v = type ? derived.fields.find((x) => x.column === "v")! : null;
  const value = v && v.value.kind === "int" ? { woff: v.doff, size: v.value.size, signed: v.value.signed } : null;
  return loadSampleObject({
    source: "combo sample", hz: 99, cpus: [0], pid: row.pid === "yes" ? 1 : undefined, derived, plan, value,
    adjust: adjust === "lessOne" ? "lessOne" : adjust === "lessRunning" ? "lessRunning" : "none", hist, maxKeys: 64,
  }).obj;
}

// ---- xdp(): rules, the where filter, and each run: count/hist keys, sampling

/** A match with every field (one of each kind of comparison), and one with the either-direction ones. */
const MATCH_ALL: PacketMatch = { protocol: "ipv4/udp", src: "10.0.0.0/8", dst: "fd00::/64", sport: [1000, 2000], dport: 53, vlan: 7 };
const MATCH_EITHER: PacketMatch = { protocol: "icmp", addr: "192.168.1.1", port: "1-1024", icmpType: "echo-request" };
/** MAX_RULES rules cycling through each kind of field, drops and passes. */
function xdpRules(level: Level): XdpRule[] {
  if (level === "0") return [];
  if (level.startsWith("1")) return [{ action: "drop", ...MATCH_ALL }];
  const kinds: PacketMatch[] = [MATCH_ALL, MATCH_EITHER, { protocol: "tcp" }, { protocol: "arp", icmpType: "arp-request" }, { protocol: "ipv6" }, { src: "10.1.2.3" }, { dst: "10.0.0.0/24" }, { sport: 22 }, { vlan: 0 }, { protocol: 17 }];
  return Array.from({ length: 16 }, (_, i) => ({ action: i % 2 ? "pass" as const : "drop" as const, ...kinds[i % kinds.length]! }));
}

function loadXdp(row: Row): BpfObject {
  const rules = xdpRules(row.rules!);
  const where = row.where === "none" ? undefined : row.where === "one" ? { protocol: "udp" } : row.where === "all" ? MATCH_ALL : MATCH_EITHER;
  // "lo" is on every machine; nothing attaches to it, the probe only plans and opens
  const probe = xdp("lo", { rules, dryRun: row.rules!.endsWith("dry"), ...(where ? { where } : {}) });
  const obj = probe.open(row.every ? RunMode.sample : RunMode.aggregate);
  try {
    if (row.every) {
      // as probes/xdp/sample.ts configures it
      obj.setConstant("cfg_sample_every", Number(row.every));
      obj.setConstant("cfg_wakeup_bytes", 1 << 18);
      obj.map("events").setMaxEntries(1 << 20);
      for (const m of ["agg0", "agg1"]) {
        obj.map(m).setKeySize(8);
        obj.map(m).setMaxEntries(1);
      }
    } else {
      const by: XdpKey[] = row.by === "none" ? [] : row.by === "max" ? XDP_MAX_KEY : [row.by as XdpKey];
      const a = row.agg === "count" ? probe.count({ by, maxKeys: 64 }) : probe.hist({ by, hist: row.agg === "log2" ? "log2" : { min: 0, max: 1500, step: 100 }, maxKeys: 64 });
      a.configure(obj);
    }
    obj.load();
    return obj;
  } catch (e) {
    obj.dispose();
    throw e;
  }
}

function kfuncProgs(obj: BpfObject, row: Row, entry: string, ret: string, nargs: number, kprobe: boolean): void {
  const used = row.prog === "entry" ? [entry] : row.prog === "return" ? [ret] : [entry, ret];
  for (const p of obj.programs.values()) p.setAutoload(used.includes(p.name));
  obj.setConstant("cfg_nargs", nargs);
  const paired = row.prog === "paired";
  obj.setConstant("cfg_store", paired ? 1 : 0);
  obj.setConstant("cfg_paired", paired ? 1 : 0);
  obj.setConstant("cfg_start_args", paired && kprobe ? 1 : 0);
  if (!paired) obj.map("starts").setMaxEntries(1);
}

/** Stream or aggregate, for the slot programs (uprobe, kprobe/fentry). */
function slotMode(obj: BpfObject, row: Row, end: number, strings: boolean): void {
  const derived = end - 64;
  if (row.mode === "aggregate") {
    obj.setConstant("cfg_aggregate", 1);
    const plan = keyPlan(row.keys!, 16, strings, row.hist !== "none", 64);
    setAgg(obj, row, plan, 16);
    return;
  }
  aggregateMaps(obj, null);
  const nstr = strings && row.strings === "max" ? 4 : 0;
  obj.setConstant("cfg_first_slot", 0);
  obj.setConstant("cfg_nslots", 8);
  obj.setConstant("cfg_derive_bytes", derived);
  if (strings) {
    obj.setConstant("cfg_nstr", nstr);
    obj.setConstant("cfg_str_slot", new Uint8Array(16).map((_, i) => (i % 4 === 0 ? 2 + i / 4 : 0)));
    obj.setConstant("cfg_str_mode", new Uint8Array(16).map((_, i) => (i % 4 === 0 ? (i / 4) % 3 : 0)));
    obj.setConstant("cfg_str_len", 256);
  }
  obj.setConstant("cfg_event_size", HDR_SIZE + 64 + derived + nstr * 256);
  obj.map("events").setMaxEntries(1 << 16);
}

/** The rows loadCombos loads for a kind without a limit: its full product, or its all-pairs rows. */
export function comboRows(kind: string): number {
  const k = KINDS[kind];
  if (!k) throw new RangeError(`no combination kind ${JSON.stringify(kind)}; the kinds are ${Object.keys(KINDS).join(", ")}`);
  return k.full ? productSize(k.factors) : allPairs(k.factors).length;
}

/** How many rows loadCombos(kind, { limit }) loads: the limit, the kind's slowLimit, or all its rows if fewer. */
export function limitedRows(kind: string, limit: number): number {
  return Math.min(limit, KINDS[kind]?.slowLimit ?? limit, comboRows(kind));
}

/**
 * Loads (never attaches) every combination of a kind, or `limit` of them (at most its
 * slowLimit) chosen to cover every factor level (limitRows); returns the count, the coverage
 * and what the verifier refused.
 */
export function loadCombos(kind: string, opts: { seed?: number; limit?: number } = {}): LoadResult {
  const k = KINDS[kind];
  if (!k) throw new RangeError(`no combination kind ${JSON.stringify(kind)}; the kinds are ${Object.keys(KINDS).join(", ")}`);
  const all = k.full ? product(k.factors) : allPairs(k.factors, opts.seed ?? 1);
  const rows = opts.limit === undefined ? all : limitRows(k.factors, all, Math.min(opts.limit, k.slowLimit ?? opts.limit));
  const failures: LoadResult["failures"] = [];
  const t0 = performance.now();
  let programs = 0;
  for (const row of rows) {
    let obj: BpfObject | null = null;
    try {
      if (k.load) obj = k.load(row);
      else {
        obj = BpfObject.open(bpfObjectPath(k.object), k.object);
        k.configure!(obj, row);
        obj.load();
      }
      // each autoloaded program really is in the kernel: it has an fd
      const n = [...obj.programs.values()].filter((p) => p.fd > 0).length;
      if (n === 0) throw new Error("no program has an fd after load");
      programs += n;
    } catch (e) {
      failures.push({ row, error: String((e as Error).message ?? e).split("\n").slice(0, 3).join(" / ") });
    } finally {
      obj?.dispose();
    }
  }
  return { kind, count: rows.length, failures, ms: Math.round(performance.now() - t0), programs, coverage: coverage(k.factors, rows) };
}
