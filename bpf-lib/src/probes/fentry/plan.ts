/* How a kernel function probe lays out kprobe.bpf.c's window (slots for the return
 * value, the latency and the arguments) and plans an aggregation's key from it. */
import type { BpfObject } from "../../libbpf/object.js";
import type { Link } from "../../libbpf/link.js";
import { RECORD_BASE } from "../../engine/layout.js";
import type { Trace, StopOptions } from "../../engine/trace.js";
import { KeyLayout, PartSrc, type KeyPlan } from "../../engine/keys.js";
import type { TracepointField } from "../../tracefs/format.js";
import { InvalidArgumentError } from "../../errors.js";
import type { KernelFunctionValueKind } from "./prototype.js";
import type { Via } from "./support.js";
import type { StringSource } from "./types.js";

export const SLOT = { ret: 0, latency: 1, arg0: 2 } as const;
export const MAX_ARGS = 6;
export const MAX_STR = 4;
export const STR_MODE: Record<StringSource, number> = { kernel: 0, user: 1, auto: 2 };
const KEY_STR_SRC: Record<StringSource, number> = { user: PartSrc.ustr, kernel: PartSrc.kstr, auto: PartSrc.astr };
export const HIST = { none: 0, log2: 1, linear: 2 } as const;
export const PROGRAMS = { fentry: { entry: "fe_entry", ret: "fe_exit" }, kprobe: { entry: "kp_entry", ret: "kp_return" } } as const;

/** A value the program puts in its window: an argument, the return value or the latency. */
export interface Col {
  column: string;
  slot: number;
  decl: Extract<KernelFunctionValueKind, { kind: "int" | "pointer" }>;
  type: string;
  /** The argument it is (undefined for ret and latency). */
  arg?: string;
  /** Read as a string, from where. */
  string?: StringSource;
  /** A derived value (columns, read): its field after the slots (slot is then unused). */
  derived?: TracepointField;
}

/** Window offset of a column's value. */
export function woffOf(c: Col): number {
  return c.derived ? c.derived.offset - RECORD_BASE : c.slot * 8;
}

export const STANDARD = new Set(["ts", "cpu", "pid", "tid", "comm"]);
/** The column an argument lands in. */
export function kernelFunctionColumnName(arg: string): string {
  return STANDARD.has(arg) || arg === "ret" || arg === "latency" ? `args_${arg}` : arg;
}

/** What a loaded-and-attached probe hands the engines. */
export interface Opened {
  obj: BpfObject;
  via: Via;
  links: Link[];
  source: string;
}

/** How one run configures the object beyond what every run shares. */
export interface RunConfig {
  /** Columns the run reads: decides the argument slots and the pairing. */
  uses: Col[];
  /** Latency is needed (a latency column, filter, key or value). */
  latency: boolean;
  configure(obj: BpfObject): void;
}

/** A stand-in TracepointField, so `where` uses the tracepoint filter compiler (engine/filter.ts). */
export function fieldOf(c: Col): TracepointField {
  if (c.derived) return c.derived;
  const decl = c.decl.kind === "int" ? { kind: "int" as const, size: c.decl.size, signed: c.decl.signed } : { kind: "pointer" as const, pointee: c.decl.pointee, userString: false };
  return { name: c.column, type: c.type, offset: RECORD_BASE + c.slot * 8, size: 8, signed: c.decl.kind === "int" && c.decl.signed, decl, common: false };
}

/** Columns an aggregation's result has besides its keys: a key argument of the same name becomes `args_<name>`. */
const RESULT_COLUMNS = new Set(["count", "sum", "min", "max", "avg", "bucket", "low", "high", "interval", "time"]);

/** A kernel function's key, laid out by the one KeyLayout (engine/keys.ts). */
export function planKey(by: readonly string[], probe: Pick<KernelFunctionSource, "column">, opts: { stringBytes?: number; bucket: boolean }): { plan: KeyPlan; cols: Col[] } {
  const key = new KeyLayout(by);
  const cols: Col[] = [];
  for (const name of by) {
    key.name(name);
    if (key.standard(name)) continue;
    const c = probe.column(RESULT_COLUMNS.has(name.replace(/^args_/, "")) ? name.replace(/^args_/, "") : name);
    cols.push(c);
    const woff = woffOf(c);
    const column = RESULT_COLUMNS.has(c.column) ? `args_${c.column}` : c.column;
    const d = c.derived?.decl;
    if (d?.kind === "char_array") key.chars(column, woff, d.length, c.derived);
    else if (d?.kind === "int") key.int(column, woff, d.size, d.signed, { field: c.derived });
    else if (d?.kind === "pointer") key.pointer(column, woff, c.derived);
    else if (d) throw new InvalidArgumentError(`"${name}" (${c.type}) cannot be an aggregation key; read it as a string or an integer`);
    else if (c.string) key.string(column, KEY_STR_SRC[c.string], woff, opts.stringBytes);
    else if (c.decl.kind === "int") key.int(column, woff, c.decl.size, c.decl.signed);
    else key.pointer(column, woff);
  }
  return { plan: key.finish(opts.bucket), cols };
}

/** What an aggregation needs of its probe: KernelFunctionProbe implements it, so aggregate.ts never imports probe.ts. */
export interface KernelFunctionSource {
  readonly kind: "kprobe" | "kretprobe";
  readonly function: string;
  /** How errors name the probe: the call the user wrote. */
  readonly label: string;
  column(name: string): Col;
  /** The same probe, also deriving these standard columns (uid, ppid...) when a key names them. */
  withColumns(names: readonly string[]): KernelFunctionSource;
  openAggregate(uses: Col[], latency: boolean, configure: (obj: BpfObject) => void): Opened;
  latencyEvents(): { start(stop?: StopOptions): Trace };
}
