/* Names for packet numbers: ethertypes, IP protocols (/etc/protocols, with a
 * built-in table for the common ones), ports (/etc/services), ICMP/ICMPv6 types,
 * ARP operations, TCP flags. Read once, lazily. */
import { readFileSync } from "node:fs";

const BUILTIN_PROTOCOLS: Record<number, string> = {
  0: "hopopt", 1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 41: "ipv6", 43: "ipv6-route", 44: "ipv6-frag",
  47: "gre", 50: "esp", 51: "ah", 58: "icmpv6", 59: "ipv6-nonxt", 60: "ipv6-opts", 89: "ospf", 103: "pim", 112: "vrrp",
  115: "l2tp", 132: "sctp", 136: "udplite", 137: "mpls-in-ip", 143: "ethernet",
};

const BUILTIN_SERVICES: Record<number, string> = {
  20: "ftp-data", 21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 53: "domain", 67: "bootps", 68: "bootpc", 69: "tftp",
  80: "http", 110: "pop3", 123: "ntp", 143: "imap2", 161: "snmp", 179: "bgp", 389: "ldap", 443: "https", 514: "syslog",
  546: "dhcpv6-client", 547: "dhcpv6-server", 587: "submission", 853: "domain-s", 993: "imaps", 995: "pop3s",
  1812: "radius", 3306: "mysql", 4789: "vxlan", 5353: "mdns", 5432: "postgresql", 6379: "redis", 6443: "sun-sr-https",
  8080: "http-alt", 9000: "cslistener",
};

const ETHERTYPES: Record<number, string> = {
  0x0800: "ipv4", 0x0806: "arp", 0x86dd: "ipv6", 0x8100: "802.1q", 0x88a8: "802.1ad", 0x9100: "qinq", 0x8035: "rarp",
  0x0842: "wol", 0x22f0: "avtp", 0x8847: "mpls", 0x8848: "mpls-mc", 0x8863: "pppoe-disc", 0x8864: "pppoe", 0x888e: "eapol",
  0x88cc: "lldp", 0x88e5: "macsec", 0x88f7: "ptp", 0x8906: "fcoe", 0x8914: "fip", 0x9000: "loopback", 0x893a: "ieee1905",
  0x88b5: "local-exp", 0x88b6: "local-exp2",
};

const ICMP4: Record<number, string> = {
  0: "echo-reply", 3: "dest-unreachable", 4: "source-quench", 5: "redirect", 8: "echo-request", 9: "router-advertisement",
  10: "router-solicitation", 11: "time-exceeded", 12: "parameter-problem", 13: "timestamp-request", 14: "timestamp-reply",
  42: "extended-echo-request", 43: "extended-echo-reply",
};

const ICMP6: Record<number, string> = {
  1: "dest-unreachable", 2: "packet-too-big", 3: "time-exceeded", 4: "parameter-problem", 128: "echo-request",
  129: "echo-reply", 130: "mld-query", 131: "mld-report", 132: "mld-done", 133: "router-solicitation",
  134: "router-advertisement", 135: "neighbor-solicitation", 136: "neighbor-advertisement", 137: "redirect",
  143: "mldv2-report", 160: "extended-echo-request", 161: "extended-echo-reply",
};

const ARP_OPS: Record<number, string> = { 1: "arp-request", 2: "arp-reply", 3: "rarp-request", 4: "rarp-reply" };

let protocols: Map<number, string> | null = null;
let protocolNumbers: Map<string, number> | null = null;
let services: Map<string, string> | null = null; // "53/udp" → "domain"
let serviceNumbers: Map<string, number> | null = null; // "domain" → 53

function readLines(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n");
  } catch {
    return [];
  }
}

