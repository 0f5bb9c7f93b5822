/* Kernel function prototypes from BTF: argument names, C types, how each argument
 * decodes (integers by width and sign, pointers as addresses, `char *` as strings on
 * request) and which register slot it arrives in. The type walk is pure over a
 * BtfTypeSource, so it is the same for the running kernel (libbpf's vmlinux BTF,
 * KernelBtf below) and for any BTF file. */
import * as ffi from "../../ffi/btf.js";
import { BtfKind, type RawBtfType } from "../../ffi/btf.js";
import { NotSupportedError, errnoName } from "../../errors.js";
import { track, untrack } from "../../lifecycle.js";
import { cTypeName, resolve, typeOf, INT_SIGNED, INT_CHAR, INT_BOOL, type BtfTypeSource } from "../../btf/source.js";

export { cTypeName, resolve, type BtfTypeSource };

/** Register slots a kernel function probe can read (x86-64: rdi, rsi, rdx, rcx, r8, r9). */
export const MAX_ARG_SLOTS = 6;

/** How an argument (or a return value) decodes. */
export type KernelFunctionValueKind =
  /** Integers, enums and bools: the low `size` bytes of the register, sign-extended when `signed`. */
  | { kind: "int"; size: 1 | 2 | 4 | 8; signed: boolean }
  /**
   * An address (bigint). `char`: it points to `char`, so it can be read as a string.
   * `user`: the BTF says `__user` (a type tag), so the string is read from user memory;
   * undefined when the BTF carries no tags (then the address decides).
   */
  | { kind: "pointer"; pointee: string; char: boolean; user?: boolean }
  /** Structs and unions passed by value, floats: not read. */
  | { kind: "other"; size: number; what: string };

export interface KernelFunctionArg {
  /** The parameter's name in the kernel source (`arg<i>` when BTF has none). */
  name: string;
  /** The C type as the kernel declares it: `struct file *`, `char __user *`, `size_t`. */
  type: string;
  decl: KernelFunctionValueKind;
  /** Position among the parameters. */
  index: number;
  /** First register slot (x86-64 calling convention: one per 8 bytes). */
  slot: number;
  slots: number;
  /** Whether a probe can read it: an integer or a pointer in one of the first six slots. */
  readable: boolean;
  /** Why it cannot be read, when it cannot. */
  why?: string;
}

export interface KernelFunctionPrototype {
  name: string;
  /** BTF id of the FUNC. */
  id: number;
  args: KernelFunctionArg[];
  /** null for `void`. */
  ret: { type: string; decl: KernelFunctionValueKind } | null;
  variadic: boolean;
  /** Register slots the arguments take: fexit finds the return value after them (ctx[slots]). */
  slots: number;
  linkage: "static" | "global" | "extern";
  /** False when made up without BTF: six anonymous 64-bit arguments (arg0..arg5). */
  typed: boolean;
}

/** How a value of type `id` decodes. */
export function valueKind(src: BtfTypeSource, id: number): KernelFunctionValueKind {
  const tags: string[] = [];
  const t = resolve(src, id);
  if (t === null) return { kind: "other", size: 0, what: "void" };
  switch (t.kind) {
    case BtfKind.INT: {
      const enc = (t.extra[0]! >>> 24) & 0xf;
      const size = t.sizeOrType;
      if (size !== 1 && size !== 2 && size !== 4 && size !== 8) return { kind: "other", size, what: `${size}-byte integer` };
      return { kind: "int", size, signed: (enc & INT_SIGNED) !== 0 && (enc & INT_BOOL) === 0 };
    }
    case BtfKind.ENUM:
    case BtfKind.ENUM64: {
      const size = t.sizeOrType;
      if (size !== 1 && size !== 2 && size !== 4 && size !== 8) return { kind: "other", size, what: "enum" };
      return { kind: "int", size, signed: t.kflag };
    }
    case BtfKind.PTR: {
      const pointee = resolve(src, t.sizeOrType, tags);
      const char = pointee?.kind === BtfKind.INT && pointee.sizeOrType === 1 && src.name(pointee.nameOff) === "char";
      const decl: KernelFunctionValueKind = { kind: "pointer", pointee: cTypeName(src, t.sizeOrType), char };
      if (tags.includes("user")) decl.user = true;
      else if (tags.length) decl.user = false;
      return decl;
    }
    case BtfKind.STRUCT:
    case BtfKind.UNION:
      return { kind: "other", size: t.sizeOrType, what: t.kind === BtfKind.STRUCT ? "a struct passed by value" : "a union passed by value" };
    case BtfKind.FLOAT:
      return { kind: "other", size: t.sizeOrType, what: "a floating-point value" };
    default:
      return { kind: "other", size: 0, what: `BTF kind ${t.kind}` };
  }
}

