/* Where tracefs lives. /sys/kernel/tracing exists as an empty directory even when
 * nothing is mounted there, so the test is for its `events` directory. A kernel in
 * lockdown=confidentiality refuses tracefs to everyone (LOCKDOWN_TRACEFS), root too:
 * that is said as such, not as "not mounted". */
import { readFileSync, statSync } from "node:fs";
import { NotSupportedError, PermissionError } from "../errors.js";
import { TracefsNotMountedError } from "./errors.js";

/** Whether the kernel is in lockdown=confidentiality (securityfs's lockdown file shows "[confidentiality]"). */
function confidentialityLockdown(): boolean {
  try {
    return readFileSync("/sys/kernel/security/lockdown", "utf8").includes("[confidentiality]");
  } catch {
    return false; // no lockdown LSM, or securityfs not mounted: nothing says it is
  }
}

export const TRACEFS_ROOTS: readonly string[] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

export function findTracefs(): string {
  for (const root of TRACEFS_ROOTS) {
    try {
      if (statSync(`${root}/events`).isDirectory()) return root;
    } catch (err) {
      // tracefs is mode 0700: an unprivileged user sees EACCES, which is not "unmounted".
      if ((err as NodeJS.ErrnoException).code === "EACCES") {
        throw new PermissionError(`cannot read ${root}: permission denied; tracing needs root`, { cause: err });
      }
    }
  }
  if (confidentialityLockdown()) {
    throw new NotSupportedError("tracefs (tracepoint names, formats and ids)", "this kernel is in lockdown=confidentiality, which refuses tracefs even to root; tracepoints cannot be traced here (uprobes, fentry, sample() and profile() do not need tracefs) — see `bpfbook doctor`");
  }
  throw new TracefsNotMountedError(TRACEFS_ROOTS);
}
