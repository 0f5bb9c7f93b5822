/* Enum names from the kernel's BTF: every enum with its enumerators, the enumerator
 * constants print fmt lines leave unexpanded (TCP_ESTABLISHED, I_DIRTY_SYNC), and the
 * width of the typedefs their casts use (gfp_t). The whole BTF blob is read once and
 * walked in JavaScript (a few ms for 150 000 types), not a libbpf call per type.
 * Module BTF (/sys/kernel/btf/<module>) is split BTF on top of vmlinux, read when a
 * name is not in vmlinux. */
import { readFileSync, readdirSync } from "node:fs";
import * as ffi from "../../ffi/btf.js";
import { BtfKind, extraWords } from "../../ffi/btf.js";
import { InvalidArgumentError, NotSupportedError, errnoName } from "../../errors.js";
import { nearest } from "../../tracefs/catalog.js";
import { cint, type CInt, type IntType } from "./c-expr.js";
import { flagNames, integer, isBitSet, symbolName, type NamedValue } from "./print-flags.js";

export interface BtfEnum {
  /** "" for an anonymous enum. */
  name: string;
  /** 1, 2, 4 or 8 bytes. */
  size: number;
  signed: boolean;
  /** In declaration order; values are exact (ENUM64 too). */
  members: NamedValue[];
}

const MAGIC = 0xeb9f;
const INT_SIGNED = 1, INT_BOOL = 4;
const MODIFIERS = new Set<number>([BtfKind.TYPEDEF, BtfKind.CONST, BtfKind.VOLATILE, BtfKind.RESTRICT, BtfKind.TYPE_TAG]);

/** The enums, enumerators and integer typedefs of one BTF blob (plus its base, for split BTF). */
export class BtfEnums {
  readonly enums: readonly BtfEnum[];
  readonly #base: BtfEnums | undefined;
  readonly #firstId: number;
  readonly #strBase: number;
  readonly #byName = new Map<string, BtfEnum>();
  readonly #members = new Map<string, { e: BtfEnum; value: bigint }>();
  readonly #typedefs = new Map<string, number>();
  readonly #enumById = new Map<number, BtfEnum>();
  // Per type id (from #firstId): kind, size-or-type, INT encoding.
  readonly #kind: Uint8Array;
  readonly #ref: Uint32Array;
  readonly #intEnc: Uint32Array;
  /** One past the last type id. */
  readonly typeCount: number;
  /** Bytes of the string section, the offset a split BTF's own strings start at. */
  readonly strLen: number;