/** Byte size of a value of type `id` (for register slots). */
function sizeOf(src: BtfTypeSource, id: number): number {
  const t = resolve(src, id);
  if (t === null) return 0;
  switch (t.kind) {
    case BtfKind.PTR: return 8;
    case BtfKind.INT:
    case BtfKind.ENUM:
    case BtfKind.ENUM64:
    case BtfKind.STRUCT:
    case BtfKind.UNION:
    case BtfKind.FLOAT:
      return t.sizeOrType;
    default: return 8;
  }
}

/** The prototype of FUNC `funcId`. */
export function prototypeOf(src: BtfTypeSource, funcId: number): KernelFunctionPrototype {
  const fn = typeOf(src, funcId);
  if (fn.kind !== BtfKind.FUNC) throw new RangeError(`BTF type ${funcId} is not a FUNC (kind ${fn.kind})`);
  const proto = typeOf(src, fn.sizeOrType);
  const args: KernelFunctionArg[] = [];
  let slot = 0;
  let variadic = false;
  let lost: string | null = null; // once an argument goes on the stack, later register positions are uncertain
  const seen = new Set<string>();
  for (let i = 0; i < proto.vlen; i++) {
    const nameOff = proto.extra[i * 2]!, type = proto.extra[i * 2 + 1]!;
    if (type === 0) {
      variadic = true;
      break;
    }
    let name = src.name(nameOff) || `arg${i}`;
    if (seen.has(name)) name = `${name}_${i}`;
    seen.add(name);
    const decl = valueKind(src, type);
    const size = sizeOf(src, type);
    const slots = size > 16 ? 0 : Math.max(1, Math.ceil(size / 8));
    let why: string | undefined;
    if (lost) why = lost;
    else if (decl.kind === "other") why = `it is ${decl.what}`;
    else if (slot + slots > MAX_ARG_SLOTS) why = `it arrives in register slot ${slot + 1}; probes read the first ${MAX_ARG_SLOTS}`;
    if (size > 16) lost ??= `it follows ${name}, which is passed on the stack, so its register is uncertain`;
    args.push({ name, type: cTypeName(src, type), decl, index: i, slot, slots, readable: why === undefined, ...(why ? { why } : {}) });
    slot += slots;
  }
  const retDecl = proto.sizeOrType === 0 ? null : valueKind(src, proto.sizeOrType);
  const linkage = fn.vlen === 1 ? "global" : fn.vlen === 2 ? "extern" : "static";
  return {
    name: src.name(fn.nameOff),
    id: funcId,
    args,
    ret: retDecl === null ? null : { type: cTypeName(src, proto.sizeOrType), decl: retDecl },
    variadic,
    slots: slot,
    linkage,
    typed: true,
  };
}

/** What a probe assumes without BTF: six anonymous 64-bit arguments and a 64-bit return value. */
export function untypedPrototype(name: string): KernelFunctionPrototype {
  const args: KernelFunctionArg[] = Array.from({ length: MAX_ARG_SLOTS }, (_, i) => ({
    name: `arg${i}`, type: "u64", decl: { kind: "pointer", pointee: "?", char: false }, index: i, slot: i, slots: 1, readable: true,
  }));
  return { name, id: 0, args, ret: { type: "long", decl: { kind: "int", size: 8, signed: true } }, variadic: false, slots: MAX_ARG_SLOTS, linkage: "global", typed: false };
}

/** One line of C: `ssize_t vfs_read(struct file *file, char __user *buf, size_t count, loff_t *pos)`. */
export function formatPrototype(p: KernelFunctionPrototype): string {
  const args = p.args.map((a) => `${a.type}${a.type.endsWith("*") ? "" : " "}${a.name}`);
  if (p.variadic) args.push("...");
  const ret = p.ret?.type ?? "void";
  return `${ret}${ret.endsWith("*") ? "" : " "}${p.name}(${args.length ? args.join(", ") : "void"})`;
}

