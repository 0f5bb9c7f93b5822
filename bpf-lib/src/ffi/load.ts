/* Loading libbpf.so.1 at the first call that needs it, not when bpfbook is imported:
 * a replayed notebook (and everything pure: charts, exports, percentiles) runs on a
 * machine that has no libbpf, so importing the package must not need it. Each ffi/
 * file declares its functions once, on first use, through declareOnce(); a machine
 * without the library gets a NotSupportedError saying how to install it. */
import koffi from "koffi";
import { NotSupportedError } from "../errors.js";

export const LIBBPF_SONAME = "libbpf.so.1";

/** How to get libbpf.so.1 on the usual systems; said in the error. */
export const LIBBPF_HOW = "install libbpf 1.x (Debian, Ubuntu: `apt-get install libbpf1`; Fedora: `dnf install libbpf`)";

type Library = ReturnType<typeof koffi.load>;

let libbpf: Library | undefined;

/**
 * libbpf.so.1, loaded once. A failure is not kept: a notebook that installed the
 * library after the first attempt works on the next call.
 */
export function loadLibbpf(): Library {
  if (libbpf) return libbpf;
  try {
    libbpf = koffi.load(LIBBPF_SONAME);
  } catch (e) {
    throw new NotSupportedError(
      "BPF through libbpf",
      `${LIBBPF_SONAME} cannot be loaded (${(e as Error).message}); ${LIBBPF_HOW}. Replaying a recording (bpfbook run <notebook> --replay) needs neither BPF nor libbpf`,
      { cause: e },
    );
  }
  return libbpf;
}

/**
 * A function that declares a file's libbpf functions on its first call and returns
 * the same object on every later one: a module-level object filled once, so a call
 * through it costs a property read, not a lookup.
 */
export function declareOnce<T>(declare: (lib: Library) => T): () => T {
  let fns: T | undefined;
  return () => (fns ??= declare(loadLibbpf()));
}
