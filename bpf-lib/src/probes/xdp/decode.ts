/* Decoders for sampled packets (event header + struct pkt_meta): numbers into typed
 * arrays, names (protocol, addresses, ICMP types...) dictionary-encoded, with null
 * where a packet has no such field. */
import type { FieldDecoder } from "../../engine/decoder.js";
import { DictColumn, type ColumnData } from "../../engine/columns.js";
import { decoders } from "../../engine/fields.js";
import { formatAddress, isZero } from "../../analysis/addresses.js";
import { EVENT_META, META, MetaFlag, VERDICT_NAMES } from "./layout.js";
import { icmpTypeName, protocolLabel, tcpFlagsText } from "./names.js";

type At = (u8: Uint8Array, dv: DataView, m: number) => number | string;
type Label = (u8: Uint8Array, dv: DataView, m: number) => string | null;

/** A string column computed from the meta bytes: each distinct cache key is named once. */
class NameField implements FieldDecoder {
  truncated = 0;
  #codes = new Uint32Array(0);
  readonly #dict: (string | null)[] = [];
  readonly #index = new Map<number | string, number>();
  constructor(readonly name: string, private readonly key: At, private readonly label: Label) {}
  grow(capacity: number): void {
    const next = new Uint32Array(capacity);
    next.set(this.#codes.subarray(0, Math.min(capacity, this.#codes.length)));
    this.#codes = next;
  }
  decode(u8: Uint8Array, dv: DataView, base: number, row: number): void {
    const m = base + EVENT_META;
    const k = this.key(u8, dv, m);
    let c = this.#index.get(k);
    if (c === undefined) {
      c = this.#dict.push(this.label(u8, dv, m)) - 1;
      this.#index.set(k, c);
    }
    this.#codes[row] = c;
  }
  // null entries are how missing values reach Arquero; DictColumn only hands them out
  take(n: number): ColumnData {
    return new DictColumn(this.#codes.slice(0, n), this.#dict.slice() as string[]);
  }
  peek(n: number): ColumnData {
    return new DictColumn(this.#codes.subarray(0, n), this.#dict as string[]);
  }
}

/** One bit of the meta's flags, as 0/1. */
class BitField implements FieldDecoder {
  truncated = 0;
  #data = new Uint8Array(0);
  constructor(readonly name: string, private readonly at: number, private readonly bit: number) {}
  grow(capacity: number): void {
    const next = new Uint8Array(capacity);
    next.set(this.#data.subarray(0, Math.min(capacity, this.#data.length)));
    this.#data = next;
  }
  decode(u8: Uint8Array, _dv: DataView, base: number, row: number): void {
    this.#data[row] = u8[base + this.at] & this.bit ? 1 : 0;
  }
  take(n: number): ColumnData {
    return this.#data.slice(0, n);
  }
  peek(n: number): ColumnData {
    return this.#data.subarray(0, n);
  }
}

const ctxKey: At = (_u8, dv, m) => dv.getUint32(m + META.ethertype, true) & 0xffffff; // ethertype + proto
const addrKey = (off: number): At => (u8, dv, m) =>
  isMappedFast(dv, m + off) ? dv.getUint32(m + off + 12, true) : `${dv.getUint32(m + off, true)},${dv.getUint32(m + off + 4, true)},${dv.getUint32(m + off + 8, true)},${dv.getUint32(m + off + 12, true)}`;
const isMappedFast = (dv: DataView, at: number) => dv.getUint32(at, true) === 0 && dv.getUint32(at + 4, true) === 0 && dv.getUint32(at + 8, true) === 0xffff0000;

/** Columns of a sampled packet, after ts and cpu. */
export function sampleFields(ruleNames: readonly string[]): FieldDecoder[] {
  const at = (o: number) => EVENT_META + o;
  return [
    decoders.int("len", at(META.len), 4, false),
    new NameField("protocol", ctxKey, (_u, dv, m) => protocolLabel(dv.getUint16(m + META.ethertype, true), dv.getUint8(m + META.proto))),
    new NameField("src", addrKey(META.src), (u8, _dv, m) => (isZero(u8, m + META.src) ? null : formatAddress(u8, m + META.src))),
    new NameField("dst", addrKey(META.dst), (u8, _dv, m) => (isZero(u8, m + META.dst) ? null : formatAddress(u8, m + META.dst))),
    decoders.int("sport", at(META.sport), 2, false),
    decoders.int("dport", at(META.dport), 2, false),
    new NameField("icmpType", (u8, dv, m) => ctxKey(u8, dv, m) as number * 256 + u8[m + META.icmpType],
      (u8, dv, m) => icmpTypeName(dv.getUint16(m + META.ethertype, true), u8[m + META.proto], u8[m + META.icmpType])),
    new NameField("tcpFlags", (u8, _dv, m) => (u8[m + META.proto] === 6 ? u8[m + META.tcpFlags] : -1), (u8, _dv, m) => (u8[m + META.proto] === 6 ? tcpFlagsText(u8[m + META.tcpFlags]) : null)),
    decoders.int("ttl", at(META.ttl), 1, false),
    decoders.int("vlan", at(META.vlan0), 2, false),
    decoders.int("innerVlan", at(META.vlan1), 2, false),
    new NameField("action", (u8, _dv, m) => u8[m + META.action], (u8, _dv, m) => VERDICT_NAMES[u8[m + META.action]] ?? String(u8[m + META.action])),
    new NameField("rule", (_u, dv, m) => dv.getInt16(m + META.rule, true), (_u, dv, m) => { const r = dv.getInt16(m + META.rule, true); return r < 0 ? null : ruleNames[r] ?? `rule ${r}`; }),
    new NameField("fragment", (u8, _dv, m) => u8[m + META.flags] & (MetaFlag.fragment | MetaFlag.laterFragment),
      (u8, _dv, m) => { const f = u8[m + META.flags]; return f & MetaFlag.laterFragment ? "later" : f & MetaFlag.fragment ? "first" : null; }),
    new BitField("truncated", at(META.flags), MetaFlag.truncated),
    decoders.int("rxQueue", at(META.rxQueue), 4, false),
  ];
}
