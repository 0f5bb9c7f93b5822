/* The typed API of kernel function probes: rows, options, filters and key names,
 * derived from the kernel's BTF prototypes (generated/kernel-functions.d.ts). */
import type { SelfOption } from "../self.js";
import type { FieldFilter } from "../../engine/filter.js";
import type { HistSpec } from "../../engine/aggregation-run.js";
import type { ReadRow, StandardRow } from "../tracepoint/probe.js";
import type { KernelFunctionArgs, KernelFunctionReturn, KernelFunctionStrings } from "../../generated/kernel-functions.js";
import type { Via } from "./support.js";
import type { ExtraColumn, ExtraRow } from "../tracepoint/reads.js";
import type { PairedReadSpec } from "../entry-reads.js";

type StdColumn = "ts" | "cpu" | "pid" | "tid" | "comm";
/** An argument named like a standard column, `ret` or `latency` becomes `args_<name>`. */
export type KernelFunctionColumn<K extends string> = K extends StdColumn | "ret" | "latency" ? `args_${K}` : K;
/** The readable arguments of kernel function N (every name for a function the build did not know). */
export type KernelFunctionArgName<N extends string> = Extract<keyof KernelFunctionArgs<N>, string>;
/** The char-pointer arguments of N, which can be read as strings. */
export type KernelFunctionStringArg<N extends string> = KernelFunctionStrings<N>;
type ArgValue<N extends string, K extends string> = K extends keyof KernelFunctionArgs<N> ? KernelFunctionArgs<N>[K] : number | bigint;
type ArgColumns<N extends string, A extends string, S extends string> = { [K in A | S as KernelFunctionColumn<K>]: K extends S ? string : ArgValue<N, K> };

/** A kprobe/fentry row: the standard columns and the chosen arguments. */
export type KprobeRow<N extends string, A extends string, S extends string> = StandardRow & ArgColumns<N, A, S>;
/** A kretprobe/fexit row: also the return value, and `latency` (ns since entry) when asked for. */
export type KretprobeRow<N extends string, A extends string, S extends string, L extends boolean> =
  KprobeRow<N, A, S> & { ret: KernelFunctionReturn<N> } & (L extends true ? { latency: number } : unknown);

/** What an aggregation can be keyed by. */
export type KernelFunctionKeyName<N extends string> = "pid" | "tid" | "comm" | "cpu" | "cgroup" | "ret" | "latency" | ExtraColumn | KernelFunctionColumn<KernelFunctionArgName<N>> | (string & {});
/** What an aggregation can sum or put in a histogram: an integer argument, `ret`, `latency`. */
export type KernelFunctionValueName<N extends string> = "ret" | "latency" | KernelFunctionColumn<KernelFunctionArgName<N>>;

export type KernelFunctionWhere<N extends string> = {
  pid?: number;
  tid?: number;
  comm?: string;
  /** Return probes: the return value. */
  ret?: FieldFilter<number | bigint>;
  /** Return probes: ns since the entry of the same thread (pairs entries and returns). */
  latency?: FieldFilter<number>;
} & { [K in KernelFunctionArgName<N> as KernelFunctionColumn<K>]?: FieldFilter<number | bigint> };

/** Where a string argument is read: user memory, kernel memory, or by its address (the default when BTF does not say `__user`). */
export type StringSource = "user" | "kernel" | "auto";

/** The `read` option's entries, by column name. */
export type KernelFunctionReads = Readonly<Record<string, PairedReadSpec>>;
/** The columns the `columns` (C) and `read` (R) options add to a row of N with arguments A and strings S. */
export type KernelFunctionOptionsRow<A extends string, S extends string, C extends ExtraColumn, R extends KernelFunctionReads> = ExtraRow<C, KernelFunctionColumn<A | S>> & ReadRow<R>;

