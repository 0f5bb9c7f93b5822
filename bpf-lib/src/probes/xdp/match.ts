/* Packet matches (rules and the `where` filter): validated up front, described in
 * words, and encoded as struct xdp_match for the kernel program. Pure. */
import { InvalidArgumentError } from "../../errors.js";
import { nearest } from "../../tracefs/nearest.js";
import { parsePrefix } from "../../analysis/addresses.js";
import { MATCH, MATCH_SIZE, MF, Verdict } from "./layout.js";
import { etherTypeNumber, icmpTypeNames, icmpTypeNumber, protocolNames, protocolNumber, servicePort } from "./names.js";

/** A port, a service name ("ssh", "domain"), a range "1000-2000" or [1000, 2000]. */
export type PortSpec = number | string | readonly [number, number];

/** What a packet must look like; every given field must match. */
export interface PacketMatch {
  /**
   * "tcp", "udp", "icmp", "icmpv6", "sctp", any /etc/protocols name or an IP protocol
   * number; "ipv4", "ipv6", "ip" (either), "arp", other ethertype names ("lldp");
   * or both: "ipv4/udp", "ipv6/tcp".
   */
  protocol?: string | number;
  /** Source address or prefix: "10.200.1.2", "10.200.1.0/24", "fd00:200::/64". */
  src?: string;
  /** Destination address or prefix. */
  dst?: string;
  /** Source or destination address or prefix. */
  addr?: string;
  sport?: PortSpec;
  dport?: PortSpec;
  /** Source or destination port. */
  port?: PortSpec;
  /** Outer VLAN id (0: untagged). */
  vlan?: number;
  /** ICMP/ICMPv6 type: a number or a name ("echo-request", "neighbor-solicitation"); ARP: "arp-request"/"arp-reply". */
  icmpType?: string | number;
}

/** An action for packets that match; the first matching rule wins, packets no rule matches pass. */
export interface XdpRule extends PacketMatch {
  action: "drop" | "pass";
  /** How the rule is shown in counters (default: its description, "drop icmp"). */
  name?: string;
}

const MATCH_KEYS = ["protocol", "src", "dst", "addr", "sport", "dport", "port", "vlan", "icmpType"] as const;

export interface EncodedMatch {
  bytes: Uint8Array;
  /** In words: "icmp", "udp dport 53", "src 10.0.0.0/8". */
  text: string;
}

function port(name: string, v: PortSpec): [number, number] {
  const check = (n: number) => {
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`${name}: ports are 0..65535, got ${n}`);
    return n;
  };
  if (typeof v === "number") return [check(v), v];
  if (Array.isArray(v)) {
    const [lo, hi] = v as readonly [number, number];
    if (check(lo) > check(hi)) throw new InvalidArgumentError(`${name}: range [${lo}, ${hi}] is empty`);
    return [lo, hi];
  }
  const s = String(v).trim();
  const range = /^(\d+)\s*-\s*(\d+)$/.exec(s);
  if (range) return port(name, [Number(range[1]), Number(range[2])]);
  if (/^\d+$/.test(s)) return port(name, Number(s));
  const p = servicePort(s);
  if (p === undefined) throw new InvalidArgumentError(`${name}: unknown service "${s}" (not in /etc/services); give a port number`);
  return [p, p];
}

const portText = ([lo, hi]: [number, number]) => (lo === hi ? String(lo) : `${lo}-${hi}`);

interface Proto { ethertype?: number; ip?: boolean; proto?: number; v6?: boolean; text: string }

