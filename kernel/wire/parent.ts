/* Noticing that whoever started the kernel is gone, as ipykernel's ParentPollerUnix
 * does: the launcher killed with -9 sends no shutdown_request, and a kernel left
 * running would keep its programs attached forever. Polled from the wire thread,
 * which stays responsive while a cell spins. */

export interface ParentWatch {
  stop(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but is not ours to signal.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Calls `gone` once when the parent process exits (the kernel is re-parented, so
 * getppid() changes) or when the frontend process named by JPY_PARENT_PID (set by
 * jupyter_client's launcher; it may be a grandparent when a wrapper like sudo sits
 * in between) no longer exists.
 */
export function watchParent(gone: (why: string) => void, everyMs = 250, frontend = Number(process.env.JPY_PARENT_PID) || 0): ParentWatch {
  const parent = process.ppid;
  const timer = setInterval(() => {
    let why = "";
    if (process.ppid !== parent) why = `parent process ${parent} exited`;
    else if (frontend > 1 && !alive(frontend)) why = `frontend process ${frontend} (JPY_PARENT_PID) exited`;
    if (!why) return;
    clearInterval(timer);
    gone(why);
  }, everyMs);
  return { stop: () => clearInterval(timer) };
}
