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

/** Sums a per-CPU u64 counter array map into produced, lost, filtered, excludedSelf and readFailed. */
export function readCounters(map: BpfMap): { produced: number; lost: number; filtered: number; excludedSelf: number; readFailed: number } {
  const ncpu = possibleCpus();
  const key = new Uint8Array(4);
  const sum = (idx: number): number => {
    new DataView(key.buffer).setUint32(0, idx, true);
    const v = map.lookup(key);
    if (!v) return 0;
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    let s = 0;
    for (let c = 0; c < ncpu; c++) s += Number(dv.getBigUint64(c * 8, true));
    return s;
  };
  return { produced: sum(Stat.produced), lost: sum(Stat.lost), filtered: sum(Stat.filtered), excludedSelf: sum(Stat.excludedSelf), readFailed: sum(Stat.readFailed) };
}

/** Monotonic now in ns (the clock bpf_ktime_get_ns uses) and the offset to the epoch. */
export function clocks(): { monoNs: number; epochOffsetNs: number } {
  const mono = process.hrtime.bigint();
  const wall = BigInt(Date.now()) * 1000000n;
  return { monoNs: Number(mono), epochOffsetNs: Number(wall - mono) };
}
