/* Waiting out BPF program runs already under way: after flipping an interval's
 * map index or detaching, a run that passed its checks earlier may still write. */
import { waitForRunningPrograms } from "../ffi/libc.js";

/**
 * Resolves once every program run that began before the call has finished.
 * Programs run inside RCU read-side sections, and a global membarrier is
 * synchronize_rcu(), so this is exact and costs no CPU while it waits.
 */
export async function programsSettled(): Promise<void> {
  if (await waitForRunningPrograms()) return;
  // No global membarrier here (nohz_full, CONFIG_MEMBARRIER off): a run lasts
  // microseconds, so a timer of a few milliseconds covers it (not provably).
  await new Promise((r) => setTimeout(r, 5));
}
