/* `bpfbook doctor`: what this machine offers for tracing, and why not when it
 * does not. Facts are read from the system; features are decided by trying
 * (see features.ts). Never throws for a missing feature or privilege: an
 * unprivileged run still reports what it can, with features "needs root". */
import { existsSync } from "node:fs";
import { machine, release } from "node:os";
import { privileges, type Privileges } from "../privileges.js";
import { FEATURE_KINDS, SystemFacts, mountPoint, probeFeatures, type FeatureResult } from "./features.js";

export type { FeatureResult, FeatureKind } from "./features.js";

export interface DoctorReport {
  /** uname -r */
  kernel: string;
  /** uname -m */
  arch: string;
  /** /sys/kernel/btf/vmlinux exists (CO-RE works) */
  btf: boolean;
  /** "none" | "integrity" | "confidentiality", or null when it cannot be read */
  lockdown: string | null;
  privileges: Privileges;
  /** where tracefs is mounted, or null */
  tracefs: string | null;
  /** a bpf filesystem is mounted at /sys/fs/bpf */
  bpffs: boolean;
  /** libbpf's version, or "unavailable (...)" when libbpf.so.1 cannot be loaded */
  libbpf: string;
  /** process.version */
  node: string;
  features: FeatureResult[];
}

async function libbpfVersion(): Promise<string> {
  try {
    const { version } = await import("../ffi/libbpf.js");
    return version();
  } catch (err) {
    return `unavailable (${err instanceof Error ? err.message.split("\n")[0] : String(err)})`;
  }
}

export async function doctor(): Promise<DoctorReport> {
  const facts = new SystemFacts();
  const privs = privileges();
  const libbpf = await libbpfVersion();
  let features: FeatureResult[];
  if (libbpf.startsWith("unavailable")) {
    features = FEATURE_KINDS.map((kind) => ({ kind, ok: false, reason: `libbpf is ${libbpf}` }));
  } else {
    features = await probeFeatures(FEATURE_KINDS, facts);
  }
  return {
    kernel: release(),
    arch: machine(),
    btf: existsSync("/sys/kernel/btf/vmlinux"),
    lockdown: facts.lockdown,
    privileges: privs,
    tracefs: facts.tracefs,
    bpffs: mountPoint("bpf", ["/sys/fs/bpf"]) !== null,
    libbpf,
    node: process.version,
    features,
  };
}

const YES = "✓", NO = "✗";

/** A readable, aligned table: the system first, then one ✓/✗ row per feature with its reason. */
export function formatDoctor(r: DoctorReport, opts: { details?: boolean } = {}): string {
  const p = r.privileges;
  const caps = ([["CAP_BPF", p.capBpf], ["CAP_PERFMON", p.capPerfmon], ["CAP_SYS_ADMIN", p.capSysAdmin], ["CAP_NET_ADMIN", p.capNetAdmin]] as const)
    .map(([name, has]) => `${has ? "" : "no "}${name}`)
    .join(", ");
  const system: Array<[string, boolean | null, string]> = [
    ["kernel", null, `${r.kernel} (${r.arch})`],
    ["BTF", r.btf, r.btf ? "/sys/kernel/btf/vmlinux" : "missing /sys/kernel/btf/vmlinux: CO-RE programs cannot load"],
    ["lockdown", r.lockdown === null ? null : r.lockdown !== "confidentiality",
      r.lockdown ?? `unknown (${p.root ? "securityfs could not be mounted" : "securityfs is not mounted; root can tell"})`],
    ["privileges", p.capBpf && p.capPerfmon, `${p.root ? "root" : "not root"}; ${caps}`],
    ["tracefs", r.tracefs !== null,
      r.tracefs === null ? "not mounted: mount -t tracefs nodev /sys/kernel/tracing" : `${r.tracefs}${p.root ? "" : " (readable by root only)"}`],
    ["bpffs", r.bpffs, r.bpffs ? "/sys/fs/bpf" : "not mounted at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf); bpfbook does not pin, so this is optional"],
    ["libbpf", !r.libbpf.startsWith("unavailable"), r.libbpf],
    ["node", null, r.node],
  ];
  const width = Math.max(...system.map(([k]) => k.length), ...r.features.map((f) => f.kind.length)) + 2;
  const mark = (ok: boolean | null) => (ok === null ? " " : ok ? YES : NO);
  const lines: string[] = ["bpfbook doctor", ""];
  for (const [key, ok, value] of system) lines.push(`  ${mark(ok)} ${key.padEnd(width)}${value}`);
  const okCount = r.features.filter((f) => f.ok).length;
  lines.push("", `features (${okCount} of ${r.features.length} work here)`, "");
  for (const f of r.features) {
    lines.push(`  ${mark(f.ok)} ${f.kind.padEnd(width)}${f.ok ? f.detail ?? "ok" : f.reason ?? "failed"}`);
    if (!f.ok && opts.details && f.detail) {
      for (const d of f.detail.split("\n")) lines.push(`    ${"".padEnd(width)}${d}`);
    }
  }
  return lines.join("\n") + "\n";
}
