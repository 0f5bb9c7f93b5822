/* `where` clauses → the predicates the kernel program evaluates (struct pred in
 * bpf-lib/bpf/event.h). Pure, so it is unit-tested without a kernel. */
import { InvalidArgumentError } from "../errors.js";
import { filterMask, filterValue } from "../options/ranges.js";
import type { TracepointField } from "../tracefs/format.js";
import { MAX_PREDS, PRED_SIZE, PredOp, RECORD_BASE, COMM_LEN } from "./layout.js";

export type Scalar = number | bigint;
export type Comparison<V> = { eq?: V; ne?: V; lt?: V; le?: V; gt?: V; ge?: V; mask?: Scalar };
/** A field's filter: a value (equality), or comparisons that must all hold. */
export type FieldFilter<V> = V | Comparison<V>;

export interface Pred {
  field: string;
  op: keyof typeof PredOp;
  off: number; // offset in the copied window
  size: number;
  signed: boolean;
  value: [bigint, bigint];
  mask: [bigint, bigint];
}

const OPS = ["eq", "ne", "lt", "le", "gt", "ge"] as const;

function isComparison(v: unknown): v is Comparison<unknown> {
  return typeof v === "object" && v !== null && !(v instanceof Uint8Array);
}

/** Turns one field's filter into predicates; throws for what the kernel cannot compare. */
export function predsFor(field: TracepointField, filter: unknown, tracepoint: string): Pred[] {
  const d = field.decl;
  const woff = field.offset - RECORD_BASE;
  const cmps: [string, unknown][] = isComparison(filter)
    ? Object.entries(filter).filter(([k]) => k !== "mask")
    : [["eq", filter]];
  if (cmps.length === 0) throw new InvalidArgumentError(`filter on ${tracepoint} field "${field.name}" has no comparison; use one of ${OPS.join(", ")}`);
  const numeric = d.kind === "int" || d.kind === "pointer";
  const size = d.kind === "int" ? d.size : 8;
  const signed = d.kind === "int" ? d.signed : false;
  const option = `where.${field.name}`;
  const mask = isComparison(filter) && filter.mask !== undefined && numeric ? filterMask(filter.mask, field.name, size, tracepoint, `${option}.mask`) : 0n;
  const out: Pred[] = [];
  for (const [op, v] of cmps) {
    if (!(OPS as readonly string[]).includes(op)) throw new InvalidArgumentError(`unknown comparison "${op}" in filter on "${field.name}"; use ${OPS.join(", ")} (and mask)`);
    if (numeric) {
      // Out of the field's range, a value would wrap in the kernel's comparison and silently match nothing.
      const value = filterValue(v, field.name, size, signed, tracepoint, isComparison(filter) ? `${option}.${op}` : option);
      out.push({ field: field.name, op: op as Pred["op"], off: woff, size, signed, value: [BigInt.asUintN(64, value), 0n], mask: [mask, 0n] });
    } else if (d.kind === "char_array") {
      if (typeof v !== "string") throw new InvalidArgumentError(`filter on ${tracepoint} field "${field.name}" (${field.type}) needs a string, got ${JSON.stringify(v)}`);
      if (op !== "eq" && op !== "ne") throw new InvalidArgumentError(`string field "${field.name}" can only be compared with eq or ne, not ${op}`);
      out.push(stringPred(field.name, woff, d.length, v, op === "eq" ? "streq" : "strne"));
    } else {
      throw new InvalidArgumentError(
        `${tracepoint} field "${field.name}" (${field.type}) cannot be filtered in the kernel; filter the table instead, e.g. t.filter(d => d.${field.name} === ...)`,
      );
    }
  }
  return out;
}

function stringPred(name: string, off: number, arrayLen: number, s: string, op: "streq" | "strne"): Pred {
  const bytes = new TextEncoder().encode(s);
  // Compare the terminating NUL too (when the array has room), so "bas" does not match "bash".
  const n = Math.min(bytes.length + 1, arrayLen);
  if (bytes.length > arrayLen) throw new InvalidArgumentError(`"${s}" is longer than field "${name}" (${arrayLen} bytes)`);
  if (n > 16) throw new InvalidArgumentError(`in-kernel string filters compare at most 16 bytes; "${s}" needs ${n}. Filter the table instead.`);
  const buf = new Uint8Array(16), m = new Uint8Array(16);
  buf.set(bytes);
  m.fill(0xff, 0, n);
  const dv = new DataView(buf.buffer), dm = new DataView(m.buffer);
  return {
    field: name, op, off, size: 16, signed: false,
    value: [dv.getBigUint64(0, true), dv.getBigUint64(8, true)],
    mask: [dm.getBigUint64(0, true), dm.getBigUint64(8, true)],
  };
}

/** The bytes of `cfg_preds` (MAX_PREDS structs of PRED_SIZE). */
export function encodePreds(preds: readonly Pred[]): Uint8Array {
  if (preds.length > MAX_PREDS) throw new InvalidArgumentError(`at most ${MAX_PREDS} field comparisons run in the kernel, got ${preds.length}`);
  const out = new Uint8Array(MAX_PREDS * PRED_SIZE);
  const dv = new DataView(out.buffer);
  preds.forEach((p, i) => {
    const b = i * PRED_SIZE;
    dv.setBigUint64(b, p.value[0], true);
    dv.setBigUint64(b + 8, p.value[1], true);
    dv.setBigUint64(b + 16, p.mask[0], true);
    dv.setBigUint64(b + 24, p.mask[1], true);
    dv.setUint16(b + 32, p.off, true);
    dv.setUint8(b + 34, p.size);
    dv.setUint8(b + 35, PredOp[p.op]);
    dv.setUint8(b + 36, p.signed ? 1 : 0);
  });
  return out;
}

/** The comm filter: the name plus its NUL, so "bas" does not match "bash". */
export function encodeComm(comm: string): { bytes: Uint8Array; len: number } {
  const bytes = new TextEncoder().encode(comm);
  if (bytes.length === 0) throw new InvalidArgumentError("comm filter is empty");
  if (bytes.length > COMM_LEN - 1) throw new InvalidArgumentError(`comm "${comm}" is longer than the kernel keeps (${COMM_LEN - 1} bytes): use its first ${COMM_LEN - 1} bytes, "${comm.slice(0, COMM_LEN - 1)}"`);
  const out = new Uint8Array(COMM_LEN);
  out.set(bytes);
  return { bytes: out, len: Math.min(bytes.length + 1, COMM_LEN) };
}
