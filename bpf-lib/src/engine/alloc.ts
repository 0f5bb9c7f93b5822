/* Large typed arrays that are about to be overwritten whole, allocated without zeroing.
 * `new Float64Array(n)` asks glibc for calloc'd memory. Once glibc's malloc has freed an
 * mmap'd block it raises its mmap threshold (up to 32 MiB), so later large arrays come
 * from the heap and calloc clears them in one step: for a table's column of a few MB that
 * is 20-30 ms of page faults in a single turn of the event loop (measured on this project's
 * VM while a trace stopped). Memory from Buffer.allocUnsafeSlow is malloc'd and left as it
 * is, so its pages are touched by the copy that fills it, slice by slice, between turns.
 * Arrays of several MiB are also given huge pages (ffi/memory.ts): a tenth of the faults. */
import { adviseHugePages } from "../ffi/memory.js";

type Ctor<T> = { new (buffer: ArrayBuffer, byteOffset: number, length: number): T; new (length: number): T; readonly BYTES_PER_ELEMENT: number };

/** Below this the zeroing costs less than the buffer's own overhead. */
const UNINIT_MIN_BYTES = 1 << 16;
/** Off with BPFBOOK_HUGE_PAGES=0 (to measure what the advice is worth). */
const hugePages = process.env.BPFBOOK_HUGE_PAGES !== "0";

/** A typed array of `length` elements whose contents are undefined: every element must be written before it is read. */
export function uninitialized<T>(C: Ctor<T>, length: number): T {
  const bytes = length * C.BYTES_PER_ELEMENT;
  if (bytes < UNINIT_MIN_BYTES) return new C(length);
  const b = Buffer.allocUnsafeSlow(bytes);
  if (hugePages) adviseHugePages(b);
  return new C(b.buffer as ArrayBuffer, b.byteOffset, length);
}
