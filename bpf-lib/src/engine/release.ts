/* The release steps every run (trace, aggregation, profile) takes when it stops,
 * kept in one place so no path forgets one: one failing release must not keep the
 * other links attached. */

/** Disposes every link, whatever each throws; returns the first error (null when none). */
export function releaseLinks(links: readonly { dispose(): void }[]): unknown {
  let error: unknown = null;
  for (const l of links) {
    try {
      l.dispose();
    } catch (e) {
      error ??= e;
    }
  }
  return error;
}

/**
 * Detaches every link off the event loop (a tracepoint's detach waits for an RCU grace
 * period in the kernel: ~30 ms here); each is detached from the moment this is called,
 * so a synchronous release meanwhile finds nothing left. Returns the first error.
 */
export async function releaseLinksAsync(links: readonly Disposable[]): Promise<unknown> {
  const results = await Promise.allSettled(links.map((l) => {
    const a = (l as { disposeAsync?: () => Promise<void> }).disposeAsync;
    if (typeof a === "function") return a.call(l);
    l[Symbol.dispose]();
    return Promise.resolve();
  }));
  const failed = results.find((r) => r.status === "rejected");
  return failed ? (failed as PromiseRejectedResult).reason : null;
}

/** Removes a run's abort listener; a signal that cannot (it only looked like an AbortSignal) had nothing added. */
export function removeAbort(signal: AbortSignal | undefined, onAbort: () => void): void {
  try {
    signal?.removeEventListener("abort", onAbort);
  } catch {
    // not an EventTarget: nothing was added to it
  }
}
