/* XDP aggregation keys: which byte ranges of struct pkt_meta the kernel copies into
 * the key (packed back to back), and how each column reads them back as numbers or
 * names. The result is a KeyPlan, so AggregationRun reads XDP keys like any other. */
import { InvalidArgumentError } from "../../errors.js";
import { nearest } from "../../tracefs/nearest.js";
import type { KeyPart, KeyPlan, KeyValue } from "../../engine/keys.js";
import { formatAddress, isZero } from "../../analysis/addresses.js";
import { KEY_COPY_SIZE, MAX_COPIES, MAX_KEY, META, VERDICT_NAMES } from "./layout.js";
import { etherTypeName, icmpTypeName, protocolLabel, protocolName, tcpFlagsText } from "./names.js";

/** Columns packets can be counted by. */
export const XDP_KEYS = [
  "protocol", "ethertype", "ipProto", "src", "dst", "sport", "dport", "vlan", "innerVlan", "icmpType", "tcpFlags", "ttl",
  "length", "action", "rule", "rxQueue",
] as const;
export type XdpKey = (typeof XDP_KEYS)[number];

/** Shorthands: "flow" is the 5-tuple. */
export const KEY_PRESETS: Record<string, readonly XdpKey[]> = {
  flow: ["protocol", "src", "sport", "dst", "dport"],
};

type Read = (dv: DataView, u8: Uint8Array, at: number) => KeyValue | null;
interface KeySpec { copies: [moff: number, size: number][]; read: Read }

const isIp = (et: number) => et === 0x0800 || et === 0x86dd;

function specs(ruleNames: readonly string[]): Record<XdpKey, KeySpec> {
  const u16 = (moff: number): KeySpec => ({ copies: [[moff, 2]], read: (dv, _u, at) => dv.getUint16(at, true) });
  const addr = (moff: number): KeySpec => ({ copies: [[moff, 16]], read: (_dv, u8, at) => (isZero(u8, at) ? null : formatAddress(u8, at)) });
  const ctx: [number, number] = [META.ethertype, 3]; // ethertype + IP protocol, for names that depend on them
  return {
    protocol: { copies: [ctx], read: (dv, u8, at) => protocolLabel(dv.getUint16(at, true), u8[at + 2]) },
    ethertype: { copies: [[META.ethertype, 2]], read: (dv, _u, at) => etherTypeName(dv.getUint16(at, true)) },
    ipProto: { copies: [ctx], read: (dv, u8, at) => (isIp(dv.getUint16(at, true)) && u8[at + 2] !== 0 ? protocolName(u8[at + 2]) : null) },
    src: addr(META.src),
    dst: addr(META.dst),
    sport: u16(META.sport),
    dport: u16(META.dport),
    vlan: u16(META.vlan0),
    innerVlan: u16(META.vlan1),
    icmpType: { copies: [ctx, [META.icmpType, 1]], read: (dv, u8, at) => icmpTypeName(dv.getUint16(at, true), u8[at + 2], u8[at + 3]) },
    tcpFlags: { copies: [[META.proto, 1], [META.tcpFlags, 1]], read: (_dv, u8, at) => (u8[at] === 6 ? tcpFlagsText(u8[at + 1]) : null) },
    ttl: { copies: [[META.ttl, 1]], read: (_dv, u8, at) => u8[at] },
    length: { copies: [[META.len, 4]], read: (dv, _u, at) => dv.getUint32(at, true) },
    action: { copies: [[META.action, 1]], read: (_dv, u8, at) => VERDICT_NAMES[u8[at]] ?? String(u8[at]) },
    rule: { copies: [[META.rule, 2]], read: (dv, _u, at) => { const r = dv.getInt16(at, true); return r < 0 ? null : ruleNames[r] ?? `rule ${r}`; } },
    rxQueue: { copies: [[META.rxQueue, 4]], read: (dv, _u, at) => dv.getUint32(at, true) },
  };
}

export interface XdpKeyPlan {
  plan: KeyPlan;
  /** struct key_copy[MAX_COPIES] for cfg_copies, and how many are used. */
  copies: Uint8Array;
  ncopies: number;
  /** End of the last copy (zeroed from there), and the histogram bucket's offset. */
  keyEnd: number;
  bucketKoff: number;
  columns: XdpKey[];
}

/** Expands presets ("flow"), checks names. */
export function expandKeys(by: readonly string[]): XdpKey[] {
  const out: XdpKey[] = [];
  for (const name of by) {
    const preset = KEY_PRESETS[name];
    const names = preset ?? [name];
    for (const n of names) {
      if (!(XDP_KEYS as readonly string[]).includes(n)) {
        const near = nearest(n, [...XDP_KEYS, ...Object.keys(KEY_PRESETS)], 3);
        throw new InvalidArgumentError(`unknown packet key "${n}"${near.length ? `; did you mean ${near.join(", ")}?` : ""} (keys: ${[...XDP_KEYS, ...Object.keys(KEY_PRESETS)].join(", ")})`);
      }
      if (out.includes(n as XdpKey)) throw new InvalidArgumentError(`"${n}" appears twice in by`);
      out.push(n as XdpKey);
    }
  }
  return out;
}

export function planXdpKey(by: readonly string[], opts: { bucket?: boolean; ruleNames?: readonly string[] } = {}): XdpKeyPlan {
  const columns = expandKeys(by);
  const table = specs(opts.ruleNames ?? []);
  const parts: KeyPart[] = [];
  const copies: [number, number, number][] = []; // moff, koff, size
  let koff = 0;
  for (const c of columns) {
    const s = table[c];
    const at = koff;
    for (const [moff, size] of s.copies) {
      copies.push([moff, koff, size]);
      koff += size;
    }
    const read = s.read;
    parts.push({ column: c, src: 0, woff: 0, koff: at, size: koff - at, read: read as KeyPart["read"] });
  }
  const keyEnd = koff;
  let bucketKoff = 0;
  if (opts.bucket) {
    bucketKoff = (koff + 3) & ~3;
    koff = bucketKoff + 4;
    parts.push({ column: "bucket", src: 0, woff: 0, koff: bucketKoff, size: 4, read: (dv, _u, at) => dv.getUint32(at, true) });
  }
  if (copies.length > MAX_COPIES) throw new InvalidArgumentError(`the key (${columns.join(", ")}) needs ${copies.length} byte ranges; the kernel program copies at most ${MAX_COPIES}: use fewer key columns`);
  const size = Math.max(8, Math.ceil(koff / 8) * 8);
  if (size > MAX_KEY) throw new InvalidArgumentError(`the key (${columns.join(", ")}) needs ${size} bytes; the kernel program holds ${MAX_KEY}: use fewer key columns`);
  const enc = new Uint8Array(MAX_COPIES * KEY_COPY_SIZE);
  const dv = new DataView(enc.buffer);
  copies.forEach(([moff, ko, sz], i) => {
    dv.setUint16(i * KEY_COPY_SIZE, moff, true);
    dv.setUint16(i * KEY_COPY_SIZE + 2, ko, true);
    dv.setUint16(i * KEY_COPY_SIZE + 4, sz, true);
  });
  return { plan: { parts, size }, copies: enc, ncopies: copies.length, keyEnd, bucketKoff, columns };
}
