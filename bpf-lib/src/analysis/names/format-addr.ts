/* Addresses in tracepoint fields as text, the way the kernel's %pI4, %pI6c, %pISpc and
 * %pM print them: IPv4 dotted, IPv6 compressed per RFC 5952 (IPv4-mapped as
 * ::ffff:a.b.c.d), sockaddr_in/in6 with the port, MAC as colon hex. Inputs are the
 * values a table holds: a byte array (u8[4], u8[16], u8[28]) or an integer holding
 * the bytes in memory order (a __be32 address, read little-endian). Pure. */
import { InvalidArgumentError } from "../../errors.js";
import { formatAddress, isMapped } from "../addresses.js";

export type AddressKind = "ipv4" | "ipv6" | "sockaddr" | "mac";

/** A field value as bytes in memory order: arrays as they are, integers little-endian over `size` bytes. */
export function bytesOf(value: unknown, size: number): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Uint8Array.from(value as number[]);
  if ((typeof value === "number" && Number.isInteger(value)) || typeof value === "bigint") {
    let v = BigInt.asUintN(size * 8, BigInt(value));
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++, v >>= 8n) out[i] = Number(v & 0xffn);
    return out;
  }
  throw new InvalidArgumentError(`an address needs a byte array or an integer; got ${Array.isArray(value) ? "an array of non-bytes" : typeof value}`);
}

function need(u8: Uint8Array, n: number, what: string): void {
  if (u8.length < n) throw new InvalidArgumentError(`${what} needs ${n} bytes; got ${u8.length}`);
}

/** `127.0.0.1` from 4 bytes in network order. */
export function formatIPv4(u8: Uint8Array, at = 0): string {
  need(u8, at + 4, "an IPv4 address");
  return `${u8[at]}.${u8[at + 1]}.${u8[at + 2]}.${u8[at + 3]}`;
}

/** RFC 5952 text of 16 bytes: `::1`, `fe80::1`, `::ffff:127.0.0.1` (IPv4-mapped keeps the dotted tail). */
export function formatIPv6(u8: Uint8Array, at = 0): string {
  need(u8, at + 16, "an IPv6 address");
  // xdp/addr's formatAddress shows a mapped address as bare IPv4 (its keys map IPv4 in); a v6 field keeps the prefix.
  return isMapped(u8, at) ? `::ffff:${formatIPv4(u8, at + 12)}` : formatAddress(u8, at);
}

const AF_INET = 2, AF_INET6 = 10;

/**
 * A struct sockaddr_in / sockaddr_in6 (family in host order, port in network order):
 * `1.2.3.4:80`, `[::1]:80` with the port, bare addresses without; null for another
 * family (an unset address is all zeros: family 0).
 */
export function formatSockaddr(u8: Uint8Array, withPort = true): string | null {
  need(u8, 2, "a sockaddr");
  const family = u8[0]! | (u8[1]! << 8);
  const port = withPort ? (u8[2]! << 8) | u8[3]! : undefined;
  if (family === AF_INET) {
    const a = formatIPv4(u8, 4);
    return port === undefined ? a : `${a}:${port}`;
  }
  if (family === AF_INET6) {
    const a = formatIPv6(u8, 8);
    return port === undefined ? a : `[${a}]:${port}`;
  }
  return null;
}

/** `00:11:22:33:44:55`. */
export function formatMac(u8: Uint8Array, at = 0): string {
  need(u8, at + 6, "a MAC address");
  return Array.from(u8.subarray(at, at + 6), (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** A port stored in network order (a __be16 field read as a little-endian integer) in host order. */
export function portFromNetwork(v: number | bigint): number {
  const n = Number(BigInt.asUintN(16, BigInt(v)));
  return ((n & 0xff) << 8) | (n >> 8);
}

/** The text of an address of `kind` from a field value of `size` bytes. */
export function formatAddressValue(kind: AddressKind, value: unknown, size: number, withPort = true): string | null {
  const u8 = bytesOf(value, size);
  switch (kind) {
    case "ipv4": return formatIPv4(u8);
    case "ipv6": return formatIPv6(u8);
    case "sockaddr": return formatSockaddr(u8, withPort);
    case "mac": return formatMac(u8);
  }
}
