/* Filter values against the field they compare with. The kernel compares the
 * field's own bytes, so a value outside the field's range (300 for a u8, -1 for an
 * unsigned field) would wrap and silently match nothing, or everything. */
import { InvalidOptionError } from "../errors.js";

/** The values an integer field of `size` bytes can hold. */
export function integerRange(size: number, signed: boolean): [bigint, bigint] {
  const bits = BigInt(size * 8);
  return signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
}

function typeName(size: number, signed: boolean): string {
  return `${signed ? "s" : "u"}${size * 8}`;
}

/** A value compared with an integer field: an integer (a bigint above 2^53) within the field's range. */
export function filterValue(v: unknown, field: string, size: number, signed: boolean, what: string, option: string): bigint {
  const [lo, hi] = integerRange(size, signed);
  const expected = `an integer from ${lo} to ${hi} (the range of ${field}, ${typeName(size, signed)})`;
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new InvalidOptionError(what, option, v, expected);
    if (!Number.isSafeInteger(v)) throw new InvalidOptionError(what, option, v, `${expected}, as a bigint (${BigInt(v)}n) above 2^53, where numbers lose digits`);
  } else if (typeof v !== "bigint") {
    throw new InvalidOptionError(what, option, v, expected);
  }
  const b = BigInt(v);
  if (b < lo || b > hi) throw new InvalidOptionError(what, option, v, expected);
  return b;
}

/** A mask over an integer field: the bits it keeps, from 0 to the field's all-ones. */
export function filterMask(v: unknown, field: string, size: number, what: string, option: string): bigint {
  return filterValue(v, field, size, false, what, option);
}

/** pid_t's range; one that does not exist is the kernel's to report (ESRCH). */
export const MAX_PID = 2 ** 31 - 1;

/** A pid or tid filter (where.pid, where.tid, pid): a positive pid_t. */
export function processId(v: unknown, option: string, what: string): void {
  if (v === undefined) return;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > MAX_PID) {
    throw new InvalidOptionError(what, option, v, `a process or thread id, an integer from 1 to ${MAX_PID}`);
  }
}
