/* What this kernel lets bpfbook do, decided by trying: each probe opens
 * features.bpf.o, autoloads exactly one program, loads it, attaches it to
 * something real (or test-runs it), and disposes everything again. When a probe
 * fails, the reason is worked out from the system (kernel config, lockdown,
 * tracefs), not guessed from the errno alone. */
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { gunzipSync } from "node:zlib";
import { BpfbookError, errnoName } from "../errors.js";
import { closeFd, perfEventOpen } from "../ffi/libc.js";
import { BpfObject } from "../libbpf/object.js";
import { bpfObjectPath } from "../paths.js";
import { privileges } from "../privileges.js";
import { TRACEFS_ROOTS, findTracefs } from "../tracefs/mount.js";

export const FEATURE_KINDS = [
  "tracepoint", "raw_tracepoint", "kprobe", "kretprobe", "fentry", "fexit",
  "uprobe", "perf_event", "xdp", "ringbuf", "read_kernel",
] as const;

export type FeatureKind = (typeof FEATURE_KINDS)[number];

export interface FeatureResult {
  kind: FeatureKind;
  ok: boolean;
  /** Why it failed, in one line ("CONFIG_KPROBES is off", "needs root", ...). */
  reason?: string;
  /** What was tried on success; the kernel's and libbpf's words on failure. */
  detail?: string;
}

/** The program in features.bpf.o that probes each kind. */
const PROGRAM: Record<FeatureKind, string> = {
  tracepoint: "f_tracepoint",
  raw_tracepoint: "f_raw_tp",
  kprobe: "f_kprobe",
  kretprobe: "f_kretprobe",
  fentry: "f_fentry",
  fexit: "f_fexit",
  uprobe: "f_uprobe",
  perf_event: "f_perf_event",
  xdp: "f_xdp",
  ringbuf: "f_ringbuf",
  read_kernel: "f_read_kernel",
};

const KPROBE_FN = "do_nanosleep";

// ---------------------------------------------------------------------------
// Facts about the system, used to explain failures

/** The running kernel's build configuration, if it can be found. */
export interface KernelConfig {
  /** Where it was read: /boot/config-<release> or /proc/config.gz. */
  source: string;
  /** "y", "m", a value, "n" for "# CONFIG_X is not set", or undefined when the option is absent. */
  get(option: string): string | undefined;
}

export function kernelConfig(): KernelConfig | null {
  const candidates: Array<[string, () => string]> = [
    [`/boot/config-${release()}`, () => readFileSync(`/boot/config-${release()}`, "utf8")],
    ["/proc/config.gz", () => gunzipSync(readFileSync("/proc/config.gz")).toString("utf8")],
  ];
  for (const [source, read] of candidates) {
    let text: string;
    try {
      text = read();
    } catch {
      continue;
    }
    const values = new Map<string, string>();
    for (const line of text.split("\n")) {
      const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
      if (set) values.set(set[1]!, set[2]!.replace(/^"(.*)"$/, "$1"));
      const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
      if (unset) values.set(unset[1]!, "n");
    }
    return {
      source,
      get: (option) => values.get(option.startsWith("CONFIG_") ? option : `CONFIG_${option}`),
    };
  }
  return null;
}

const LOCKDOWN = "/sys/kernel/security/lockdown";
const parseLockdown = (text: string): string | null => /\[(\w+)\]/.exec(text)?.[1] ?? null;

/**
 * The active kernel lockdown mode ("none", "integrity", "confidentiality"), or
 * null when it cannot be read. securityfs is often not mounted: as root, it is
 * then mounted in a private mount namespace (unshare), so the system's mounts
 * are left as they were; failing that, mounted at /sys/kernel/security, read
 * and unmounted again.
 */
export function readLockdown(): string | null {
  try {
    return parseLockdown(readFileSync(LOCKDOWN, "utf8"));
  } catch {
    // not mounted (ENOENT), or the kernel has no lockdown LSM
  }
  if (process.getuid?.() !== 0) return null;
  const quiet = { encoding: "utf8" as const, stdio: ["ignore", "pipe", "ignore"] as ["ignore", "pipe", "ignore"], timeout: 5000 };
  try {
    const out = execFileSync("unshare", ["--mount", "--propagation", "private", "sh", "-c",
      `mount -t securityfs securityfs /sys/kernel/security && cat ${LOCKDOWN}`], quiet);
    const mode = parseLockdown(out);
    if (mode) return mode;
  } catch {
    // no unshare, or no CAP_SYS_ADMIN: try the plain mount
  }
  try {
    execFileSync("mount", ["-t", "securityfs", "securityfs", "/sys/kernel/security"], quiet);
  } catch {
    return null;
  }
  try {
    return parseLockdown(readFileSync(LOCKDOWN, "utf8"));
  } catch {
    return null;
  } finally {
    try {
      execFileSync("umount", ["/sys/kernel/security"], quiet);
    } catch {
      // leave it mounted: harmless
    }
  }
}

