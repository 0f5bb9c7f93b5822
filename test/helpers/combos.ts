/* Verifier acceptance: every program kind configured with combinations of the features
 * that change its verified paths (filters, derived fields of each source and leaf kind,
 * pointer chains 0..4 deep, user/kernel/by-address reads, buffers with a length, key part kinds, value sources,
 * histogram kinds, stream modes, pairing and carried bytes, user strings, __data_loc).
 * The product explodes, so each kind's factors are covered in all pairs (a seeded greedy
 * covering array): every two levels of any two factors load together at least once.
 * The rodata is encoded by the engine's own encoders (encodePreds, KeyLayout, layoutDerived),
 * so what loads here is what the planners produce. Shared by the host test and the VM run
 * (test/vm/reads.test.ts), which loads `limit` rows per kind chosen to hold every level. */
import { BpfObject } from "../../bpf-lib/src/libbpf/object.js";
import { bpfObjectPath } from "../../bpf-lib/src/paths.js";
import { encodePreds, type Pred } from "../../bpf-lib/src/engine/filter.js";
import { KeyLayout, PartSrc, encodeParts, type KeyPlan } from "../../bpf-lib/src/engine/keys.js";
import { layoutDerived, MAX_DERIVED, type DeriveSpec } from "../../bpf-lib/src/engine/derive.js";
import { HDR_SIZE, MAX_PREDS, MAX_USTR, MAX_WINDOW } from "../../bpf-lib/src/engine/layout.js";

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

/** What each program kind varies, and how a row configures its object. */
export const KINDS: Record<string, { object: string; factors: Factor[]; configure(obj: BpfObject, row: Row): void; vmOnly?: boolean; target?: string }> = {
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
    factors: [...BASE, ...AGG, { name: "prog", levels: ["entry", "return", "paired"] }, { name: "mode", levels: ["stream", "aggregate"] }, { name: "nargs", levels: ["0", "6"] }],
    configure(obj, row) {
      const end = common(obj, row, { charAt: 16, ptrAt: 16, lenAt: 24, base: 64 });
      const nargs = Number(row.nargs);
      obj.setConstant("cfg_nargs", nargs);
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
};

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

/**
 * Loads (never attaches) every combination of a kind, or `limit` of them chosen to cover
 * every factor level (limitRows); returns the count, the coverage and what the verifier refused.
 */
export function loadCombos(kind: string, opts: { seed?: number; limit?: number } = {}): LoadResult {
  const k = KINDS[kind];
  if (!k) throw new RangeError(`no combination kind ${JSON.stringify(kind)}; the kinds are ${Object.keys(KINDS).join(", ")}`);
  const all = allPairs(k.factors, opts.seed ?? 1);
  const rows = opts.limit === undefined ? all : limitRows(k.factors, all, opts.limit);
  const failures: LoadResult["failures"] = [];
  const t0 = performance.now();
  let programs = 0;
  for (const row of rows) {
    const obj = BpfObject.open(bpfObjectPath(k.object), k.object);
    try {
      k.configure(obj, row);
      obj.load();
      // each autoloaded program really is in the kernel: it has an fd
      const n = [...obj.programs.values()].filter((p) => p.fd > 0).length;
      if (n === 0) throw new Error("no program has an fd after load");
      programs += n;
    } catch (e) {
      failures.push({ row, error: String((e as Error).message ?? e).split("\n").slice(0, 3).join(" / ") });
    } finally {
      obj.dispose();
    }
  }
  return { kind, count: rows.length, failures, ms: Math.round(performance.now() - t0), programs, coverage: coverage(k.factors, rows) };
}
