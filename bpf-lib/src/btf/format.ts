/* The BTF format itself (include/uapi/linux/btf.h): kinds, the raw type record and
 * how many words follow its header. Pure: ffi/btf.ts reads types through libbpf into
 * this shape, btf/blob.ts reads them straight from the blob. */

/** BTF kinds (include/uapi/linux/btf.h). */
export const BtfKind = {
  UNKN: 0, INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;

/** One BTF type record: the 12-byte header, and the 32-bit words of kind-specific data after it. */
export interface RawBtfType {
  id: number;
  kind: number;
  /** Offset of the name in the string section (0: anonymous). */
  nameOff: number;
  vlen: number;
  kflag: boolean;
  /** `size` for INT, ENUM, STRUCT, UNION, FLOAT, DATASEC; `type` for PTR, TYPEDEF, CONST, FUNC, FUNC_PROTO (its return), ... */
  sizeOrType: number;
  /** The words that follow the header: INT encoding, ARRAY's three words, vlen members/params/enumerators, ... */
  extra: Uint32Array;
}

/** How many 32-bit words follow the header of a type of this kind. */
export function extraWords(kind: number, vlen: number): number {
  switch (kind) {
    case BtfKind.INT: return 1;
    case BtfKind.ARRAY: return 3;
    case BtfKind.STRUCT:
    case BtfKind.UNION: return vlen * 3;
    case BtfKind.ENUM: return vlen * 2;
    case BtfKind.FUNC_PROTO: return vlen * 2;
    case BtfKind.VAR: return 1;
    case BtfKind.DATASEC: return vlen * 3;
    case BtfKind.DECL_TAG: return 1;
    case BtfKind.ENUM64: return vlen * 3;
    default: return 0;
  }
}

