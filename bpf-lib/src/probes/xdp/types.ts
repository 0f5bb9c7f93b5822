/* XDP's option and result types, and what the runs need of their probe (interfaces the
 * classes implement, so no file imports the class that creates it). */
import type { ColumnTable } from "arquero";
import type { BpfObject } from "../../libbpf/object.js";
import type { AggShape, AggStats, HistSpec } from "../../engine/aggregation-run.js";
import type { TraceStats } from "../../engine/stats.js";
import type { XdpAttachedMode, XdpAttachment, XdpMode } from "./attach.js";
import type { XdpKey, XdpKeyPlan } from "./keys.js";
import type { PacketMatch, XdpRule } from "./match.js";
import type { RuleInfo, XdpTotals } from "./totals.js";

export interface XdpOptions {
  /** "auto" (default): native where the driver supports it, generic otherwise; or force one. */
  mode?: XdpMode;
  /** Actions, only when given: the first matching rule drops or passes the packet; packets no rule matches pass. */
  rules?: readonly XdpRule[];
  /** Count what the rules would drop, and drop nothing. */
  dryRun?: boolean;
  /** Only packets matching this are counted or sampled (rules still see every packet). */
  where?: PacketMatch;
}

export interface XdpCountOptions {
  /** Key columns (see XDP_KEYS), or "flow" for the 5-tuple. Default ["protocol"]. */
  by?: readonly (XdpKey | "flow")[];
  /** Keys the kernel map holds (default 10240); packets of keys beyond it are counted in stats.dropped. */
  maxKeys?: number;
}

export interface XdpHistOptions extends XdpCountOptions {
  /** Buckets of packet sizes: "log2" (default) or linear { min, max, step }. */
  hist?: HistSpec;
}

export interface XdpSampleOptions {
  /** Send one packet in `every` (chosen at random, in the kernel) to user space. Default 1: all. */
  every?: number;
  /** Ring buffer bytes (a power of two, at least 4096; default 4 MiB). */
  bufferBytes?: number;
}

export interface XdpInfo {
  interface: string;
  ifindex: number;
  /** How the program was attached. */
  mode: XdpAttachedMode;
  /** The kernel's id of our program (bpftool prog show id N). */
  programId: number;
  dryRun: boolean;
}

/** Aggregation stats (events = packets counted, filtered = packets `where` left out) plus the program's totals. */
export type XdpStats = AggStats & XdpTotals & XdpInfo;
export type XdpTable = ColumnTable & { readonly stats: XdpStats };
/** Stream stats (received + lost == produced) plus the program's totals and the sampling rate. */
export type XdpPacketStats = TraceStats & XdpTotals & XdpInfo & { every: number };
export type XdpPacketTable = ColumnTable & { readonly stats: XdpPacketStats };

/** What aggregations and samples need of their probe: XdpProbe implements it. */
export interface XdpTarget {
  readonly interface: string;
  readonly ifindex: number;
  readonly options: Readonly<XdpOptions>;
  readonly rules: readonly RuleInfo[];
  describe(): string;
  open(mode: number, opts?: { where?: boolean }): BpfObject;
  attach(obj: BpfObject): XdpAttachment;
}

/** What a run needs of its aggregation: XdpAggregation implements it. */
export interface XdpAggregationSource {
  readonly source: string;
  readonly probe: XdpTarget;
  shape(interval?: number): AggShape;
  keyPlan(): XdpKeyPlan;
}

/** What a sample run needs of its sample: XdpSample implements it. */
export interface XdpSampleSource {
  readonly source: string;
  readonly probe: XdpTarget;
  readonly every: number;
  readonly bufferBytes: number;
}
