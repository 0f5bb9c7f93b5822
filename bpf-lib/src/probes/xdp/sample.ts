/* XdpSample: the parsed headers of one packet in `every`, streamed through the ring
 * buffer; a description until start(). */
import { InvalidArgumentError } from "../../errors.js";
import { optionsObject } from "../../options/shapes.js";
import { bufferBytes } from "../../options/sizes.js";
import { collectOptions, stopOptions } from "../../options/durations.js";
import type { CollectOptions, StopOptions } from "../../engine/trace.js";
import { reportProgress } from "../../engine/consume.js";
import { RunMode } from "./layout.js";
import { TotalsReader } from "./totals.js";
import type { XdpPacketTable, XdpSampleOptions, XdpSampleSource, XdpTarget } from "./types.js";
import { requireXdpPrivileges } from "./program.js";
import { XdpSampleRun } from "./sample-run.js";

export class XdpSample implements XdpSampleSource {
  readonly probe: XdpTarget;
  readonly every: number;
  readonly bufferBytes: number;

  constructor(probe: XdpTarget, options: XdpSampleOptions) {
    const opts = optionsObject(options, probe.describe());
    for (const k of Object.keys(opts)) if (!["every", "bufferBytes"].includes(k)) throw new InvalidArgumentError(`unknown option "${k}" (options: every, bufferBytes)`);
    this.probe = probe;
    this.every = opts.every ?? 1;
    if (!Number.isInteger(this.every) || this.every < 1) throw new InvalidArgumentError(`every must be a positive integer (1: every packet), got ${opts.every}`);
    this.bufferBytes = bufferBytes(opts.bufferBytes, probe.describe(), 4 << 20);
  }

  get source(): string {
    return `${this.probe.describe()} packets${this.every > 1 ? ` (1 in ${this.every})` : ""}`;
  }

  /** Loads and attaches; a running stream of packet rows. */
  start(options: StopOptions = {}): XdpSampleRun {
    const stop = stopOptions(options, "start()");
    requireXdpPrivileges(`sampling packets on ${this.probe.interface}`);
    const obj = this.probe.open(RunMode.sample);
    let totals: TotalsReader;
    try {
      obj.setConstant("cfg_sample_every", this.every);
      obj.setConstant("cfg_wakeup_bytes", Math.min(this.bufferBytes / 4, 1 << 20));
      obj.map("events").setMaxEntries(this.bufferBytes);
      for (const m of ["agg0", "agg1"]) {
        obj.map(m).setKeySize(8);
        obj.map(m).setMaxEntries(1);
      }
      obj.load();
      totals = new TotalsReader(obj.map("xdp_totals"), this.probe.rules);
    } catch (e) {
      obj.dispose();
      throw e;
    }
    return new XdpSampleRun(this, obj, totals, stop);
  }

  /** Samples until a stop condition; one row per sampled packet. */
  async collect(options: CollectOptions): Promise<XdpPacketTable> {
    const opts = collectOptions(options, "collect()");
    const run = this.start(opts);
    const stopReporting = reportProgress(run.trace, opts);
    try {
      return await run.finished();
    } finally {
      stopReporting();
      await run.stop();
    }
  }
}
