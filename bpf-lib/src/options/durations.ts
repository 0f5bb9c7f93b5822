/* Stop conditions and periods: seconds, events, interval, progressMs, batchMs, signal.
 * Node's timers hold at most 2^31-1 ms; a longer delay fires after 1 ms, which once
 * stopped a "35-day" aggregation at once. Longer durations are refused rather than
 * cut short; running until stopped is leaving `seconds` out. */
import { InvalidOptionError } from "../errors.js";
import { abortSignal, callback, optionsObject } from "./shapes.js";

export const MAX_TIMER_MS = 2 ** 31 - 1;
/** The longest `seconds`/`interval`: 2147483 s, 24.8 days. */
export const MAX_SECONDS = Math.floor(MAX_TIMER_MS / 1000);
/** The shortest aggregation interval: each flip reads and clears a whole map. */
export const MIN_INTERVAL = 0.05;
const UNTIL_STOPPED = "to run until stopped, leave it out and end the run with stop(), a signal or an interrupt";

export function seconds(v: unknown, what: string, option = "seconds"): void {
  if (v === undefined) return;
  if (typeof v !== "number" || !(v > 0) || v > MAX_SECONDS) {
    throw new InvalidOptionError(what, option, v, `a number of seconds above 0 and at most ${MAX_SECONDS} (24.8 days, the longest timer Node.js keeps); ${UNTIL_STOPPED}`);
  }
}

export function events(v: unknown, what: string): void {
  if (v === undefined) return;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) throw new InvalidOptionError(what, "events", v, "a positive integer (stop once that many events arrived)");
}

export function interval(v: unknown, what: string): void {
  if (v === undefined) return;
  if (typeof v !== "number" || !(v >= MIN_INTERVAL) || v > MAX_SECONDS) {
    throw new InvalidOptionError(what, "interval", v, `a number of seconds from ${MIN_INTERVAL} to ${MAX_SECONDS}`);
  }
}

/** A period in ms for a timer the library sets (progressMs, batchMs). */
export function millis(v: unknown, option: string, what: string, min: number): void {
  if (v === undefined) return;
  if (typeof v !== "number" || !(v >= min) || v > MAX_TIMER_MS) throw new InvalidOptionError(what, option, v, `a number of milliseconds from ${min} to ${MAX_TIMER_MS}`);
}

export interface StopShape {
  seconds?: number;
  events?: number;
  signal?: AbortSignal;
}

/** start()'s options: the options object and each stop condition. */
export function stopOptions<T extends StopShape>(v: T | undefined, what: string): T {
  const o = optionsObject(v, what);
  seconds(o.seconds, what);
  events(o.events, what);
  abortSignal(o.signal, what);
  return o;
}

/**
 * collect()'s options: as start()'s, plus a stop condition. A collect() with none
 * could only end by an interrupt, and its promise would be the only handle on the
 * run; start() returns one to stop().
 */
export function collectOptions<T extends StopShape & { onProgress?: unknown; progressMs?: number }>(v: T | undefined, what: string, conditions = "{ seconds: 5 }, { events: 1000 } or { signal }", starter = "start()"): T {
  const o = stopOptions(v, what);
  callback(o.onProgress, "onProgress", what);
  millis(o.progressMs, "progressMs", what, 10);
  if (o.seconds === undefined && o.events === undefined && o.signal === undefined) {
    const instead = `to run until you decide, use ${starter} and call stop() on what it returns (a notebook interrupt stops it too)`;
    throw new InvalidOptionError(what, "stop condition", v, `${conditions}; ${instead}`, `${what} needs a stop condition: ${conditions} (got ${v === undefined ? "no options" : "none"}); ${instead}`);
  }
  return o;
}

/** An aggregation run's options: stop conditions, interval and the callbacks it calls. */
export function aggregateRunOptions<T extends StopShape & { interval?: number; onInterval?: unknown; live?: unknown }>(v: T | undefined, what: string): T {
  const o = stopOptions(v, what);
  interval(o.interval, what);
  callback(o.onInterval, "onInterval", what);
  callback(o.live, "live", what);
  return o;
}
