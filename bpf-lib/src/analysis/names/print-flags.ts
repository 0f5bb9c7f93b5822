/* Values to names the way the kernel's trace output does it
 * (kernel/trace/trace_output.c: trace_print_symbols_seq, trace_print_flags_seq),
 * so a name column reads exactly like `cat /sys/kernel/tracing/trace`. Pure. */
import { InvalidArgumentError } from "../../errors.js";

export interface NamedValue {
  value: bigint;
  name: string;
}

const U64 = (v: bigint) => BigInt.asUintN(64, v);
const hex = (v: bigint) => `0x${U64(v).toString(16)}`;

/** The first entry whose value equals `v` (both as unsigned long), else `0x<hex>`. */
export function symbolName(entries: readonly NamedValue[], v: bigint): string {
  const u = U64(v);
  for (const e of entries) if (U64(e.value) === u) return e.name;
  return hex(u);
}

/**
 * Entries in order, each taken when all its bits are set (multi-bit entries too), its
 * bits then cleared; what no entry names is appended as `0x<hex>`. 0 gives "".
 */
export function flagNames(entries: readonly NamedValue[], v: bigint, delimiter = "|"): string {
  let flags = U64(v);
  const parts: string[] = [];
  for (const e of entries) {
    if (flags === 0n) break;
    const mask = U64(e.value);
    if ((flags & mask) !== mask) continue;
    parts.push(e.name);
    flags &= ~mask;
  }
  if (flags !== 0n) parts.push(hex(flags));
  return parts.join(delimiter);
}

/** True when every non-zero value is a single bit: an enum that can be read as flags. */
export function isBitSet(entries: readonly NamedValue[]): boolean {
  const bits = entries.filter((e) => e.value !== 0n);
  return bits.length > 1 && bits.every((e) => e.value > 0n && (e.value & (e.value - 1n)) === 0n);
}

/** A field value as a bigint; a named error for what is not an integer (a raw TypeError otherwise). */
export function integer(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  if (typeof v === "boolean") return v ? 1n : 0n;
  throw new InvalidArgumentError(`a name needs an integer value; got ${typeof v === "number" ? String(v) : typeof v}`);
}
