/* tracepoint("group:name", options): a typed description of an event stream.
 * Nothing touches the kernel until start()/collect()/stream(); then the generic
 * tracepoint program is configured through .rodata, loaded, and attached. */
import { checkSelfOption, excludeSelf, selfByDefault, type SelfOption } from "../self.js";
import { BpfObject } from "../../libbpf/object.js";
import { readFormat, fieldOf } from "../../tracefs/catalog.js";
import type { TracepointField, TracepointFormat } from "../../tracefs/format.js";
import { InvalidArgumentError, NotSupportedError, VerifierError } from "../../errors.js";
import { bpfObjectPath } from "../../paths.js";
import { requireTracingPrivileges } from "../../privileges.js";
import { decoders, int64Mode } from "../../engine/fields.js";
import type { FieldDecoder } from "../../engine/decoder.js";
import { encodeComm, encodePreds, predsFor, type FieldFilter, type Pred } from "../../engine/filter.js";
import { HDR_SIZE, MAX_SPAN, MAX_USTR, MAX_USTR_LEN, MAX_WINDOW, RECORD_BASE } from "../../engine/layout.js";
import { Trace, type CollectOptions, type StopOptions, type StreamSetup } from "../../engine/trace.js";
import type { TraceTable } from "../../engine/table.js";
import { collect, stream, type StreamOptions } from "../../engine/consume.js";
import type { TracepointFields, TracepointName, TracepointUserStrings } from "../../generated/tracepoints.js";
import { Aggregation, type AggregateOptions } from "../../engine/aggregation.js";
import type { HistSpec } from "../../engine/aggregation-run.js";
import { linearRange } from "../../options/hist.js";
import { nameArgument, nameList, objectOption, optionsObject, stringOption, integerIn } from "../../options/shapes.js";
import { bufferBytes, stringSlot, wakeupBytes } from "../../options/sizes.js";
import { processId } from "../../options/ranges.js";
import { stopOptions } from "../../options/durations.js";
import { layoutDerived, type DerivedLayout } from "../../engine/derive.js";
import type { LeafOf } from "../../btf/typed.js";
import { EXTRA_COLUMNS, FROM_CGROUP, isExtraColumn, planExtra, planExtras, planRead, type DerivedColumn, type ExtraColumn, type ExtraRow, type ReadSpec } from "./reads.js";
import { namedFields, withNames } from "../../analysis/names/index.js";
import type { ColumnTable } from "arquero";
import type { BpfMap } from "../../libbpf/map.js";
import { derivedDecoders } from "../derived-decoders.js";
import { DEFAULT_STACK_ENTRIES } from "../../engine/stack-ids.js";

/**
 * Columns every event has. `ts` is CLOCK_MONOTONIC ns (see withTime() for wall clock). A type, not an
 * interface, so rows stay assignable to `Record<string, unknown>`.
 */
export type StandardRow = {
  ts: number;
  cpu: number;
  pid: number;
  tid: number;
  comm: string;
};

type Known<N extends string> = N extends TracepointName ? TracepointFields[N] : Record<string, unknown>;
/** Field names of tracepoint N (every field for an unknown name). */
export type FieldName<N extends string> = Extract<keyof Known<N>, string>;
type UserStrings<N extends string> = N extends keyof TracepointUserStrings ? TracepointUserStrings[N] : never;
type FieldValue<N extends string, K extends FieldName<N>> = K extends UserStrings<N> ? string : Known<N>[K];

/** What an aggregation can be keyed by: standard columns, `syscall`, or the tracepoint's fields. */
export type KeyName<N extends string, R extends Reads = {}> = "pid" | "tid" | "comm" | "cpu" | "cgroup" | "syscall" | ExtraColumn | ColumnName<FieldName<N>> | ReadsExcept<R, { array: number } | { bytes: number }>;

/** A field named like a standard column (a tracepoint's own `pid` or `comm`) becomes `args_<name>`. */
export type ColumnName<K extends string> = K extends keyof StandardRow ? `args_${K}` : K;

/**
 * The row type of a stream of N with fields F, reads R (their names and what they read) and X, the
 * other columns its options add (OptionsRow: `columns`, `names`).
 */
export type TracepointRow<N extends string, F extends FieldName<N>, R extends Reads = {}, X extends object = {}> = StandardRow & { [K in F as ColumnName<K>]: FieldValue<N, K> } & ReadRow<R> & X;

/** The `names` option: true (every field that has names) or a list of fields. */
export type NamesOption = boolean | readonly string[];
/**
 * The name columns `names: M` adds. With a list they are known; with true, which fields have names is
 * only known from this kernel's print fmt at run time, so any `<column>_name` is allowed. A value
 * without a name is null.
 */
