/* Links: an attached program. One class per kind, like cilium/ebpf, so the type
 * says what was attached where. A link lives in its fd: if the process dies the
 * kernel detaches it, and nothing is ever pinned. */
import * as ffi from "../ffi/libbpf.js";

export type LinkKind = "tracepoint" | "raw_tracepoint" | "kprobe" | "kretprobe" | "fentry" | "fexit" | "uprobe" | "uretprobe" | "perf_event" | "xdp" | "other";

export abstract class Link implements Disposable {
  abstract readonly kind: LinkKind;
  readonly program: string;
  readonly target: string;
  #h: ffi.LinkHandle | null;
  #onDispose: ((l: Link) => void) | null;

  constructor(h: ffi.LinkHandle, program: string, target: string, onDispose: (l: Link) => void) {
    this.#h = h;
    this.program = program;
    this.target = target;
    this.#onDispose = onDispose;
  }

  get attached(): boolean {
    return this.#h !== null;
  }

  get fd(): number {
    return this.#h === null ? -1 : ffi.linkFd(this.#h);
  }

  /** Detaches. Idempotent. */
  dispose(): void {
    const h = this.#h;
    if (h === null) return;
    this.#h = null;
    ffi.linkDestroy(h);
    this.#onDispose?.(this);
    this.#onDispose = null;
  }

  /**
   * Detaches on the thread pool (the kernel may wait for an RCU grace period). The link
   * counts as detached at once: a dispose() meanwhile has nothing left to do.
   */
  async disposeAsync(): Promise<void> {
    const h = this.#h;
    if (h === null) return;
    this.#h = null;
    try {
      await ffi.linkDestroyAsync(h);
    } finally {
      this.#onDispose?.(this);
      this.#onDispose = null;
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return `${this.kind} link: ${this.program} → ${this.target}${this.attached ? "" : " (detached)"}`;
  }
}

export class TracepointLink extends Link { readonly kind = "tracepoint" as const; }
export class RawTracepointLink extends Link { readonly kind = "raw_tracepoint" as const; }
export class KprobeLink extends Link { readonly kind = "kprobe" as const; }
export class KretprobeLink extends Link { readonly kind = "kretprobe" as const; }
export class FentryLink extends Link { readonly kind = "fentry" as const; }
export class FexitLink extends Link { readonly kind = "fexit" as const; }
export class UprobeLink extends Link { readonly kind = "uprobe" as const; }
export class UretprobeLink extends Link { readonly kind = "uretprobe" as const; }
export class PerfEventLink extends Link { readonly kind = "perf_event" as const; }
export class XdpLink extends Link { readonly kind = "xdp" as const; }
export class OtherLink extends Link { readonly kind = "other" as const; }
