/* Ethernet frames built from a description, for trying rules and the parser with
 * testRun() (BPF_PROG_TEST_RUN) without any traffic. Checksums are left zero: XDP
 * does not look at them. Pure. */
import { InvalidArgumentError } from "../../errors.js";
import { isMapped, parseAddress } from "../../analysis/addresses.js";

export interface FrameSpec {
  /** "udp" (default), "tcp", "icmp", "icmpv6", "sctp", "arp", or an IP protocol number with no header built. */
  protocol?: "udp" | "tcp" | "icmp" | "icmpv6" | "sctp" | "arp" | number;
  /** Addresses: IPv4 or IPv6 (both the same family). Default 10.200.0.1 → 10.200.0.2. */
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  /** TCP flags byte (default SYN = 0x02). */
  tcpFlags?: number;
  /** ICMP/ICMPv6 type and code (default echo request); ARP operation (default 1, request). */
  icmpType?: number;
  icmpCode?: number;
  ttl?: number;
  /** VLAN ids, outer first (802.1AD outer tag when there are two). */
  vlans?: number[];
  /** IPv6 extension headers before the L4 header: next-header numbers (0 hop-by-hop, 60 destination options, 44 fragment). */
  ipv6Ext?: number[];
  /** IPv4: fragment offset in 8-byte units (and MF), to build fragments. */
  fragOffset?: number;
  moreFragments?: boolean;
  /** Payload bytes after the L4 header. */
  payload?: number;
  /** Cut the frame to this many bytes (a truncated header). */
  truncate?: number;
}

const PROTO: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132 };

/** One Ethernet frame (dst MAC 02:00:00:00:00:02, src 02:00:00:00:00:01). */
export function buildFrame(spec: FrameSpec = {}): Uint8Array {
  const out: number[] = [];
  const u8 = (...b: number[]) => out.push(...b.map((x) => x & 0xff));
  const u16 = (v: number) => u8(v >> 8, v);
  const u32 = (v: number) => u8(v >>> 24, v >>> 16, v >>> 8, v);
  u8(2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1);
  const vlans = spec.vlans ?? [];
  if (vlans.length > 3) throw new InvalidArgumentError("at most 3 VLAN tags");
  vlans.forEach((id, i) => {
    u16(i === 0 && vlans.length > 1 ? 0x88a8 : 0x8100);
    u16(id & 0x0fff);
  });
  const proto = spec.protocol ?? "udp";
  const src = parseAddress(spec.src ?? (proto === "icmpv6" ? "fd00:200::1" : "10.200.0.1"));
  const dst = parseAddress(spec.dst ?? (proto === "icmpv6" ? "fd00:200::2" : "10.200.0.2"));
  if (!src || !dst) throw new InvalidArgumentError("src and dst must be IPv4 or IPv6 addresses");
  const v4 = isMapped(src, 0);
  if (v4 !== isMapped(dst, 0)) throw new InvalidArgumentError("src and dst must be the same family");
  if (proto === "arp") {
    if (!v4) throw new InvalidArgumentError("ARP frames carry IPv4 addresses");
    u16(0x0806);
    u16(1); u16(0x0800); u8(6, 4); u16(spec.icmpType ?? 1);
    u8(2, 0, 0, 0, 0, 1, ...src.subarray(12), 0, 0, 0, 0, 0, 0, ...dst.subarray(12));
    return finish(out, spec);
  }
  const l4num = typeof proto === "number" ? proto : PROTO[proto];
  if (l4num === undefined) throw new InvalidArgumentError(`unknown protocol ${String(proto)}`);
  const l4: number[] = [];
  const l = (...b: number[]) => l4.push(...b.map((x) => x & 0xff));
  if (proto === "udp" || proto === "sctp" || proto === "tcp") {
    l((spec.sport ?? 40000) >> 8, spec.sport ?? 40000, (spec.dport ?? 9) >> 8, spec.dport ?? 9);
    if (proto === "tcp") l(0, 0, 0, 1, 0, 0, 0, 0, 0x50, spec.tcpFlags ?? 0x02, 0xff, 0xff, 0, 0, 0, 0);
    else if (proto === "udp") l(0, 8 + (spec.payload ?? 0), 0, 0);
    else l(0, 0, 0, 0, 0, 0, 0, 0);
  } else if (proto === "icmp" || proto === "icmpv6") {
    l(spec.icmpType ?? (proto === "icmp" ? 8 : 128), spec.icmpCode ?? 0, 0, 0, 0, 1, 0, 1);
  }
  for (let i = 0; i < (spec.payload ?? 0); i++) l4.push(i & 0xff);
  if (v4) {
    u16(0x0800);
    const total = 20 + l4.length;
    u8(0x45, 0); u16(total); u16(1);
    u16(((spec.moreFragments ? 1 : 0) << 13) | ((spec.fragOffset ?? 0) & 0x1fff));
    u8(spec.ttl ?? 64, l4num); u16(0);
    u8(...src.subarray(12), ...dst.subarray(12));
  } else {
    u16(0x86dd);
    const ext = spec.ipv6Ext ?? [];
    const extBytes = ext.length * 8;
    u32(0x60000000); u16(extBytes + l4.length); u8(ext.length ? ext[0] : l4num, spec.ttl ?? 64);
    u8(...src, ...dst);
    ext.forEach((nh, i) => {
      const next = i + 1 < ext.length ? ext[i + 1] : l4num;
      if (nh === 44) u8(next, 0, 0, 0, 0, 0, 0, 1); // fragment header, offset 0
      else u8(next, 0, 1, 4, 0, 0, 0, 0); // 8 bytes: PadN option
    });
  }
  out.push(...l4);
  return finish(out, spec);
}

function finish(out: number[], spec: FrameSpec): Uint8Array {
  const a = Uint8Array.from(out);
  return spec.truncate !== undefined ? a.slice(0, Math.max(14, spec.truncate)) : a;
}
