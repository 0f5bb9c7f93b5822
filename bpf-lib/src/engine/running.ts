/* What every running collection (an event stream, an aggregation) offers the rest
 * of the system: progress for live displays, stop() for interrupts, and its table
 * once finished. The notebook kernel watches `activity`; an interrupt calls stopAll(). */
import { EventEmitter } from "node:events";
import type { ColumnTable } from "arquero";

export type StoppedBy = "seconds" | "events" | "signal" | "stop" | "error" | "interrupt";

/** The counters every collection reports while it runs. */
export interface RunningStats {
  source: string;
  /** Events that reached the result (rows of a stream; events counted by an aggregation). */
  received: number;
  /** Events the kernel could not deliver or count (ring buffer full; aggregation keys that did not fit). */
  lost: number;
  seconds: number;
  stoppedBy: StoppedBy;
}

export interface Running {
  readonly source: string;
  readonly running: boolean;
  progressStats(): RunningStats;
  /** One line for people: what ran and what it counted. */
  describe(): string;
  stop(by?: StoppedBy): Promise<void>;
  /** The finished collection's table, or null while it runs. */
  result(): ColumnTable | null;
}

/** Collections starting and stopping, for whoever shows them (the notebook kernel shows live progress). */
export const activity = new EventEmitter<{ start: [Running]; stop: [Running] }>();

const running = new Set<Running>();
let partial: ColumnTable[] = [];

/** @internal */
export function started(r: Running): void {
  running.add(r);
  activity.emit("start", r);
}

/** @internal */
export function stopped(r: Running): void {
  running.delete(r);
  activity.emit("stop", r);
}

/**
 * Stops every running collection (detaching its programs) and keeps what each had
 * collected: a notebook interrupt calls this, and the next cell finds the tables in
 * partialResults(). Returns them.
 */
export async function stopAll(by: StoppedBy = "interrupt"): Promise<ColumnTable[]> {
  const all = [...running];
  // One collection failing to stop cleanly (its error belongs to whoever awaits it) must not keep the others attached.
  await Promise.allSettled(all.map((r) => r.stop(by)));
  const tables = all.map((r) => r.result()).filter((t): t is ColumnTable => t !== null);
  if (tables.length) partial = tables;
  return tables;
}

/**
 * Releases every collection still running, synchronously (detach, release, untrack), for
 * when stopAll() could not finish (the kernel's interrupt after a blocked event loop).
 * Returns how many there were.
 */
export function forceStopAll(): number {
  const all = [...running];
  for (const r of all) {
    try {
      if (Symbol.dispose in r) (r as Running & Disposable)[Symbol.dispose]();
    } catch {
      // keep going: one failure must not leave the rest attached
    }
    running.delete(r);
  }
  return all.length;
}

/** The tables of the collections the last stopAll() (a notebook interrupt) stopped. */
export function partialResults<T extends ColumnTable = ColumnTable & { stats: Record<string, unknown> }>(): T[] {
  return partial as T[];
}
