/* Fields carried from a start event to its end (aggregate.bpf.c, pairing): which words
 * of each start's window (or of its pid/tid/comm) the start stores with its timestamp,
 * and where the end puts them back in its own window. From there they are fields of the
 * end event: keys, stream decoders and values address them like its own. Pure. */
import { InvalidArgumentError } from "../errors.js";
import type { TracepointField, TracepointFormat } from "../tracefs/format.js";
import { fieldOf } from "../tracefs/catalog.js";
import { COMM_LEN, RECORD_BASE } from "./layout.js";
import type { DerivedLayout } from "./derive.js";

/** Bytes a start can carry (MAX_CARRY in aggregate.bpf.c). */
export const MAX_CARRY = 512;
/** The program's window span (MAX_SPAN in event.h): the start's ident follows it in the scratch. */
const MAX_SPAN = 2048;
/** The end puts carried words at most here (the end's copy is bounded by MAX_SPAN - MAX_CARRY). */
const MAX_CARRY_OFF = MAX_SPAN - MAX_CARRY;

/** The starting task's own columns, taken from its ident (struct stream_ident: pid_tgid, comm). */
const IDENT: Readonly<Record<string, { at: number; decl: TracepointField["decl"]; type: string }>> = {
  tid: { at: MAX_SPAN, decl: { kind: "int", size: 4, signed: false }, type: "u32" },
  pid: { at: MAX_SPAN + 4, decl: { kind: "int", size: 4, signed: false }, type: "u32" },
  comm: { at: MAX_SPAN + 8, decl: { kind: "char_array", length: COMM_LEN }, type: `char[${COMM_LEN}]` },
};
/** Columns every end event has: a carried field of the same name is prefixed start_. */
const END_STANDARD = ["ts", "cpu", "pid", "tid", "comm", "latency"];

export interface CarryPlan {
  /** Per start probe: the cfg_carry_src table (MAX_CARRY / 8 u16 window offsets). */
  src: Uint8Array[];
  /** Bytes carried, a multiple of 8 (cfg_carry_bytes). */
  bytes: number;
  /** Window offset of the carried words in the end's window (cfg_carry_off). */
  off: number;
  /** The carried values as fields of the end event (record offsets, i.e. window offset + 8), named as their columns. */
  fields: TracepointField[];
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** The end of everything the end probe's window holds (its fields, derived values): carried words go after it. */
export function windowEnd(format: TracepointFormat, derived: DerivedLayout | null | undefined): number {
  let end = 0;
  for (const f of format.fields) if (!f.common) end = Math.max(end, f.offset + f.size - RECORD_BASE);
  if (derived) end = Math.max(end, derived.base + derived.bytes);
  return align8(end);
}

/**
 * Lays out the carried names: each start's fields (any kind the window holds: integers,
 * char arrays, strings a derived read filled, pointers) or "pid"/"tid"/"comm" of the
 * starting task (a record field of one of those names is args_<name>, as in rows). `endColumns` are the end event's own columns; a carried name among
 * them (or among the standard columns) becomes start_<name>.
 */
export function planCarry(names: readonly string[], starts: readonly TracepointFormat[], endOff: number, endColumns: readonly string[], source: string): CarryPlan {
  const taken = new Set([...END_STANDARD, ...endColumns]);
  const src = starts.map(() => new Uint8Array((MAX_CARRY / 8) * 2));
  const fields: TracepointField[] = [];
  let at = 0;
  const sizes: string[] = [];
  for (const name of names) {
    const column = taken.has(name) ? `start_${name}` : name;
    if (fields.some((f) => f.name === column)) throw new InvalidArgumentError(`${source}: "${name}" is carried twice`);
    let shape: { decl: TracepointField["decl"]; type: string; size: number; signed: boolean; list?: TracepointField["list"] } | null = null;
    starts.forEach((fmt, i) => {
      const ident = IDENT[name];
      let base: number;
      let here: NonNullable<typeof shape>;
      if (ident) {
        base = ident.at;
        here = { decl: ident.decl, type: ident.type, size: ident.decl.kind === "int" ? ident.decl.size : COMM_LEN, signed: false };
      } else {
        const f = fieldOf(fmt, name.startsWith("args_") && IDENT[name.slice(5)] ? name.slice(5) : name);
        if (f.offset < RECORD_BASE) throw new InvalidArgumentError(`${source}: "${name}" lies in the record header, which tracepoint programs cannot read; carry "pid", "tid" or "comm" for the starting task`);
        if (f.decl.kind === "data_loc") throw new InvalidArgumentError(`${source}: "${name}" of ${fmt.group}:${fmt.name} is a __data_loc field (its data lies past the record): it cannot be carried; carry a fixed-size field, or read it with read: {...}`);
        if (f.decl.kind === "pointer" && f.decl.userString) throw new InvalidArgumentError(`${source}: "${name}" is a user-space string pointer; carry the string: read it at the start with read: { ${name}: { from: "${name}", user: true, string: 64 } }`);
        base = f.offset - RECORD_BASE;
        here = { decl: f.decl, type: f.type, size: f.size, signed: f.signed, ...(f.list ? { list: f.list } : {}) };
      }
      if (shape && (shape.size !== here.size || shape.decl.kind !== here.decl.kind)) {
        throw new InvalidArgumentError(`${source}: carried "${name}" is ${shape.type} in one start event and ${here.type} in ${fmt.group}:${fmt.name}: every start must carry it in the same shape`);
      }
      shape ??= here;
      const dv = new DataView(src[i]!.buffer);
      for (let w = 0; w * 8 < here.size; w++) {
        const word = (at + w * 8) / 8;
        if (word < MAX_CARRY / 8) dv.setUint16(word * 2, base + w * 8, true);
      }
    });
    const s = shape!;
    fields.push({ name: column, type: s.type, offset: endOff + at + RECORD_BASE, size: s.size, signed: s.signed, decl: s.decl, common: false, ...(s.list ? { list: s.list } : {}) });
    sizes.push(`${column} ${align8(s.size)}`);
    at += align8(s.size);
  }
  if (at > MAX_CARRY) throw new InvalidArgumentError(`${source}: carried fields take ${at} bytes (${sizes.join(", ")}); a start carries at most ${MAX_CARRY}: carry fewer fields or shorter strings (stringBytes on the start probe)`);
  if (at > 0 && endOff > MAX_CARRY_OFF) throw new InvalidArgumentError(`${source}: the end event's window already takes ${endOff} bytes; carried fields must start within the first ${MAX_CARRY_OFF}: ask for fewer end fields or reads`);
  return { src, bytes: at, off: endOff, fields };
}
