/* Noticing that whoever started the kernel is gone, as ipykernel's ParentPollerUnix
 * does: the launcher killed with -9 sends no shutdown_request, and a kernel left
 * running would keep its programs attached forever. Polled from the wire thread,
 * which stays responsive while a cell spins. */

import { readFileSync } from "node:fs";

export interface ParentWatch {
  stop(): void;
}

/**
 * A process's start time (field 22 of /proc/<pid>/stat, in clock ticks since boot),
 * or null when it does not exist. Together with the pid it names one process: a pid
 * reused by a later process has a later start time.
 */
export function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may hold spaces and parentheses: count fields after its closing one
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // a zombie has exited; only its parent has not reaped it yet
    if (rest[0] === "Z") return null;
    return rest[22 - 3] ?? null;
  } catch {
    return null;
  }
}

/**
 * Calls `gone` once when the parent process exits (the kernel is re-parented, so
 * getppid() changes) or when the frontend process named by JPY_PARENT_PID (set by
 * jupyter_client's launcher; it may be a grandparent when a wrapper like sudo sits
 * in between) no longer exists. As ipykernel's ParentPollerUnix, JPY_PARENT_PID is
 * watched only when that process is alive at start (a stale value, inherited from
 * an environment it does not belong to, must not shut the kernel down); `note` says
 * when it is not.
 */
export interface WatchOptions {
  everyMs?: number;
  /** The frontend's pid (default: JPY_PARENT_PID). */
  frontend?: number;
  /** Told when JPY_PARENT_PID is set but not watched. */
  note?: (text: string) => void;
}

export function watchParent(gone: (why: string) => void, opts: WatchOptions = {}): ParentWatch {
  const { everyMs = 250, frontend = Number(process.env.JPY_PARENT_PID) || 0, note = () => {} } = opts;
  const parent = process.ppid;
  const born = frontend > 1 ? startTime(frontend) : null;
  if (frontend > 1 && born === null) note(`JPY_PARENT_PID=${frontend} names no running process: not watched (the parent process still is)`);
  const timer = setInterval(() => {
    let why = "";
    if (process.ppid !== parent) why = `parent process ${parent} exited`;
    else if (born !== null && startTime(frontend) !== born) why = `frontend process ${frontend} (JPY_PARENT_PID) exited`;
    if (!why) return;
    clearInterval(timer);
    gone(why);
  }, everyMs);
  return { stop: () => clearInterval(timer) };
}
