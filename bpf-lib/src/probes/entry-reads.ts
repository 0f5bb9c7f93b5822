/* When a return probe's reads happen: at the entry (carried to the return, as
 * bpftrace's `@s[tid] = str(arg0)` keeps what an argument pointed to when the call
 * began) or at the return (an output buffer, the returned pointer). Shared by uprobes
 * and kernel functions, whose programs (uprobe.bpf.c, kprobe.bpf.c) derive the fields
 * of `mask` at the entry, store the window's first `carryBytes` by thread, and derive
 * the rest at the return. */
import { InvalidArgumentError, InvalidOptionError } from "../errors.js";
import type { ReadSpec } from "./tracepoint/reads.js";
import type { SlotDerived } from "./slot-reads.js";

/** When a read on a return probe happens. */
export type ReadAt = "entry" | "return";

/** A `read` entry of a probe that can pair an entry with its return: `at` says when the memory is read. */
export type PairedReadSpec = ReadSpec | (Extract<ReadSpec, { from: string }> & {
  /**
   * Return probes: read at the function's entry and carry the value to the return
   * ("entry", the default for reads through an argument), or read at the return
   * ("return": an output buffer, the default for reads from `ret` or the current task).
   */
  at?: ReadAt;
});

/** Window bytes before the derived fields: the eight slots. */
const SLOTS_BYTES = 64;
/** A start is at most this many bytes: the slots and every derived byte. */
const MAX_CARRY = 64 + 1024;
/** Threads in flight a pairing map holds at most (its default size). */
const MAX_STARTS = 65536;
/** Memory a pairing map may take (hash maps are preallocated): fewer threads in flight when starts are large. */
const STARTS_BUDGET = 32 << 20;

export interface EntryReads {
  /** Bit i: derived field i is read at entry (cfg_derive_entry). */
  mask: number;
  /** Window bytes a start holds (cfg_carry_bytes, the starts map's value size). */
  carryBytes: number;
  /** Threads in flight the starts map holds. */
  maxStarts: number;
  /** The reads taken at entry, by column. */
  columns: string[];
}

/** What a read starts from: an object's `from`, or the first name of a path string. */
function readFrom(raw: unknown): string | undefined {
  if (typeof raw === "string") return /^\s*(?:\([^)]*\)\s*)?([A-Za-z_]\w*)/.exec(raw)?.[1];
  return typeof raw === "object" && raw !== null && typeof (raw as { from?: unknown }).from === "string" ? (raw as { from: string }).from : undefined;
}

/**
 * Plans when each read of `read` happens. `returns`: the probe fires at a return (the
 * choice exists only then). `args`: the names reads start from that are arguments.
 * Throws for an `at` that is not "entry"/"return", "entry" on a read that needs the
 * return value, or "return" on an entry probe.
 */
export function planEntryReads(read: Readonly<Record<string, unknown>> | undefined, derived: SlotDerived, returns: boolean, isArg: (name: string) => boolean, source: string): EntryReads {
  const entry = new Set<string>();
  for (const [column, raw] of Object.entries(read ?? {})) {
    const o = typeof raw === "object" && raw !== null ? (raw as { at?: unknown; length?: unknown }) : {};
    const at = o.at;
    if (at !== undefined && at !== "entry" && at !== "return") throw new InvalidOptionError(source, `read.${column}.at`, at, `"entry" (read when the call begins, carried to the return) or "return"`);
    const from = readFrom(raw);
    const needsReturn = from === "ret" || o.length === "ret";
    if (!returns) {
      if (at === "return") throw new InvalidArgumentError(`${source}: read "${column}" at: "return" needs a return probe; this probe fires at the entry, where every read happens`);
      // an entry probe reads at its entry, also when a latency pairs it with the return
      entry.add(column);
      continue;
    }
    if (at === "entry" && needsReturn) throw new InvalidArgumentError(`${source}: read "${column}" uses the return value, which the entry does not have yet; read it at: "return"`);
    if (at === "entry" || (at === undefined && !needsReturn && from !== undefined && isArg(from))) entry.add(column);
  }
  let mask = 0;
  let end = SLOTS_BYTES;
  derived.cols.forEach((c, i) => {
    if (!entry.has(c.column)) return;
    mask |= 1 << i;
    const f = derived.layout!.fields[i]!;
    end = Math.max(end, f.doff + Math.ceil(f.size / 8) * 8);
  });
  if (end > MAX_CARRY) throw new InvalidArgumentError(`${source}: reads carried from the entry take ${end - SLOTS_BYTES} bytes; at most ${MAX_CARRY - SLOTS_BYTES}`);
  // a power of two, so the map's memory stays within the budget however large the starts
  let maxStarts = MAX_STARTS;
  while (maxStarts > 1024 && maxStarts * (end + 64) > STARTS_BUDGET) maxStarts /= 2;
  return { mask, carryBytes: end, maxStarts, columns: [...entry] };
}
