/* Where tracefs lives. /sys/kernel/tracing exists as an empty directory even when
 * nothing is mounted there, so the test is for its `events` directory. */
import { statSync } from "node:fs";
import { PermissionError } from "../errors.js";
import { TracefsNotMountedError } from "./errors.js";

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
  throw new TracefsNotMountedError(TRACEFS_ROOTS);
}
