/* Typed paths through kernel pointers: `real_parent.tgid` from a task_struct becomes the
 * offsets a BPF program follows with bpf_probe_read_kernel (P1 = *(u64 *)(P0 + 1280),
 * then 4 bytes at P1 + 1268) and how to read the value at the end. Offsets come from this
 * kernel's BTF when the path is resolved, which is what CO-RE does at load time, so one
 * compiled program serves every kernel. */
import { BtfKind } from "./format.js";
import { cTypeName, resolve, type BtfTypeSource } from "./source.js";
import { InvalidArgumentError, PathTooDeepError, UnknownMemberError } from "../errors.js";
import { nearest } from "../tracefs/nearest.js";
import { shapeOf, sizeOf, type KernelLeaf } from "./leaf.js";
import { findMember, membersOf } from "./members.js";
import { definitionOf, pathRoot } from "./root.js";
import { formatPath, parsePath, type PathStep } from "./syntax.js";

export type { KernelLeaf } from "./leaf.js";

/** Pointers one path may follow: the BPF side unrolls one read per pointer, plus the leaf. */
export const MAX_PATH_DEREFS = 4;
/** Largest offset of one step (the BPF side keeps offsets in 16 bits; task_struct is ~10 KiB). */
export const MAX_PATH_OFFSET = 65535;

export interface KernelPath {
  /** The struct the base pointer points to: `struct task_struct`. */
  root: string;
  /** The path in normal spelling: `real_parent.tgid`. */
  path: string;
  /**
   * One more than the pointers followed: P(i+1) = *(u64 *)(P(i) + offsets[i]), then the
   * leaf is read at P(n) + offsets[n], where n = offsets.length - 1 and P(0) is the base pointer.
   */
  offsets: number[];
  leaf: KernelLeaf;
  /** The leaf's C type as BTF spells it: `pid_t`, `__be16`, `char[16]`, `struct task_struct *`. */
  type: string;
}

export interface ResolvePathOptions {
  /** The struct a `void *` or integer root points to (a cast): "sock". */
  as?: string;
}

/** Where the walk is: a value of type `typeId` at P(derefs) + `bits` / 8. */
interface Cursor {
  typeId: number;
  bits: number;
  bitSize: number;
}

/** Resolves `path` from `root` against `btf`; throws UnknownMemberError, PathTooDeepError or InvalidArgumentError. */
export function resolvePath(btf: BtfTypeSource, root: string | number, path: string, opts: ResolvePathOptions = {}): KernelPath {
  if (opts === null || typeof opts !== "object") throw new InvalidArgumentError(`resolvePath(): options must be an object such as { as: "sock" }`);
  const start = pathRoot(btf, root, opts.as);
  const steps = parsePath(path);
  const normal = formatPath(steps);
  const offsets: number[] = [];
  const pointers: string[] = [];
  let cur: Cursor = { typeId: start.id, bits: 0, bitSize: 0 };
  const done: PathStep[] = [];
  const here = () => (done.length === 0 ? start.name : formatPath(done));
  const deref = (bits: number) => {
    pushOffset(offsets, bits / 8, normal);
    pointers.push(here());
  };

  for (const step of steps) {
    const t = resolve(btf, cur.typeId);
    if ("member" in step) {
      let agg = t;
      if (t?.kind === BtfKind.PTR) {
        const pointee = resolve(btf, t.sizeOrType);
        agg = pointee && definitionOf(btf, pointee);
        if (!agg || (agg.kind !== BtfKind.STRUCT && agg.kind !== BtfKind.UNION)) {
          throw new InvalidArgumentError(`kernel path ${JSON.stringify(normal)}: ${here()} is ${cTypeName(btf, cur.typeId)}, not a pointer to a struct, so it has no member ${JSON.stringify(step.member)}${pointee === null ? " (BTF does not say what a void * points to)" : ""}`);
        }
        deref(cur.bits);
        cur = { typeId: agg.id, bits: 0, bitSize: 0 };
      } else if (!t || (t.kind !== BtfKind.STRUCT && t.kind !== BtfKind.UNION)) {
        throw new InvalidArgumentError(`kernel path ${JSON.stringify(normal)}: ${here()} is ${cTypeName(btf, cur.typeId)}, not a struct, so it has no member ${JSON.stringify(step.member)}`);
      }
      const m = findMember(btf, agg!.id, step.member);
      if (!m) throw unknownMember(btf, agg!.id, step.member, normal);
      cur = { typeId: m.typeId, bits: cur.bits + m.bitOffset, bitSize: m.bitSize };
    } else {
      if (t?.kind === BtfKind.ARRAY) {
        const n = t.extra[2]!;
        // A zero-length array is a flexible array member: its length is only known at run time.
        if (n > 0 && step.index >= n) {
          throw new InvalidArgumentError(`kernel path ${JSON.stringify(normal)}: index ${step.index} is out of range for ${here()}, which is ${cTypeName(btf, cur.typeId)}: use 0 to ${n - 1}`);
        }
        const elem = t.extra[0]!;
        cur = { typeId: elem, bits: cur.bits + step.index * sizeOf(btf, elem) * 8, bitSize: 0 };
      } else if (t?.kind === BtfKind.PTR) {
        const size = sizeOf(btf, t.sizeOrType);
        if (size === 0) throw new InvalidArgumentError(`kernel path ${JSON.stringify(normal)}: ${here()} is ${cTypeName(btf, cur.typeId)}; indexing it needs the size of what it points to, which BTF does not give`);
        deref(cur.bits);
        cur = { typeId: t.sizeOrType, bits: step.index * size * 8, bitSize: 0 };
      } else {
        throw new InvalidArgumentError(`kernel path ${JSON.stringify(normal)}: ${here()} is ${cTypeName(btf, cur.typeId)}, not an array or a pointer, so it cannot be indexed with [${step.index}]`);
      }
    }
    done.push(step);
    checkOffset(cur.bits / 8, normal);
  }

  if (pointers.length > MAX_PATH_DEREFS) throw new PathTooDeepError(normal, pointers.length, MAX_PATH_DEREFS, pointers);
  const shape = shapeOf(btf, cur.typeId);
  if (shape === null) throw new InvalidArgumentError(`kernel path ${JSON.stringify(normal)}: ${here()} is ${cTypeName(btf, cur.typeId)}, which has no value to read`);
  if (shape.kind === "struct") {
    const names = membersOf(btf, shape.id).map((m) => m.name);
    const what = steps.length === 0 ? `an empty path from ${start.name}` : `${here()} is ${cTypeName(btf, cur.typeId)}`;
    throw new InvalidArgumentError(
      `kernel path ${JSON.stringify(normal)}: ${what}, a ${shape.union ? "union" : "struct"}, not a value; pick a member: ${names.join(", ") || "(it has none)"}`,
    );
  }
  let leaf: KernelLeaf = shape;
  let at = cur.bits / 8;
  if (cur.bitSize > 0) {
    if (shape.kind !== "int") throw new InvalidArgumentError(`kernel path ${JSON.stringify(normal)}: ${here()} is a bitfield of ${cTypeName(btf, cur.typeId)}, which is not an integer`);
    const w = bitWindow(cur.bits, cur.bitSize, shape.size);
    if (w === null) throw new InvalidArgumentError(`kernel path ${JSON.stringify(normal)}: the bitfield ${here()} spans more than 8 bytes and cannot be read in one load`);
    at = w.byte;
    leaf = { ...shape, size: w.size, bitOffset: cur.bits - w.byte * 8, bitSize: cur.bitSize };
  }
  pushOffset(offsets, at, normal);
  return { root: start.name, path: normal, offsets, leaf, type: cTypeName(btf, cur.typeId) };
}

