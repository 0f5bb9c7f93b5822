/* cachestat's hit ratio, where kernel functions can be traced: bcc's four counters (page
 * cache accesses, insertions, dirtyings, buffer dirtyings), each counted in the kernel by
 * a kprobe() aggregation of its own (fentry when the kernel allows it, else a kprobe), and
 * bcc's formulas over them. No tracepoint marks a page cache hit, so where no kernel
 * function can be traced this says why instead. The counters are read whenever the
 * cachestat run reads its own interval, so both cover the same time. */
import type { AggregationRun } from "../engine/aggregation-run.js";
import { kprobe } from "../probes/fentry/probe.js";
import { traceability } from "../probes/fentry/names.js";
import { kernelFunctionSupport } from "../probes/fentry/support.js";
import { UnknownKernelFunctionError } from "../probes/fentry/errors.js";
import { KernelBtf } from "../probes/fentry/prototype.js";
import type { KprobeOptions } from "../probes/fentry/types.js";
import type { ToolFilter } from "./tool-info.js";

/** pid and comm, as a kernel function probe of any function takes them. */
type Where = NonNullable<KprobeOptions<string>["where"]>;

/** What each counted function stands for in bcc's formulas. */
export type HitRole = "accessed" | "added" | "accountDirtied" | "bufferDirty";

/** Each role's function, the newest name first (the folio names came with 5.16-5.18). */
const CANDIDATES: Readonly<Record<HitRole, readonly string[]>> = {
  accessed: ["folio_mark_accessed", "mark_page_accessed"],
  added: ["filemap_add_folio", "add_to_page_cache_lru"],
  accountDirtied: ["folio_account_dirtied", "account_page_dirtied"],
  bufferDirty: ["mark_buffer_dirty"],
};

/** The kernel functions the hit ratio counts on this kernel. */
export interface HitFunctions {
  /** A page cache access: folio_mark_accessed (mark_page_accessed before 5.16). */
  accessed: string;
  /** A folio put into the page cache: filemap_add_folio (add_to_page_cache_lru before 5.18). */
  added: string;
  /**
   * A folio dirtied: folio_account_dirtied (account_page_dirtied before 5.16), or null where
   * the compiler inlined it (Debian's 6.1 does): then the dirtying tracepoint's count stands
   * in, as in bcc's libbpf cachestat.
   */
  accountDirtied: string | null;
  /** A buffer dirtied: mark_buffer_dirty. */
  bufferDirty: string;
}

/** Either the functions to count, or why there is no hit ratio here. */
export type HitPlan = { functions: HitFunctions; missing?: undefined } | { functions?: undefined; missing: string };

/** Why a table has no hit ratio, after the reason itself. */
const BECAUSE = "bcc's cachestat counts page cache accesses with folio_mark_accessed() and mark_buffer_dirty(), and no tracepoint marks a page cache hit";

/** The notice for a hit ratio that cannot be counted, for `why`. */
export const noHitRatio = (why: string): string => `no hit ratio: ${why}; ${BECAUSE}`;

/** Whether either mechanism can attach to `fn`, as far as the kernel's lists tell (false when it does not exist). */
function traceable(fn: string): boolean {
  // not in the kernel's BTF: inlined, or renamed (folio_account_dirtied on 6.1). Asked anyway,
  // traceability() would spend seconds finding close names for its error.
  const btf = KernelBtf.tryVmlinux();
  if (btf !== null && btf.findFunction(fn) < 0) return false;
  try {
    const t = traceability(fn);
    return t.fentry === null || t.kprobe === null;
  } catch (e) {
    if (e instanceof UnknownKernelFunctionError) return false;
    throw e;
  }
}

let plan: HitPlan | undefined;

/**
 * The functions this kernel lets cachestat count, or why none (the doctor's probes of
 * fentry and kprobes, each run once per process, then the names in this kernel's BTF and
 * symbol lists). Asked once per process.
 */
