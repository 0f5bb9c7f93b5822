/* Interrupting the main thread from the wire thread, which stays responsive.
 * SIGINT breaks a cell's synchronous part (vm breakOnSigint) and, once the event
 * loop is free, runs the main thread's handlers (stop every trace, abandon the
 * cell's await). Two cases need more, so the wire thread watches (through shared
 * flags) until the cell has ended:
 * - a SIGINT that arrives while the cell is being type-checked is taken by libuv,
 *   not by breakOnSigint, so the synchronous loop that follows would never see it:
 *   nothing is sent while the cell is checked, and the synchronous part gets SIGINT
 *   only once it keeps the loop blocked for a grace period (so a part that is
 *   loading and attaching programs is not cut in the middle);
 * - a synchronous loop entered after an `await` (or in a timer) runs outside the vm
 *   script, where nothing reaches it and the event loop never frees: when the loop
 *   stays blocked for a grace period, V8 is told through the inspector to terminate
 *   the JavaScript running now (a debugger's "terminate execution"). Only that
 *   continuation dies; the event loop goes on, the pending SIGINT is handled, and
 *   the cell ends interrupted with its traces stopped.
 * Type checking is never terminated, nor the kernel's own cleanup (FLAG.CLEANUP: stopping
 * traces, draining a full ring) unless it stays set for CLEANUP_MAX_MS (then the
 * code blocking the loop is taken to be the cell's after all). */
import { setTimeout as sleep } from "node:timers/promises";
import { Session } from "node:inspector";
import { FLAG, TICK_MS } from "./bridge.js";

/** How often SIGINT is repeated while the cell's synchronous part keeps the loop blocked. */
const RESEND_MS = 500;
/** How long the main thread's event loop may stay blocked after SIGINT before the JavaScript blocking it is terminated. */
const GRACE_MS = 1000;
/** How long the kernel's cleanup may keep the loop blocked before it is no longer spared. */
const CLEANUP_MAX_MS = 30_000;
/** After this, the wire thread stops watching (the cell may be type-checking something huge). */
const GIVE_UP_MS = 120_000;

export class Interrupter {
  readonly #flags: Int32Array;
  readonly #log: (text: string) => void;
  #session: Session | null = null;
  #watching = false;
  /** Interrupt requests so far: one that arrives while watching starts over (a new SIGINT). */
  #requests = 0;

  constructor(flags: Int32Array, log: (text: string) => void) {
    this.#flags = flags;
    this.#log = log;
    try {
      this.#session = new Session();
      this.#session.connectToMainThread();
    } catch (e) {
      this.#session = null;
      log(`no inspector session to the main thread (a synchronous loop after an await cannot be interrupted): ${String(e)}`);
    }
  }

  #flag(f: number): boolean {
    return Atomics.load(this.#flags, f) === 1;
  }

  /** Resolves once no cell is executing and the main thread's event loop runs, or after GIVE_UP_MS. */
  async interrupt(): Promise<void> {
    this.#requests++;
    if (this.#watching) return;
    this.#watching = true;
    try {
      let start = Date.now();
      let lastSigint = 0;
      let request = this.#requests;
      let cell = Atomics.load(this.#flags, FLAG.EXEC_SEQ);
      let tick = Atomics.load(this.#flags, FLAG.TICK);
      let seq = Atomics.load(this.#flags, FLAG.SYNC_SEQ);
      let movedAt = start;
      let terminated = false;
      let cleanupSince = 0;
      for (let first = true; ; first = false) {
        if (!first) await sleep(TICK_MS);
        let now = Date.now();
        if (request !== this.#requests) {
          request = this.#requests;
          start = now;
          lastSigint = 0;
          cell = Atomics.load(this.#flags, FLAG.EXEC_SEQ);
        }
        // The interrupted request ended and another began: that one was not interrupted.
        if (lastSigint && Atomics.load(this.#flags, FLAG.EXEC_SEQ) !== cell) return;
        now = Date.now();
        const t = Atomics.load(this.#flags, FLAG.TICK);
        const q = Atomics.load(this.#flags, FLAG.SYNC_SEQ);
        // Type checking blocks the loop too, and a new synchronous part gets its own grace period.
        if (t !== tick || q !== seq || this.#flag(FLAG.CHECKING)) {
          tick = t;
          seq = q;
          movedAt = now;
          terminated = false;
        }
        // The kernel's own cleanup blocking the loop is not a reason to terminate: it gets its own grace period once done.
        if (this.#flag(FLAG.CLEANUP)) {
          cleanupSince ||= now;
          if (now - cleanupSince < CLEANUP_MAX_MS) movedAt = now;
        } else {
          cleanupSince = 0;
        }
        const blocked = now - movedAt >= GRACE_MS;
        if ((!this.#flag(FLAG.EXECUTING) && !blocked && lastSigint) || now - start >= GIVE_UP_MS) return;
        // A SIGINT now would be taken by libuv and lost to the breakOnSigint that follows.
        if (this.#flag(FLAG.CHECKING)) continue;
        if (this.#flag(FLAG.SYNC_PART)) {
          // Only a part that keeps the loop blocked is broken: SIGINT stops whatever runs,
          // and a part that is merely loading and attaching programs must not stop halfway.
          if (blocked && now - lastSigint >= RESEND_MS) {
            process.kill(process.pid, "SIGINT");
            lastSigint = now;
          }
        } else if (!lastSigint) {
          // The loop is free (the cell awaits) or blocked after an await: the handlers run at a safe point.
          process.kill(process.pid, "SIGINT");
          lastSigint = now;
        } else if (blocked && !terminated && this.#session) {
          terminated = true;
          this.#log("the cell did not stop on SIGINT (a synchronous loop after an await): terminating the JavaScript running now");
          this.#session.post("Runtime.terminateExecution", (err) => {
            if (err) this.#log(`terminateExecution failed: ${err.message}`);
          });
        }
      }
    } finally {
      this.#watching = false;
    }
  }

  close(): void {
    this.#session?.disconnect();
    this.#session = null;
  }
}
