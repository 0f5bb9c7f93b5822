/* Aggregation keys: which standard columns and record fields make a key, where
 * each sits in the key bytes the kernel builds (struct key_part in bpf/key.h, the one
 * key builder of tracepoints, uprobes and kernel functions), and how to read them
 * back into columns. KeyLayout is the one layout every planner uses. Pure. */
import { InvalidArgumentError } from "../errors.js";
import type { TracepointField, TracepointFormat } from "../tracefs/format.js";
import { fieldOf } from "../tracefs/catalog.js";
import { RECORD_BASE, COMM_LEN } from "./layout.js";
import { cString } from "./strings.js";
import { stackKind } from "./stack-ids.js";

/** Key bytes the kernel programs hold (MAX_KEY in bpf/agg.h). */
export const MAX_KEY = 128;
export const MAX_PARTS = 8;
export const PartSrc = { pid: 1, tid: 2, comm: 3, cpu: 4, cgroup: 5, field: 6, ustr: 7, bucket: 8, kstr: 9, astr: 10, probe: 11, chars: 12 } as const;
/** Bytes of a string key part: default, and the largest one key can hold next to nothing else. */
export const STRING_BYTES = { default: 32, min: 8, max: MAX_KEY - 8 } as const;
/** Appended to a string key that filled its part: it may stand for several longer strings. */
export const TRUNCATED_MARK = "…";

/** 64-bit integers that do not fit a double exactly come back as bigint. */
export type KeyValue = number | string | bigint;

export interface KeyPart {
  /** The column this part becomes. */
  column: string;
  src: number;
  woff: number;
  koff: number;
  size: number;
  /** The field it reads, if any (the window must cover it). */
  field?: TracepointField;
  /** A string part: a value that fills it was cut (counted in stats.truncated). */
  truncates?: boolean;
  /** A stack id (derived kstack/ustack): the result names its frames (engine/stack-columns.ts). */
  stack?: "kernel" | "user";
  /** Keyed in the kernel but left out of the result (a pid kept only to name user stacks). */
  hidden?: boolean;
  read(dv: DataView, u8: Uint8Array, at: number): KeyValue;
}

export interface KeyPlan {
  parts: KeyPart[];
  /** Key bytes, a multiple of 8. */
  size: number;
}

/** Names usable in `by` besides the tracepoint's own fields. */
export const STANDARD_KEYS = ["pid", "tid", "comm", "cpu", "cgroup"] as const;

const u32 = (dv: DataView, _u8: Uint8Array, at: number) => dv.getUint32(at, true);

