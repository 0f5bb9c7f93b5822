/* Everything attached is owned by something disposable, and everything
 * disposable that is live is tracked here, so process exit (and a notebook
 * interrupt) can release it all. Links are fds and never pinned, so even
 * kill -9 leaves nothing: the kernel drops them with the process. */
const live = new Set<Disposable>();
let hooked = false;

export function track<T extends Disposable>(d: T): T {
  live.add(d);
  if (!hooked) {
    hooked = true;
    process.once("exit", disposeAll);
  }
  return d;
}

export function untrack(d: Disposable): void {
  live.delete(d);
}

/** Disposes everything still live (newest first). Returns how many there were. */
export function disposeAll(): number {
  const all = [...live].reverse();
  live.clear();
  for (const d of all) {
    try {
      d[Symbol.dispose]();
    } catch {
      // keep going: one failure must not leave the rest attached
    }
  }
  return all.length;
}

export function liveCount(): number {
  return live.size;
}
