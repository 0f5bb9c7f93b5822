/* Decodes a user's ring records (a C struct from the cell's BTF, no bpfbook header) into
 * one column per leaf, with the engine's field decoders, so a cell's ring reads like any
 * other Trace stream. */
import { handOver } from "../../engine/columns.js";
import { decoders } from "../../engine/fields.js";
import type { Columns, FieldDecoder, StreamDecoder } from "../../engine/decoder.js";
import type { Leaf, RecordLayout } from "./layout.js";

/** The column decoder of one leaf; 64-bit integers decode as numbers (rounded ones counted). */
export function fieldDecoder(leaf: Leaf): FieldDecoder {
  switch (leaf.kind) {
    case "int": return decoders.int(leaf.name, leaf.offset, leaf.size, leaf.signed, "number");
    case "bits": return decoders.bits(leaf.name, leaf.bitOffset, leaf.bits, leaf.signed);
    case "float": return decoders.float(leaf.name, leaf.offset, leaf.size);
    case "pointer": return decoders.pointer(leaf.name, leaf.offset);
    case "chars": return decoders.chars(leaf.name, leaf.offset, leaf.length);
    case "ints": return decoders.ints(leaf.name, leaf.offset, leaf.elem, leaf.signed, leaf.length);
    case "bytes": return decoders.bytes(leaf.name, leaf.offset, leaf.size);
  }
}

export class RecordDecoder implements StreamDecoder {
  n = 0;
  readonly layout: RecordLayout;
  readonly fields: readonly FieldDecoder[];
  /** Records whose length was not the record type's size: counted rather than misread. */
  malformed = 0;
  #cap: number;
  readonly #u8: Uint8Array;
  readonly #dv: DataView;

  constructor(view: { u8: Uint8Array; u32: Uint32Array; dv: DataView }, layout: RecordLayout, capacity = 4096) {
    this.#u8 = view.u8;
    this.#dv = view.dv;
    this.layout = layout;
    this.fields = layout.leaves.map(fieldDecoder);
    this.#cap = Math.max(1, capacity);
    for (const f of this.fields) f.grow(this.#cap);
  }

  #grow(rows = this.#cap * 2): void {
    this.#cap = Math.max(rows, this.#cap * 2);
    for (const f of this.fields) f.grow(this.#cap);
  }

  /** One record at `off` in the data area (past its 8-byte header), `len` bytes. */
  record(off: number, len: number): void {
    if (len !== this.layout.size) {
      this.malformed++;
      return;
    }
    const row = this.n;
    if (row === this.#cap) this.#grow();
    const fields = this.fields;
    for (let i = 0; i < fields.length; i++) fields[i]!.decode(this.#u8, this.#dv, off, row);
    this.n = row + 1;
  }

  /** Walks records from `cons` to `prod` in one loop (see EventDecoder.span); returns where it stopped. */
  span(u32: Uint32Array, size: number, cons: number, prod: number, max: number): number {
    const fields = this.fields, nf = fields.length, u8 = this.#u8, dv = this.#dv, rsz = this.layout.size;
    let row = this.n, taken = 0;
    const pending = Math.min(max, Math.ceil((prod - cons) / ((rsz + 15) & ~7)));
    if (row + pending > this.#cap) this.#grow(row + pending);
    const cap = this.#cap;
    while (cons < prod && taken < max && row < cap) {
      const off = cons % size;
      const hdr = u32[off >>> 2]!;
      if (hdr & 0x80000000) break; // BUSY: not committed yet
      const len = hdr & 0x3fffffff;
      cons += (len + 15) & ~7;
      if (hdr & 0x40000000) continue; // discarded
      if (len !== rsz) {
        this.malformed++;
        continue;
      }
      for (let i = 0; i < nf; i++) fields[i]!.decode(u8, dv, off + 8, row);
      row++;
      taken++;
    }
    this.n = row;
    return cons;
  }

  take(): Columns {
    const cols: Columns = {};
    // fields full but for a sliver hand their arrays over and are left empty: made again below
    const full = handOver(this.n, this.#cap);
    for (const f of this.fields) cols[f.name] = f.take(this.n);
    this.n = 0;
    if (full) for (const f of this.fields) f.grow(this.#cap);
    return cols;
  }

  peek(): Columns {
    const cols: Columns = {};
    for (const f of this.fields) cols[f.name] = f.peek(this.n);
    return cols;
  }

  truncated(): number {
    return 0; // fixed-size records: nothing is cut
  }

  precision(): { imprecise?: number; impreciseColumns?: string[] } {
    const cols = this.fields.filter((f) => (f.imprecise ?? 0) > 0);
    if (!cols.length) return {};
    return { imprecise: cols.reduce((s, f) => s + (f.imprecise ?? 0), 0), impreciseColumns: cols.map((f) => f.name) };
  }

  stackStats(): { stacksLost?: number } {
    return {};
  }
}
