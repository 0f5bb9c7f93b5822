/* Who we are to the kernel: root, CAP_BPF, CAP_PERFMON. Checked before loading
 * so the error names the missing capability instead of a bare EPERM. */
import { readFileSync } from "node:fs";
import { PermissionError } from "./errors.js";

const CAP_SYS_ADMIN = 21n, CAP_PERFMON = 38n, CAP_BPF = 39n, CAP_NET_ADMIN = 12n;

export interface Privileges {
  root: boolean;
  capBpf: boolean;
  capPerfmon: boolean;
  capSysAdmin: boolean;
  capNetAdmin: boolean;
}

export function privileges(): Privileges {
  let eff = 0n;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) eff = BigInt("0x" + m[1]);
  } catch {
    // not Linux or no procfs: report nothing held
  }
  const has = (c: bigint) => ((eff >> c) & 1n) === 1n;
  return {
    root: process.getuid?.() === 0,
    capBpf: has(CAP_BPF) || has(CAP_SYS_ADMIN),
    capPerfmon: has(CAP_PERFMON) || has(CAP_SYS_ADMIN),
    capSysAdmin: has(CAP_SYS_ADMIN),
    capNetAdmin: has(CAP_NET_ADMIN),
  };
}

/**
 * How to get the privileges. Not `setcap` on the system's node: that would hand
 * CAP_BPF and CAP_PERFMON (as good as root) to every user and every Node program.
 */
export const PRIVILEGES_HOW = "run as root (sudo), or under a dedicated copy of node that holds CAP_BPF and CAP_PERFMON and only a trusted group can execute (see docs/security.md; never setcap the system-wide node)";

/** Throws a PermissionError naming what is missing for tracing. */
export function requireTracingPrivileges(what: string): void {
  const p = privileges();
  const missing: string[] = [];
  if (!p.capBpf) missing.push("CAP_BPF");
  if (!p.capPerfmon) missing.push("CAP_PERFMON");
  if (missing.length) throw new PermissionError(`${what} needs ${missing.join(" and ")}, which this process lacks; ${PRIVILEGES_HOW}`);
}
