/* A program of a BpfObject. Attach methods return a typed Link owned by the
 * program (and so by its object): disposing the object detaches them all. */
import * as ffi from "../ffi/libbpf.js";
import { captureLog, warnings } from "./log.js";
import { AttachError, InvalidArgumentError, NotSupportedError, PermissionError, errnoName } from "../errors.js";
import type { ObjectOwner } from "./owner.js";
import {
  FentryLink, FexitLink, KprobeLink, KretprobeLink, Link, OtherLink, PerfEventLink, RawTracepointLink,
  TracepointLink, UprobeLink, UretprobeLink, XdpLink,
} from "./link.js";

type LinkCtor<L extends Link> = new (h: ffi.LinkHandle, program: string, target: string, onDispose: (l: Link) => void) => L;

export class BpfProgram {
  readonly name: string;
  readonly section: string;
  readonly #h: ffi.ProgramHandle;
  readonly #obj: ObjectOwner;
  readonly #links = new Set<Link>();

  /** @internal */
  constructor(h: ffi.ProgramHandle, obj: ObjectOwner) {
    this.#h = h;
    this.#obj = obj;
    this.name = ffi.programName(h);
    this.section = ffi.programSection(h);
  }

  #handle(): ffi.ProgramHandle {
    this.#obj.handle(); // throws once the object is disposed
    return this.#h;
  }

  /** Whether load() loads this program (all do by default). */
  setAutoload(on: boolean): void {
    if (this.#obj.loaded) throw new InvalidArgumentError(`program "${this.name}": autoload must be set before load()`);
    ffi.programSetAutoload(this.#handle(), on);
  }

  /** For fentry/fexit: the kernel function to attach to, resolved at load. */
  setAttachTarget(fn: string): void {
    const rc = ffi.programSetAttachTarget(this.#handle(), fn);
    if (rc < 0) throw new InvalidArgumentError(`program "${this.name}": cannot target "${fn}": ${errnoName(-rc)}`);
  }

  get fd(): number {
    return ffi.programFd(this.#handle());
  }

  get links(): readonly Link[] {
    return [...this.#links];
  }

  #attach<L extends Link>(Ctor: LinkCtor<L>, target: string, what: string, call: (h: ffi.ProgramHandle) => ffi.LinkHandle | null): L {
    if (!this.#obj.loaded) throw new InvalidArgumentError(`program "${this.name}" must be loaded before it is attached`);
    const { result: h, lines } = captureLog(() => call(this.#handle()));
    if (h === null) {
      const e = ffi.errno();
      const detail = warnings(lines);
      if (e === 1 || e === 13) throw new PermissionError(`attaching ${what} ${target} was refused (${errnoName(e)}): run as root or with CAP_BPF and CAP_PERFMON\n${detail}`.trim(), { errno: e });
      if (e === 95 || e === 524) throw new NotSupportedError(what, `the kernel cannot attach ${what} programs (${errnoName(e)})\n${detail}`.trim(), { errno: e });
      throw new AttachError(`attaching program "${this.name}" to ${what} ${target} failed: ${errnoName(e)}\n${detail}`.trim(), e);
    }
    const link = new Ctor(h, this.name, target, (l) => this.#links.delete(l));
    this.#links.add(link);
    return link;
  }

  attachTracepoint(group: string, name: string): TracepointLink {
    return this.#attach(TracepointLink, `${group}:${name}`, "tracepoint", (h) => ffi.attachTracepoint(h, group, name));
  }
  attachRawTracepoint(name: string): RawTracepointLink {
    return this.#attach(RawTracepointLink, name, "raw tracepoint", (h) => ffi.attachRawTracepoint(h, name));
  }
  attachKprobe(fn: string): KprobeLink {
    return this.#attach(KprobeLink, fn, "kprobe", (h) => ffi.attachKprobe(h, false, fn));
  }
  attachKretprobe(fn: string): KretprobeLink {
    return this.#attach(KretprobeLink, fn, "kretprobe", (h) => ffi.attachKprobe(h, true, fn));
  }
  attachFentry(target: string): FentryLink {
    return this.#attach(FentryLink, target, "fentry", (h) => ffi.attachTrace(h));
  }
  attachFexit(target: string): FexitLink {
    return this.#attach(FexitLink, target, "fexit", (h) => ffi.attachTrace(h));
  }
  /** `cookie`: the value bpf_get_attach_cookie() gives the program for this attachment (one program attached to several functions). */
  attachUprobe(binary: string, symbol: string | null, opts: { pid?: number; offset?: number; retprobe?: boolean; cookie?: number } = {}): UprobeLink | UretprobeLink {
    const target = `${binary}:${symbol ?? "0x" + (opts.offset ?? 0).toString(16)}`;
    const Ctor = opts.retprobe ? UretprobeLink : UprobeLink;
    return this.#attach<UprobeLink | UretprobeLink>(Ctor, target, opts.retprobe ? "uretprobe" : "uprobe", (h) =>
      ffi.attachUprobe(h, opts.retprobe ?? false, opts.pid ?? -1, binary, symbol, opts.offset ?? 0, opts.cookie ?? 0));
  }
  /** Attaches to an open perf event fd; the link takes ownership of the fd. */
  attachPerfEvent(pfd: number, target: string): PerfEventLink {
    return this.#attach(PerfEventLink, target, "perf event", (h) => ffi.attachPerfEvent(h, pfd));
  }
  attachXdp(ifindex: number, ifname: string): XdpLink {
    return this.#attach(XdpLink, ifname, "XDP", (h) => ffi.attachXdp(h, ifindex));
  }
  /** Attaches by the program's section name (SEC("...")), as libbpf's auto-attach does. */
  attachAuto(): Link {
    return this.#attach(OtherLink, this.section, "auto", (h) => ffi.attach(h));
  }

  /** Runs the program once with BPF_PROG_TEST_RUN (syscall, XDP, ...). */
  testRun(opts: { dataIn?: Uint8Array; ctxIn?: Uint8Array; repeat?: number } = {}): { retval: number; durationNs: number } {
    const r = ffi.progTestRun(this.fd, opts);
    if (r.ret < 0) throw new AttachError(`test run of program "${this.name}" failed: ${errnoName(-r.ret)}`, -r.ret);
    return { retval: r.retval, durationNs: r.durationNs };
  }

  /** @internal */
  detachAll(): void {
    for (const l of [...this.#links]) l.dispose();
  }
}
