/* Per-CPU aggregation values (struct agg_val: count, sum, min, max) merged into one.
 * Merged as 64-bit integers, so totals are exact: a number when it fits a double
 * exactly, a bigint when it does not (never a silently rounded number). */
import { exact } from "./keys.js";

export interface AggValue {
  count: number | bigint;
  sum: number | bigint;
  min: number | bigint;
  max: number | bigint;
}

export const AGG_VAL_SIZE = 32;

/**
 * Merges the value slots of every CPU (CPUs that saw nothing have count 0 and are
 * skipped). `unsigned`: the values are unsigned 64-bit integers (the kernel compared
 * them unsigned), so 2^63 and more read back positive.
 */
export function mergePerCpu(bytes: Uint8Array, ncpu: number, unsigned = false): AggValue {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let count = 0n;
  let sum = 0n;
  let min: bigint | null = null;
  let max: bigint | null = null;
  for (let c = 0; c < ncpu; c++) {
    const at = c * AGG_VAL_SIZE;
    const n = dv.getBigUint64(at, true);
    if (n === 0n) continue;
    count += n;
    // the kernel adds signed values into a u64: two's complement, read back signed
    sum = unsigned ? BigInt.asUintN(64, sum + dv.getBigUint64(at + 8, true)) : BigInt.asIntN(64, sum + dv.getBigInt64(at + 8, true));
    const lo = unsigned ? dv.getBigUint64(at + 16, true) : dv.getBigInt64(at + 16, true);
    const hi = unsigned ? dv.getBigUint64(at + 24, true) : dv.getBigInt64(at + 24, true);
    if (min === null || lo < min) min = lo;
    if (max === null || hi > max) max = hi;
  }
  return { count: exact(count), sum: exact(sum), min: min === null ? Infinity : exact(min), max: max === null ? -Infinity : exact(max) };
}