function protocol(v: string | number): Proto {
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new InvalidArgumentError(`protocol: IP protocol numbers are 0..255, got ${v}`);
    return { ip: true, proto: v, text: `proto ${v}` };
  }
  const s = v.trim().toLowerCase();
  const slash = s.indexOf("/");
  if (slash > 0) {
    const fam = protocol(s.slice(0, slash)), l4 = protocol(s.slice(slash + 1));
    if (fam.ethertype !== 0x0800 && fam.ethertype !== 0x86dd) throw new InvalidArgumentError(`protocol "${v}": before the slash comes ipv4 or ipv6`);
    if (l4.proto === undefined) throw new InvalidArgumentError(`protocol "${v}": after the slash comes an IP protocol (tcp, udp, ...)`);
    return { ethertype: fam.ethertype, proto: l4.proto, v6: fam.ethertype === 0x86dd, text: s };
  }
  switch (s) {
    case "ip": return { ip: true, text: "ip" };
    case "ipv4": case "ip4": return { ethertype: 0x0800, text: "ipv4" };
    case "ipv6": case "ip6": return { ethertype: 0x86dd, v6: true, text: "ipv6" };
    case "icmp": return { ethertype: 0x0800, proto: 1, text: "icmp" };
    case "icmpv6": case "icmp6": case "ipv6-icmp": return { ethertype: 0x86dd, proto: 58, v6: true, text: "icmpv6" };
  }
  const et = etherTypeNumber(s);
  if (et !== undefined) return { ethertype: et, text: s };
  const p = protocolNumber(s);
  if (p !== undefined) return { ip: true, proto: p, text: s };
  const known = ["ip", "ipv4", "ipv6", "arp", "icmp", "icmpv6", ...protocolNames()];
  const near = nearest(s, new Set(known), 3);
  throw new InvalidArgumentError(`protocol: unknown "${v}"${near.length ? `; did you mean ${near.join(", ")}?` : ""} (ethertype names, /etc/protocols names, IP protocol numbers, or "ipv4/udp"-style pairs)`);
}