  private constructor(blob: Uint8Array, base: BtfEnums | undefined, source: string) {
    this.#base = base;
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    if (blob.byteLength < 24 || dv.getUint16(0, true) !== MAGIC) {
      throw new NotSupportedError(`BTF of ${source}`, dv.byteLength >= 2 && dv.getUint16(0, false) === MAGIC ? "it is big-endian" : "it does not start with the BTF magic 0xeb9f");
    }
    const hdrLen = dv.getUint32(4, true);
    const typeOff = hdrLen + dv.getUint32(8, true);
    const typeLen = dv.getUint32(12, true);
    const strOff = hdrLen + dv.getUint32(16, true);
    this.strLen = dv.getUint32(20, true);
    if (typeOff + typeLen > blob.byteLength || strOff + this.strLen > blob.byteLength) {
      throw new NotSupportedError(`BTF of ${source}`, "its header points past its end");
    }
    this.#firstId = base ? base.typeCount : 1;
    this.#strBase = base ? base.strLen : 0;
    // One decode of the whole section, then slices: a TextDecoder call per name costs 10x more.
    const strings = Buffer.from(blob.buffer, blob.byteOffset + strOff, this.strLen).toString("latin1");
    const str = (off: number): string => {
      if (off < this.#strBase && base) return base.#string(off);
      const at = off - this.#strBase;
      const end = strings.indexOf("\0", at);
      return strings.slice(at, end < 0 ? strings.length : end);
    };
    this.#string = str;

    // Two passes: count the types to size the arrays, then read them.
    let n = 0;
    for (let o = typeOff; o < typeOff + typeLen; n++) {
      const info = dv.getUint32(o + 4, true);
      o += 12 + 4 * extraWords((info >>> 24) & 0x1f, info & 0xffff);
    }
    this.#kind = new Uint8Array(n);
    this.#ref = new Uint32Array(n);
    this.#intEnc = new Uint32Array(n);
    this.typeCount = this.#firstId + n;
    const enums: BtfEnum[] = [];
    for (let i = 0, o = typeOff; i < n; i++) {
      const id = this.#firstId + i;
      const nameOff = dv.getUint32(o, true);
      const info = dv.getUint32(o + 4, true);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      const kflag = info >>> 31 === 1;
      const ref = dv.getUint32(o + 8, true);
      this.#kind[i] = kind;
      this.#ref[i] = ref;
      const x = o + 12;
      if (kind === BtfKind.INT) this.#intEnc[i] = dv.getUint32(x, true);
      else if (kind === BtfKind.TYPEDEF) this.#typedefs.set(str(nameOff), id);
      else if (kind === BtfKind.ENUM || kind === BtfKind.ENUM64) {
        const members: NamedValue[] = [];
        const step = kind === BtfKind.ENUM ? 8 : 12;
        for (let j = 0; j < vlen; j++) {
          const m = x + j * step;
          const lo = kflag ? dv.getInt32(m + 4, true) : dv.getUint32(m + 4, true);
          const value = kind === BtfKind.ENUM ? BigInt(lo) : (BigInt(kflag ? dv.getInt32(m + 8, true) : dv.getUint32(m + 8, true)) << 32n) | BigInt(dv.getUint32(m + 4, true));
          members.push({ name: str(dv.getUint32(m, true)), value });
        }
        const e: BtfEnum = { name: str(nameOff), size: ref, signed: kflag, members };
        enums.push(e);
        this.#enumById.set(id, e);
        if (e.name && !this.#byName.has(e.name)) this.#byName.set(e.name, e);
        for (const mem of members) if (!this.#members.has(mem.name)) this.#members.set(mem.name, { e, value: mem.value });
      }
      o = x + 4 * extraWords(kind, vlen);
    }
    this.enums = enums;
  }

  readonly #string: (off: number) => string;

  /** Parses a raw BTF blob (as /sys/kernel/btf/* holds it); `base` for a module's split BTF. */
  static parse(blob: Uint8Array, base?: BtfEnums, source = "a BTF blob"): BtfEnums {
    return new BtfEnums(blob, base, source);
  }

  static #vmlinux: BtfEnums | null = null;
  static #moduleCache: BtfEnums[] | null = null;

  /** The running kernel's BTF; NotSupportedError when it has none. Read once per process. */
  static vmlinux(): BtfEnums {
    if (BtfEnums.#vmlinux) return BtfEnums.#vmlinux;
    let blob: Uint8Array;
    try {
      blob = readFileSync("/sys/kernel/btf/vmlinux");
    } catch {
      // libbpf also looks for a vmlinux image with a .BTF section (/boot, /lib/modules).
      const h = ffi.loadVmlinuxBtf();
      if (h === null) {
        throw new NotSupportedError("kernel BTF", `libbpf found no BTF for the running kernel (${errnoName(ffi.errno())}): /sys/kernel/btf/vmlinux needs CONFIG_DEBUG_INFO_BTF=y`);
      }
      try {
        const raw = ffi.rawData(h);
        if (raw === null) throw new NotSupportedError("kernel BTF", "libbpf loaded it but returned no data");
        blob = raw;
      } finally {
        ffi.freeBtf(h);
      }
    }
    BtfEnums.#vmlinux = new BtfEnums(blob, undefined, "/sys/kernel/btf/vmlinux");
    return BtfEnums.#vmlinux;
  }

  /** The running kernel's BTF, or null when there is none. */
  static tryVmlinux(): BtfEnums | null {
    try {
      return BtfEnums.vmlinux();
    } catch (e) {
      if (e instanceof NotSupportedError) return null;
      throw e;
    }
  }

  /** Loaded modules' BTF (split on vmlinux), read on first use; unreadable ones are skipped. */
  #modules(): BtfEnums[] {
    if (this !== BtfEnums.#vmlinux) return [];
    if (BtfEnums.#moduleCache) return BtfEnums.#moduleCache;
    const out: BtfEnums[] = [];
    let names: string[] = [];
    try {
      names = readdirSync("/sys/kernel/btf").filter((n) => n !== "vmlinux");
    } catch {
      // no /sys/kernel/btf: no modules either
    }
    for (const m of names) {
      try {
        out.push(new BtfEnums(readFileSync(`/sys/kernel/btf/${m}`), this, `/sys/kernel/btf/${m}`));
      } catch {
        // a module unloaded meanwhile, or BTF we cannot read: its names stay unknown
      }
    }
    BtfEnums.#moduleCache = out;
    return out;
  }

  /** The enum called `name` (`skb_drop_reason` or `enum skb_drop_reason`), in this BTF or a module's. */
  byName(name: string): BtfEnum | undefined {
    const bare = name.replace(/^enum\s+/, "").trim();
    return this.#byName.get(bare) ?? this.#modules().map((m) => m.#byName.get(bare)).find((e) => e);
  }

  /** The enum that declares enumerator `member` (TCP_ESTABLISHED: the anonymous enum of TCP states). */
  containing(member: string): BtfEnum | undefined {
    return (this.#members.get(member) ?? this.#modules().map((m) => m.#members.get(member)).find((e) => e))?.e;
  }

  /** An enumerator's value, typed as C types it (int when it fits, else the enum's own width). */
  constant(name: string): CInt | undefined {
    const hit = this.#members.get(name) ?? this.#modules().map((m) => m.#members.get(name)).find((e) => e);
    if (!hit) return undefined;
    const v = hit.value;
    if (v >= -(1n << 31n) && v < 1n << 31n) return cint(v, 32, false);
    if (v >= 0n && v < 1n << 32n) return cint(v, 32, true);
    return cint(v, 64, !hit.e.signed);
  }

  /** Width and sign of a typedef (`gfp_t`, `size_t`) or `enum X`, for casts. */
  type(name: string): IntType | undefined {
    if (name.startsWith("enum ")) {
      const e = this.byName(name);
      return e ? { bits: (e.size * 8) as 8 | 16 | 32 | 64, signed: e.signed } : undefined;
    }
    const id = this.#typedefs.get(name);
    if (id !== undefined) return this.#intType(id);
    for (const m of this.#modules()) {
      const t = m.type(name);
      if (t) return t;
    }
    return this.#base?.type(name);
  }

  /** The enum a field's C type names: `enum skb_drop_reason`, or a typedef of an enum. */
  enumOfType(type: string): BtfEnum | undefined {
    const t = type.replace(/\b(const|volatile)\b/g, " ").replace(/\s+/g, " ").trim();
    if (t.startsWith("enum ")) return this.byName(t);
    if (!/^\w+$/.test(t)) return undefined;
    for (const btf of [this, ...this.#modules()]) {
      const id = btf.#typedefs.get(t);
      if (id !== undefined) return btf.#resolve(id).e;
    }
    return undefined;
  }

  /** The type behind typedefs and qualifiers: its id, and the enum when it is one. */
  #resolve(id: number): { id: number; e?: BtfEnum } {
    for (let hops = 0; hops < 32; hops++) {
      if (id < this.#firstId) {
        const base = this.#base;
        return base ? base.#resolve(id) : { id };
      }
      const i = id - this.#firstId;
      if (i >= this.#kind.length || !MODIFIERS.has(this.#kind[i]!)) return { id, e: this.#enumById.get(id) };
      id = this.#ref[i]!;
    }
    return { id };
  }

  #intType(id: number): IntType | undefined {
    for (let hops = 0; hops < 32; hops++) {
      if (id < this.#firstId) {
        const base = this.#base;
        return base ? base.#intType(id) : undefined;
      }
      const i = id - this.#firstId;
      if (i >= this.#kind.length) return undefined;
      const kind = this.#kind[i]!;
      if (MODIFIERS.has(kind)) { id = this.#ref[i]!; continue; }
      if (kind === BtfKind.PTR) return { bits: 64, signed: false };
      if (kind === BtfKind.ENUM || kind === BtfKind.ENUM64) {
        const e = this.#enumById.get(id)!;
        return { bits: (e.size * 8) as 8 | 16 | 32 | 64, signed: e.signed };
      }
      if (kind !== BtfKind.INT) return undefined;
      const enc = this.#intEnc[i]!;
      if ((enc >>> 24) & INT_BOOL) return { bits: 1, signed: false };
      const bits = this.#ref[i]! * 8;
      if (bits !== 8 && bits !== 16 && bits !== 32 && bits !== 64) return undefined;
      return { bits, signed: ((enc >>> 24) & INT_SIGNED) !== 0 };
    }
    return undefined;
  }

  /** Named enums, for suggestions. */
  names(): string[] {
    return [...this.#byName.keys()];
  }

  /** Enumerator names, for suggestions. */
  memberNames(): string[] {
    return [...this.#members.keys()];
  }
}

/** Which enum: `"enum skb_drop_reason"` (or its bare name), or the enum that declares `member` (anonymous ones). */
export type EnumSpec = string | { member: string; prefix?: string };

export interface EnumNamesOptions {
  /** Keep only enumerators starting with this (`TCP_` leaves out an enum's other constants). */
  prefix?: string;
  /** Drop the prefix from the names (`SKB_DROP_REASON_NO_SOCKET` → `NO_SOCKET`). */
  strip?: boolean;
}

/** The enumerators of an enum as value → name, the first name of each value; a named error for an unknown enum. */
export function enumNames(spec: EnumSpec, opts: EnumNamesOptions = {}, btf: BtfEnums = BtfEnums.vmlinux()): NamedValue[] {
  const e = findEnum(spec, btf);
  const prefix = opts.prefix ?? (typeof spec === "object" ? spec.prefix : undefined) ?? "";
  const seen = new Set<bigint>();
  const out: NamedValue[] = [];
  for (const m of e.members) {
    if (!m.name.startsWith(prefix) || seen.has(m.value)) continue;
    seen.add(m.value);
    out.push({ value: m.value, name: opts.strip ? m.name.slice(prefix.length) : m.name });
  }
  return out;
}

function findEnum(spec: EnumSpec, btf: BtfEnums): BtfEnum {
  if (typeof spec === "string") {
    const e = btf.byName(spec);
    if (e) return e;
    const near = nearest(spec.replace(/^enum\s+/, ""), btf.names(), 3);
    throw new InvalidArgumentError(`the kernel's BTF has no enum "${spec}"${near.length ? `; nearest: ${near.map((n) => `enum ${n}`).join(", ")}` : ""} (an anonymous enum is found by one of its enumerators: { member: "TCP_ESTABLISHED" })`);
  }
  if (spec === null || typeof spec !== "object" || typeof spec.member !== "string") {
    throw new InvalidArgumentError(`an enum is named by a string ("enum skb_drop_reason") or { member: "TCP_ESTABLISHED", prefix?: "TCP_" }; got ${JSON.stringify(spec)}`);
  }
  const e = btf.containing(spec.member);
  if (e) return e;
  const near = nearest(spec.member, btf.memberNames(), 3);
  throw new InvalidArgumentError(`no enum in the kernel's BTF declares ${spec.member}${near.length ? `; nearest enumerators: ${near.join(", ")}` : ""}`);
}

/**
 * value → name for an enum. Values it does not declare read `0x<hex>` as in the
 * kernel's trace output; `flags` (default: when every enumerator is a single bit and no
 * enumerator equals the value) joins the names of the set bits: `A|B|0x40`.
 */
export function enumDecoder(spec: EnumSpec, opts: EnumNamesOptions & { flags?: boolean } = {}, btf: BtfEnums = BtfEnums.vmlinux()): (v: number | bigint) => string {
  const entries = enumNames(spec, opts, btf);
  return decoderFor(entries, opts.flags);
}

/** Symbolic names, or flags for bit-set enums, as enumDecoder describes. */
export function decoderFor(entries: readonly NamedValue[], flags?: boolean): (v: number | bigint) => string {
  const exact = new Map(entries.map((e) => [BigInt.asUintN(64, e.value), e.name]));
  const asFlags = flags ?? isBitSet(entries);
  return (v) => {
    const b = integer(v);
    if (flags === true) return flagNames(entries, b);
    const hit = exact.get(BigInt.asUintN(64, b));
    if (hit !== undefined) return hit;
    return asFlags ? flagNames(entries, b) : symbolName(entries, b);
  };
}