function loadProtocols(): void {
  protocols = new Map(Object.entries(BUILTIN_PROTOCOLS).map(([k, v]) => [Number(k), v]));
  protocolNumbers = new Map();
  for (const line of readLines("/etc/protocols")) {
    const [name, num, ...aliases] = line.replace(/#.*/, "").trim().split(/\s+/);
    const n = Number(num);
    if (!name || !Number.isInteger(n)) continue;
    if (!protocols.has(n)) protocols.set(n, name.toLowerCase());
    for (const a of [name, ...aliases]) protocolNumbers.set(a.toLowerCase(), n);
  }
  for (const [n, name] of protocols) protocolNumbers.set(name, n);
  protocolNumbers.set("icmp6", 58).set("ipv6-icmp", 58).set("icmpv6", 58);
}

function loadServices(): void {
  services = new Map();
  serviceNumbers = new Map();
  for (const line of readLines("/etc/services")) {
    const [name, portProto, ...aliases] = line.replace(/#.*/, "").trim().split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(portProto ?? "");
    if (!name || !m) continue;
    const key = `${m[1]}/${m[2]}`;
    if (!services.has(key)) services.set(key, name);
    for (const a of [name, ...aliases]) if (!serviceNumbers.has(a)) serviceNumbers.set(a, Number(m[1]));
  }
  for (const [port, name] of Object.entries(BUILTIN_SERVICES)) {
    for (const p of ["tcp", "udp"]) if (!services.has(`${port}/${p}`)) services.set(`${port}/${p}`, name);
    if (!serviceNumbers.has(name)) serviceNumbers.set(name, Number(port));
  }
}

/** The name of an IP protocol number ("udp", "icmpv6"), or its number as text. */
export function protocolName(n: number): string {
  if (!protocols) loadProtocols();
  return protocols!.get(n) ?? String(n);
}

/** The number of an IP protocol name (/etc/protocols names and aliases), or undefined. */
export function protocolNumber(name: string): number | undefined {
  if (!protocolNumbers) loadProtocols();
  return protocolNumbers!.get(name.toLowerCase());
}

/** Every protocol name known (for suggestions). */
export function protocolNames(): string[] {
  if (!protocolNumbers) loadProtocols();
  return [...protocolNumbers!.keys()];
}

/** The service name of a port ("domain" for 53), under `proto` ("tcp", "udp", ...) if given, else TCP then UDP; null if unknown. */
export function serviceName(port: number, proto?: string): string | null {
  if (!services) loadServices();
  const p = proto === "udplite" ? "udp" : proto;
  if (p) return services!.get(`${port}/${p}`) ?? null;
  return services!.get(`${port}/tcp`) ?? services!.get(`${port}/udp`) ?? services!.get(`${port}/sctp`) ?? null;
}

/** The port of a service name ("ssh" → 22), or undefined. */
export function servicePort(name: string): number | undefined {
  if (!serviceNumbers) loadServices();
  return serviceNumbers!.get(name);
}

/** "ipv4", "arp", "lldp"...; "802.3" for a length field (< 0x600); else 0x-hex. */
export function etherTypeName(t: number): string {
  if (t < 0x600) return t === 0 ? "none" : "802.3";
  return ETHERTYPES[t] ?? `0x${t.toString(16).padStart(4, "0")}`;
}

const ETHERTYPE_NUMBERS = new Map(Object.entries(ETHERTYPES).map(([k, v]) => [v, Number(k)]));
export function etherTypeNumber(name: string): number | undefined {
  return ETHERTYPE_NUMBERS.get(name.toLowerCase());
}

/** The ICMP (v4) or ICMPv6 type name, or the ARP operation; null when the packet has none. */
export function icmpTypeName(ethertype: number, proto: number, type: number): string | null {
  if (ethertype === 0x0806) return ARP_OPS[type] ?? `arp-op-${type}`;
  if (proto === 1 && ethertype === 0x0800) return ICMP4[type] ?? `type-${type}`;
  if (proto === 58 && ethertype === 0x86dd) return ICMP6[type] ?? `type-${type}`;
  return null;
}

/** The number of an ICMP/ICMPv6 type name for the given family ("echo-request"). */
export function icmpTypeNumber(name: string, v6: boolean): number | undefined {
  const table = v6 ? ICMP6 : ICMP4;
  for (const [k, v] of Object.entries(table)) if (v === name) return Number(k);
  return undefined;
}

export function icmpTypeNames(v6: boolean): string[] {
  return Object.values(v6 ? ICMP6 : ICMP4);
}

/** ICMPv6 types of neighbor discovery (RFC 4861) and multicast listener discovery. */
export const ICMP6_ND_TYPES = new Set([133, 134, 135, 136, 137]);
export const ICMP6_MLD_TYPES = new Set([130, 131, 132, 143]);

const TCP_FLAGS = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];
/** "SYN,ACK"; "" for no flags. */
export function tcpFlagsText(f: number): string {
  const out: string[] = [];
  for (let i = 0; i < 8; i++) if (f & (1 << i)) out.push(TCP_FLAGS[i]);
  return out.join(",");
}

/**
 * The protocol label of a packet: "ipv4/udp", "ipv6/icmpv6", "arp", "ipv6/tcp",
 * "lldp"... (the ethertype, and the IP protocol for IP packets).
 */
export function protocolLabel(ethertype: number, proto: number): string {
  const e = etherTypeName(ethertype);
  // proto 0 here means no L4 header was reached (a truncated header): just the family
  if (ethertype === 0x0800 || ethertype === 0x86dd) return proto === 0 ? e : `${e}/${protocolName(proto)}`;
  return e;
}
