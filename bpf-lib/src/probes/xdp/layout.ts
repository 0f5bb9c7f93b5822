/* The layout shared with bpf-lib/bpf/xdp.h. test/xdp.test.ts checks these numbers
 * against the compiled object's BTF. */
import { HDR_SIZE } from "../../engine/layout.js";

export const MAX_RULES = 16;
export const MAX_COPIES = 12;
/** The key bytes of agg.h, shared with every aggregating program. */
export { MAX_KEY } from "../../engine/keys.js";

/** struct pkt_meta: offsets and sizes. */
export const META = {
  len: 0, ethertype: 4, proto: 6, nvlan: 7, vlan0: 8, vlan1: 10, sport: 12, dport: 14, src: 16, dst: 32,
  icmpType: 48, icmpCode: 49, tcpFlags: 50, ttl: 51, action: 52, flags: 53, rule: 54, ifindex: 56, rxQueue: 60,
} as const;
export const META_SIZE = 64;

export const MetaFlag = { truncated: 1, fragment: 2, laterFragment: 4, hasPorts: 8 } as const;
export const Verdict = { pass: 0, drop: 1, wouldDrop: 2 } as const;
export const VERDICT_NAMES = ["pass", "drop", "would-drop"] as const;
export type VerdictName = (typeof VERDICT_NAMES)[number];

/** enum match_field */
export const MF = {
  ethertype: 1 << 0, ip: 1 << 1, proto: 1 << 2, src: 1 << 3, dst: 1 << 4, addr: 1 << 5,
  sport: 1 << 6, dport: 1 << 7, port: 1 << 8, vlan: 1 << 9, icmpType: 1 << 10,
} as const;

/** struct xdp_match: offsets; 88 bytes. */
export const MATCH = {
  fields: 0, ethertype: 4, proto: 6, action: 7, sportLo: 8, sportHi: 10, dportLo: 12, dportHi: 14, vlan: 16, icmpType: 18,
  src: 20, srcMask: 36, dst: 52, dstMask: 68,
} as const;
export const MATCH_SIZE = 88;

/** struct key_copy: 8 bytes. */
export const KEY_COPY_SIZE = 8;

/** struct xdp_totals: u64 counters, then rule_packets[16], rule_bytes[16]. */
export const TOTALS = { packets: 0, bytes: 1, truncated: 2, dropped: 3, droppedBytes: 4, wouldDrop: 5, wouldDropBytes: 6, sampledOut: 7, rulePackets: 8, ruleBytes: 8 + MAX_RULES } as const;
export const TOTALS_SIZE = (8 + 2 * MAX_RULES) * 8;

export const RunMode = { aggregate: 0, sample: 1 } as const;

/** A sampled packet: the 40-byte event header, then pkt_meta. */
export const EVENT_SIZE = HDR_SIZE + META_SIZE;
export const EVENT_META = HDR_SIZE;
