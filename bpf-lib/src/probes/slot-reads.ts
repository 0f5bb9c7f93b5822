/* Derived values for probes whose window is 8-byte slots (uprobes, kernel functions):
 * the `columns` and `read` options planned as tracepoints plan them (tracepoint/reads.ts),
 * laid out after the slots, and decoded from where a stream puts them (after its
 * slots). The slot window is described as a TracepointFormat whose fields are the
 * arguments and the return value, so `read: { x: { from: "arg0" } }` resolves like a
 * tracepoint's pointer field. */
import type { BpfObject } from "../libbpf/object.js";
import { InvalidArgumentError, NotSupportedError, VerifierError } from "../errors.js";
import type { BpfMap } from "../libbpf/map.js";
import type { FieldDecoder } from "../engine/decoder.js";
import { layoutDerived, type DerivedLayout } from "../engine/derive.js";
import { RECORD_BASE } from "../engine/layout.js";
import { integerIn, objectOption } from "../options/shapes.js";
import { DEFAULT_STACK_ENTRIES } from "../engine/stack-ids.js";
import { derivedDecoders } from "./derived-decoders.js";
import type { TracepointField, TracepointFormat } from "../tracefs/format.js";
import { planExtras, planRead, type DerivedColumn, type ExtraColumn, type ReadSpec } from "./tracepoint/reads.js";

/** Window offset of the first derived value: after the eight slots (ret, latency, arg0..arg5). */
export const SLOT_DERIVED_BASE = 64;

export interface SlotDerivedOptions {
  columns?: readonly ExtraColumn[];
  read?: Readonly<Record<string, ReadSpec>>;
  /** Stacks the stack map holds when kstack/ustack are asked for (default 16384); a stack that finds its slot taken is lost and counted in stats.stacksLost. */
  stackEntries?: number;
}

/** A probe's derived values: what the kernel derives, where, and how the engine sees them. */
export interface SlotDerived {
  cols: DerivedColumn[];
  layout: DerivedLayout | null;
  /** One field per column at its window offset (+ RECORD_BASE), for filters, keys and values. */
  fields: TracepointField[];
  /** Slot fields the reads start from or take a length from: the window must hold them. */
  needs: string[];
  /** Entries of the stack map when the probe derives stack ids (it is one entry otherwise). */
  stackEntries: number;
}

/**
 * Plans `columns`, standard columns named in where/by (`named`), and `read` entries
 * against `format` (the slots as fields). `taken`: names the probe's columns already
 * have. `userDefault`: pointers read without `user` are user memory (uprobes). `replaces`: a read
 * named after the argument it starts from replaces that argument's column (kernel functions).
 * `byAddress`: pointer fields whose BTF does not say user or kernel (no __user tags: kernels
 * built with GCC); a string, buffer or array read straight from one, without `user`, picks
 * user or kernel memory by the pointer's address at each event (DER_APTR), as `strings` does.
 */
export function planSlotDerived(format: TracepointFormat, opts: SlotDerivedOptions, named: readonly string[], taken: ReadonlySet<string>, source: string, userDefault = false, replaces = false, byAddress: ReadonlySet<string> = new Set()): SlotDerived {
  const { cols: out } = planExtras(opts.columns, named, taken, source);
  const read = objectOption(opts.read, "read", source, `an object of named reads, e.g. { name: { from: "arg0", string: 64 } }`);
  for (const [column, raw] of Object.entries(read)) {
    // A read named after the argument it reads through replaces that argument's column (pos: "pos").
    const from = typeof raw === "string" ? /^\s*(?:\([^)]*\)\s*)?([A-Za-z_]\w*)/.exec(raw)?.[1] : (raw as { from?: unknown } | null)?.from;
    if ((taken.has(column) && !(replaces && from === column)) || out.some((d) => d.column === column) || ["ts", "cpu", "pid", "tid", "comm"].includes(column)) {
      throw new InvalidArgumentError(`${source}: read "${column}" has the name of a column it already has; name it something else`);
    }
    const spec = userDefault && typeof raw === "object" && raw !== null && (raw as { user?: unknown }).user === undefined && (raw as { path?: unknown; as?: unknown }).path === undefined && (raw as { as?: unknown }).as === undefined
      ? { ...(raw as object), user: true } as ReadSpec
      : raw;
    const planned = planRead(format, column, spec as ReadSpec, source);
    const o = typeof spec === "object" && spec !== null ? (spec as { from?: unknown; user?: unknown; path?: unknown; as?: unknown }) : null;
    // a path goes through kernel structs: only raw memory behind the pointer can be either
    if (o && typeof o.from === "string" && byAddress.has(o.from) && o.user === undefined && o.path === undefined && o.as === undefined) {
      for (const d of planned) if (d.spec.src === "kptr") d.spec.src = "aptr";
    }
    out.push(...planned);
  }
  const layout = out.length ? layoutDerived(out.map((d) => d.spec), SLOT_DERIVED_BASE, source) : null;
  const fields: TracepointField[] = [];
  out.forEach((d, i) => {
    if (d.list && d.list.index > 0) return;
    const at = layout!.fields[i]!.doff + RECORD_BASE;
    const size = d.decl.kind === "int" ? d.decl.size : d.decl.kind === "char_array" ? d.decl.length : d.decl.kind === "pointer" ? 8 : d.spec.size;
    fields.push({ name: d.column, type: d.type, offset: at, size, signed: d.decl.kind === "int" && d.decl.signed, decl: d.decl, common: false });
  });
  const needs = [...new Set(out.flatMap((d) => d.needs ?? []))];
  const stackEntries = integerIn(opts.stackEntries, "stackEntries", source, 1, 1 << 20) ?? DEFAULT_STACK_ENTRIES;
  return { cols: out, layout, fields, needs, stackEntries };
}

