/* Reading BTF types: the source interface (libbpf's KernelBtf, a raw blob, any file),
 * the type behind typedefs and qualifiers, and C spellings of types. Shared by kernel
 * function prototypes (probes/fentry) and kernel paths (btf/path.ts). */
import { BtfKind, type RawBtfType } from "./format.js";

/** Types by id and names by offset: libbpf's BTF (KernelBtf) or anything else. */
export interface BtfTypeSource {
  type(id: number): RawBtfType | null;
  name(off: number): string;
}

const MODIFIERS: ReadonlySet<number> = new Set([BtfKind.TYPEDEF, BtfKind.CONST, BtfKind.VOLATILE, BtfKind.RESTRICT, BtfKind.TYPE_TAG]);
/** BTF_INT encoding bits. */
export const INT_SIGNED = 1, INT_CHAR = 2, INT_BOOL = 4;

/** Type `id`; a RangeError for an id the BTF does not have (a bug, not bad input). */
export function typeOf(src: BtfTypeSource, id: number): RawBtfType {
  const t = src.type(id);
  if (!t) throw new RangeError(`BTF type ${id} does not exist`);
  return t;
}

/** The type behind typedefs, qualifiers and type tags; collects the tags on the way. */
export function resolve(src: BtfTypeSource, id: number, tags?: string[]): RawBtfType | null {
  for (let n = 0; n < 64 && id !== 0; n++) {
    const t = typeOf(src, id);
    if (!MODIFIERS.has(t.kind)) return t;
    if (t.kind === BtfKind.TYPE_TAG) tags?.push(src.name(t.nameOff));
    id = t.sizeOrType;
  }
  return null; // void
}

const tagged = (src: BtfTypeSource, t: RawBtfType, kw: string) => `${kw} ${src.name(t.nameOff) || "(anon)"}`;

/** The C spelling of a type: `struct file *`, `const char __user *`, `unsigned long`. */
export function cTypeName(src: BtfTypeSource, id: number, depth = 0): string {
  if (id === 0) return "void";
  if (depth > 32) return "...";
  const t = typeOf(src, id);
  switch (t.kind) {
    case BtfKind.INT:
    case BtfKind.FLOAT:
    case BtfKind.TYPEDEF:
      return src.name(t.nameOff);
    case BtfKind.STRUCT: return tagged(src, t, "struct");
    case BtfKind.UNION: return tagged(src, t, "union");
    case BtfKind.ENUM:
    case BtfKind.ENUM64: return tagged(src, t, "enum");
    case BtfKind.FWD: return tagged(src, t, t.kflag ? "union" : "struct");
    case BtfKind.PTR: {
      const target = src.type(t.sizeOrType);
      if (target?.kind === BtfKind.FUNC_PROTO) return `${cTypeName(src, target.sizeOrType, depth + 1)} (*)(${protoParams(src, target, depth + 1)})`;
      // `char __user *`: the kernel writes the address space between the type and the star.
      let inner = t.sizeOrType;
      const spaces: string[] = [];
      for (let x = src.type(inner); x?.kind === BtfKind.TYPE_TAG; x = src.type(inner)) {
        spaces.push(`__${src.name(x.nameOff)}`);
        inner = x.sizeOrType;
      }
      const base = cTypeName(src, inner, depth + 1);
      return `${base}${spaces.length ? " " + spaces.join(" ") : ""}${base.endsWith("*") ? "*" : " *"}`;
    }
    case BtfKind.CONST:
    case BtfKind.VOLATILE: {
      const q = t.kind === BtfKind.CONST ? "const" : "volatile";
      const inner = cTypeName(src, t.sizeOrType, depth + 1);
      return inner.endsWith("*") ? `${inner}${q}` : `${q} ${inner}`;
    }
    case BtfKind.RESTRICT: return cTypeName(src, t.sizeOrType, depth + 1);
    case BtfKind.TYPE_TAG: return `${cTypeName(src, t.sizeOrType, depth + 1)} __${src.name(t.nameOff)}`;
    case BtfKind.ARRAY: return `${cTypeName(src, t.extra[0]!, depth + 1)}[${t.extra[2]}]`;
    case BtfKind.FUNC_PROTO: return `${cTypeName(src, t.sizeOrType, depth + 1)} (${protoParams(src, t, depth + 1)})`;
    default: return src.name(t.nameOff) || `(kind ${t.kind})`;
  }
}

function protoParams(src: BtfTypeSource, proto: RawBtfType, depth: number): string {
  const out: string[] = [];
  for (let i = 0; i < proto.vlen; i++) {
    const type = proto.extra[i * 2 + 1]!;
    out.push(type === 0 ? "..." : cTypeName(src, type, depth + 1));
  }
  return out.join(", ");
}

