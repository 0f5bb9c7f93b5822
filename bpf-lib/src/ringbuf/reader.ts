/* Reads a BPF ring buffer straight from its memory mapping: no FFI call per event.
 * The kernel maps the consumer page read-write and the producer page plus the data
 * area twice over read-only, so a record that wraps is still contiguous. Records
 * carry an 8-byte header: length with BUSY/DISCARD bits, then the page offset. */
import { mmapShared, pageSize, Readiness, type Mapping } from "../ffi/libc.js";
import { MapError, errnoName } from "../errors.js";

const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const HDR = 8;

/** Called for each committed record: `off` is the byte offset of its data in `u8`/`u32`/`dv`. */
export interface RecordSink {
  record(off: number, len: number): void;
}

/**
 * Takes a whole span of records at once, for sinks that decode in their own tight
 * loop (see EventDecoder.span). `u32` is the data area; returns the new consumer
 * position: where it stopped (a BUSY record, `prod`, or after `max` records).
 */
export interface SpanSink {
  span(u32: Uint32Array, size: number, cons: number, prod: number, max: number): number;
}

export class RingBufferReader implements Disposable {
  readonly size: number;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly dv: DataView;
  readonly #consumer: BigInt64Array;
  readonly #producer: BigInt64Array;
  readonly #maps: Mapping[];
  readonly #ready: Readiness;
  #cons: number;
  #closed = false;

  constructor(fd: number, size: number) {
    this.size = size;
    const c = mmapShared(fd, pageSize, 0, true);
    if ("errno" in c) throw new MapError(`cannot map the ring buffer's consumer page: ${errnoName(c.errno)}`, c.errno);
    const p = mmapShared(fd, pageSize + 2 * size, pageSize, false);
    if ("errno" in p) {
      c.unmap();
      throw new MapError(`cannot map the ring buffer's data: ${errnoName(p.errno)}`, p.errno);
    }
    this.#maps = [c, p];
    this.#consumer = new BigInt64Array(c.buffer, 0, 1);
    this.#producer = new BigInt64Array(p.buffer, 0, 1);
    const data = p.buffer; // the data area starts one page into this mapping
    this.u8 = new Uint8Array(data, pageSize, 2 * size);
    this.u32 = new Uint32Array(data, pageSize, (2 * size) >>> 2);
    this.dv = new DataView(data, pageSize, 2 * size);
    this.#cons = Number(Atomics.load(this.#consumer, 0));
    try {
      this.#ready = new Readiness(fd);
    } catch (e) {
      // e.g. EMFILE from the eventfd: the mappings would outlive the failed reader
      c.unmap();
      p.unmap();
      throw e;
    }
  }

  /** Bytes committed or reserved by producers and not consumed yet. */
  pending(): number {
    return Number(Atomics.load(this.#producer, 0)) - this.#cons;
  }

  /**
   * Hands every committed record to sink, stopping at the first one still being
   * written (BUSY) or after maxRecords. Returns the number of records handed over.
   * The consumer position is published once per call, so the kernel sees the space
   * freed in one step.
   */
  drain(sink: RecordSink, maxRecords = Infinity): number {
    const u32 = this.u32, size = this.size;
    const prod = Number(Atomics.load(this.#producer, 0));
    let cons = this.#cons, n = 0;
    while (cons < prod && n < maxRecords) {
      const off = cons % size;
      const hdr = u32[off >>> 2];
      if (hdr & BUSY) break;
      const len = hdr & 0x3fffffff;
      if (!(hdr & DISCARD)) {
        sink.record(off + HDR, len);
        n++;
      }
      cons += (len + HDR + 7) & ~7;
    }
    if (cons !== this.#cons) {
      this.#cons = cons;
      Atomics.store(this.#consumer, 0, BigInt(cons));
    }
    return n;
  }

  /** Like drain(), but the sink walks the records itself; returns records consumed. */
  drainSpan(sink: SpanSink & { n: number }, maxRecords = Infinity): number {
    const prod = Number(Atomics.load(this.#producer, 0));
    if (prod === this.#cons) return 0;
    const before = sink.n;
    const cons = sink.span(this.u32, this.size, this.#cons, prod, maxRecords);
    if (cons !== this.#cons) {
      // publish once per span, so the kernel sees the space freed in one step
      this.#cons = cons;
      Atomics.store(this.#consumer, 0, BigInt(cons));
    }
    return sink.n - before;
  }

  /**
   * Waits until the producer signals (its wakeup threshold was crossed), timeoutMs
   * passes, or cancelWait() is called, without blocking the event loop. It does not
   * return early because bytes are pending: pending bytes below the threshold are
   * the poll period's to collect, or a tracer that sees its own syscalls would wake
   * for every event it causes by waiting.
   */
  wait(timeoutMs: number): Promise<boolean> {
    return this.#ready.wait(timeoutMs);
  }

  /** Ends a wait() in progress now, e.g. because the trace is stopping. */
  cancelWait(): void {
    this.#ready.cancel();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ready.close();
    // nothing reads the ring after close: its pages are let go on the thread pool (a large, filled ring takes ms)
    for (const m of this.#maps) m.unmapInBackground();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
