/* Where a kernel path starts: the struct its base pointer points to. A root is a struct
 * name ("task_struct", "struct sock"), a C type as tracefs or BTF spell a field or an
 * argument ("const struct sk_buff *"), or a BTF type id. A `void *` or an address held in
 * an integer (`unsigned long`) says nothing about what it points to, so it needs a cast:
 * `as: "sock"`, bpftrace's `(struct sock *)args.skaddr`. */
import { BtfKind, type RawBtfType } from "./format.js";
import { cTypeName, resolve, type BtfTypeSource } from "./source.js";
import { InvalidArgumentError, InvalidOptionError, UnknownKernelTypeError } from "../errors.js";
import { nearest } from "../tracefs/nearest.js";
import { typeNames } from "./names.js";

export interface PathRoot {
  /** BTF id of the struct or union the base pointer points to. */
  id: number;
  /** Its C spelling: `struct task_struct`. */
  name: string;
}

const AGGREGATES = [BtfKind.STRUCT, BtfKind.UNION];
/** Words that qualify a type without changing what it points to. */
const QUALIFIERS = /\b(const|volatile|restrict|__restrict|__user|__kernel|__iomem|__percpu|__rcu|__force|__nocast|__bitwise)\b/g;
const INTEGER = /^(unsigned |signed )?(char|short|int|long|long long)( int)?$|^(unsigned|signed)$/;

const where = (src: BtfTypeSource) => ("source" in src && typeof src.source === "string" ? `the BTF of ${src.source}` : "this BTF");

/** The struct or union named `name` (with or without `struct `/`union `), past typedefs; undefined when none. */
export function findStruct(src: BtfTypeSource, name: string): RawBtfType | undefined {
  const m = /^(struct|union)\s+(\w+)$/.exec(name.trim());
  const bare = m ? m[2]! : name.trim();
  const kinds = m ? [m[1] === "union" ? BtfKind.UNION : BtfKind.STRUCT] : AGGREGATES;
  const index = typeNames(src);
  // A name can have several entries (a deduplication leftover): the one with members is the definition.
  const ids = index.find(bare, kinds);
  const defs = ids.map((id) => src.type(id)!);
  const def = defs.find((t) => t.vlen > 0) ?? defs[0];
  if (def || m) return def;
  for (const id of index.find(bare, [BtfKind.TYPEDEF])) {
    const t = resolve(src, id);
    if (t && (t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION)) return t;
  }
  return undefined;
}

/** The definition of a struct BTF only forward-declares at this spot, when the BTF has one. */
export function definitionOf(src: BtfTypeSource, t: RawBtfType): RawBtfType {
  if (t.kind !== BtfKind.FWD) return t;
  return findStruct(src, `${t.kflag ? "union" : "struct"} ${src.name(t.nameOff)}`) ?? t;
}

function unknownType(src: BtfTypeSource, name: string): UnknownKernelTypeError {
  const bare = name.replace(/^(struct|union)\s+/, "");
  return new UnknownKernelTypeError(name, where(src), nearest(bare, typeNames(src).names(AGGREGATES), 5));
}

/** What a root type spelled in C is: a struct, a pointer to something, or an integer. */
type Spelled =
  | { kind: "struct"; t: RawBtfType; pointers: number }
  | { kind: "void"; pointers: number }
  | { kind: "int"; bytes: number; pointers: number }
  | { kind: "other"; what: string; pointers: number };

function spelled(src: BtfTypeSource, type: string): Spelled {
  // tracefs spells a field with its name ("const void * skaddr"): after the last star it is not part of the type.
  const flat = type.replace(QUALIFIERS, " ").replace(/\*\s*[A-Za-z_]\w*\s*$/, "*").replace(/\s+/g, " ").trim();
  const pointers = (flat.match(/\*/g) ?? []).length;
  const base = flat.replace(/\s*\*\s*/g, "").trim();
  if (base === "void") return { kind: "void", pointers };
  if (INTEGER.test(base)) return { kind: "int", bytes: /long/.test(base) ? 8 : 4, pointers };
  if (/^enum\s/.test(base)) return { kind: "other", what: base, pointers };
  if (!/^((struct|union)\s+)?\w+$/.test(base)) {
    throw new InvalidArgumentError(`kernel path root ${JSON.stringify(type)} is not a C type bpfbook can read; give a struct name ("task_struct"), a pointer type ("struct sock *") or a BTF type id`);
  }
  const t = findStruct(src, base);
  if (t) return { kind: "struct", t, pointers };
  if (!/^(struct|union)\s/.test(base)) {
    // A typedef of something else: an integer (`u64`, `uintptr_t`) or a pointer type.
    for (const id of typeNames(src).find(base, [BtfKind.TYPEDEF])) return fromId(src, id, pointers);
  }
  throw unknownType(src, base);
}

