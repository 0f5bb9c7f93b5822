/* xdp(interface): see and shape the packets arriving on an interface. A description
 * until start()/collect(); then one XDP program (bpf-lib/bpf/xdp.bpf.c) is loaded,
 * configured through .rodata, and attached through a bpf_link, so it goes away with
 * the process whatever happens. Counting runs on AggregationRun (agg.h maps,
 * intervals, bounded keys); sampled headers run on the Trace engine (ring buffer). */
import { BpfObject } from "../../libbpf/object.js";
import { bpfObjectPath } from "../../paths.js";
import { nameArgument } from "../../options/shapes.js";
import { attachXdpProgram, resolveInterface, type NetworkInterface, type XdpAttachment } from "./attach.js";
import type { RuleInfo } from "./totals.js";
import { checkOptions, configureCommon } from "./program.js";
import { XdpAggregation } from "./aggregation.js";
import { XdpSample } from "./sample.js";
import { testFrames } from "./test-run.js";
import type { XdpCountOptions, XdpHistOptions, XdpOptions, XdpPacketTable, XdpSampleOptions, XdpTarget } from "./types.js";

/** Describes XDP on an interface; nothing reaches the kernel until a run starts. */
export function xdp(iface: string, opts: XdpOptions = {}): XdpProbe {
  return new XdpProbe(iface, opts);
}

export class XdpProbe implements XdpTarget {
  readonly interface: string;
  readonly ifindex: number;
  readonly options: Readonly<XdpOptions>;
  /** The rules, as counted: index, name, action, match in words. */
  readonly rules: readonly RuleInfo[];
  readonly #ruleBytes: Uint8Array;
  readonly #where: Uint8Array | null;
  readonly #whereText: string | null;

  /** Checks the interface (nearest names if it does not exist), rules and filter up front. */
  constructor(iface: string, opts: XdpOptions = {}) {
    // "" is a name that does not exist: resolveInterface says so, with the nearest ones.
    if (typeof iface !== "string") nameArgument(iface, "interface", "xdp()", "an interface name such as \"eth0\" (see listInterfaces())");
    const c = checkOptions(opts);
    const i = resolveInterface(iface);
    this.interface = i.name;
    this.ifindex = i.ifindex;
    this.options = Object.freeze({ ...opts });
    this.rules = c.rules;
    this.#ruleBytes = c.ruleBytes;
    this.#where = c.where;
    this.#whereText = c.whereText;
  }

  /** Packets and bytes per key (default by protocol), in the kernel. */
  count(opts: XdpCountOptions = {}): XdpAggregation {
    return new XdpAggregation(this, opts, undefined);
  }

  /** Packet sizes per key as a histogram (log2 by default), in the kernel. */
  hist(opts: XdpHistOptions = {}): XdpAggregation {
    return new XdpAggregation(this, { ...opts, by: opts.by ?? [] }, opts.hist ?? "log2");
  }

  /** The parsed headers of one packet in `every`, as table rows. */
  sample(opts: XdpSampleOptions = {}): XdpSample {
    return new XdpSample(this, opts);
  }

  /**
   * Runs the program on frames (BPF_PROG_TEST_RUN, no interface involved): one row per
   * frame with what the parser saw and the verdict. Tries rules before using them.
   */
  testRun(frames: readonly Uint8Array[]): Promise<XdpPacketTable> {
    return testFrames(frames, { rules: this.options.rules, dryRun: this.options.dryRun });
  }

  describe(): string {
    const parts = [`xdp:${this.interface}`];
    if (this.rules.length) parts.push(`${this.rules.length} rule${this.rules.length > 1 ? "s" : ""}${this.options.dryRun ? " (dry run)" : ""}`);
    if (this.#whereText) parts.push(`where ${this.#whereText}`);
    return parts.join(" ");
  }

  /** @internal Opens and configures the object (not loaded). */
  open(mode: number, opts: { where?: boolean } = {}): BpfObject {
    const obj = BpfObject.open(bpfObjectPath("xdp"), "xdp");
    try {
      configureCommon(obj, mode, this.rules.length, this.#ruleBytes, Boolean(this.options.dryRun), opts.where === false ? null : this.#where);
      return obj;
    } catch (e) {
      obj.dispose();
      throw e;
    }
  }

  /** @internal Resolves the interface again (it may have gone since) and attaches. */
  attach(obj: BpfObject): XdpAttachment {
    const iface: NetworkInterface = resolveInterface(this.interface);
    return attachXdpProgram(obj.program("xdp_packets"), iface, this.options.mode ?? "auto");
  }
}
