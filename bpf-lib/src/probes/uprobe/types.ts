/* The uprobe API's types: argument names and types, options, filters, rows, plans. */
import type { SelfOption } from "../self.js";
import type { FieldFilter } from "../../engine/filter.js";
import type { HistSpec } from "../../engine/aggregation-run.js";
import type { StandardRow } from "../tracepoint/probe.js";
import type { ExtraColumn } from "../tracepoint/reads.js";
import type { PairedReadSpec } from "../entry-reads.js";

/** How an integer argument or return value decodes (from the low bytes of its 64-bit register). */
export type IntType =
  | "i8" | "u8" | "i16" | "u16" | "i32" | "u32" | "i64" | "u64"
  | "char" | "short" | "int" | "unsigned int" | "long" | "unsigned long" | "size_t" | "ssize_t" | "bool" | "pointer";

export type ArgName = "arg0" | "arg1" | "arg2" | "arg3" | "arg4" | "arg5";

/** Filters run in the kernel: the task, and comparisons on arguments and the return value. */
export type UprobeWhere = {
  pid?: number;
  tid?: number;
  comm?: string;
  /** With a list or a wildcard of functions: attach only to these of the matches (a name or a list). */
  probe?: string | readonly string[];
} & { [K in ArgName | "ret"]?: FieldFilter<number | bigint> };

export interface UprobeOptions extends SelfOption {
  /** Only this process: the uprobe is attached for it alone (and checked in the program). */
  pid?: number;
  /** A uretprobe: fires when the function returns, with its return value in `ret`. */
  retprobe?: boolean;
  /** How many integer arguments to capture (0..6), as columns arg0..argN-1: x86_64 registers rdi, rsi, rdx, rcx, r8, r9. */
  args?: number;
  /** How each argument decodes (default "i64" for all; "pointer" gives bigints). */
  argTypes?: readonly IntType[];
  /** How the return value decodes (default "i64"). */
  retType?: IntType;
  /** Return streams: also time each call (entry → return, ns) in a `latency` column. Implied by args > 0 on a retprobe. */
  latency?: boolean;
  /**
   * Bytes into the function to place an entry probe at (default 0). It must be the
   * start of an instruction (checked by decoding the function), else UnsafeOffsetError.
   */
  offset?: number;
  /**
   * Skip that check (like bpftrace's --unsafe). A probe that is not on an instruction
   * boundary corrupts the instruction: the traced process, or without a pid filter
   * every process running the function, crashes.
   */
  unsafeOffset?: boolean;
  /** Kernel filters: pid, tid, comm, argN, ret, and derived columns (uid, ppid, reads...). */
  where?: UprobeWhere & Record<string, unknown>;
  /**
   * Standard columns derived in the kernel: uid, gid, ppid, pcomm, cgroup (cgroup_path and
   * container are resolved from the cgroup id in user space), kstack and ustack (the kernel
   * and user stacks as folded strings, root first; see docs/stacks.md). Naming one in
   * where/by adds it too.
   */
  columns?: readonly ExtraColumn[];
  /**
   * Memory read in the kernel at each event, as named columns. Arguments are untyped
   * registers, so say what they point to: `{ from: "arg0", string: 64 }` (a `char *`
   * argument), `{ from: "ret", string: 128 }` (a returned string, uretprobe),
   * `{ from: "arg1", bytes: 32, length: "arg2" }`. Pointers are user memory unless
   * `user: false`. On a uretprobe, reads through an argument happen at the entry and are
   * carried to the return (bpftrace's `@s[tid] = str(arg0)`); `at: "return"` reads at the
   * return instead (an output buffer), as reads from `ret` and the current task do. See
   * docs/probes.md.
   */
  read?: Readonly<Record<string, PairedReadSpec>>;
  /** Stacks the stack map holds when kstack/ustack are asked for (default 16384); a stack that finds its slot taken is lost and counted in stats.stacksLost. */
  stackEntries?: number;
  /** With a list or a wildcard of functions: the most it may match (default 64, at most 1024), else TooManySymbolsError. */
  maxFunctions?: number;
  /** Ring buffer size for streams (a power of two from 4096 to 1 GiB), default 16 MiB. */
  bufferBytes?: number;
  /** Wake the reader once this much data waits (default: a quarter of the buffer, at most 1 MiB). */
  wakeupBytes?: number;
}

/**
 * A row of a uprobe stream: the standard columns plus arg0.., ret, latency. Which of those it has, and
 * what `columns` and `read` add, depends on options not carried in the probe's type: any other
 * column is allowed (unknown).
 */
export type UprobeRow = StandardRow & { [K in ArgName | "ret" | "latency"]?: number | bigint } & { [column: string]: unknown };

/** The `probe` column's type for a symbol argument: a list's names, or string where a wildcard is in it. */
type ProbeName<E extends string> = E extends `${string}${"*" | "?"}${string}` ? string : E;
/**
 * The row of uprobe(binary, symbol): a list or a wildcard adds `probe: string` (the names
 * of a list of plain names as a union of literals); one function, none.
 */
export type UprobeRowOf<S> = S extends readonly string[]
  ? UprobeRow & { probe: ProbeName<S[number]> }
  : S extends string
    ? string extends S ? UprobeRow : S extends `${string}${"*" | "?"}${string}` ? UprobeRow & { probe: string } : UprobeRow
    : UprobeRow;

export interface UprobePlan {
  binary: string;
  symbol: string;
  /** A list or a wildcard: every function attached to, in cookie order (the `probe` column's names). */
  functions?: { name: string; address: string; fileOffset: string }[];
  /** The function's virtual address in the ELF file. */
  address: string;
  /** Where the probe is placed in the file. */
  fileOffset: string;
  programs: ("uprobe" | "uretprobe")[];
  columns: string[];
  eventBytes: number;
  kernelFilters: string[];
  pid?: number;
  /** Values derived in the kernel (standard columns, reads): column, what, window offset, bytes. */
  derived: { column: string; what: string; offset: number; bytes: number; kernelRead: boolean }[];
  /** The reads taken at the function's entry (on a uretprobe, carried to the return); the others are read at the return. */
  readsAtEntry: string[];
}

/** Key columns of uprobe aggregations: task columns, arguments and (on return) the return value. */
export type UprobeKey = "pid" | "tid" | "comm" | "cpu" | "cgroup" | ArgName | "ret" | ExtraColumn | (string & {});

export interface UprobeAggregateOptions {
  by?: readonly UprobeKey[];
  /** The value aggregated: an argument, "ret", or "latency" (default: count calls). */
  value?: ArgName | "ret" | "latency" | (string & {});
  hist?: HistSpec;
  maxKeys?: number;
}