function fromId(src: BtfTypeSource, id: number, pointers = 0): Spelled {
  for (let t = resolve(src, id), n = 0; n < 8; n++) {
    if (t === null) return { kind: "void", pointers };
    if (t.kind === BtfKind.PTR) {
      pointers++;
      t = resolve(src, t.sizeOrType);
      continue;
    }
    if (t.kind === BtfKind.STRUCT || t.kind === BtfKind.UNION || t.kind === BtfKind.FWD) return { kind: "struct", t: definitionOf(src, t), pointers };
    if (t.kind === BtfKind.INT) return { kind: "int", bytes: t.sizeOrType, pointers };
    return { kind: "other", what: cTypeName(src, t.id), pointers };
  }
  return { kind: "other", what: cTypeName(src, id), pointers };
}

/** The struct a path rooted at `root` starts in (`as` casts the root's pointer to that struct). */
export function pathRoot(src: BtfTypeSource, root: string | number, as?: string): PathRoot {
  if (as !== undefined && (typeof as !== "string" || !/^((struct|union)\s+)?\w+$/.test(as.trim()))) {
    throw new InvalidOptionError("resolvePath()", "as", as, 'a struct name such as "sock" or "struct sock"');
  }
  let s: Spelled;
  if (typeof root === "number") {
    if (!Number.isInteger(root) || root <= 0 || src.type(root) === null) {
      throw new InvalidArgumentError(`kernel path root: BTF type id ${root} does not exist; give a struct name such as "task_struct" or a C type such as "struct sock *"`);
    }
    s = fromId(src, root);
  } else if (typeof root === "string" && root.trim() !== "") {
    s = spelled(src, root);
  } else {
    throw new InvalidArgumentError(`kernel path root must be a struct name ("task_struct"), a C type ("struct sock *") or a BTF type id; got ${JSON.stringify(root)}`);
  }
  const shown = typeof root === "number" ? `BTF type ${root} (${cTypeName(src, root)})` : JSON.stringify(root);
  if (s.pointers > 1) {
    throw new InvalidArgumentError(`kernel path root ${shown} is a pointer to a pointer; a path starts from a struct or a pointer to one`);
  }
  if (as !== undefined) {
    const fits = s.pointers === 1 || s.kind === "struct" || (s.kind === "int" && s.bytes === 8);
    if (!fits) throw new InvalidArgumentError(`kernel path root ${shown} cannot hold an address, so it cannot be read as ${as}: it must be a pointer or a 64-bit integer`);
    const t = findStruct(src, as);
    if (!t) throw unknownType(src, as.trim());
    return { id: t.id, name: cTypeName(src, t.id) };
  }
  if (s.kind === "struct") {
    if (s.t.kind === BtfKind.FWD) throw new InvalidArgumentError(`kernel path root ${shown}: ${cTypeName(src, s.t.id)} is only declared in ${where(src)}, so its members are unknown`);
    return { id: s.t.id, name: cTypeName(src, s.t.id) };
  }
  if ((s.kind === "void" && s.pointers === 1) || (s.kind === "int" && s.pointers === 0 && s.bytes === 8)) {
    throw new InvalidArgumentError(
      `kernel path root ${shown} does not say what it points to: name the struct with \`as\`, e.g. { as: "sock" } ` +
        `(bpftrace: (struct sock *)arg)`,
    );
  }
  throw new InvalidArgumentError(`kernel path root ${shown} is not a struct or a pointer to one, so it has no members to follow`);
}
