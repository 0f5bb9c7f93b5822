/* Stack ids (bpf_get_stackid into a BPF_MAP_TYPE_STACK_TRACE map) to frame names, for
 * any probe kind: the ids' addresses are read from the map while the object is loaded
 * (capture), user-space processes' mappings while they run (notePid); naming can come
 * later, after both are gone. Kernel frames from /proc/kallsyms, user frames from
 * /proc/PID/maps + ELF symbol tables (process.ts). */
import type { BpfMap } from "../libbpf/map.js";
import { KernelSymbols } from "./kallsyms.js";
import { snapshotProcess, UserSymbolizer, type ProcessImage } from "./process.js";
import { demangle } from "./demangle.js";

/** PERF_MAX_STACK_DEPTH: frames a stack map value holds. */
export const MAX_STACK_DEPTH = 127;
const EFAULT = 14, ENOMEM = 12, EEXIST = 17;

/** The return addresses of stack `id` in a stack map, leaf first (empty if the id is not there). */
export function readStackIps(map: BpfMap, id: number): bigint[] {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setUint32(0, id, true);
  const v = map.lookup(key);
  const out: bigint[] = [];
  if (!v) return out;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  for (let i = 0; i < MAX_STACK_DEPTH && i * 8 < v.byteLength; i++) {
    const ip = dv.getBigUint64(i * 8, true);
    if (ip === 0n) break;
    out.push(ip);
  }
  return out;
}

/**
 * What a negative stack id (bpf_get_stackid's error) means, as the one frame of its stack.
 * -EFAULT is an empty stack (a kernel thread has no user stack): no frame at all.
 */
export function stackErrorFrame(id: number): string | null {
  if (id === -EFAULT) return null;
  if (id === -EEXIST) return "[stack lost: hash collision in the stack map (raise stackEntries)]";
  if (id === -ENOMEM) return "[stack lost: stack map full (raise stackEntries)]";
  return `[stack lost: error ${-id}]`;
}

/** A stack id that names no recorded stack: the stack is lost (an empty one, -EFAULT, is not). */
export function isLostStack(id: number): boolean {
  return id < 0 && id !== -EFAULT;
}

/** Frames as one folded string, root first ("a;b;c"): what plot.flamegraph and profile() use. */
export function foldFrames(leafFirst: readonly string[]): string {
  return [...leafFirst].reverse().join(";");
}

export interface StackNaming {
  /** Demangle C++/Rust names (default true). */
  demangle?: boolean;
}

/**
 * Names stack ids of one stack map. Call capture() for every id while the map is loaded,
 * and notePid() for every process whose user stacks are named, while it runs; kernel()
 * and user() work afterwards. Frames are listed leaf first, as bpftrace prints them;
 * kernel frames are function names without offsets, so call sites in one function fold.
 */
export class StackSymbolizer {
  readonly #ips = new Map<number, bigint[]>();
  readonly #images = new Map<number, ProcessImage>();
  readonly #users = new UserSymbolizer();
  readonly #names = new Map<string, string[]>();
  readonly #opts: StackNaming;
  #ksyms: KernelSymbols | null = null;
  /** Processes whose mappings could not be read (exited first): their user frames stay addresses. */
  readonly exited = new Set<number>();

  constructor(opts: StackNaming = {}) {
    this.#opts = opts;
  }

  /**
   * Reads stack `id` from the map unless already read (ids never change their stack: no
   * BPF_F_REUSE_STACKID). `kernel`: a kernel stack, whose names are read now too, while
   * the BPF programs that may be on it are loaded (kallsyms lists them only while they are).
   */
  capture(map: BpfMap, id: number, kernel = false): void {
    if (kernel) this.#ksyms ??= KernelSymbols.load();
    if (id < 0 || this.#ips.has(id)) return;
    this.#ips.set(id, readStackIps(map, id));
  }

  /** Whether `id` was read already. */
  has(id: number): boolean {
    return this.#ips.has(id);
  }

  /** Reads a process's executable mappings now, unless read before (its frames are named from them later). */
  notePid(pid: number, again = false): void {
    if (pid <= 0 || (!again && this.#images.has(pid))) return;
    const img = snapshotProcess(pid);
    const old = this.#images.get(pid);
    if (img.maps || !old) this.#images.set(pid, img);
  }

  /** Kernel frames of `id`, leaf first. */
  kernel(id: number): string[] {
    const ck = `k${id}`;
    let f = this.#names.get(ck);
    if (f) return f;
    if (id < 0) {
      const e = stackErrorFrame(id);
      f = e ? [e] : [];
    } else {
      this.#ksyms ??= KernelSymbols.load();
      const ks = this.#ksyms;
      // every frame but the leaf is a return address: the call is the byte before it
      f = (this.#ips.get(id) ?? []).map((ip, i) => ks.symbolize(i === 0 ? ip : ip - 1n)?.name ?? `0x${ip.toString(16)}`);
    }
    this.#names.set(ck, f);
    return f;
  }

  /** User frames of `id` in process `pid`, leaf first. A process gone before notePid read it keeps addresses: "0x… [exited]". */
  user(pid: number, id: number): string[] {
    const ck = `u${pid}:${id}`;
    let f = this.#names.get(ck);
    if (f) return f;
    if (id < 0) {
      const e = stackErrorFrame(id);
      f = e ? [e] : [];
    } else {
      const img = this.#images.get(pid) ?? null;
      const gone = pid > 0 && !img?.maps;
      if (gone) this.exited.add(pid);
      f = (this.#ips.get(id) ?? []).map((ip, i) => {
        const name = this.#users.symbolize(img, Number(ip), i > 0);
        return gone ? `${name} [exited]` : name;
      });
      // runs of garbage frames (a frame-pointer walk gone astray) fold into one
      f = f.filter((x, i) => !(x === "[unknown]" && f![i - 1] === "[unknown]"));
      if (this.#opts.demangle !== false) {
        const names = demangle(f);
        if (names.size) f = f.map((x) => names.get(x) ?? x);
      }
    }
    this.#names.set(ck, f);
    return f;
  }

  /** Whether kernel addresses are hidden from this process (kptr_restrict): kernel frames are then addresses. */
  get kernelHidden(): boolean {
    this.#ksyms ??= KernelSymbols.load();
    return this.#ksyms.hidden;
  }
}
