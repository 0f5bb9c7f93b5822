/* The shape of options: an options object, lists of names, callbacks, signals.
 * Checked where a call enters the library, so a wrong type is a named error that
 * says what would work instead of a TypeError from deep inside (or, in a timer,
 * a crashed process). */
import { InvalidOptionError } from "../errors.js";

/** What an aggregation's options look like (count(), hist(), latency(), ...). */
export const AGGREGATION_EXAMPLE = '{ by: ["pid"] }';

/** The options argument: absent, or a plain object; `example` shows one that fits the call. */
export function optionsObject<T extends object>(v: T | undefined, what: string, example = "{ seconds: 5 }"): T {
  if (v === undefined) return {} as T;
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new InvalidOptionError(what, "options", v, `an object such as ${example} (or nothing)`);
  }
  return v;
}

/** A list of names (fields, keys): an array of strings. */
export function nameList(v: unknown, option: string, what: string): readonly string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
    throw new InvalidOptionError(what, option, v, `an array of names, e.g. ${option}: ["pid", "comm"]`);
  }
  return v as readonly string[];
}

/** A callback option: absent or a function (a non-function would throw later, inside a timer). */
export function callback(v: unknown, option: string, what: string): void {
  if (v !== undefined && typeof v !== "function") throw new InvalidOptionError(what, option, v, "a function");
}

/** `signal`: absent or an AbortSignal (AbortController's .signal, AbortSignal.timeout(ms)). */
export function abortSignal(v: unknown, what: string): void {
  if (v !== undefined && !(v instanceof AbortSignal)) {
    throw new InvalidOptionError(what, "signal", v, "an AbortSignal, e.g. new AbortController().signal or AbortSignal.timeout(5000)");
  }
}

/** A name argument (tracepoint, binary, symbol, interface): a non-empty string. */
export function nameArgument(v: unknown, argument: string, what: string, expected: string): string {
  if (typeof v !== "string" || v.length === 0) throw new InvalidOptionError(what, argument, v, expected);
  return v;
}

/** An integer option within [min, max]. */
export function integerIn(v: unknown, option: string, what: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidOptionError(what, option, v, `an integer from ${min} to ${max}`);
  }
  return v;
}

/** An option that holds an object (where, match): absent or a plain object. */
export function objectOption(v: unknown, option: string, what: string, expected: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new InvalidOptionError(what, option, v, expected);
  return v as Record<string, unknown>;
}

/** A string option (where.comm, value) that must be given: a string (callers skip it when absent). */
export function stringOption(v: unknown, option: string, what: string, expected: string): string {
  if (typeof v !== "string") throw new InvalidOptionError(what, option, v, expected);
  return v;
}
