/* A user's C type (from the BTF of a compiled cell) as flat leaves at fixed offsets: one
 * column per leaf when records are decoded, one field per leaf when keys and values are
 * encoded. Nested structs flatten to dotted names, anonymous members keep C's names, and
 * whatever has no natural column form (unions, arrays of structs, 2-D arrays) stays bytes. */
import { BtfKind, type RawBtfType } from "../../btf/format.js";
import { cTypeName, resolve, typeOf, INT_BOOL, INT_SIGNED, type BtfTypeSource } from "../../btf/source.js";
import { isChar, sizeOf } from "../../btf/leaf.js";
import { membersOf } from "../../btf/members.js";

export type Leaf =
  | { kind: "int"; name: string; offset: number; size: 1 | 2 | 4 | 8; signed: boolean; bool?: boolean }
  /** A bitfield; `bitOffset` counts from the record's first byte (little-endian). */
  | { kind: "bits"; name: string; bitOffset: number; bits: number; signed: boolean }
  | { kind: "float"; name: string; offset: number; size: 4 | 8 }
  | { kind: "pointer"; name: string; offset: number }
  /** A char array: a string up to its first NUL (all `length` bytes when there is none). */
  | { kind: "chars"; name: string; offset: number; length: number }
  | { kind: "ints"; name: string; offset: number; elem: 1 | 2 | 4 | 8; signed: boolean; length: number }
  | { kind: "bytes"; name: string; offset: number; size: number };

export interface RecordLayout {
  /** The C spelling: `struct event`, `u64`, `char[16]`. */
  type: string;
  size: number;
  leaves: Leaf[];
}

/** Deeper than any C a person writes; stops a malformed (cyclic) BTF from recursing forever. */
const MAX_DEPTH = 16;

function intSize(n: number): n is 1 | 2 | 4 | 8 {
  return n === 1 || n === 2 || n === 4 || n === 8;
}

function isQualifier(kind: number): boolean {
  return kind === BtfKind.CONST || kind === BtfKind.VOLATILE || kind === BtfKind.RESTRICT || kind === BtfKind.TYPE_TAG;
}

/** `id` past qualifiers, and past typedefs whose name starts with `skipTypedef` (bpfbook.h's own). */
export function unqualified(btf: BtfTypeSource, id: number, skipTypedef?: string): number {
  for (let n = 0; n < 64 && id !== 0; n++) {
    const t = typeOf(btf, id);
    const ours = skipTypedef !== undefined && t.kind === BtfKind.TYPEDEF && btf.name(t.nameOff).startsWith(skipTypedef);
    if (!isQualifier(t.kind) && !ours) return id;
    id = t.sizeOrType;
  }
  return id;
}

/** The C spelling without qualifiers (a `const volatile char target[16]` global is `char[16]`). */
export function spelling(btf: BtfTypeSource, id: number): string {
  let dims = "";
  id = unqualified(btf, id);
  // `u16 grid[2][3]` is an array of 2 arrays of 3: the outer length is written first
  for (let t = btf.type(id), n = 0; t?.kind === BtfKind.ARRAY && n < MAX_DEPTH; t = btf.type(id), n++) {
    dims += `[${t.extra[2]}]`;
    id = unqualified(btf, t.extra[0]!);
  }
  return cTypeName(btf, id) + dims;
}

/** Type `typeId` as leaves; a scalar or array root is one leaf named `rootName`, a struct root its members. */
export function layoutOf(btf: BtfTypeSource, typeId: number, rootName: string): RecordLayout {
  const size = safeSize(btf, typeId);
  let out: RecordLayout;
  try {
    out = { type: spelling(btf, typeId), size, leaves: [] };
    const root = resolve(btf, typeId);
    if (root?.kind === BtfKind.STRUCT) walk(btf, root, "", 0, out.leaves, 0);
    else out.leaves.push(leafOf(btf, typeId, rootName, 0));
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    // a type id the BTF does not have (typeOf's RangeError): nothing known but the name
    out = { type: `(BTF type ${typeId})`, size, leaves: [{ kind: "bytes", name: rootName, offset: 0, size }] };
  }
  return out;
}

function safeSize(btf: BtfTypeSource, id: number): number {
  try {
    return sizeOf(btf, id);
  } catch {
    return 0; // a dangling type id: nothing to read
  }
}

function walk(btf: BtfTypeSource, struct: RawBtfType, prefix: string, base: number, out: Leaf[], depth: number): void {
  for (const m of membersOf(btf, struct.id)) {
    const name = prefix + m.name;
    const bitOffset = base * 8 + m.bitOffset;
    const t = resolve(btf, m.typeId);
    if (m.bitSize > 0) {
      const signed = t?.kind === BtfKind.INT ? ((t.extra[0]! >>> 24) & INT_SIGNED) !== 0 : t?.kflag === true;
      out.push({ kind: "bits", name, bitOffset, bits: m.bitSize, signed });
      continue;
    }
    const offset = bitOffset >>> 3;
    if (t?.kind === BtfKind.STRUCT && depth < MAX_DEPTH) walk(btf, t, `${name}.`, offset, out, depth + 1);
    else if (safeSize(btf, m.typeId) > 0) out.push(leafOf(btf, m.typeId, name, offset));
    // zero-sized members (flexible arrays, empty structs) hold no bytes of the record
  }
}

/** One value of type `id` at `offset`: a scalar, an array, or bytes for anything else. */
function leafOf(btf: BtfTypeSource, id: number, name: string, offset: number): Leaf {
  const bytes: Leaf = { kind: "bytes", name, offset, size: safeSize(btf, id) };
  let t: RawBtfType | null;
  try {
    t = resolve(btf, id);
  } catch {
    return bytes;
  }
  if (t === null) return bytes;
  switch (t.kind) {
    case BtfKind.INT:
    case BtfKind.ENUM:
    case BtfKind.ENUM64: {
      const int = intOf(t);
      return int ? { kind: "int", name, offset, ...int } : bytes;
    }
    case BtfKind.FLOAT:
      return t.sizeOrType === 4 || t.sizeOrType === 8 ? { kind: "float", name, offset, size: t.sizeOrType } : bytes;
    case BtfKind.PTR:
      return { kind: "pointer", name, offset };
    case BtfKind.ARRAY: {
      const length = t.extra[2]!;
      if (isChar(btf, t.extra[0]!)) return { kind: "chars", name, offset, length };
      const elem = resolve(btf, t.extra[0]!);
      const int = elem && (elem.kind === BtfKind.INT || elem.kind === BtfKind.ENUM || elem.kind === BtfKind.ENUM64) ? intOf(elem) : null;
      return int ? { kind: "ints", name, offset, elem: int.size, signed: int.signed, length } : bytes;
    }
    default:
      return bytes;
  }
}

/** Size and sign of an INT or enum; null for widths no column holds (__int128). */
function intOf(t: RawBtfType): { size: 1 | 2 | 4 | 8; signed: boolean; bool?: true } | null {
  const size = t.sizeOrType;
  if (!intSize(size)) return null;
  if (t.kind !== BtfKind.INT) return { size, signed: t.kflag };
  const enc = (t.extra[0]! >>> 24) & 0xf;
  if (enc & INT_BOOL) return { size, signed: false, bool: true };
  return { size, signed: (enc & INT_SIGNED) !== 0 };
}
