/* Addresses as the kernel program keeps them (16 bytes, network order, IPv4 mapped
 * into IPv6 as ::ffff:a.b.c.d) and as people write them (dotted IPv4, compressed
 * IPv6 per RFC 5952, prefixes). Pure. */
import { InvalidArgumentError } from "../errors.js";

/** True when the 16 bytes at `at` are an IPv4-mapped address. */
export function isMapped(u8: Uint8Array, at: number): boolean {
  for (let i = 0; i < 10; i++) if (u8[at + i] !== 0) return false;
  return u8[at + 10] === 0xff && u8[at + 11] === 0xff;
}

/** True when all 16 bytes are zero (no address: not IP, or not parsed). */
export function isZero(u8: Uint8Array, at: number): boolean {
  for (let i = 0; i < 16; i++) if (u8[at + i] !== 0) return false;
  return true;
}

/** IPv4 dotted, or IPv6 compressed (longest run of 2+ zero groups as ::, lowercase, no leading zeros). */
export function formatAddress(u8: Uint8Array, at = 0): string {
  if (isMapped(u8, at)) return `${u8[at + 12]}.${u8[at + 13]}.${u8[at + 14]}.${u8[at + 15]}`;
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((u8[at + 2 * i] << 8) | u8[at + 2 * i + 1]);
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

function parseV4(s: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : null;
}

function parseV6(text: string): number[] | null {
  let s = text;
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(":")) return null;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) { // embedded IPv4 (::ffff:1.2.3.4): as two groups
    const v4 = parseV4(s.slice(lastColon + 1));
    if (!v4) return null;
    s = `${s.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]), tail = halves.length === 2 ? groups(halves[1]) : [];
  if ([...head, ...tail].some((x) => !/^[0-9a-fA-F]{1,4}$/.test(x))) return null;
  const n = head.length + tail.length;
  if (halves.length === 1 ? n !== 8 : n > 7) return null;
  const words = [...head, ...new Array<string>(8 - n).fill("0"), ...tail].map((x) => parseInt(x, 16));
  const out: number[] = [];
  for (const w of words) out.push(w >> 8, w & 0xff);
  return out;
}

/** An address (16 bytes, IPv4 mapped) from its text; null if it is not one. */
export function parseAddress(s: string): Uint8Array | null {
  const v4 = parseV4(s);
  if (v4) return Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]);
  const v6 = parseV6(s);
  return v6 ? Uint8Array.from(v6) : null;
}

export interface Prefix {
  addr: Uint8Array;
  mask: Uint8Array;
  /** As written back: "10.200.1.0/24", "fd00:200::/64". */
  text: string;
}

/** "10.200.1.0/24", "fd00:200::/64" or a single address; host bits beyond the prefix are cleared. */
export function parsePrefix(s: string): Prefix {
  const [a, len, extra] = s.trim().split("/");
  if (extra !== undefined) throw new InvalidArgumentError(`"${s}" is not an address or prefix`);
  const addr = parseAddress(a);
  if (!addr) throw new InvalidArgumentError(`"${s}" is not an IPv4 or IPv6 address (or prefix like 10.200.1.0/24, fd00:200::/64)`);
  const v4 = isMapped(addr, 0) && parseV4(a) !== null;
  const max = v4 ? 32 : 128;
  const bits = len === undefined ? max : Number(len);
  if (!Number.isInteger(bits) || bits < 0 || bits > max || (len !== undefined && !/^\d+$/.test(len))) {
    throw new InvalidArgumentError(`prefix length in "${s}" must be 0..${max}`);
  }
  const total = v4 ? bits + 96 : bits;
  const mask = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const b = Math.max(0, Math.min(8, total - i * 8));
    mask[i] = b === 0 ? 0 : (0xff << (8 - b)) & 0xff;
  }
  for (let i = 0; i < 16; i++) addr[i] &= mask[i];
  const text = `${formatAddress(addr)}${bits === max ? "" : `/${bits}`}`;
  return { addr, mask, text };
}
