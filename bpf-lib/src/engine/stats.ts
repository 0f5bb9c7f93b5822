/* The counters every stream reports. received + lost == produced, always:
 * nothing is lost silently. */
import type { BpfMap } from "../libbpf/map.js";
import { possibleCpus } from "../libbpf/map.js";
import { Stat } from "./layout.js";

export interface TraceStats {
  /** Events that reached user space and are in the table. */
  received: number;
  /** Events the kernel produced but could not queue (ring buffer full). */
  lost: number;
  /** Events that passed the filters in the kernel: received + lost. */
  produced: number;
  /** Events dropped by the in-kernel filters (never reached user space). */
  filtered: number;
  /** Events of the tracer's own process left out (see includeSelf); not in produced. Set by every trace. */
  excludedSelf?: number;
  /** Derived reads (read: {...}, ppid, ...) that faulted: their values are zero in the table. Absent when none. */
  readFailed?: number;
  /** Pairs (latency events): end events with no start (started before the trace, or evicted). Absent for other traces. */
  unmatched?: number;
  /** Pairs: starts replaced by a newer start of the same pair key before their end came. */
  evicted?: number;
  /** Pairs: starts that did not fit in the start map. */
  startDropped?: number;
  /** Events whose kstack/ustack was not recorded (stack map collision or full; also in readFailed): the column says "[stack lost: ...]". Absent without stack columns. */
  stacksLost?: number;
  /** Values cut short (a __data_loc string past the copied window, ...). */
  truncated: number;
  /**
   * 64-bit values that a double could not hold exactly and that were rounded (ask
   * for `bigint: true` or `"auto"` to keep them exact); absent when there were none.
   */
  imprecise?: number;
  /** The columns holding those rounded values. */
  impreciseColumns?: string[];
  /** Wall-clock duration of the collection, in seconds. */
  seconds: number;
  /** CLOCK_MONOTONIC ns at start and stop: the clock of the `ts` column. */
  startNs: number;
  stopNs: number;
  /** Add to a `ts` value to get Unix epoch ns (wall clock). */
  epochOffsetNs: number;
  /** Ring buffer size in bytes. */
  bufferBytes: number;
  /** Why the collection ended. */
  stoppedBy: "seconds" | "events" | "signal" | "stop" | "error" | "interrupt";
  /** What was traced. */
  source: string;
}

/** The counters a trace reports, summed over CPUs. */
export interface Counters { produced: number; lost: number; filtered: number; excludedSelf: number; readFailed: number; unmatched: number; evicted: number; startDropped: number }

/** Sums per-CPU u64 counter array maps: produced, lost and unmatched of the first (the program that emits); the rest over all. */
export function readCounters(map: BpfMap, others: readonly BpfMap[] = []): Counters {
  const ncpu = possibleCpus();
  const key = new Uint8Array(4);
  const sum = (maps: readonly BpfMap[], idx: number): number => {
    new DataView(key.buffer).setUint32(0, idx, true);
    let s = 0;
    for (const m of maps) {
      const v = m.lookup(key);
      if (!v) continue;
      const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
      for (let c = 0; c < ncpu; c++) s += Number(dv.getBigUint64(c * 8, true));
    }
    return s;
  };
  const all = [map, ...others];
  return {
    produced: sum([map], Stat.produced), lost: sum([map], Stat.lost), filtered: sum([map], Stat.filtered), excludedSelf: sum(all, Stat.excludedSelf),
    readFailed: sum(all, Stat.readFailed), unmatched: sum([map], Stat.unmatched), evicted: sum(all, Stat.evicted), startDropped: sum(all, Stat.startDropped),
  };
}

/** The pairing counters of a trace whose events pair starts with ends (it has start objects), else nothing. */
export function pairStats(c: Counters, paired: boolean): Pick<TraceStats, "unmatched" | "evicted" | "startDropped"> {
  return paired ? { unmatched: c.unmatched, evicted: c.evicted, startDropped: c.startDropped } : {};
}

/** Monotonic now in ns (the clock bpf_ktime_get_ns uses) and the offset to the epoch. */
export function clocks(): { monoNs: number; epochOffsetNs: number } {
  const mono = process.hrtime.bigint();
  const wall = BigInt(Date.now()) * 1000000n;
  return { monoNs: Number(mono), epochOffsetNs: Number(wall - mono) };
}
