/* An XDP link made with bpf_link_create, for the attach modes libbpf 1.1's
 * bpf_program__attach_xdp cannot ask for (it always passes flags 0). Its kernel
 * object is a bare link fd: closing it detaches, and so does the process dying. It is
 * a Link like the others, so AggregationRun and Trace detach it the same way. */
import { Link } from "../../libbpf/link.js";
import { NO_LINK_HANDLE, closeFd } from "../../ffi/xdp.js";

export class XdpFdLink extends Link {
  readonly kind = "xdp" as const;
  #fd: number;
  #onDispose: (() => void) | null;

  constructor(fd: number, program: string, target: string, onDispose?: () => void) {
    super(NO_LINK_HANDLE, program, target, () => {});
    this.#fd = fd;
    this.#onDispose = onDispose ?? null;
  }

  override get attached(): boolean {
    return this.#fd >= 0;
  }

  override get fd(): number {
    return this.#fd;
  }

  /** Detaches (closes the link fd). Idempotent. */
  override dispose(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    closeFd(fd);
    this.#onDispose?.();
    this.#onDispose = null;
  }
}
