/* What a value of a BTF type is, for reading it from kernel memory: an integer (with its
 * width, sign, enum or bool), an address, a fixed char array (a string of known length),
 * a `char *` (a string elsewhere in the kernel), other bytes, or a struct/union that a
 * path must go on into. The path resolver and the type generator share this, so the
 * generated TypeScript types say what resolvePath returns. */
import { BtfKind } from "./format.js";
import { cTypeName, resolve, type BtfTypeSource } from "./source.js";

/** How the value at the end of a kernel path is read. */
export type KernelLeaf =
  /**
   * An integer of `size` bytes (enums and bools too). A bitfield also has `bitOffset` and
   * `bitSize`: read `size` bytes, shift right by `bitOffset` (little-endian), keep `bitSize`
   * bits, and sign-extend them when `signed`.
   */
  | { kind: "int"; size: 1 | 2 | 4 | 8; signed: boolean; enum?: string; bool?: boolean; bitOffset?: number; bitSize?: number }
  /** An address (8 bytes); `pointee` is the C type it points to, `struct task_struct`. */
  | { kind: "pointer"; pointee: string }
  /** A fixed char array such as `comm`: read `bytes` bytes, up to the first NUL. */
  | { kind: "string"; bytes: number }
  /**
   * A `char *` (or `unsigned char *`, as in `qstr.name`): the 8 bytes at the leaf are an
   * address; read the NUL-terminated string it points to from kernel memory.
   */
  | { kind: "kstring" }
  /** Any other array (`u8[16]` addresses, `u32[4]`), a 128-bit integer or a float: `size` raw bytes. */
  | { kind: "bytes"; size: number; type: string };

/** A leaf, or a struct/union (`id` past typedefs and qualifiers) that a path must continue into. */
export type ValueShape = KernelLeaf | { kind: "struct"; id: number; union: boolean };

const INT_SIGNED = 1, INT_BOOL = 4;

function intSize(n: number): n is 1 | 2 | 4 | 8 {
  return n === 1 || n === 2 || n === 4 || n === 8;
}

/** Whether type `id` (past typedefs and qualifiers) is plain `char`, the element of C strings. */
export function isChar(src: BtfTypeSource, id: number): boolean {
  const t = resolve(src, id);
  return t?.kind === BtfKind.INT && t.sizeOrType === 1 && src.name(t.nameOff) === "char";
}

const CHARS: ReadonlySet<string> = new Set(["char", "signed char", "unsigned char"]);

/**
 * Whether a pointer to type `id` is a C string: a pointer to `char`, or to `unsigned char`
 * spelled so (`qstr.name`); a typedef such as `u8 *` means bytes, not text.
 */
export function isStringPointee(src: BtfTypeSource, id: number): boolean {
  for (let t = src.type(id), n = 0; t && n < 16; t = src.type(t.sizeOrType), n++) {
    if (t.kind === BtfKind.CONST || t.kind === BtfKind.VOLATILE || t.kind === BtfKind.RESTRICT || t.kind === BtfKind.TYPE_TAG) continue;
    return t.kind === BtfKind.INT && t.sizeOrType === 1 && CHARS.has(src.name(t.nameOff));
  }
  return false;
}

/** Byte size of a value of type `id` (0 for void or an opaque type). */
export function sizeOf(src: BtfTypeSource, id: number, depth = 0): number {
  const t = resolve(src, id);
  if (t === null || depth > 32) return 0;
  switch (t.kind) {
    case BtfKind.PTR: return 8;
    case BtfKind.ARRAY: return t.extra[2]! * sizeOf(src, t.extra[0]!, depth + 1);
    case BtfKind.INT:
    case BtfKind.ENUM:
    case BtfKind.ENUM64:
    case BtfKind.STRUCT:
    case BtfKind.UNION:
    case BtfKind.FLOAT:
      return t.sizeOrType;
    default: return 0;
  }
}

/** How a value of type `id` is read; null for void and types with no size (functions, opaque structs). */
export function shapeOf(src: BtfTypeSource, id: number): ValueShape | null {
  const t = resolve(src, id);
  if (t === null) return null;
  switch (t.kind) {
    case BtfKind.INT: {
      const enc = (t.extra[0]! >>> 24) & 0xf;
      const size = t.sizeOrType;
      if (!intSize(size)) return { kind: "bytes", size, type: cTypeName(src, id) };
      if (enc & INT_BOOL) return { kind: "int", size, signed: false, bool: true };
      return { kind: "int", size, signed: (enc & INT_SIGNED) !== 0 };
    }
    case BtfKind.ENUM:
    case BtfKind.ENUM64: {
      const size = t.sizeOrType;
      if (!intSize(size)) return { kind: "bytes", size, type: cTypeName(src, id) };
      return { kind: "int", size, signed: t.kflag, enum: src.name(t.nameOff) };
    }
    case BtfKind.PTR:
      if (isStringPointee(src, t.sizeOrType)) return { kind: "kstring" };
      return { kind: "pointer", pointee: cTypeName(src, t.sizeOrType) };
    case BtfKind.ARRAY: {
      const elem = t.extra[0]!, n = t.extra[2]!;
      if (isChar(src, elem) && n > 0) return { kind: "string", bytes: n };
      return { kind: "bytes", size: sizeOf(src, id), type: cTypeName(src, id) };
    }
    case BtfKind.STRUCT:
    case BtfKind.UNION:
      return { kind: "struct", id: t.id, union: t.kind === BtfKind.UNION };
    case BtfKind.FLOAT:
      return { kind: "bytes", size: t.sizeOrType, type: cTypeName(src, id) };
    default:
      return null;
  }
}