/** Validates and encodes a match (a rule's action goes in `action`). */
export function encodeMatch(m: PacketMatch, what: string, action: number = Verdict.pass): EncodedMatch {
  for (const k of Object.keys(m)) {
    if (k === "action" || k === "name") continue;
    if (!(MATCH_KEYS as readonly string[]).includes(k)) {
      const near = nearest(k, MATCH_KEYS, 2);
      throw new InvalidArgumentError(`${what}: unknown field "${k}"${near.length ? `; did you mean ${near.join(", ")}?` : ""} (fields: ${MATCH_KEYS.join(", ")})`);
    }
  }
  const bytes = new Uint8Array(MATCH_SIZE);
  const dv = new DataView(bytes.buffer);
  let fields = 0;
  const words: string[] = [];
  let proto: Proto | null = null;
  if (m.protocol !== undefined) {
    proto = protocol(m.protocol);
    if (proto.ethertype !== undefined) { fields |= MF.ethertype; dv.setUint16(MATCH.ethertype, proto.ethertype, true); }
    if (proto.ip) fields |= MF.ip;
    if (proto.proto !== undefined) { fields |= MF.proto; dv.setUint8(MATCH.proto, proto.proto); }
    words.push(proto.text);
  }
  const prefix = (name: "src" | "dst" | "addr", v: string | undefined, at: number, atMask: number, flag: number) => {
    if (v === undefined) return;
    if (typeof v !== "string") throw new InvalidArgumentError(`${what}: ${name} must be an address or prefix string, got ${typeof v}`);
    const p = parsePrefix(v);
    bytes.set(p.addr, at);
    bytes.set(p.mask, atMask);
    fields |= flag;
    words.push(`${name} ${p.text}`);
  };
  if (m.addr !== undefined && m.src !== undefined) throw new InvalidArgumentError(`${what}: give addr (either direction) or src, not both`);
  prefix("src", m.src, MATCH.src, MATCH.srcMask, MF.src);
  prefix("dst", m.dst, MATCH.dst, MATCH.dstMask, MF.dst);
  prefix("addr", m.addr, MATCH.src, MATCH.srcMask, MF.addr);
  if (m.sport !== undefined) {
    const r = port(`${what}: sport`, m.sport);
    dv.setUint16(MATCH.sportLo, r[0], true); dv.setUint16(MATCH.sportHi, r[1], true);
    fields |= MF.sport; words.push(`sport ${portText(r)}`);
  }
  if (m.port !== undefined && m.dport !== undefined) throw new InvalidArgumentError(`${what}: give port (either direction) or dport, not both`);
  if (m.dport !== undefined || m.port !== undefined) {
    const r = port(`${what}: ${m.port !== undefined ? "port" : "dport"}`, (m.dport ?? m.port)!);
    dv.setUint16(MATCH.dportLo, r[0], true); dv.setUint16(MATCH.dportHi, r[1], true);
    fields |= m.port !== undefined ? MF.port : MF.dport; words.push(`${m.port !== undefined ? "port" : "dport"} ${portText(r)}`);
  }
  if (m.vlan !== undefined) {
    if (!Number.isInteger(m.vlan) || m.vlan < 0 || m.vlan > 4095) throw new InvalidArgumentError(`${what}: vlan ids are 0..4095, got ${m.vlan}`);
    dv.setUint16(MATCH.vlan, m.vlan, true);
    fields |= MF.vlan; words.push(`vlan ${m.vlan}`);
  }
  if (m.icmpType !== undefined) {
    let t: number | undefined;
    if (typeof m.icmpType === "number") t = m.icmpType;
    else {
      const name = m.icmpType.trim().toLowerCase();
      const arp = { "arp-request": 1, "arp-reply": 2 }[name];
      const v4 = icmpTypeNumber(name, false), v6 = icmpTypeNumber(name, true);
      if (arp !== undefined) t = arp;
      else if (proto?.v6 || proto?.proto === 58) t = v6;
      else if (proto?.proto === 1 || proto?.ethertype === 0x0800) t = v4;
      else if (v4 !== undefined && v6 !== undefined) throw new InvalidArgumentError(`${what}: icmpType "${name}" exists in ICMP and ICMPv6 with different numbers: add protocol: "icmp" or "icmpv6"`);
      else t = v4 ?? v6;
      if (t === undefined) {
        const near = nearest(name, [...icmpTypeNames(false), ...icmpTypeNames(true), "arp-request", "arp-reply"], 3);
        throw new InvalidArgumentError(`${what}: unknown icmpType "${m.icmpType}"${near.length ? `; did you mean ${near.join(", ")}?` : ""}`);
      }
    }
    if (!Number.isInteger(t) || t < 0 || t > 255) throw new InvalidArgumentError(`${what}: icmpType is 0..255, got ${t}`);
    dv.setUint8(MATCH.icmpType, t);
    fields |= MF.icmpType; words.push(`icmpType ${m.icmpType}`);
  }
  dv.setUint32(MATCH.fields, fields, true);
  dv.setUint8(MATCH.action, action);
  return { bytes, text: words.join(" ") || "any" };
}

export interface EncodedRules {
  bytes: Uint8Array;
  rules: { index: number; name: string; action: "drop" | "pass"; match: string }[];
}

/** Validates and encodes rules for cfg_rules (first match wins). */
export function encodeRules(rules: readonly XdpRule[], max: number): EncodedRules {
  if (!Array.isArray(rules)) throw new InvalidArgumentError("rules must be an array of { action, ...match }");
  if (rules.length > max) throw new InvalidArgumentError(`at most ${max} rules, got ${rules.length}`);
  const bytes = new Uint8Array(MATCH_SIZE * max);
  const out: EncodedRules["rules"] = [];
  rules.forEach((r, i) => {
    if (r.action !== "drop" && r.action !== "pass") throw new InvalidArgumentError(`rule ${i}: action must be "drop" or "pass", got ${JSON.stringify(r.action)}`);
    const e = encodeMatch(r, `rule ${i}`, r.action === "drop" ? Verdict.drop : Verdict.pass);
    bytes.set(e.bytes, i * MATCH_SIZE);
    out.push({ index: i, name: r.name ?? `${r.action} ${e.text}`, action: r.action, match: e.text });
  });
  return { bytes, rules: out };
}
