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

/** Removes a run's abort listener; a signal that cannot (it only looked like an AbortSignal) had nothing added. */
export function removeAbort(signal: AbortSignal | undefined, onAbort: () => void): void {
  try {
    signal?.removeEventListener("abort", onAbort);
  } catch {
    // not an EventTarget: nothing was added to it
  }
}
