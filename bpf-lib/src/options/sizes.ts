/* Ring buffer sizes. The kernel wants a power of two that is a multiple of the
 * page; the reader maps the data area twice, and above 1 GiB that mapping no
 * longer fits what koffi and V8 can view (2^31 aborted node inside the mmap). */
import { InvalidOptionError } from "../errors.js";

export const MIN_BUFFER = 4096;
export const MAX_BUFFER = 2 ** 30;
export const DEFAULT_BUFFER = 16 << 20;

/** `bufferBytes`: a power of two from 4 KiB to 1 GiB (default 16 MiB unless the caller says). */
export function bufferBytes(v: unknown, what: string, fallback = DEFAULT_BUFFER): number {
  if (v === undefined) return fallback;
  // Math.log2, not n & (n - 1): bit operations cut to 32 bits, so 2^32 + 4096 looked like a power of two.
  if (typeof v !== "number" || !Number.isInteger(v) || v < MIN_BUFFER || v > MAX_BUFFER || !Number.isInteger(Math.log2(v))) {
    throw new InvalidOptionError(what, "bufferBytes", v, `a power of two from ${MIN_BUFFER} to ${MAX_BUFFER} (1 GiB), e.g. ${DEFAULT_BUFFER} (16 MiB)`);
  }
  return v;
}

/**
 * `wakeupBytes`: how much data waits before the producer forces a wakeup. At most
 * half the buffer: the ring holds at most bufferBytes, so a larger threshold could
 * never be crossed and a flood would fill the ring. 0: no size threshold (the
 * reader collects at its poll period, 20 ms, and on the first event after a drain).
 */
export function wakeupBytes(v: unknown, buffer: number, what: string): number {
  if (v === undefined) return Math.min(buffer / 4, 1 << 20);
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > buffer / 2) {
    throw new InvalidOptionError(what, "wakeupBytes", v, `an integer from 0 (no size threshold: collected every 20 ms) to half of bufferBytes (${buffer / 2})`);
  }
  return v;
}

/** `stringBytes`: bytes read for each string, a multiple of 8 from 8 to `max`. */
export function stringSlot(v: unknown, what: string, max: number, fallback = 256): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 8 || v > max || v % 8) {
    throw new InvalidOptionError(what, "stringBytes", v, `a multiple of 8 from 8 to ${max}`);
  }
  return v;
}

/** The most keys an aggregation map holds (per-CPU hash entries). */
export const MAX_KEYS = 1 << 22;
export const DEFAULT_KEYS = 10240;

/** `maxKeys`: keys the kernel's map holds, 1 to 4194304 (default 10240). */
export function maxKeys(v: unknown, what: string, fallback = DEFAULT_KEYS): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > MAX_KEYS) throw new InvalidOptionError(what, "maxKeys", v, `an integer from 1 to ${MAX_KEYS} (default ${DEFAULT_KEYS})`);
  return v;
}