export function hitPlan(): HitPlan {
  if (plan) return plan;
  const s = kernelFunctionSupport();
  if (s.preferred === null) {
    plan = { missing: noHitRatio(`kernel functions cannot be traced on this kernel (fentry: ${s.fentry.reason ?? "refused"}; kprobes: ${s.kprobe.reason ?? "refused"})`) };
    return plan;
  }
  const pick = (role: HitRole) => CANDIDATES[role].find(traceable) ?? null;
  const accessed = pick("accessed"), added = pick("added"), bufferDirty = pick("bufferDirty");
  const absent = (["accessed", "added", "bufferDirty"] as const).filter((r) => ({ accessed, added, bufferDirty })[r] === null);
  plan = accessed !== null && added !== null && bufferDirty !== null
    ? { functions: { accessed, added, accountDirtied: pick("accountDirtied"), bufferDirty } }
    : { missing: noHitRatio(`this kernel has no traceable ${absent.map((r) => CANDIDATES[r].join(" or ")).join(", nor ")}`) };
  return plan;
}

/** Calls of each counted function since the counters started (accountDirtied null: not counted here). */
export interface HitCounts {
  accessed: number;
  added: number;
  accountDirtied: number | null;
  bufferDirty: number;
}

export const NO_HITS: HitCounts = { accessed: 0, added: 0, accountDirtied: 0, bufferDirty: 0 };

/** What a count() table with no key holds: one row of `count`, or none before the first call. */
function countOf(t: { numRows(): number; get(c: string, i: number): unknown }): number {
  return t.numRows() ? Number(t.get("count", 0)) : 0;
}

/** The four functions counted in the kernel, one aggregation each, running until stop(). */
export class HitCounters {
  /** Each function as its run names it ("fentry:folio_mark_accessed", "kprobe:mark_buffer_dirty"). */
  readonly sources: readonly string[];
  readonly #runs: readonly { role: HitRole; run: AggregationRun }[];
  #stopping: Promise<void> | null = null;

  /** Loads and attaches all of them, or none (a NotSupportedError from the kernel passes through). */
  constructor(functions: HitFunctions, filter: ToolFilter) {
    const runs: { role: HitRole; run: AggregationRun }[] = [];
    try {
      for (const role of ["accessed", "added", "accountDirtied", "bufferDirty"] as const) {
        const fn = functions[role];
        if (fn === null) continue;
        // the tracer's own page cache use is in the tracepoints' counts too (they keep it): keep it here alike
        runs.push({ role, run: kprobe(fn, { where: { ...filter } as Where, includeSelf: true }).count().start() });
      }
    } catch (e) {
      for (const r of runs.reverse()) r.run[Symbol.dispose]();
      throw e;
    }
    this.#runs = runs;
    this.sources = runs.map((r) => r.run.source);
  }

  /** The calls so far (a stopped counter keeps its last count); throws the error that ended a counter. */
  read(): HitCounts {
    const out: HitCounts = { accessed: 0, added: 0, accountDirtied: null, bufferDirty: 0 };
    for (const { role, run } of this.#runs) {
      if (run.error) throw run.error;
      out[role] = countOf(run.snapshot());
    }
    return out;
  }

  /** Detaches and releases every counter at once (when the run they serve could not start). */
  dispose(): void {
    for (const r of [...this.#runs].reverse()) r.run[Symbol.dispose]();
  }

  /** Detaches and releases every counter (idempotent). */
  stop(): Promise<void> {
    this.#stopping ??= Promise.all(this.#runs.map((r) => r.run.stop())).then(() => undefined);
    return this.#stopping;
  }
}

/** Counts between two reads (`from` earlier). */
export function hitDelta(to: HitCounts, from: HitCounts): HitCounts {
  return {
    accessed: to.accessed - from.accessed,
    added: to.added - from.added,
    accountDirtied: to.accountDirtied === null ? null : to.accountDirtied - (from.accountDirtied ?? 0),
    bufferDirty: to.bufferDirty - from.bufferDirty,
  };
}

/**
 * bcc's cachestat: total = accessed - buffer dirtyings, misses = added - dirtied (each at
 * least 0), hits = total - misses; when readahead added more than was read (hits below 0),
 * every access is a miss. ratio = hits / total, null when nothing was accessed.
 * `dirtied` stands in for accountDirtied where that function is not counted.
 */
export function hitRatio(c: HitCounts, dirtied: number): { hits: number; misses: number; ratio: number | null } {
  const total = Math.max(0, c.accessed - c.bufferDirty);
  let misses = Math.max(0, c.added - (c.accountDirtied ?? dirtied));
  let hits = total - misses;
  if (hits < 0) {
    misses = total;
    hits = 0;
  }
  return { hits, misses, ratio: total > 0 ? hits / total : null };
}
