/* Per-CPU aggregation values (struct agg_val: count, sum, min, max) merged into one. */
export interface AggValue {
  count: number;
  sum: number;
  min: number;
  max: number;
}

export const AGG_VAL_SIZE = 32;

function i64(dv: DataView, at: number): number {
  return dv.getInt32(at + 4, true) * 4294967296 + dv.getUint32(at, true);
}

/** Merges the value slots of every CPU (CPUs that saw nothing have count 0 and are skipped). */
export function mergePerCpu(bytes: Uint8Array, ncpu: number): AggValue {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: AggValue = { count: 0, sum: 0, min: Infinity, max: -Infinity };
  for (let c = 0; c < ncpu; c++) {
    const at = c * AGG_VAL_SIZE;
    const count = i64(dv, at);
    if (count === 0) continue;
    out.count += count;
    out.sum += i64(dv, at + 8);
    out.min = Math.min(out.min, i64(dv, at + 16));
    out.max = Math.max(out.max, i64(dv, at + 24));
  }
  return out;
}
