/* The `probe` column of a uprobe on several functions: uprobe.bpf.c writes the
 * function's index (its attach cookie) into the event header's flags; rows carry
 * the function's name, dictionary-encoded (one code per function, no string per row). */
import type { FieldDecoder } from "../../engine/decoder.js";
import { DictColumn, handOver, type ColumnData } from "../../engine/columns.js";
import { HDR } from "../../engine/layout.js";

/** Decodes the header's flags as an index into `names`. */
export function probeColumn(names: readonly string[]): FieldDecoder {
  let codes = new Uint32Array(0);
  const at = HDR.flags;
  return {
    name: "probe",
    truncated: 0,
    grow(capacity: number): void {
      const next = new Uint32Array(capacity);
      next.set(codes.subarray(0, Math.min(codes.length, capacity)));
      codes = next;
    },
    decode(_u8: Uint8Array, dv: DataView, base: number, row: number): void {
      codes[row] = dv.getUint32(base + at, true);
    },
    take(n: number): ColumnData {
      // as the other columns: a (nearly) full array is handed over (the decoder regrows them all), else copied
      if (!handOver(n, codes.length)) return new DictColumn(codes.slice(0, n), names);
      const out = new DictColumn(codes.subarray(0, n), names);
      codes = new Uint32Array(0);
      return out;
    },
    peek(n: number): ColumnData {
      return new DictColumn(codes.subarray(0, n), names);
    },
  };
}
