/* Aggregation keys: which standard columns and record fields make a key, where
 * each sits in the key bytes the kernel builds (struct key_part in aggregate.bpf.c),
 * and how to read them back into columns. Pure. */
import { InvalidArgumentError } from "../errors.js";
import type { TracepointField, TracepointFormat } from "../tracefs/format.js";
import { fieldOf } from "../tracefs/catalog.js";
import { RECORD_BASE, COMM_LEN } from "../stream/layout.js";
import { cString } from "../stream/strings.js";

export const MAX_KEY = 64;
export const MAX_PARTS = 8;
export const PartSrc = { pid: 1, tid: 2, comm: 3, cpu: 4, cgroup: 5, field: 6, ustr: 7, bucket: 8 } as const;

export type KeyValue = number | string;

export interface KeyPart {
  /** The column this part becomes. */
  column: string;
  src: number;
  woff: number;
  koff: number;
  size: number;
  /** The field it reads, if any (the window must cover it). */
  field?: TracepointField;
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

function intReader(size: number, signed: boolean): KeyPart["read"] {
  switch (size) {
    case 1: return (dv, _u, at) => (signed ? dv.getInt8(at) : dv.getUint8(at));
    case 2: return (dv, _u, at) => (signed ? dv.getInt16(at, true) : dv.getUint16(at, true));
    case 4: return (dv, _u, at) => (signed ? dv.getInt32(at, true) : dv.getUint32(at, true));
    default: return (dv, _u, at) => (signed ? dv.getInt32(at + 4, true) : dv.getUint32(at + 4, true)) * 4294967296 + dv.getUint32(at, true);
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

/**
 * Lays out a key: each part 8-byte aligned (so integer parts are aligned loads and
 * the hash sees no padding garbage: the kernel zeroes the key first).
 */
export function planKey(by: readonly string[], format: TracepointFormat | null, opts: { stringBytes?: number; bucket?: boolean; syscallNames?: (n: number) => string } = {}): KeyPlan {
  const parts: KeyPart[] = [];
  let koff = 0;
  const place = (size: number) => {
    const at = koff;
    koff += Math.ceil(size / 8) * 8;
    return at;
  };
  const seen = new Set<string>();
  for (const name of by) {
    if (seen.has(name)) throw new InvalidArgumentError(`"${name}" appears twice in by`);
    seen.add(name);
    switch (name) {
      case "pid":
      case "tid":
      case "cpu":
        parts.push({ column: name, src: PartSrc[name], woff: 0, koff: place(4), size: 4, read: u32 });
        continue;
      case "cgroup":
        parts.push({ column: name, src: PartSrc.cgroup, woff: 0, koff: place(8), size: 8, read: intReader(8, false) });
        continue;
      case "comm":
        parts.push({ column: name, src: PartSrc.comm, woff: 0, koff: place(COMM_LEN), size: COMM_LEN, read: (_dv, u8, at) => cString(u8, at, COMM_LEN) });
        continue;
    }
    if (!format) throw new InvalidArgumentError(`unknown key "${name}": use ${STANDARD_KEYS.join(", ")}`);
    const f = resolveKeyField(format, name);
    const woff = f.offset - RECORD_BASE;
    const d = f.decl;
    const column = name === "syscall" ? "syscall" : STANDARD_KEYS.includes(f.name as (typeof STANDARD_KEYS)[number]) ? `args_${f.name}` : f.name;
    if (d.kind === "int") {
      const read = intReader(d.size, d.signed);
      const names = name === "syscall" ? opts.syscallNames : undefined;
      parts.push({ column, src: PartSrc.field, woff, koff: place(d.size), size: d.size, field: f, read: names ? (dv, u8, at) => names(read(dv, u8, at) as number) : read });
    } else if (d.kind === "char_array") {
      const size = Math.min(d.length, 16);
      parts.push({ column, src: PartSrc.field, woff, koff: place(size), size, field: f, read: (_dv, u8, at) => cString(u8, at, size) });
    } else if (d.kind === "pointer" && d.userString) {
      const size = opts.stringBytes ?? 32;
      if (!Number.isInteger(size) || size < 8 || size > 48) throw new InvalidArgumentError(`key strings take 8 to 48 bytes, got ${size}`);
      parts.push({ column, src: PartSrc.ustr, woff, koff: place(size), size, field: f, read: (_dv, u8, at) => cString(u8, at, size) });
    } else if (d.kind === "pointer") {
      parts.push({ column, src: PartSrc.field, woff, koff: place(8), size: 8, field: f, read: (dv, _u, at) => "0x" + dv.getBigUint64(at, true).toString(16) });
    } else {
      throw new InvalidArgumentError(`field "${f.name}" (${f.type}) cannot be an aggregation key; use integers, char arrays, syscall string arguments, or ${STANDARD_KEYS.join(", ")}`);
    }
  }
  if (opts.bucket) parts.push({ column: "bucket", src: PartSrc.bucket, woff: 0, koff: place(4), size: 4, read: u32 });
  if (parts.length > MAX_PARTS) throw new InvalidArgumentError(`at most ${MAX_PARTS - (opts.bucket ? 1 : 0)} key columns, got ${by.length}`);
  const size = Math.max(8, koff);
  if (size > MAX_KEY) throw new InvalidArgumentError(`the key (${by.join(", ")}) needs ${size} bytes; the kernel program holds ${MAX_KEY}. Use fewer or shorter key columns (stringBytes)`);
  return { parts, size };
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