export type NamesRow<M> = [M] extends [false] ? {}
  : [M] extends [readonly (infer K extends string)[]] ? { [P in K as `${ColumnName<P>}_name`]: string | null }
  : { [column: `${string}_name`]: string | null };
/** The columns a tracepoint's options add besides its fields and reads: standard columns (`columns`) and names. */
export type OptionsRow<N extends string, C extends ExtraColumn, M> = ExtraRow<C, FieldName<N>> & NamesRow<M>;

/**
 * Any tracepoint probe, whatever its name, fields and reads: what functions that take
 * probes of several tracepoints (latency()) accept. They check at run time that it is one.
 */
export interface SomeTracepoint {
  readonly name: string;
  readonly format: TracepointFormat;
}

/** The `read` option's entries, by column name. */
export type Reads = Readonly<Record<string, ReadSpec>>;
/** What a read decodes to: a typed path's leaf, a string, a list of strings, bytes; else what the path reaches. */
export type ReadValue<S> = S extends { array: number } ? string[]
  : S extends { string: number } ? string
  : S extends { bytes: number } ? Uint8Array
  : [LeafOf<S>] extends [never] ? number | bigint | string | Uint8Array | null : LeafOf<S>;
/** The columns reads add to a row. */
export type ReadRow<R extends Reads> = { [K in keyof R & string]: ReadValue<R[K]> };
/** Filters on reads: integers and strings (with eq/ne). */
export type ReadWhere<R extends Reads> = { [K in ReadsExcept<R, { array: number } | { bytes: number }>]?: FieldFilter<number | bigint | string> };
/** The reads of R except those of kind X: byte buffers are no keys, lists and buffers no kernel filters, strings no values. */
export type ReadsExcept<R extends Reads, X> = { [K in keyof R & string]: R[K] extends X ? never : K }[keyof R & string];
/** The reads that can be an aggregation's value: not strings, lists or buffers. */
type ValueRead<R extends Reads> = { [K in keyof R & string]: ReadValue<R[K]> extends string | string[] | Uint8Array | null ? never : K }[keyof R & string];

export type Where<N extends string> = {
  pid?: number;
  tid?: number;
  comm?: string;
  /** Standard columns derived in the kernel (see `columns`); naming one here derives it. A record field of the same name wins. */
  uid?: FieldFilter<number>;
  gid?: FieldFilter<number>;
  ppid?: FieldFilter<number>;
  pcomm?: FieldFilter<string>;
  cgroup?: FieldFilter<number>;
} & { [K in FieldName<N> as ColumnName<K>]?: FieldFilter<Known<N>[K] extends bigint ? bigint | number : Known<N>[K]> };

const STANDARD = new Set(["ts", "cpu", "pid", "tid", "comm"]);
/** The column a field lands in. */
export function columnName(field: string): string {
  return STANDARD.has(field) ? `args_${field}` : field;
}
/** The field a where-key or column names. */
function fieldNameOf(column: string): string {
  return column.startsWith("args_") && STANDARD.has(column.slice(5)) ? column.slice(5) : column;
}

export interface TracepointOptions<N extends string, F extends FieldName<N>, R extends Reads = {}, C extends ExtraColumn = ExtraColumn, M extends NamesOption = NamesOption> extends SelfOption {
  /** Fields to decode (default: every field of the tracepoint). */
  fields?: readonly F[];
  /** Filters evaluated in the kernel: pid, tid, comm, and comparisons on fields and reads. */
  where?: Where<N> & ReadWhere<R>;
  /** Bytes read for each user-space string (char pointers of syscalls:*), default 256. */
  stringBytes?: number;
  /** Extra bytes copied after the fixed fields for __data_loc strings and arrays, default 256. */
  dataLocBytes?: number;
  /** Ring buffer size (a power of two from 4096 to 1 GiB), default 16 MiB. */
  bufferBytes?: number;
  /** Wake user space once this much data waits (default: a quarter of the buffer, at most 1 MiB). 0: on every event. */
  wakeupBytes?: number;
  /**
   * 64-bit integer fields as exact bigints: true (all), a list of columns, or "auto"
   * (a column turns bigint at its first value of 2^53 or more in magnitude). Default: numbers, with
   * any value a double had to round counted in `stats.imprecise`.
   */
  bigint?: boolean | "auto" | readonly string[];
  /**
   * Standard columns the record does not carry, derived in the kernel: uid, gid (the task's
   * credentials), ppid, pcomm (its parent), cgroup (v2 id); cgroup_path and container are
   * resolved from the cgroup id in user space. kstack and ustack: the kernel and user stacks
   * (bpf_get_stackid), as folded strings, root first (see docs/stacks.md). Naming one in `where` (or an aggregation's
   * `by`) adds it too. A record field of the same name keeps the name; the column is then `task_<name>`.
   */
  columns?: readonly C[];
  /**
   * Values read in the kernel at each event, as named columns: paths through kernel pointers
   * from the current task or a pointer field ("current.real_parent.tgid",
   * "(struct sock *)skaddr->__sk_common.skc_dport"), or user memory behind a syscall's pointer
   * argument ({ from: "argv", user: true, array: 8 }, { from: "buf", user: true, bytes: 64, length: "count" }).
   * See docs/reads.md.
   */
  read?: R;
  /** Stacks the stack map holds when kstack/ustack are asked for (default 16384); a stack that finds its slot taken is lost and counted in stats.stacksLost. */
  stackEntries?: number;
  /**
   * Name columns for enum, flag and address fields (`newstate` → `newstate_name`: "TCP_ESTABLISHED"),
   * from this kernel's print fmt and BTF; the numbers stay. true: every field that has names; or a list. See docs/names.md.
   */
  names?: M;
}