export interface KprobeOptions<N extends string, A extends string = KernelFunctionArgName<N>, S extends string = never, C extends ExtraColumn = ExtraColumn, R extends KernelFunctionReads = KernelFunctionReads> extends SelfOption {
  /** Arguments to decode, by name (default: every readable argument). */
  args?: readonly A[];
  /** `char *` arguments to read as strings (up to 4), optionally saying where they point. */
  strings?: readonly S[] | { readonly [K in S]?: StringSource };
  /** Filters evaluated in the kernel: pid, tid, comm, and comparisons on integer/pointer arguments (`ret`, `latency` on returns) and derived values. */
  where?: KernelFunctionWhere<N> & Record<string, unknown>;
  /**
   * Standard columns derived in the kernel: uid, gid, ppid, pcomm, cgroup (cgroup_path and
   * container are resolved from the cgroup id in user space), kstack and ustack (the kernel
   * and user stacks as folded strings, root first; see docs/stacks.md). Naming one in
   * where/by adds it too.
   */
  columns?: readonly C[];
  /**
   * Values read in the kernel at each event, as named columns: BTF paths from an argument
   * (`"file->f_path.dentry->d_name.name"`), from the current task (`"current.real_parent.tgid"`),
   * from the returned pointer (`{ from: "ret", path: "..." }`, kretprobe), or memory behind a
   * pointer (`{ from: "filename", user: true, string: 64 }`). Arguments BTF tags `__user` are read
   * from user memory. On a kretprobe, reads through an argument happen at the entry and are
   * carried to the return (`at: "return"` reads at the return, as reads from `ret` and the
   * current task do). See docs/probes.md.
   */
  read?: R;
  /** Stacks the stack map holds when kstack/ustack are asked for (default 16384); a stack that finds its slot taken is lost and counted in stats.stacksLost. */
  stackEntries?: number;
  /** "auto" (default): fentry/fexit when the kernel allows it, else kprobes. */
  via?: "auto" | Via;
  /** Bytes read for each string, a multiple of 8 up to 1024 (default 256). */
  stringBytes?: number;
  /** Ring buffer size (a power of two of at least 4096), default 16 MiB. */
  bufferBytes?: number;
  /** Wake user space once this much data waits (default: a quarter of the buffer, at most 1 MiB). */
  wakeupBytes?: number;
}

export interface KretprobeOptions<N extends string, A extends string = KernelFunctionArgName<N>, S extends string = never, L extends boolean = false,
  C extends ExtraColumn = ExtraColumn, R extends KernelFunctionReads = KernelFunctionReads> extends KprobeOptions<N, A, S, C, R> {
  /** Add a `latency` column: ns from the function's entry to this return, paired by thread in the kernel. */
  latency?: L;
}

export interface KernelFunctionPlan {
  function: string;
  prototype: string;
  probe: "kprobe" | "kretprobe";
  /** As asked; the mechanism used is decided at start (see `probe.lastVia`). */
  via: "auto" | Via;
  /** What the readable lists say about this function (null: possible, or unknown). */
  traceable: { fentry: string | null; kprobe: string | null };
  columns: { name: string; column: string; type: string; as: "number" | "bigint" | "string"; read?: StringSource }[];
  eventBytes: number;
  argSlots: number;
  kernelFilters: string[];
  bufferBytes: number;
  /** Values derived in the kernel (standard columns, reads): column, what, window offset, bytes. */
  derived: { column: string; what: string; offset: number; bytes: number; kernelRead: boolean }[];
  /** kretprobe: the reads taken at the function's entry and carried to the return (the others are read at the return). */
  readsAtEntry: string[];
}

export interface KernelFunctionAggregateOptions<K extends string = string, V extends string = string> {
  /** Key columns: pid, tid, comm, cpu, cgroup, arguments (strings when read as strings), ret. */
  by?: readonly K[];
  /** The integer argument, `ret` or `latency` summed / put in a histogram (default: just count calls). */
  value?: V;
  hist?: HistSpec;
  /** Keys the kernel map holds (default 10240); calls of keys beyond it are counted in stats.dropped. */
  maxKeys?: number;
  /** Bytes of string keys, 8..48, default 32. */
  stringBytes?: number;
}