/** `resolvePath(btf, "task_struct", path)`: what `current.real_parent.tgid` reads. A leading `current.` (or bpftrace's `curtask->`) is allowed. */
export function currentTaskPath(btf: BtfTypeSource, path: string): KernelPath {
  if (typeof path !== "string") throw new InvalidArgumentError(`a kernel path must be a string such as "real_parent.tgid"; got ${typeof path}`);
  return resolvePath(btf, "task_struct", path.trim().replace(/^(current|curtask)\s*(\.|->)\s*/, ""));
}

function checkOffset(bytes: number, path: string): void {
  if (bytes > MAX_PATH_OFFSET) {
    throw new InvalidArgumentError(`kernel path ${JSON.stringify(path)}: an offset of ${bytes} bytes is beyond the ${MAX_PATH_OFFSET} one step may add; use a smaller index`);
  }
}

function pushOffset(offsets: number[], bytes: number, path: string): void {
  checkOffset(bytes, path);
  offsets.push(bytes);
}

/**
 * The load that holds a bitfield: the smallest naturally aligned 1, 2, 4 or 8 bytes
 * no wider than its declared type (so the load stays inside the storage unit the compiler
 * gave it), else the smallest unaligned load that covers it; null when it needs more than 8.
 */
export function bitWindow(bits: number, bitSize: number, declared: number): { byte: number; size: 1 | 2 | 4 | 8 } | null {
  const end = bits + bitSize;
  for (const size of [1, 2, 4, 8] as const) {
    if (size > declared) break;
    const byte = Math.floor(bits / (size * 8)) * size;
    if (end <= (byte + size) * 8) return { byte, size };
  }
  const byte = Math.floor(bits / 8);
  for (const size of [1, 2, 4, 8] as const) if (end <= (byte + size) * 8) return { byte, size };
  return null;
}

/** Member names one or more embedded (not pointed-to) structs down: `__sk_common.skc_dport` for `skc_dport` in `sock`. */
function nested(btf: BtfTypeSource, id: number, name: string, prefix = "", depth = 0, out: string[] = []): string[] {
  if (depth > 4 || out.length >= 5) return out;
  for (const m of membersOf(btf, id)) {
    const t = resolve(btf, m.typeId);
    if (!t || (t.kind !== BtfKind.STRUCT && t.kind !== BtfKind.UNION)) continue;
    const p = `${prefix}${m.name}.`;
    if (findMember(btf, t.id, name)) out.push(p + name);
    else nested(btf, t.id, name, p, depth + 1, out);
  }
  return out;
}

function unknownMember(btf: BtfTypeSource, id: number, member: string, path: string): UnknownMemberError {
  const names = membersOf(btf, id).map((m) => m.name);
  return new UnknownMemberError(cTypeName(btf, id), member, path, names, nearest(member, names, 5), nested(btf, id, member));
}