export interface TracepointPlan {
  tracepoint: string;
  fields: { name: string; column: string; type: string; as: "number" | "bigint" | "string" | "array" | "bytes" }[];
  eventBytes: number;
  windowBytes: number;
  /** Bytes of __data_loc data read past the fixed fields (needs kernel memory reads). */
  dataLocBytes: number;
  userStrings: string[];
  kernelFilters: string[];
  bufferBytes: number;
  /** Values derived in the kernel (standard columns, reads): column, what, window offset, bytes. */
  derived: { column: string; what: string; offset: number; bytes: number; kernelRead: boolean }[];
}

/** X: the columns its options add besides fields and reads (OptionsRow), only a type. */
export class TracepointProbe<N extends string, F extends FieldName<N>, R extends Reads = {}, X extends object = {}> {
  readonly name: N;
  readonly format: TracepointFormat;
  readonly #opts: TracepointOptions<N, F, R>;
  readonly #fields: TracepointField[];
  readonly #ustr: TracepointField[];
  readonly #preds: Pred[];
  readonly #window: number;
  readonly #dyn: number;
  readonly #slot: number;
  readonly #bufferBytes: number;
  readonly #derivedCols: DerivedColumn[];
  /** The standard columns it derives, however they were asked for (columns, fields, where). */
  readonly #extras: ExtraColumn[];
  readonly #derived: DerivedLayout | null;
  /** The record's format plus the derived values as fields (what keys, filters and values address). */
  readonly #extended: TracepointFormat;
  readonly #stackEntries: number;

