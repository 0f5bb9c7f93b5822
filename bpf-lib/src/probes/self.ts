/* The tracer leaves its own process out of traces of what a process does itself:
 * a notebook kernel that reads a ring buffer makes syscalls and runs libc, and
 * seeing them would both show the tracer in every "busiest process" chart and feed
 * back into what it collects. The check is on the current task, so it is only right
 * where the event is the current task's own doing (syscalls, uprobes, kernel
 * functions it calls); an interrupt, a timer or a context switch that happens while
 * the tracer is current is about something else, and those tracepoints keep it.
 * Events left out are counted (excludedSelf), never silent. */
import { statSync } from "node:fs";
import type { BpfObject } from "../libbpf/object.js";
import { InvalidOptionError } from "../errors.js";

export interface SelfOption {
  /**
   * Keep (true) or leave out (false) events of this process, the tracer itself.
   * Default: left out of syscalls:*, raw_syscalls:*, uprobes and kernel functions
   * (the process's own doing), kept for other tracepoints.
   */
  includeSelf?: boolean;
}

/** Checks `includeSelf` where a probe is made, so a wrong value fails before anything loads. */
export function checkSelfOption(opts: SelfOption, what: string): void {
  const v: unknown = opts.includeSelf;
  if (v !== undefined && typeof v !== "boolean") throw new InvalidOptionError(what, "includeSelf", v, "true or false (leave it out for the default)");
}

/** Whether a tracepoint's events are the current process's own doing: left out by default. */
export function selfByDefault(tracepoint: string): boolean {
  return tracepoint.startsWith("syscalls:") || tracepoint.startsWith("raw_syscalls:");
}

/** The initial pid namespace's fixed inode number (PROC_PID_INIT_INO). */
const INIT_PID_NS_INO = 0xeffffffcn;

let ownNs: { dev: bigint; ino: bigint } | null | undefined;

/** This process's pid namespace when it is not the initial one (a container), else null. */
function pidNamespace(): { dev: bigint; ino: bigint } | null {
  if (ownNs !== undefined) return ownNs;
  const st = statSync("/proc/self/ns/pid", { bigint: true });
  ownNs = st.ino === INIT_PID_NS_INO ? null : { dev: kernelDev(st.dev), ino: st.ino };
  return ownNs;
}

/**
 * stat() reports a device in glibc's encoding (minor in bits 0-7 and 20+, major in
 * bits 8-19 and 32+); bpf_get_ns_current_pid_tgid compares with the kernel's own
 * dev_t, MKDEV(major, minor) = major << 20 | minor. They agree only while the
 * minor is below 256 (nsfs is usually 0:4), so convert rather than rely on it.
 */
export function kernelDev(dev: bigint): bigint {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return (major << 20n) | minor;
}

/**
 * Sets cfg_exclude_tgid unless the process is to be kept: includeSelf true, or the
 * kind keeps it by default (`byDefault` false) and includeSelf is not false, or a
 * pid/tid filter already says whom to keep.
 */
export function excludeSelf(obj: BpfObject, opts: SelfOption, filter: { pid?: number; tid?: number }, byDefault = true): void {
  if (filter.pid !== undefined || filter.tid !== undefined) return;
  if (!(opts.includeSelf === false || (opts.includeSelf === undefined && byDefault))) return;
  const ns = pidNamespace();
  obj.setConstant("cfg_exclude_tgid", process.pid);
  if (ns) {
    obj.setConstant("cfg_self_ns_dev", ns.dev);
    obj.setConstant("cfg_self_ns_ino", ns.ino);
  }
}
