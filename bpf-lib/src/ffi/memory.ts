/* Advice to the kernel about memory that JavaScript allocated: the one place that sees an
 * ArrayBuffer's address. A table's columns are large and filled once, front to back; in 4 KiB
 * pages each fault of fresh memory is a trap (about 21 µs on a PVM guest with PTI, where a
 * 22-byte row costs more in faults than in decoding), while a transparent huge page takes one
 * fault per 2 MiB. With THP in "madvise" mode (the common default) a mapping gets huge pages
 * only when asked. Best effort: where libc, THP or the advice is missing, nothing changes. */
import koffi from "koffi";

const MADV_HUGEPAGE = 14;
const HUGE = 2 << 20;

type Fns = { address: (a: ArrayBufferView, b: ArrayBufferView, n: number) => number; madvise: (addr: number, len: number, advice: number) => number };
let fns: Fns | null | undefined;

function load(): Fns | null {
  try {
    const libc = koffi.load("libc.so.6");
    // memmove(p, p, 0) returns p: the address of a typed array's first byte (koffi passes typed arrays by pointer, no copy)
    return {
      address: libc.func("uintptr_t memmove(void *dst, void *src, size_t n)") as Fns["address"],
      madvise: libc.func("int madvise(uintptr_t addr, size_t len, int advice)") as Fns["madvise"],
    };
  } catch {
    return null;
  }
}

/** Asks for huge pages over the whole 2 MiB blocks inside `view` (before any of them is touched). */
export function adviseHugePages(view: ArrayBufferView): void {
  if (view.byteLength < 2 * HUGE) return;
  fns ??= load();
  if (!fns) return;
  const a = Number(fns.address(view, view, 0));
  const start = Math.ceil(a / HUGE) * HUGE;
  const end = Math.floor((a + view.byteLength) / HUGE) * HUGE;
  if (end > start) fns.madvise(start, end - start, MADV_HUGEPAGE);
}