/** The names a `where`/`by` can use besides slots: derived columns, and cgroup_path/container (user space). */
export function derivedNames(d: SlotDerived): Set<string> {
  return new Set(d.cols.flatMap((c) => [c.column, ...(c.from ? c.from.split(",") : [])]));
}

/** Refuses a kernel filter on a value the kernel does not hold as one field. */
export function checkFilterable(d: SlotDerived, name: string, source: string): void {
  const c = d.cols.find((x) => x.column === name || x.from?.split(",").includes(name));
  if (c && (c.list || (c.from && c.column !== name))) throw new InvalidArgumentError(`${source}: "${name}" cannot be filtered in the kernel (it is ${c.list ? "a list of strings" : "resolved in user space"}); filter the table instead`);
}

/** Sets cfg_nderive / cfg_derive / cfg_derive_bytes (bytes a stream copies after its slots), and sizes the stack map. */
export function configureSlotDerived(obj: BpfObject, d: SlotDerived, stream: boolean): void {
  obj.setConstant("cfg_nderive", d.cols.length);
  if (d.layout) obj.setConstant("cfg_derive", d.layout.rodata);
  obj.setConstant("cfg_derive_bytes", stream && d.layout ? d.layout.bytes : 0);
  if (hasStacks(d)) obj.map("stacks").setMaxEntries(d.stackEntries);
}

/** Bytes derived values take in a stream event. */
export function derivedEventBytes(d: SlotDerived): number {
  return d.layout?.bytes ?? 0;
}

/**
 * Decoders of the derived columns in a stream event whose derived area starts at event
 * offset `at`; `slotAt(woff)` gives the event offset of a window slot (for a buffer's
 * length), or null when the event does not carry it. `stacks`: the object's stack map.
 */
export function slotDerivedDecoders(d: SlotDerived, at: number, slotAt: (woff: number) => number | null, opts: { bigint?: unknown; wantCgroup: boolean; stacks: BpfMap | null }): FieldDecoder[] {
  if (!d.layout) return [];
  const base = d.layout.base;
  return derivedDecoders(d.cols, d.layout, { at: (doff) => at + doff - base, lengthAt: slotAt, bigint: opts.bigint, wantCgroup: opts.wantCgroup, stacks: opts.stacks });
}

/** Whether the probe derives stack ids (kstack/ustack). */
export function hasStacks(d: SlotDerived): boolean {
  return d.cols.some((c) => c.spec.value.kind === "stack");
}

/** The plan's view of derived values. */
export function derivedPlan(d: SlotDerived): { column: string; what: string; offset: number; bytes: number; kernelRead: boolean }[] {
  return d.cols.map((c, i) => ({ column: c.list ? `${c.column}[${c.list.index}]` : c.column, what: c.spec.what ?? c.column, offset: d.layout!.fields[i]!.doff, bytes: c.spec.size, kernelRead: Boolean(c.spec.kernelRead) }));
}

/** A load error, as NotSupportedError when the verifier refused a kernel read (lockdown=confidentiality). */
export function kernelReadRefused(e: unknown, d: SlotDerived, source: string): unknown {
  const kernelReads = [...new Set(d.cols.filter((c) => c.spec.kernelRead).map((c) => c.column))];
  if (kernelReads.length && e instanceof VerifierError && /probe_read_kernel|unknown func/.test(e.log)) {
    const byAddress = [...new Set(d.cols.filter((c) => c.spec.src === "aptr").map((c) => c.column))];
    const hint = byAddress.length ? `; ${byAddress.join(", ")} ${byAddress.length === 1 ? "reads" : "read"} user or kernel memory by the pointer's address (the kernel's BTF does not say which): give \`user: true\` if the pointer is a user one` : "";
    return new NotSupportedError(`reading ${kernelReads.join(", ")} in ${source}`, `it reads kernel memory (bpf_probe_read_kernel), which this kernel refuses (lockdown=confidentiality?); leave these reads out, or see \`bpfbook doctor\`${hint}`, { cause: e });
  }
  return e;
}
