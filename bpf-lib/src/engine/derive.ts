/* Derived fields: the TypeScript half of bpf-lib/bpf/derive.h. A probe asks for values
 * its context does not carry (uid, a path through kernel pointers, a user buffer, a
 * stack id, a field carried from a start event); this lays them out in the window after
 * the copied fields and encodes the `cfg_derive` table the program reads. From then on
 * they are fields like any other: filters, keys, values and decoders address them by
 * window offset. */
import { InvalidArgumentError } from "../errors.js";

export const MAX_DERIVED = 16;
export const MAX_DEREFS = 4;
export const MAX_DERIVED_BYTES = 1024;
/** sizeof(struct derive): four u8, four u16, then MAX_DEREFS + 1 u16 offsets. */
export const DERIVE_SIZE = 4 + 8 + (MAX_DEREFS + 1) * 2;

/** enum derive_src in derive.h. */
export const DeriveSrc = { uid: 1, gid: 2, cgroup: 3, task: 4, kptr: 5, uptr: 6, kstack: 7, ustack: 8, word: 9, aptr: 10 } as const;
export type DeriveSrcName = keyof typeof DeriveSrc;

/** How a derived value decodes into a column. */
export type DerivedValue =
  | { kind: "int"; size: 1 | 2 | 4 | 8; signed: boolean }
  | { kind: "string"; bytes: number }
  | { kind: "bytes"; size: number }
  | { kind: "stack"; user: boolean };

export interface DeriveSpec {
  /** The column it becomes. */
  column: string;
  src: DeriveSrcName;
  /** kptr/uptr/aptr/word: window offset of the base pointer (or of the carried bytes). aptr: user or kernel memory, by the pointer's address. */
  woff?: number;
  /** task/kptr/uptr/aptr: the chain; P(i+1) = *(P(i) + offsets[i]), the leaf is read at P(n) + offsets[n]. */
  offsets?: readonly number[];
  /** A string leaf stops at its NUL (size counts it); bytes are read whole. */
  leaf?: "bytes" | "string";
  /** Bytes the value takes in the window. */
  size: number;
  /** A list's next element (argv[i], i > 0): left empty, unread, when the slot before it is empty. */
  listNext?: boolean;
  /** A buffer whose length is another field: read min(length, size) bytes. */
  length?: { woff: number; size: 1 | 2 | 4 | 8 };
  value: DerivedValue;
  /** Where the description came from, for error messages ("current.real_parent.tgid"). */
  what?: string;
  /** Whether it reads kernel memory (refused under lockdown=confidentiality). */
  kernelRead?: boolean;
}

export interface DerivedField extends DeriveSpec {
  /** Window offset the program writes it to. */
  doff: number;
}

export interface DerivedLayout {
  fields: DerivedField[];
  /** Window offset of the first derived field (8-aligned). */
  base: number;
  /** Bytes from base to the end of the last field, a multiple of 8. */
  bytes: number;
  /** The `cfg_derive` rodata: MAX_DERIVED entries of DERIVE_SIZE bytes. */
  rodata: Uint8Array;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/**
 * Lays the specs out from `base` (rounded up to 8), each in an 8-aligned slot, in order:
 * a chain may read a pointer an earlier field derived. Throws a named error for a
 * table that does not fit the program's limits.
 */
export function layoutDerived(specs: readonly DeriveSpec[], base: number, source: string): DerivedLayout {
  if (specs.length > MAX_DERIVED) throw new InvalidArgumentError(`${source}: at most ${MAX_DERIVED} derived values (reads, standard columns, stacks, carried fields) per probe; this one asks for ${specs.length}: ${specs.map((s) => s.column).join(", ")}`);
  const start = align8(base);
  let at = start;
  const fields: DerivedField[] = [];
  const rodata = new Uint8Array(MAX_DERIVED * DERIVE_SIZE);
  const dv = new DataView(rodata.buffer);
  specs.forEach((s, i) => {
    const offsets = s.offsets ?? [0];
    if (offsets.length - 1 > MAX_DEREFS) throw new InvalidArgumentError(`${source}: ${s.what ?? s.column} follows ${offsets.length - 1} pointers; at most ${MAX_DEREFS} per read`);
    for (const o of offsets) if (!Number.isInteger(o) || o < 0 || o > 0xffff) throw new InvalidArgumentError(`${source}: ${s.what ?? s.column}: member offset ${o} is beyond the 64 KiB a read step can address`);
    if (!Number.isInteger(s.size) || s.size < 1) throw new InvalidArgumentError(`${source}: ${s.column}: a derived value needs a size of at least 1 byte`);
    const f: DerivedField = { ...s, doff: at };
    fields.push(f);
    at += align8(s.size);
    const e = i * DERIVE_SIZE;
    rodata[e] = DeriveSrc[s.src];
    rodata[e + 1] = (s.leaf === "string" ? 1 : 0) | (s.listNext ? 0x80 : 0); // LEAF_LIST_NEXT
    rodata[e + 2] = offsets.length - 1;
    rodata[e + 3] = s.length?.size ?? 0;
    dv.setUint16(e + 4, s.woff ?? 0, true);
    dv.setUint16(e + 6, f.doff, true);
    dv.setUint16(e + 8, s.size, true);
    dv.setUint16(e + 10, s.length?.woff ?? 0, true);
    offsets.forEach((o, j) => dv.setUint16(e + 12 + j * 2, o, true));
  });
  const bytes = at - start;
  if (bytes > MAX_DERIVED_BYTES) throw new InvalidArgumentError(`${source}: derived values take ${bytes} bytes (${fields.map((f) => `${f.column} ${align8(f.size)}`).join(", ")}); at most ${MAX_DERIVED_BYTES}: read shorter strings or buffers`);
  return { fields, base: start, bytes, rodata };
}