/** The first of `paths` where a filesystem of `type` is mounted, per /proc/mounts. */
export function mountPoint(type: string, paths: readonly string[]): string | null {
  let mounts: string[][];
  try {
    mounts = readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" "));
  } catch {
    return null;
  }
  return paths.find((p) => mounts.some((m) => m[1] === p && m[2] === type)) ?? null;
}

/** Facts gathered lazily and shared by the probes of one doctor run. */
export class SystemFacts {
  #config: KernelConfig | null | undefined;
  #lockdown: string | null | undefined;
  #tracefs: string | null | undefined;

  get config(): KernelConfig | null {
    if (this.#config === undefined) this.#config = kernelConfig();
    return this.#config;
  }
  get lockdown(): string | null {
    if (this.#lockdown === undefined) this.#lockdown = readLockdown();
    return this.#lockdown;
  }
  get tracefs(): string | null {
    if (this.#tracefs === undefined) {
      try {
        this.#tracefs = findTracefs();
      } catch {
        // Unreadable (tracefs is mode 0700 for non-root) is not unmounted: ask /proc/mounts.
        this.#tracefs = mountPoint("tracefs", TRACEFS_ROOTS);
      }
    }
    return this.#tracefs;
  }
  /** Why ftrace's function interface is refused ("<tracefs>/available_filter_functions: EPERM"), or null if it is readable. */
  get ftraceRefused(): string | null {
    const root = this.tracefs;
    if (!root) return null;
    const path = `${root}/available_filter_functions`;
    let fd = -1;
    try {
      fd = openSync(path, "r");
      return null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code === "EPERM" || code === "EACCES" ? `${path} gives ${code} too` : null;
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }
  /** "off" / "on" / undefined (unknown) for a kernel config option. */
  option(name: string): "on" | "off" | undefined {
    const c = this.config;
    if (!c) return undefined;
    const v = c.get(name);
    return v === undefined || v === "n" ? "off" : "on";
  }
}

// ---------------------------------------------------------------------------
// Probes

const libcPath = (): string => {
  const maps = readFileSync("/proc/self/maps", "utf8");
  for (const line of maps.split("\n")) {
    const path = line.slice(line.indexOf("/"));
    if (line.includes("/") && /\/libc(\.so\.\d+|-[\d.]+\.so)$/.test(path)) return path;
  }
  throw new BpfbookError("ENOLIBC", "cannot find libc in /proc/self/maps");
};

function perfAttr(size: number): Uint8Array {
  const attr = new Uint8Array(size);
  const dv = new DataView(attr.buffer);
  dv.setUint32(0, 1, true); //            type = PERF_TYPE_SOFTWARE
  dv.setUint32(4, size, true); //         size
  dv.setBigUint64(8, 0n, true); //        config = PERF_COUNT_SW_CPU_CLOCK
  dv.setBigUint64(16, 99n, true); //      sample_freq
  dv.setBigUint64(24, 0n, true); //       sample_type
  dv.setBigUint64(40, 1n << 10n, true); // flags: freq
  return attr;
}

const PERF_FLAG_FD_CLOEXEC = 8;
const PERF_ATTR_SIZE_VER8 = 136, PERF_ATTR_SIZE_VER7 = 128;

/** A failure found before libbpf is involved (perf_event_open, a bad test-run result). */
class ProbeFailure extends BpfbookError {
  constructor(message: string, errno?: number) {
    super("EPROBE", message, { errno });
  }
}

function ethernetFrame(): Uint8Array {
  const frame = new Uint8Array(64);
  frame.fill(0xff, 0, 6); //                    destination: broadcast
  frame.set([0x02, 0, 0, 0, 0, 1], 6); //       source: a locally administered address
  frame.set([0x08, 0x00], 12); //                EtherType IPv4
  frame.set([0x45, 0, 0, 50, 0, 0, 0, 0, 64, 17], 14); // an IPv4 header's start (UDP)
  return frame;
}

/** Loads and attaches; returns what was done. Throws on failure. */
function attempt(kind: FeatureKind, obj: BpfObject): string {
  const prog = obj.program(PROGRAM[kind]);
  switch (kind) {
    case "tracepoint":
      obj.load();
      prog.attachTracepoint("syscalls", "sys_enter_getppid");
      return "attached to syscalls:sys_enter_getppid";
    case "raw_tracepoint":
      obj.load();
      prog.attachRawTracepoint("sys_enter");
      return "attached to raw tracepoint sys_enter";
    case "kprobe":
      obj.load();
      prog.attachKprobe(KPROBE_FN);
      return `attached to ${KPROBE_FN}`;
    case "kretprobe":
      obj.load();
      prog.attachKretprobe(KPROBE_FN);
      return `attached to ${KPROBE_FN}`;
    case "fentry":
      obj.load();
      prog.attachFentry(KPROBE_FN);
      return `attached to ${KPROBE_FN}`;
    case "fexit":
      obj.load();
      prog.attachFexit(KPROBE_FN);
      return `attached to ${KPROBE_FN}`;
    case "uprobe": {
      const libc = libcPath();
      obj.load();
      prog.attachUprobe(libc, "getpid", { pid: process.pid });
      return `attached to ${libc}:getpid in pid ${process.pid}`;
    }
    case "perf_event": {
      obj.load();
      let pfd = perfEventOpen(perfAttr(PERF_ATTR_SIZE_VER8), -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
      if (pfd === -7 /* E2BIG: an older kernel */) pfd = perfEventOpen(perfAttr(PERF_ATTR_SIZE_VER7), -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
      if (pfd < 0) throw new ProbeFailure(`perf_event_open of a cpu-clock sampling event on CPU 0 failed: ${errnoName(-pfd)}`, -pfd);
      try {
        prog.attachPerfEvent(pfd, "cpu-clock@cpu0");
      } catch (err) {
        closeFd(pfd); // the link owns the fd only once attached
        throw err;
      }
      return "sampling cpu-clock at 99 Hz on CPU 0, with bpf_get_stackid";
    }
    case "xdp": {
      obj.load();
      const { retval } = prog.testRun({ dataIn: ethernetFrame() });
      if (retval !== 2) throw new ProbeFailure(`the XDP test run returned ${retval}, expected 2 (XDP_PASS)`);
      return "test run on a 64-byte Ethernet frame returned XDP_PASS";
    }
    case "ringbuf": {
      obj.load();
      const { retval } = prog.testRun();
      if (retval !== 0) throw new ProbeFailure("bpf_ringbuf_reserve returned NULL in the test run");
      return "a syscall program reserved and submitted a record (test run)";
    }
    case "read_kernel": {
      obj.setConstant("cfg_tgid", process.pid);
      obj.load();
      prog.attachTracepoint("syscalls", "sys_enter_getppid");
      void process.ppid; // getppid(2), which fires the tracepoint in this process
      const r = obj.map("f_read_result").lookup(new Uint8Array(4));
      if (!r) throw new ProbeFailure("cannot read the probe's result map");
      const dv = new DataView(r.buffer, r.byteOffset, r.byteLength);
      const ret = Number(dv.getBigInt64(0, true)), readTgid = dv.getUint32(8, true), hits = Number(dv.getBigUint64(16, true));
      if (hits === 0) throw new ProbeFailure("the program loaded but never ran (no syscalls:sys_enter_getppid hit from getppid())");
      if (ret !== 0) throw new ProbeFailure(`bpf_probe_read_kernel returned ${errnoName(-ret)} at run time`, -ret);
      if (readTgid !== process.pid) throw new ProbeFailure(`bpf_probe_read_kernel read tgid ${readTgid}, expected ${process.pid}`);
      return `bpf_probe_read_kernel read task->tgid (${readTgid}) in a tracepoint program`;
    }
  }
}

const KPROBE_PMU = "/sys/bus/event_source/devices/kprobe";

/** One line saying why, from the system; undefined when nothing specific explains it. */
function diagnose(kind: FeatureKind, err: unknown, facts: SystemFacts): string | undefined {
  const errno = err instanceof BpfbookError ? err.errno : undefined;
  const lockedDown = facts.lockdown === "confidentiality";
  switch (kind) {
    case "kprobe":
    case "kretprobe": {
      const cfg = facts.config;
      if (facts.option("KPROBES") === "off") return `CONFIG_KPROBES is off (${cfg!.source})`;
      const events = facts.tracefs ? `${facts.tracefs}/kprobe_events` : null;
      if (!existsSync(KPROBE_PMU) && !(events && existsSync(events))) {
        return `the kernel has no kprobes: neither ${KPROBE_PMU} nor ${events ?? "tracefs kprobe_events"} exists`;
      }
      if (facts.option("KPROBE_EVENTS") === "off") return `CONFIG_KPROBE_EVENTS is off (${facts.config!.source})`;
      // lockdown=confidentiality refuses kprobes (LOCKDOWN_KPROBES) with EPERM, even to root
      if (lockedDown && (errno === 1 || errno === 13)) return "lockdown=confidentiality refuses it";
      return undefined;
    }
    case "fentry":
    case "fexit":
      if (lockedDown && (errno === 1 || errno === 13 || errno === undefined)) return "lockdown=confidentiality refuses it";
      if (errno === 1 || errno === 13) {
        // Refused before the verifier said anything, though we hold CAP_BPF and
        // CAP_PERFMON: see whether ftrace's function interface is refused too.
        const refused = facts.ftraceRefused;
        const lockdown = facts.lockdown === null ? "lockdown unknown" : `lockdown=${facts.lockdown}`;
        if (refused) return `the kernel refuses function tracing: ${errnoName(errno)} as root, ${refused} (${lockdown})`;
        return `the kernel refused the program (${errnoName(errno)} as root, no verifier log; ${lockdown})`;
      }
      if (facts.option("DYNAMIC_FTRACE_WITH_DIRECT_CALLS") === "off") {
        return `the kernel has no BPF trampolines: CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS is off (${facts.config!.source})`;
      }
      if (facts.option("FUNCTION_TRACER") === "off") return `CONFIG_FUNCTION_TRACER is off (${facts.config!.source})`;
      if (facts.option("DEBUG_INFO_BTF") === "off" || !existsSync("/sys/kernel/btf/vmlinux")) return "the kernel has no BTF (/sys/kernel/btf/vmlinux)";
      return undefined;
    case "read_kernel":
      if (lockedDown) return "lockdown=confidentiality refuses it";
      return undefined;
    case "uprobe":
      if (facts.option("UPROBE_EVENTS") === "off") return `CONFIG_UPROBE_EVENTS is off (${facts.config!.source})`;
      return undefined;
    case "perf_event":
      if (errno === 13 || errno === 1) {
        try {
          const paranoid = readFileSync("/proc/sys/kernel/perf_event_paranoid", "utf8").trim();
          return `perf_event_open was refused (${errnoName(errno)}); kernel.perf_event_paranoid = ${paranoid}`;
        } catch {
          return undefined;
        }
      }
      if (facts.option("PERF_EVENTS") === "off") return `CONFIG_PERF_EVENTS is off (${facts.config!.source})`;
      return undefined;
    case "xdp":
    case "ringbuf":
    case "tracepoint":
    case "raw_tracepoint":
      if (facts.option("BPF_EVENTS") === "off" && (kind === "tracepoint" || kind === "raw_tracepoint")) {
        return `CONFIG_BPF_EVENTS is off (${facts.config!.source})`;
      }
      if (kind === "tracepoint" && facts.tracefs === null) return "tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)";
      return undefined;
  }
}

function explain(kind: FeatureKind, err: unknown, facts: SystemFacts): FeatureResult {
  const message = err instanceof Error ? err.message : String(err);
  const [first = "", ...rest] = message.split("\n");
  const errno = err instanceof BpfbookError ? err.errno : undefined;
  const reason = diagnose(kind, err, facts)
    ?? (errno !== undefined && !first.includes(errnoName(errno)) ? `${errnoName(errno)}: ${first}` : first);
  // The detail keeps the kernel's and libbpf's words: the whole message when the
  // reason came from the system, the warning lines after the first otherwise.
  const detail = reason === first ? rest.join("\n").trim() : message.trim();
  return detail ? { kind, ok: false, reason, detail } : { kind, ok: false, reason };
}

/** Tries one kind now. Never throws: a failure is a result with a reason. */
export function probeFeatureSync(kind: FeatureKind, facts: SystemFacts = new SystemFacts()): FeatureResult {
  if (!(FEATURE_KINDS as readonly string[]).includes(kind)) {
    return { kind, ok: false, reason: `unknown feature kind "${kind}" (known: ${FEATURE_KINDS.join(", ")})` };
  }
  const p = privileges();
  if (!p.root && !(p.capBpf && p.capPerfmon)) {
    return { kind, ok: false, reason: "needs root", detail: "run as root, or give node CAP_BPF and CAP_PERFMON" };
  }
  let obj: BpfObject | null = null;
  try {
    obj = BpfObject.open(bpfObjectPath("features"));
    const wanted = PROGRAM[kind];
    for (const prog of obj.programs.values()) prog.setAutoload(prog.name === wanted);
    return { kind, ok: true, detail: attempt(kind, obj) };
  } catch (err) {
    return explain(kind, err, facts);
  } finally {
    obj?.dispose();
  }
}

/** Tries one kind: opens features.bpf.o, loads only that kind's program, attaches it, disposes it. */
export async function probeFeature(kind: FeatureKind, facts?: SystemFacts): Promise<FeatureResult> {
  return probeFeatureSync(kind, facts);
}

/** Tries each kind in turn (they share the system facts used to explain failures). */
export async function probeFeatures(kinds: readonly FeatureKind[] = FEATURE_KINDS, facts: SystemFacts = new SystemFacts()): Promise<FeatureResult[]> {
  const out: FeatureResult[] = [];
  for (const kind of kinds) out.push(await probeFeature(kind, facts));
  return out;
}
