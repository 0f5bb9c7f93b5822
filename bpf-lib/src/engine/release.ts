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
 * Detaches at most this many links at once: each is an async FFI call, and koffi refuses
 * ("Too many asynchronous calls are running") past its max_async_calls (256), which a
 * uprobe on hundreds of functions, entry and return, reached at once.
 */
const MAX_IN_FLIGHT = 64;

/**
 * Detaches every link off the event loop (a tracepoint's detach waits for an RCU grace
 * period in the kernel: ~30 ms here), up to MAX_IN_FLIGHT at a time; each is detached
 * from the moment its turn comes, and a synchronous release meanwhile disposes the
 * others itself. Returns the first error (in the links' order).
 */
export async function releaseLinksAsync(links: readonly Disposable[]): Promise<unknown> {
  const errors: unknown[] = new Array(links.length).fill(undefined);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < links.length) {
      const i = next++;
      const l = links[i];
      try {
        const a = (l as { disposeAsync?: () => Promise<void> }).disposeAsync;
        if (typeof a === "function") await a.call(l);
        else l[Symbol.dispose]();
      } catch (e) {
        errors[i] = e ?? new Error("link release failed");
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_IN_FLIGHT, links.length) }, worker));
  return errors.find((e) => e !== undefined) ?? null;
}

/** Removes a run's abort listener; a signal that cannot (it only looked like an AbortSignal) had nothing added. */
export function removeAbort(signal: AbortSignal | undefined, onAbort: () => void): void {
  try {
    signal?.removeEventListener("abort", onAbort);
  } catch {
    // not an EventTarget: nothing was added to it
  }
}