  /** Validates everything up front: a bad name, field, filter or size throws here, before the kernel is touched. */
  constructor(name: N, options: TracepointOptions<N, F, R> = {}) {
    nameArgument(name, "name", "tracepoint()", `a "group:name" string such as "syscalls:sys_enter_openat" (see listTracepoints())`);
    const opts = optionsObject(options, `tracepoint("${name}")`);
    checkSelfOption(opts, `tracepoint("${name}")`);
    this.name = name;
    this.#opts = opts;
    const format = readFormat(name);
    const source = `${format.group}:${format.name}`;
    const fields = nameList(opts.fields, "fields", source) as readonly F[] | undefined;
    const where = objectOption(opts.where, "where", source, "an object of filters, e.g. { pid: 1234, comm: \"bash\" }");
    const planned = planDerived(format, opts, [...(fields ?? []), ...Object.keys(where)], source);
    this.#derivedCols = planned.cols;
    this.#extras = planned.extras;
    const derivedNames = new Set(this.#derivedCols.flatMap((d) => [d.column, ...(d.from ? d.from.split(",") : [])]));
    const wanted = (fields ?? format.fields.filter((f) => !f.common).map((f) => f.name as F)).filter((f) => !derivedNames.has(f));
    this.#fields = wanted.map((f) => fieldOf(format, f));
    // Char pointers of syscall arguments point into the calling process: read them as strings.
    this.#ustr = this.#fields.filter((f) => f.decl.kind === "pointer" && f.decl.userString);
    if (this.#ustr.length > MAX_USTR) throw new InvalidArgumentError(`at most ${MAX_USTR} user-space strings per event; ${source} asks for ${this.#ustr.map((f) => f.name).join(", ")}`);
    this.#slot = stringSlot(opts.stringBytes, source, MAX_USTR_LEN);
    this.#bufferBytes = bufferBytes(opts.bufferBytes, source);
    wakeupBytes(opts.wakeupBytes, this.#bufferBytes, source);

    // Derived values sit after the whole record (and its __data_loc data), wherever the
    // copy window of this probe ends, so every probe made from the same options (withFields)
    // puts them at the same offsets: key plans made on one stay true for the other.
    this.#dyn = 0;
    const recordEnd = Math.min(Math.max(RECORD_BASE, ...format.fields.filter((f) => !f.common).map((f) => f.offset + f.size)) - RECORD_BASE, MAX_WINDOW);
    const hasDataLoc = format.fields.some((f) => f.decl.kind === "data_loc");
    const dynReserve = hasDataLoc ? integerIn(opts.dataLocBytes, "dataLocBytes", source, 0, MAX_WINDOW) ?? 256 : 0;
    this.#derived = this.#derivedCols.length ? layoutDerived(this.#derivedCols.map((d) => d.spec), recordEnd + dynReserve, source) : null;
    // A read named after its pointer field replaces it: keys and filters by that name mean the read.
    this.#extended = this.#derived ? { ...format, fields: [...format.fields.filter((f) => !derivedNames.has(f.name)), ...this.#derivedFields()] } : format;
    this.format = this.#extended;
    this.#preds = [];
    for (const [k, v] of Object.entries(where)) {
      if (v === undefined || k === "pid" || k === "tid" || k === "comm") continue;
      if (FROM_CGROUP.has(k) && !format.fields.some((x) => x.name === k)) throw new InvalidArgumentError(`${source}: "${k}" is resolved from the cgroup id in user space; it cannot be filtered in the kernel: filter the table, or filter by cgroup id ({ cgroup: <id> })`);
      const f = fieldOf(this.#extended, fieldNameOf(k));
      if (this.#derivedCols.some((d) => d.column === f.name && d.spec.value.kind === "stack")) throw new InvalidArgumentError(`${source}: "${k}" is a stack, named in user space; it cannot be filtered in the kernel: filter the table instead (e.g. on a frame name with op.includes)`);
      if (this.#derivedCols.some((d) => d.column === f.name && (d.list || d.from))) throw new InvalidArgumentError(`${source}: "${k}" cannot be filtered in the kernel (it is ${d0(f.name, this.#derivedCols)}); filter the table instead`);
      if (derivedNames.has(f.name) && f.offset - RECORD_BASE > MAX_SPAN - 16) throw new InvalidArgumentError(`${source}: "${k}" lies past the part of the window filters can read (derived values take ${this.#derived?.bytes} bytes here); read fewer or shorter values, or filter the table`);
      this.#preds.push(...predsFor(f, v, source));
    }
    encodePreds(this.#preds); // validates the count
    if (opts.names !== undefined && typeof opts.names !== "boolean") {
      const list = nameList(opts.names, "names", source) ?? [];
      const named = namedFields(source).map((f) => f.field);
      for (const f of list) {
        fieldOf(format, f); // UnknownFieldError with the tracepoint's fields
        if (!named.includes(f)) throw new InvalidArgumentError(`${source}: field "${f}" has no names (no print fmt table, not an enum, not an address); fields with names: ${named.join(", ") || "none"}`);
      }
    }
    processId(where.pid, "where.pid", source);
    processId(where.tid, "where.tid", source);
    if (where.comm !== undefined) encodeComm(stringOption(where.comm, "where.comm", source, "a process name (comm) string, e.g. \"bash\""));

    // The window: every byte a decoded field, a filter or a user pointer needs. It must
    // end at or before the last fixed field: the kernel refuses programs that read past it.
    const fieldEnd = (name: string) => { const f = fieldOf(format, name); return f.offset + f.size; };
    let end = RECORD_BASE;
    for (const f of this.#fields) {
      if (f.offset < RECORD_BASE) throw new InvalidArgumentError(`field "${f.name}" lies in the record header, which tracepoint programs cannot read`);
      end = Math.max(end, f.offset + f.size);
    }
    for (const p of this.#preds) if (!derivedNames.has(p.field)) end = Math.max(end, fieldEnd(p.field));
    for (const d of this.#derivedCols) for (const n of d.needs ?? []) end = Math.max(end, fieldEnd(n));
    if (end - RECORD_BASE > MAX_WINDOW) throw new InvalidArgumentError(`${source} has fields beyond the first ${MAX_WINDOW} bytes of the record, which is what the kernel program copies; pick fewer fields`);
    this.#window = end - RECORD_BASE;
    this.#checkBigint(source);
    this.#stackEntries = integerIn(opts.stackEntries, "stackEntries", source, 1, 1 << 20) ?? DEFAULT_STACK_ENTRIES;
    const dyn = integerIn(opts.dataLocBytes, "dataLocBytes", source, 0, MAX_WINDOW) ?? 256;
    this.#dyn = this.#fields.some((f) => f.decl.kind === "data_loc") ? dyn : 0;
  }

  /** The derived values as fields at their window offsets (one per column; an array read is one field of its first slot). */
  #derivedFields(): TracepointField[] {
    const out: TracepointField[] = [];
    this.#derivedCols.forEach((d, i) => {
      if (d.list && d.list.index > 0) return;
      const at = this.#derived!.fields[i]!.doff + RECORD_BASE;
      // a list (argv) spans all its slots, so a pair carries every element, not the first
      const size = d.list ? d.list.slot * d.list.count : d.decl.kind === "int" ? d.decl.size : d.decl.kind === "char_array" ? d.decl.length : d.decl.kind === "pointer" ? 8 : d.spec.size;
      // a list (argv) is no key: described as raw bytes, planKey refuses it by name
      const decl = d.list ? { kind: "unknown" as const, size: d.list.slot * d.list.count } : d.decl;
      out.push({ name: d.column, type: d.type, offset: at, size, signed: d.decl.kind === "int" && d.decl.signed, decl, common: false, ...(d.list ? { list: { slot: d.list.slot, count: d.list.count } } : {}) });
    });
    return out;
  }

  /** A bigint column list must name this probe's 64-bit integer fields. */
  #checkBigint(source: string): void {
    const wide = this.#fields.filter((f) => f.decl.kind === "int" && f.decl.size === 8 && !this.#ustr.includes(f)).map((f) => columnName(f.name));
    int64Mode(this.#opts.bigint, ""); // throws on a malformed option
    if (!Array.isArray(this.#opts.bigint)) return;
    const bad = (this.#opts.bigint as readonly string[]).filter((c) => !wide.includes(c));
    if (bad.length) throw new InvalidArgumentError(`bigint names ${bad.join(", ")}, which ${bad.length > 1 ? "are not" : "is not a"} 64-bit integer field${bad.length > 1 ? "s" : ""} of ${source}; its 64-bit fields are: ${wide.join(", ") || "(none)"}`);
  }

  /** Bytes the window (plus __data_loc data) takes in each event, 8-aligned. */
  #windowSlot(): number {
    if (this.#derived) return this.#derived.base + this.#derived.bytes;
    return Math.ceil((this.#window + this.#dyn) / 8) * 8;
  }

  /** What will be loaded: fields and how they decode, event size, filters. */
  plan(): TracepointPlan {
    const as = (f: TracepointField): TracepointPlan["fields"][number]["as"] => {
      if (this.#ustr.includes(f)) return "string";
      switch (f.decl.kind) {
        case "int": return f.decl.size === 8 && int64Mode(this.#opts.bigint, columnName(f.name)) === "bigint" ? "bigint" : "number";
        case "pointer": return "bigint";
        case "char_array": return "string";
        case "int_array": return "array";
        case "data_loc": return f.decl.elem === "string" ? "string" : "bytes";
        default: return "bytes";
      }
    };
    const w = (this.#opts.where ?? {}) as Record<string, unknown>;
    return {
      tracepoint: `${this.format.group}:${this.format.name}`,
      fields: this.#fields.map((f) => ({ name: f.name, column: columnName(f.name), type: f.type, as: as(f) })),
      eventBytes: this.#eventSize(),
      windowBytes: this.#window,
      dataLocBytes: this.#dyn,
      userStrings: this.#ustr.map((f) => f.name),
      kernelFilters: [
        ...(["pid", "tid", "comm"] as const).filter((k) => w[k] !== undefined).map((k) => `${k} == ${JSON.stringify(w[k])}`),
        ...this.#preds.map((p) => `${p.field} ${p.op} ${p.op.startsWith("str") ? "(string)" : p.value[0]}`),
      ],
      bufferBytes: this.#bufferBytes,
      derived: this.#derivedCols.map((d, i) => ({ column: d.list ? `${d.column}[${d.list.index}]` : d.column, what: d.spec.what ?? d.column, offset: this.#derived!.fields[i]!.doff, bytes: d.spec.size, kernelRead: Boolean(d.spec.kernelRead) })),
    };
  }

  #eventSize(): number {
    return HDR_SIZE + this.#windowSlot() + this.#ustr.length * this.#slot;
  }

  #decoders(stacks: BpfMap): FieldDecoder[] {
    const toEvent = HDR_SIZE - RECORD_BASE; // record offset → event offset
    const windowEnd = HDR_SIZE + this.#window + this.#dyn;
    const eventEnd = HDR_SIZE + this.#windowSlot();
    return this.#fields.map((f) => {
      const at = f.offset + toEvent;
      const u = this.#ustr.indexOf(f);
      const col = columnName(f.name);
      if (u >= 0) return decoders.chars(col, eventEnd + u * this.#slot, this.#slot);
      const d = f.decl;
      switch (d.kind) {
        case "int": return decoders.int(col, at, d.size, d.signed, int64Mode(this.#opts.bigint, col));
        case "pointer": return decoders.pointer(col, at);
        case "char_array": return decoders.chars(col, at, d.length);
        case "int_array": return decoders.ints(col, at, d.elem, d.signed, d.length);
        case "data_loc": return decoders.dataLoc(col, at, f.offset + f.size, d.rel, d.elem === "string", toEvent, windowEnd);
        default: return decoders.bytes(col, at, f.size);
      }
    }).concat(this.#derivedDecoders(stacks));
  }

  #derivedDecoders(stacks: BpfMap): FieldDecoder[] {
    if (!this.#derived) return [];
    // the window is copied from its start, so a window offset is an event offset past the header
    return derivedDecoders(this.#derivedCols, this.#derived, { at: (woff) => HDR_SIZE + woff, lengthAt: (woff) => HDR_SIZE + woff, bigint: this.#opts.bigint, wantCgroup: this.#columnWanted("cgroup"), stacks });
  }

  #columnWanted(name: string): boolean {
    return Boolean(this.#opts.columns?.includes(name as ExtraColumn) || (this.#opts.fields as readonly string[] | undefined)?.includes(name));
  }

  /** The fields this probe reads (what the window covers). */
  get fields(): readonly TracepointField[] {
    return this.#fields;
  }

  /** "group:name" as tracefs spells it. */
  get source(): string {
    return `${this.format.group}:${this.format.name}`;
  }

  /**
   * @internal Sets what every program reading this tracepoint shares: the pid/tid/comm
   * filter, the window copy and the field predicates (record.h, stream.h).
   */
  configureRecord(obj: BpfObject): void {
    const w = (this.#opts.where ?? {}) as { pid?: number; tid?: number; comm?: string };
    if (w.pid !== undefined) obj.setConstant("cfg_pid", w.pid);
    if (w.tid !== undefined) obj.setConstant("cfg_tid", w.tid);
    excludeSelf(obj, this.#opts, w, selfByDefault(`${this.format.group}:${this.format.name}`));
    if (w.comm !== undefined) {
      const c = encodeComm(w.comm);
      obj.setConstant("cfg_comm", c.bytes);
      obj.setConstant("cfg_comm_len", c.len);
    }
    obj.setConstant("cfg_window", this.#window);
    obj.setConstant("cfg_npreds", this.#preds.length);
    obj.setConstant("cfg_preds", encodePreds(this.#preds));
    obj.setConstant("cfg_nderive", this.#derivedCols.length);
    // the stack map is one entry unless stacks are asked for
    if (this.#derivedCols.some((d) => d.spec.value.kind === "stack")) obj.map("stacks").setMaxEntries(this.#stackEntries);
    if (this.#derived) obj.setConstant("cfg_derive", this.#derived.rodata);
  }

  /**
   * The columns it derives in the kernel that can travel as fields (carried by pairs):
   * standard columns and reads, but not lists (argv) or what is resolved in user space (container).
   */
  get derivedColumns(): string[] {
    return [...new Set(this.#derivedCols.filter((d) => !d.list && !d.from && d.spec.value.kind !== "stack").map((d) => d.column))];
  }

  /** @internal Where the derived values lie in the window (tracepoint streams copy them from the filter scratch). */
  get derivedLayout(): DerivedLayout | null {
    return this.#derived;
  }

  /** @internal The same probe, also deriving these standard columns (when an aggregation keys or filters by them). */
  withColumns(names: readonly string[]): TracepointProbe<N, F, R> {
    const have = new Set(this.#derivedCols.map((d) => d.column));
    const add = names.filter((n) => isExtraColumn(n) && !have.has(n) && !this.format.fields.some((f) => f.name === n)) as ExtraColumn[];
    if (add.length === 0) return this;
    return new TracepointProbe<N, F, R>(this.name, { ...this.#opts, columns: [...this.#extras, ...add] });
  }

  /** Aggregates in the kernel: keys from `by`, optional value field and histogram (see docs/aggregations.md). */
  aggregate(opts: AggregateOptions & { by?: readonly KeyName<N, R>[]; value?: FieldName<N> | ValueRead<R> }): Aggregation {
    return new Aggregation({ source: this.source, probe: this as unknown as TracepointProbe<string, string>, options: opts, decorate: this.#names() });
  }

  /** The `names` option as a table decoration (key columns of aggregations, fields of streams). */
  #names(): ((t: ColumnTable) => ColumnTable) | undefined {
    const n = this.#opts.names;
    if (!n) return undefined;
    const source = this.source;
    const named = namedFields(source).map((f) => f.field);
    return (t) => withNames(t, source, (Array.isArray(n) ? (n as readonly string[]) : named).filter((f) => t.columnNames().includes(columnName(f))));
  }
  /** Events per key (bpftrace's count()). */
  count(opts: { by?: readonly KeyName<N, R>[]; maxKeys?: number; stringBytes?: number } = {}): Aggregation {
    return this.aggregate(opts);
  }
  /** count, sum, min, max and avg of an integer field per key (bpftrace's sum/min/max/avg/stats). */
  stats(value: FieldName<N> | ValueRead<R>, opts: { by?: readonly KeyName<N, R>[]; maxKeys?: number; stringBytes?: number } = {}): Aggregation {
    return this.aggregate({ ...opts, value });
  }
  /** A log2 histogram of an integer field per key (bpftrace's hist()). */
  hist(value: FieldName<N> | ValueRead<R>, opts: { by?: readonly KeyName<N, R>[]; maxKeys?: number; stringBytes?: number } = {}): Aggregation {
    return this.aggregate({ ...opts, value, hist: "log2" });
  }
  /** A linear histogram of an integer field per key (bpftrace's lhist()). */
  lhist(value: FieldName<N> | ValueRead<R>, range: Exclude<HistSpec, "log2">, opts: { by?: readonly KeyName<N, R>[]; maxKeys?: number; stringBytes?: number } = {}): Aggregation {
    return this.aggregate({ ...opts, value, hist: linearRange(range, this.source) });
  }

  /** The same tracepoint and filters, decoding (or covering) other fields. */
  withFields<G extends FieldName<N>>(fields: readonly G[]): TracepointProbe<N, G, R, X> {
    // every standard column this probe derives, so the derived values keep their offsets
    return new TracepointProbe<N, G, R, X>(this.name, { ...(this.#opts as TracepointOptions<N, FieldName<N>, R>), fields, columns: this.#extras } as TracepointOptions<N, G, R>);
  }

  /** @internal The options this probe was made with. */
  get options(): TracepointOptions<N, F, R> {
    return this.#opts;
  }

  /**
   * @internal Loads the stream's object (not attached yet); `prepare` sets more on it
   * just before load: a group of tracepoints gives each its probe id and one shared ring.
   */
  streamSetup(prepare?: (obj: BpfObject) => void): StreamSetup {
    return this.#setup(prepare);
  }

  #setup(prepare?: (obj: BpfObject) => void): StreamSetup {
    const source = `${this.format.group}:${this.format.name}`;
    requireTracingPrivileges(`tracing ${source}`);
    const obj = BpfObject.open(bpfObjectPath("tracepoint"), "tracepoint");
    try {
      this.configureRecord(obj);
      obj.setConstant("cfg_event_size", this.#eventSize());
      obj.setConstant("cfg_window_slot", this.#windowSlot());
      obj.setConstant("cfg_dyn_bytes", this.#dyn);
      obj.setConstant("cfg_derive_base", this.#derived?.base ?? 0);
      obj.setConstant("cfg_derive_bytes", this.#derived?.bytes ?? 0);
      obj.program(this.#dyn ? "on_tracepoint" : "on_tracepoint_dyn").setAutoload(false);
      obj.setConstant("cfg_nustr", this.#ustr.length);
      const offs = new Uint8Array(MAX_USTR * 4);
      this.#ustr.forEach((f, i) => new DataView(offs.buffer).setUint32(i * 4, f.offset - RECORD_BASE, true));
      obj.setConstant("cfg_ustr_off", offs);
      obj.setConstant("cfg_ustr_len", this.#slot);
      obj.setConstant("cfg_wakeup_bytes", wakeupBytes(this.#opts.wakeupBytes, this.#bufferBytes, source));
      obj.map("events").setMaxEntries(this.#bufferBytes);
      prepare?.(obj);
      obj.load();
    } catch (e) {
      obj.dispose();
      const kernelReads = this.#derivedCols.filter((d) => d.spec.kernelRead).map((d) => d.column);
      if (kernelReads.length && e instanceof VerifierError && /probe_read_kernel|unknown func/.test(e.log)) {
        throw new NotSupportedError(`reading ${[...new Set(kernelReads)].join(", ")} of ${source}`, "it reads kernel memory (bpf_probe_read_kernel), which this kernel refuses (lockdown=confidentiality?); leave these columns out, or see `bpfbook doctor`", { cause: e });
      }
      if (this.#dyn && e instanceof VerifierError && /probe_read_kernel|unknown func/.test(e.log)) {
        const dl = this.#fields.filter((f) => f.decl.kind === "data_loc").map((f) => f.name);
        if (this.#opts.fields === undefined) {
          // The caller did not ask for these fields by name: trace without them, and say so.
          process.emitWarning(`${source}: leaving out ${dl.join(", ")}: __data_loc fields need kernel memory reads, which this kernel refuses (lockdown=confidentiality?)`, { code: "BPFBOOK_FIELDS_SKIPPED" });
          const rest = this.#fields.filter((f) => f.decl.kind !== "data_loc").map((f) => f.name as F);
          return new TracepointProbe<N, F, R>(this.name, { ...this.#opts, fields: rest }).#setup(prepare);
        }
        throw new NotSupportedError(`reading __data_loc field${dl.length > 1 ? "s" : ""} ${dl.join(", ")} of ${source}`, "it needs bpf_probe_read_kernel, which this kernel refuses (lockdown=confidentiality?); leave these fields out, or see `bpfbook doctor`", { cause: e });
      }
      throw e;
    }
    const prog = obj.program(this.#dyn ? "on_tracepoint_dyn" : "on_tracepoint");
    return {
      source,
      object: obj,
      eventSize: this.#eventSize(),
      bufferBytes: this.#bufferBytes,
      wakeupBytes: this.#opts.wakeupBytes,
      fields: this.#decoders(obj.map("stacks")),
      attach: () => [prog.attachTracepoint(this.format.group, this.format.name)],
      decorate: this.#names(),
    };
  }

  /** Loads, attaches and starts collecting; stop it with stop() / table(), or dispose it. */
  start(stop: StopOptions = {}): Trace<TracepointRow<N, F, R, X>> {
    const opts = stopOptions(stop, "start()");
    return new Trace<TracepointRow<N, F, R, X>>(this.#setup(), opts);
  }

  /** Collects until a stop condition (seconds, events, signal) and returns the events as an Arquero table with `.stats`. */
  collect(opts: CollectOptions): Promise<TraceTable<TracepointRow<N, F, R, X>>> {
    return collect<TracepointRow<N, F, R, X>>((o) => this.start(o), opts);
  }

  /** Yields the events as Arquero tables, one per batch, as they arrive. Breaking out of the loop stops the trace. */
  stream(opts: StreamOptions = {}): AsyncGenerator<TraceTable<TracepointRow<N, F, R, X>>> {
    return stream<TracepointRow<N, F, R, X>>((o) => this.start(o), opts);
  }
}

/**
 * A tracepoint of the running kernel, by "group:name" (see listTracepoints()).
 * Names and fields are typed from this machine's tracefs (generated at install).
 */
export function tracepoint<N extends TracepointName, F extends FieldName<N> = FieldName<N>, const R extends Reads = {}, C extends ExtraColumn = never, const M extends NamesOption = false>(
  name: N,
  opts: TracepointOptions<N, F, R, C, M> = {},
): TracepointProbe<N, F, R, OptionsRow<N, C, M>> {
  return new TracepointProbe<N, F, R, OptionsRow<N, C, M>>(name, opts);
}

/**
 * A tracepoint by a name only known at run time (not in this machine's generated
 * types, e.g. from a module loaded later): checked when called, untyped fields.
 * The library uses it too, so it compiles on kernels that lack some tracepoints.
 */
export function anyTracepoint(name: string, opts: TracepointOptions<string, string> = {}): TracepointProbe<string, string> {
  return new TracepointProbe<string, string>(name, opts);
}

function d0(column: string, cols: readonly DerivedColumn[]): string {
  const d = cols.find((c) => c.column === column);
  return d?.list ? "a list of strings" : d?.from ? "resolved in user space" : "derived";
}

/** The derived columns of a probe: its `columns`, standard columns named in where/fields, and its `read` entries. */
function planDerived(format: TracepointFormat, opts: TracepointOptions<string, string>, named: readonly string[], source: string): { cols: DerivedColumn[]; extras: ExtraColumn[] } {
  const record = new Set(format.fields.map((f) => f.name));
  const { cols: out, extras } = planExtras(opts.columns, named, record, source);
  const read = objectOption(opts.read, "read", source, `an object of named reads, e.g. { ppid: "current.real_parent.tgid" }`);
  for (const [column, spec] of Object.entries(read)) {
    // A read named after the pointer field it reads through replaces that field's column (argv: the strings, not the address).
    const replaces = typeof spec === "object" && spec !== null && (spec as { from?: unknown }).from === column;
    if ((record.has(column) && !replaces) || out.some((d) => d.column === column) || column === "ts" || column === "cpu" || column === "pid" || column === "tid" || column === "comm") {
      throw new InvalidArgumentError(`${source}: read "${column}" has the name of a column it already has${record.has(column) ? ` (a field of ${source}; a read may take a field's name only when it reads from that field: { from: "${column}", ... })` : ""}; name it something else`);
    }
    out.push(...planRead(format, column, spec as ReadSpec, source));
  }
  return { cols: out, extras };
}
