/* How uprobe.bpf.c's window is laid out (slots for the return value, the latency and
 * up to six register arguments), and what an aggregation needs of its probe. */
import type { BpfObject } from "../../libbpf/object.js";
import type { Link } from "../../libbpf/link.js";
import { RECORD_BASE } from "../../engine/layout.js";
import type { TracepointField, TracepointFormat } from "../../tracefs/format.js";
import type { HistSpec } from "../../engine/aggregation-run.js";
import type { KeyPlan } from "../../engine/keys.js";
import type { IntType } from "./types.js";

export const TYPES: Record<IntType, { size: 1 | 2 | 4 | 8; signed: boolean; pointer?: true }> = {
  i8: { size: 1, signed: true }, u8: { size: 1, signed: false }, i16: { size: 2, signed: true }, u16: { size: 2, signed: false },
  i32: { size: 4, signed: true }, u32: { size: 4, signed: false }, i64: { size: 8, signed: true }, u64: { size: 8, signed: false },
  char: { size: 1, signed: true }, short: { size: 2, signed: true }, int: { size: 4, signed: true }, "unsigned int": { size: 4, signed: false },
  long: { size: 8, signed: true }, "unsigned long": { size: 8, signed: false }, size_t: { size: 8, signed: false }, ssize_t: { size: 8, signed: true },
  bool: { size: 1, signed: false }, pointer: { size: 8, signed: false, pointer: true },
};

export const MAX_UPROBE_ARGS = 6;
export const SLOT = { ret: 0, latency: 1, arg0: 2 } as const;
export const NSLOTS = 8;

export function slotField(name: string, slot: number, type: IntType): TracepointField {
  const t = TYPES[type];
  return {
    name, type, offset: RECORD_BASE + slot * 8, size: t.size, signed: t.signed, common: false,
    decl: t.pointer ? { kind: "pointer", pointee: "void", userString: false } : { kind: "int", size: t.size, signed: t.signed },
  };
}

export interface Layout {
  entry: boolean;
  ret: boolean;
  paired: boolean;
  /** Slots the stream sends, in order. */
  first: number;
  nslots: number;
}

/** What an aggregation needs of its probe: UprobeProbe implements it, so aggregate.ts never imports probe.ts. */
export interface UprobeSource {
  readonly source: string;
  readonly nargs: number;
  readonly retprobe: boolean;
  /** Some reads happen at the entry: a return then pairs with its entry to carry them. */
  readonly readsAtEntry: boolean;
  readonly format: TracepointFormat;
  /** A list or a wildcard of functions: the `probe` key's names, by cookie. */
  readonly probeNames: readonly string[] | undefined;
  /** The same probe, also deriving these standard columns (uid, ppid...) when a key names them. */
  withColumns(names: readonly string[]): UprobeSource;
  field(name: string, hasReturn: boolean, what: string): TracepointField;
  configure(l: Layout, mode: { aggregate?: { plan: KeyPlan; value: TracepointField | null; hist?: HistSpec; maxKeys: number } }): { obj: BpfObject; attach: () => Link[] };
}