/** A number when exact, else a bigint: 64-bit values never lose precision silently. */
export function exact(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function intReader(size: number, signed: boolean): KeyPart["read"] {
  switch (size) {
    case 1: return (dv, _u, at) => (signed ? dv.getInt8(at) : dv.getUint8(at));
    case 2: return (dv, _u, at) => (signed ? dv.getInt16(at, true) : dv.getUint16(at, true));
    case 4: return (dv, _u, at) => (signed ? dv.getInt32(at, true) : dv.getUint32(at, true));
    default: return (dv, _u, at) => exact(signed ? dv.getBigInt64(at, true) : dv.getBigUint64(at, true));
  }
}

/** A NUL-terminated string read from `size` bytes; one that fills them (no room for more) is marked. */
function stringReader(size: number): KeyPart["read"] {
  return (_dv, u8, at) => {
    const s = cString(u8, at, size);
    return u8[at + size - 2] !== 0 && u8[at + size - 1] === 0 ? s + TRUNCATED_MARK : s;
  };
}

/** True when `v`, read by string part `p`, was cut: marked, and as long as the part allows
 * (a short string that merely ends in "…" is not). Invalid UTF-8 decodes to U+FFFD, never shorter. */
export function isTruncated(p: KeyPart, v: KeyValue): boolean {
  return Boolean(p.truncates) && typeof v === "string" && v.endsWith(TRUNCATED_MARK) && Buffer.byteLength(v) - Buffer.byteLength(TRUNCATED_MARK) >= p.size - 1;
}

/**
 * Lays out a key: each part 8-byte aligned (so integer parts are aligned stores and
 * the hash sees no padding garbage: the kernel zeroes the key first).
 */
export class KeyLayout {
  readonly parts: KeyPart[] = [];
  #koff = 0;
  #seen = new Set<string>();
  readonly #by: readonly string[];

  constructor(by: readonly string[]) {
    this.#by = by;
  }

  /** Every part starts at a multiple of 8: key.h copies comm as two words, and the maps' key size is whole words (agg.h cfg_key_words). */
  #place(size: number): number {
    const at = this.#koff;
    this.#koff += Math.ceil(size / 8) * 8;
    return at;
  }

  /** Refuses a name given twice. */
  name(name: string): void {
    if (this.#seen.has(name)) throw new InvalidArgumentError(`"${name}" appears twice in by`);
    this.#seen.add(name);
  }

  /** pid, tid, cpu, cgroup or comm; false when `name` is none of them. */
  standard(name: string): boolean {
    switch (name) {
      case "pid":
      case "tid":
      case "cpu":
        this.parts.push({ column: name, src: PartSrc[name], woff: 0, koff: this.#place(4), size: 4, read: u32 });
        return true;
      case "cgroup":
        this.parts.push({ column: name, src: PartSrc.cgroup, woff: 0, koff: this.#place(8), size: 8, read: intReader(8, false) });
        return true;
      case "comm":
        this.parts.push({ column: name, src: PartSrc.comm, woff: 0, koff: this.#place(COMM_LEN), size: COMM_LEN, read: (_dv, u8, at) => cString(u8, at, COMM_LEN) });
        return true;
    }
    return false;
  }

  int(column: string, woff: number, size: number, signed: boolean, extra: { field?: TracepointField; names?: (n: number) => string } = {}): void {
    const read = intReader(size, signed);
    const names = extra.names;
    const stack = extra.field ? stackKind(extra.field.type) : undefined;
    this.parts.push({ column, src: PartSrc.field, woff, koff: this.#place(size), size, field: extra.field, read: names ? (dv, u8, at) => names(Number(read(dv, u8, at))) : read, ...(stack ? { stack } : {}) });
  }

  /** A char array up to its NUL, zeros after (the record's bytes past the NUL are stale, and must not split a key). */
  chars(column: string, woff: number, length: number, field?: TracepointField): void {
    if (length > MAX_KEY) throw new InvalidArgumentError(`field "${column}" (${length} bytes) is larger than a key (${MAX_KEY} bytes); it cannot be an aggregation key`);
    this.parts.push({ column, src: PartSrc.chars, woff, koff: this.#place(length), size: length, field, read: (_dv, u8, at) => cString(u8, at, length) });
  }

  /** A string read through a pointer, up to `bytes` (stringBytes) bytes with its NUL. */
  string(column: string, src: number, woff: number, bytes: number | undefined, field?: TracepointField): void {
    const size = bytes ?? STRING_BYTES.default;
    if (!Number.isInteger(size) || size < STRING_BYTES.min || size > STRING_BYTES.max) {
      throw new InvalidArgumentError(`key strings (stringBytes) take ${STRING_BYTES.min} to ${STRING_BYTES.max} bytes, got ${size}`);
    }
    this.parts.push({ column, src, woff, koff: this.#place(size), size, field, truncates: true, read: stringReader(size) });
  }

  /** Which probe of a group counted the event (cfg_probe_id), read back as its name. */
  probe(names: readonly string[]): void {
    this.parts.push({ column: "probe", src: PartSrc.probe, woff: 0, koff: this.#place(4), size: 4, read: (dv, _u, at) => names[dv.getUint32(at, true)] ?? `probe ${dv.getUint32(at, true)}` });
  }

  pointer(column: string, woff: number, field?: TracepointField): void {
    this.parts.push({ column, src: PartSrc.field, woff, koff: this.#place(8), size: 8, field, read: (dv, _u, at) => "0x" + dv.getBigUint64(at, true).toString(16) });
  }

  finish(bucket: boolean): KeyPlan {
    // a user stack is named from its process's mappings: key by pid too, merged away after naming
    if (this.parts.some((p) => p.stack === "user") && !this.parts.some((p) => p.column === "pid" && p.src === PartSrc.pid)) {
      this.parts.push({ column: "pid", src: PartSrc.pid, woff: 0, koff: this.#place(4), size: 4, read: u32, hidden: true });
    }
    if (bucket) this.parts.push({ column: "bucket", src: PartSrc.bucket, woff: 0, koff: this.#place(4), size: 4, read: u32 });
    // a hidden part (the pid that names user stacks) takes a place too
    const hidden = this.parts.filter((p) => p.hidden).length;
    if (this.parts.length > MAX_PARTS) throw new InvalidArgumentError(`at most ${MAX_PARTS - (bucket ? 1 : 0) - hidden} key columns${hidden ? " with a user stack (it keys by pid too)" : ""}, got ${this.#by.length}`);
    const size = Math.max(8, this.#koff);
    if (size > MAX_KEY) throw new InvalidArgumentError(`the key (${this.#by.join(", ")}) needs ${size} bytes; the kernel program holds ${MAX_KEY}. Use fewer or shorter key columns (stringBytes)`);
    return { parts: this.parts, size };
  }
}

/** The field behind a name: the tracepoint's own, or `syscall` for the syscall number. */
export function resolveKeyField(format: TracepointFormat, name: string): TracepointField {
  if (name === "syscall") {
    const f = format.fields.find((x) => x.name === "id" || x.name === "__syscall_nr");
    if (!f) throw new InvalidArgumentError(`"syscall" keys need a syscall tracepoint (raw_syscalls:* or syscalls:*); ${format.group}:${format.name} has no syscall number`);
    return f;
  }
  return fieldOf(format, name.startsWith("args_") ? name.slice(5) : name);
}

/** A tracepoint's key (or a uprobe's, whose window is described as a format too). */
export function planKey(by: readonly string[], format: TracepointFormat | null, opts: { stringBytes?: number; bucket?: boolean; syscallNames?: (n: number) => string; probeNames?: readonly string[] } = {}): KeyPlan {
  const key = new KeyLayout(by);
  for (const name of by) {
    key.name(name);
    if (key.standard(name)) continue;
    // `probe`: the names of a group's probes, by id (a group of tracepoints; a field named probe is args_probe there)
    if (name === "probe" && opts.probeNames) {
      key.probe(opts.probeNames);
      continue;
    }
    if (!format) throw new InvalidArgumentError(`unknown key "${name}": use ${STANDARD_KEYS.join(", ")}`);
    const f = resolveKeyField(format, name);
    const woff = f.offset - RECORD_BASE;
    const d = f.decl;
    const column = name === "syscall" ? "syscall" : STANDARD_KEYS.includes(f.name as (typeof STANDARD_KEYS)[number]) ? `args_${f.name}` : f.name;
    if (d.kind === "int") {
      key.int(column, woff, d.size, d.signed, { field: f, names: name === "syscall" ? opts.syscallNames : undefined });
    }
    else if (d.kind === "char_array") key.chars(column, woff, d.length, f);
    else if (d.kind === "pointer" && d.userString) key.string(column, PartSrc.ustr, woff, opts.stringBytes, f);
    else if (d.kind === "pointer") key.pointer(column, woff, f);
    else throw new InvalidArgumentError(`field "${f.name}" (${f.type}) cannot be an aggregation key; use integers, char arrays, syscall string arguments, or ${STANDARD_KEYS.join(", ")}`);
  }
  return key.finish(Boolean(opts.bucket));
}

/** The bytes of cfg_parts / cfg_pair (MAX_PARTS × {u16 src, woff, koff, size}). */
export function encodeParts(parts: readonly KeyPart[]): Uint8Array {
  const out = new Uint8Array(MAX_PARTS * 8);
  const dv = new DataView(out.buffer);
  parts.forEach((p, i) => {
    dv.setUint16(i * 8, p.src, true);
    dv.setUint16(i * 8 + 2, p.woff, true);
    dv.setUint16(i * 8 + 4, p.koff, true);
    dv.setUint16(i * 8 + 6, p.size, true);
  });
  return out;
}

/** The key columns a result shows, in order: not the histogram bucket, not hidden parts. */
export function keyColumns(plan: KeyPlan): string[] {
  return plan.parts.filter((p) => p.column !== "bucket" && !p.hidden).map((p) => p.column);
}
