/* XdpSampleRun: a running packet sample on the Trace engine, with the program's totals. */
import type { BpfObject } from "../../libbpf/object.js";
import type { Link } from "../../libbpf/link.js";
import { Trace, type StopOptions } from "../../engine/trace.js";
import type { XdpAttachedMode } from "./attach.js";
import { EVENT_SIZE } from "./layout.js";
import { TotalsReader, type XdpTotals } from "./totals.js";
import { sampleFields } from "./decode.js";
import type { XdpInfo, XdpPacketStats, XdpPacketTable, XdpSampleSource } from "./types.js";
import { packetTable } from "./tables.js";

export class XdpSampleRun implements Disposable {
  readonly source: string;
  readonly interface: string;
  /** The underlying event stream (progress, batches). */
  readonly trace: Trace;
  readonly #totals: TotalsReader;
  readonly #info: XdpInfo;
  readonly #every: number;
  #table: XdpPacketTable | null = null;

  /** @internal use XdpSample.start() */
  constructor(sample: XdpSampleSource, obj: BpfObject, totals: TotalsReader, stop: StopOptions) {
    const probe = sample.probe;
    this.source = sample.source;
    this.interface = probe.interface;
    this.#every = sample.every;
    this.#totals = totals;
    const info: XdpInfo = { interface: probe.interface, ifindex: probe.ifindex, mode: "native", programId: 0, dryRun: Boolean(probe.options.dryRun) };
    this.#info = info;
    const attach = (): Link[] => {
      const a = probe.attach(obj);
      info.mode = a.mode;
      info.programId = a.programId;
      return [a.link];
    };
    try {
      this.trace = new Trace({ source: sample.source, object: obj, eventSize: EVENT_SIZE, bufferBytes: sample.bufferBytes, fields: sampleFields(probe.rules.map((r) => r.name)), attach }, stop);
    } catch (e) {
      totals.close();
      throw e;
    }
  }

  get running(): boolean {
    return this.trace.running;
  }

  get mode(): XdpAttachedMode {
    return this.#info.mode;
  }

  totals(): XdpTotals {
    return this.#totals.read();
  }

  #stats(): XdpPacketStats {
    return { ...this.trace.stats(), ...this.#totals.read(), ...this.#info, every: this.#every };
  }

  /** The rows so far, without stopping. */
  snapshot(): XdpPacketTable {
    return packetTable(this.trace.snapshot(), this.#stats());
  }

  async stop(): Promise<void> {
    await this.trace.stop();
    this.#totals.close();
  }

  /** Waits for a stop condition, then returns the rows. */
  async finished(): Promise<XdpPacketTable> {
    if (this.#table) return this.#table;
    try {
      const t = await this.trace.finished();
      this.#totals.close();
      this.#table = packetTable(t, this.#stats());
      return this.#table;
    } finally {
      this.#totals.close();
    }
  }

  /** Stops now and returns the rows. */
  async table(): Promise<XdpPacketTable> {
    await this.stop();
    return this.finished();
  }

  [Symbol.dispose](): void {
    this.trace[Symbol.dispose]();
    this.#totals.close();
  }
}
