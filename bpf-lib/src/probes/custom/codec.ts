/* One record, key or value of a user's type to and from bytes: reading a map entry
 * (decodeRecord, the same value forms as the ring's columns) and writing one (encodeRecord,
 * which checks every field against its C type, so a wrong key is an error that says what
 * would work rather than a lookup that silently finds nothing). */
import { bitfield } from "../../engine/fields.js";
import { cString } from "../../engine/strings.js";
import { InvalidArgumentError } from "../../errors.js";
import { shown } from "../../options/describe.js";
import { nearest } from "../../tracefs/nearest.js";
import type { Leaf, RecordLayout } from "./layout.js";

/** A field's value as decoded: numbers (64-bit ones too), bigint addresses, strings, number[] or bytes. */
export type LeafValue = number | bigint | string | number[] | Uint8Array;

const utf8 = new TextEncoder();

/** The record at `bytes[offset]`; `imprecise` counts 64-bit values a double rounded. */
export function decodeRecord(layout: RecordLayout, bytes: Uint8Array, offset = 0): { row: Record<string, LeafValue>; imprecise: number } {
  if (offset < 0 || bytes.length - offset < layout.size) {
    throw new InvalidArgumentError(`${layout.type} is ${layout.size} bytes; got ${Math.max(0, bytes.length - offset)} bytes at offset ${offset}`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const row: Record<string, LeafValue> = {};
  let imprecise = 0;
  const wide = (v: bigint): number => {
    const d = Number(v);
    if (BigInt(d) !== v) imprecise++;
    return d;
  };
  const int = (o: number, size: 1 | 2 | 4 | 8, signed: boolean): number => {
    switch (size) {
      case 1: return signed ? dv.getInt8(o) : dv.getUint8(o);
      case 2: return signed ? dv.getInt16(o, true) : dv.getUint16(o, true);
      case 4: return signed ? dv.getInt32(o, true) : dv.getUint32(o, true);
      case 8: return wide(signed ? dv.getBigInt64(o, true) : dv.getBigUint64(o, true));
    }
  };
  for (const leaf of layout.leaves) {
    const o = offset + ("offset" in leaf ? leaf.offset : 0);
    switch (leaf.kind) {
      case "int": row[leaf.name] = int(o, leaf.size, leaf.signed); break;
      case "bits": {
        const v = bitfield(bytes, offset, leaf.bitOffset, leaf.bits, leaf.signed);
        row[leaf.name] = typeof v === "number" ? v : wide(v);
        break;
      }
      case "float": row[leaf.name] = leaf.size === 4 ? dv.getFloat32(o, true) : dv.getFloat64(o, true); break;
      case "pointer": row[leaf.name] = dv.getBigUint64(o, true); break;
      case "chars": row[leaf.name] = cString(bytes, o, leaf.length); break;
      case "ints": row[leaf.name] = Array.from({ length: leaf.length }, (_, i) => int(o + i * leaf.elem, leaf.elem, leaf.signed)); break;
      case "bytes": row[leaf.name] = bytes.slice(o, o + leaf.size); break;
    }
  }
  return { row, imprecise };
}

/**
 * The bytes of `value` as `layout`: a bare value for a one-leaf layout (a `u32` key, a
 * `char[16]`), else an object keyed by leaf names (dotted, or nested objects); leaves left
 * out are 0. Anything that does not fit its C type is an InvalidArgumentError naming `what`.
 */
export function encodeRecord(layout: RecordLayout, value: unknown, what: string): Uint8Array {
  const out = new Uint8Array(layout.size);
  const dv = new DataView(out.buffer);
  const byName = new Map(layout.leaves.map((l) => [l.name, l]));
  const only = layout.leaves.length === 1 ? layout.leaves[0]! : undefined;
  const entries: [string, unknown][] = only && !isPlainObject(value) ? [[only.name, value]] : fields(layout, value, what);
  for (const [name, v] of entries) {
    const leaf = byName.get(name);
    if (!leaf) {
      const hint = nearest(name, byName.keys(), 3);
      const names = [...byName.keys()];
      throw new InvalidArgumentError(
        `${what}: ${layout.type} has no field ${JSON.stringify(name)}${hint.length ? `; did you mean ${hint.map((h) => JSON.stringify(h)).join(", ")}?` : "."} Its fields are: ${names.join(", ") || "(none)"}`,
      );
    }
    write(out, dv, leaf, v, what);
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** An object's entries with nested objects flattened to the dotted names leaves have. */
function fields(layout: RecordLayout, value: unknown, what: string): [string, unknown][] {
  if (!isPlainObject(value)) {
    const names = layout.leaves.map((l) => l.name).join(", ");
    throw new InvalidArgumentError(`${what}: ${layout.type} is written as an object with its fields (${names}); got ${shown(value)}`);
  }
  const leafNames = new Set(layout.leaves.map((l) => l.name));
  const out: [string, unknown][] = [];
  const visit = (obj: Record<string, unknown>, prefix: string, depth: number): void => {
    for (const [k, v] of Object.entries(obj)) {
      const name = prefix + k;
      if (isPlainObject(v) && !leafNames.has(name) && depth < 16) visit(v, `${name}.`, depth + 1);
      else if (v !== undefined) out.push([name, v]);
    }
  };
  visit(value, "", 0);
  return out;
}

/** How a leaf is spelled in messages: `u32`, `s64`, `bool`, `char[16]`, `3-bit bitfield`. */
function cType(leaf: Leaf): string {
  switch (leaf.kind) {
    case "int": return leaf.bool ? "bool" : `${leaf.signed ? "s" : "u"}${leaf.size * 8}`;
    case "bits": return `${leaf.bits}-bit ${leaf.signed ? "signed" : "unsigned"} bitfield`;
    case "float": return leaf.size === 4 ? "float" : "double";
    case "pointer": return "pointer";
    case "chars": return `char[${leaf.length}]`;
    case "ints": return `${leaf.signed ? "s" : "u"}${leaf.elem * 8}[${leaf.length}]`;
    case "bytes": return `${leaf.size} bytes`;
  }
}

function write(out: Uint8Array, dv: DataView, leaf: Leaf, v: unknown, what: string): void {
  const bad = (expected: string, got = shown(v)): never => {
    throw new InvalidArgumentError(`${what}: field ${JSON.stringify(leaf.name)} (${cType(leaf)}) must be ${expected}; got ${got}`);
  };
  switch (leaf.kind) {
    case "int": {
      const n = integer(v, leaf.size * 8, leaf.signed, bad);
      writeInt(dv, leaf.offset, leaf.size, n);
      return;
    }
    case "bits": {
      const n = BigInt.asUintN(leaf.bits, integer(v, leaf.bits, leaf.signed, bad));
      for (let i = 0; i < leaf.bits; i++) {
        const bit = leaf.bitOffset + i;
        if ((n >> BigInt(i)) & 1n) out[bit >>> 3]! |= 1 << (bit & 7);
        else out[bit >>> 3]! &= ~(1 << (bit & 7));
      }
      return;
    }
    case "float":
      if (typeof v !== "number") bad("a number");
      if (leaf.size === 4) dv.setFloat32(leaf.offset, v as number, true);
      else dv.setFloat64(leaf.offset, v as number, true);
      return;
    case "pointer":
      writeInt(dv, leaf.offset, 8, integer(v, 64, false, bad));
      return;
    case "chars": {
      if (typeof v !== "string") bad(`a string of at most ${leaf.length} bytes`);
      const b = utf8.encode(v as string);
      if (b.length > leaf.length) bad(`a string of at most ${leaf.length} bytes (UTF-8)`, `${shown(v)}, ${b.length} bytes`);
      out.set(b, leaf.offset);
      return;
    }
    case "ints": {
      const list = Array.isArray(v) ? v : ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number | bigint>) : null;
      const range = rangeText(leaf.elem * 8, leaf.signed);
      if (list === null) bad(`an array of at most ${leaf.length} integers (${range})`);
      if (list!.length > leaf.length) bad(`an array of at most ${leaf.length} integers (${range})`, `${list!.length} elements`);
      list!.forEach((e, i) => {
        const n = integer(e, leaf.elem * 8, leaf.signed, (expected) => bad(expected, `${shown(e)} at index ${i}`));
        writeInt(dv, leaf.offset + i * leaf.elem, leaf.elem, n);
      });
      return;
    }
    case "bytes":
      if (!(v instanceof Uint8Array)) bad(`a Uint8Array of at most ${leaf.size} bytes`);
      if ((v as Uint8Array).length > leaf.size) bad(`a Uint8Array of at most ${leaf.size} bytes`, `${(v as Uint8Array).length} bytes`);
      out.set(v as Uint8Array, leaf.offset);
      return;
  }
}

function rangeText(bits: number, signed: boolean): string {
  return signed ? `${-(2n ** BigInt(bits - 1))} to ${2n ** BigInt(bits - 1) - 1n}` : `0 to ${2n ** BigInt(bits) - 1n}`;
}

/** `v` as an integer of `bits` bits: numbers that are integers, bigints, booleans (0, 1); in range. */
function integer(v: unknown, bits: number, signed: boolean, bad: (expected: string) => never): bigint {
  const range = rangeText(bits, signed);
  let n: bigint;
  if (typeof v === "bigint") n = v;
  else if (typeof v === "boolean") n = v ? 1n : 0n;
  else if (typeof v === "number" && Number.isInteger(v)) n = BigInt(v);
  else return bad(`an integer from ${range}`);
  const lo = signed ? -(2n ** BigInt(bits - 1)) : 0n, hi = signed ? 2n ** BigInt(bits - 1) - 1n : 2n ** BigInt(bits) - 1n;
  if (n < lo || n > hi) {
    // a number past 2^53 may already be rounded (2^64 - 1 reads as 2^64): say how to pass it exactly
    const exact = typeof v === "number" && !Number.isSafeInteger(v) ? `; a number past 2^53 may already be rounded, so pass a bigint (the largest is ${hi}n)` : "";
    return bad(`from ${range}${exact}`);
  }
  return n;
}

function writeInt(dv: DataView, at: number, size: 1 | 2 | 4 | 8, n: bigint): void {
  const u = BigInt.asUintN(size * 8, n);
  switch (size) {
    case 1: dv.setUint8(at, Number(u)); break;
    case 2: dv.setUint16(at, Number(u), true); break;
    case 4: dv.setUint32(at, Number(u), true); break;
    case 8: dv.setBigUint64(at, u, true); break;
  }
}