/**
 * The running kernel's BTF through libbpf (btf__load_vmlinux_btf), with a cache of
 * decoded types. One per process (KernelBtf.vmlinux()); BTF files via KernelBtf.file().
 */
export class KernelBtf implements BtfTypeSource, Disposable {
  static #vmlinux: KernelBtf | null = null;
  readonly source: string;
  #h: ffi.BtfHandle | null;
  readonly #types = new Map<number, RawBtfType>();
  #functions: Map<string, number> | null = null;

  private constructor(h: ffi.BtfHandle, source: string) {
    this.#h = h;
    this.source = source;
  }

  /** The running kernel's BTF; throws NotSupportedError when the kernel has none. */
  static vmlinux(): KernelBtf {
    const cached = KernelBtf.#vmlinux;
    if (cached !== null && cached.#h !== null) return cached;
    const h = ffi.loadVmlinuxBtf();
    if (h === null) {
      const e = ffi.errno();
      throw new NotSupportedError("kernel BTF", `libbpf found no BTF for the running kernel (${errnoName(e)}): /sys/kernel/btf/vmlinux needs CONFIG_DEBUG_INFO_BTF=y`, { errno: e });
    }
    KernelBtf.#vmlinux = new KernelBtf(h, "/sys/kernel/btf/vmlinux");
    return KernelBtf.#vmlinux;
  }

  /** The running kernel's BTF, or null when there is none. */
  static tryVmlinux(): KernelBtf | null {
    try {
      return KernelBtf.vmlinux();
    } catch (e) {
      if (e instanceof NotSupportedError) return null;
      throw e;
    }
  }

  /** BTF from a file (raw BTF such as another machine's /sys/kernel/btf/vmlinux, or an ELF with .BTF). */
  static file(path: string): KernelBtf {
    const h = ffi.parseBtf(path);
    if (h === null) throw new NotSupportedError(`BTF of ${path}`, `libbpf cannot parse it (${errnoName(ffi.errno())})`);
    return track(new KernelBtf(h, path));
  }

  #handle(): ffi.BtfHandle {
    if (this.#h === null) throw new RangeError(`BTF ${this.source} was freed`);
    return this.#h;
  }

  type(id: number): RawBtfType | null {
    let t = this.#types.get(id);
    if (t === undefined) {
      const got = ffi.typeById(this.#handle(), id);
      if (got === null) return null;
      t = got;
      this.#types.set(id, t);
    }
    return t;
  }

  name(off: number): string {
    return ffi.nameByOffset(this.#handle(), off);
  }

  /** Number of type ids (including void, 0). */
  get typeCount(): number {
    return ffi.typeCount(this.#handle());
  }

  /** The BTF id of FUNC `name`, or -1. */
  findFunction(name: string): number {
    if (this.#functions) return this.#functions.get(name) ?? -1;
    const id = ffi.findByNameKind(this.#handle(), name, BtfKind.FUNC);
    return id > 0 ? id : -1;
  }

  /** Every FUNC: name → id (the first of duplicates), walking all types once (a few hundred ms). */
  functions(): ReadonlyMap<string, number> {
    if (this.#functions) return this.#functions;
    const h = this.#handle();
    const out = new Map<string, number>();
    const n = ffi.typeCount(h);
    for (let id = 1; id < n; id++) {
      const t = ffi.typeById(h, id);
      if (t === null || t.kind !== BtfKind.FUNC) continue;
      const name = ffi.nameByOffset(h, t.nameOff);
      if (!out.has(name)) out.set(name, id);
    }
    this.#functions = out;
    return out;
  }

  /** The prototype of kernel function `name`, or null when BTF has no such FUNC. */
  prototype(name: string): KernelFunctionPrototype | null {
    const id = this.findFunction(name);
    return id < 0 ? null : prototypeOf(this, id);
  }

  /** The prototype of FUNC `id`. */
  prototypeById(id: number): KernelFunctionPrototype {
    return prototypeOf(this, id);
  }

  dispose(): void {
    const h = this.#h;
    if (h === null) return;
    this.#h = null;
    this.#types.clear();
    untrack(this);
    if (KernelBtf.#vmlinux === this) KernelBtf.#vmlinux = null;
    ffi.freeBtf(h);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
