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
import { HDR_SIZE, MAX_USTR, MAX_USTR_LEN, MAX_WINDOW, RECORD_BASE } from "../../engine/layout.js";
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

/** Columns every event has. `ts` is CLOCK_MONOTONIC ns (see withTime() for wall clock). */
export interface StandardRow {
  ts: number;
  cpu: number;
  pid: number;
  tid: number;
  comm: string;
}

type Known<N extends string> = N extends TracepointName ? TracepointFields[N] : Record<string, unknown>;
/** Field names of tracepoint N (every field for an unknown name). */
export type FieldName<N extends string> = Extract<keyof Known<N>, string>;
type UserStrings<N extends string> = N extends keyof TracepointUserStrings ? TracepointUserStrings[N] : never;
type FieldValue<N extends string, K extends FieldName<N>> = K extends UserStrings<N> ? string : Known<N>[K];

/** What an aggregation can be keyed by: standard columns, `syscall`, or the tracepoint's fields. */
export type KeyName<N extends string> = "pid" | "tid" | "comm" | "cpu" | "cgroup" | "syscall" | ColumnName<FieldName<N>>;

/** A field named like a standard column (a tracepoint's own `pid` or `comm`) becomes `args_<name>`. */
export type ColumnName<K extends string> = K extends keyof StandardRow ? `args_${K}` : K;

/** The row type of a stream of N with fields F. */
export type TracepointRow<N extends string, F extends FieldName<N>> = StandardRow & { [K in F as ColumnName<K>]: FieldValue<N, K> };

export type Where<N extends string> = {
  pid?: number;
  tid?: number;
  comm?: string;
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

export interface TracepointOptions<N extends string, F extends FieldName<N>> extends SelfOption {
  /** Fields to decode (default: every field of the tracepoint). */
  fields?: readonly F[];
  /** Filters evaluated in the kernel: pid, tid, comm, and comparisons on fields. */
  where?: Where<N>;
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
}

export class TracepointProbe<N extends string, F extends FieldName<N>> {
  readonly name: N;
  readonly format: TracepointFormat;
  readonly #opts: TracepointOptions<N, F>;
  readonly #fields: TracepointField[];
  readonly #ustr: TracepointField[];
  readonly #preds: Pred[];
  readonly #window: number;
  readonly #dyn: number;
  readonly #slot: number;
  readonly #bufferBytes: number;

  /** Validates everything up front: a bad name, field, filter or size throws here, before the kernel is touched. */
  constructor(name: N, options: TracepointOptions<N, F> = {}) {
    nameArgument(name, "name", "tracepoint()", `a "group:name" string such as "syscalls:sys_enter_openat" (see listTracepoints())`);
    const opts = optionsObject(options, `tracepoint("${name}")`);
    checkSelfOption(opts, `tracepoint("${name}")`);
    this.name = name;
    this.#opts = opts;
    const format = readFormat(name);
    this.format = format;
    const source = `${format.group}:${format.name}`;
    const fields = nameList(opts.fields, "fields", source) as readonly F[] | undefined;
    const wanted = fields ?? format.fields.filter((f) => !f.common).map((f) => f.name as F);
    this.#fields = wanted.map((f) => fieldOf(format, f));
    // Char pointers of syscall arguments point into the calling process: read them as strings.
    this.#ustr = this.#fields.filter((f) => f.decl.kind === "pointer" && f.decl.userString);
    if (this.#ustr.length > MAX_USTR) throw new InvalidArgumentError(`at most ${MAX_USTR} user-space strings per event; ${source} asks for ${this.#ustr.map((f) => f.name).join(", ")}`);
    this.#slot = stringSlot(opts.stringBytes, source, MAX_USTR_LEN);
    this.#bufferBytes = bufferBytes(opts.bufferBytes, source);
    wakeupBytes(opts.wakeupBytes, this.#bufferBytes, source);

    const where = objectOption(opts.where, "where", source, "an object of filters, e.g. { pid: 1234, comm: \"bash\" }");
    this.#preds = [];
    for (const [k, v] of Object.entries(where)) {
      if (v === undefined || k === "pid" || k === "tid" || k === "comm") continue;
      this.#preds.push(...predsFor(fieldOf(format, fieldNameOf(k)), v, source));
    }
    encodePreds(this.#preds); // validates the count
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
    for (const p of this.#preds) end = Math.max(end, fieldEnd(p.field));
    if (end - RECORD_BASE > MAX_WINDOW) throw new InvalidArgumentError(`${source} has fields beyond the first ${MAX_WINDOW} bytes of the record, which is what the kernel program copies; pick fewer fields`);
    this.#window = end - RECORD_BASE;
    this.#checkBigint(source);
    const dyn = integerIn(opts.dataLocBytes, "dataLocBytes", source, 0, MAX_WINDOW) ?? 256;
    this.#dyn = this.#fields.some((f) => f.decl.kind === "data_loc") ? dyn : 0;
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
    };
  }

  #eventSize(): number {
    return HDR_SIZE + this.#windowSlot() + this.#ustr.length * this.#slot;
  }

  #decoders(): FieldDecoder[] {
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
    });
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
  }

  /** Aggregates in the kernel: keys from `by`, optional value field and histogram (see docs/aggregations.md). */
  aggregate(opts: AggregateOptions & { by?: readonly KeyName<N>[]; value?: FieldName<N> }): Aggregation {
    return new Aggregation({ source: this.source, probe: this as unknown as TracepointProbe<string, string>, options: opts });
  }
  /** Events per key (bpftrace's count()). */
  count(opts: { by?: readonly KeyName<N>[]; maxKeys?: number; stringBytes?: number } = {}): Aggregation {
    return this.aggregate(opts);
  }
  /** count, sum, min, max and avg of an integer field per key (bpftrace's sum/min/max/avg/stats). */
  stats(value: FieldName<N>, opts: { by?: readonly KeyName<N>[]; maxKeys?: number; stringBytes?: number } = {}): Aggregation {
    return this.aggregate({ ...opts, value });
  }
  /** A log2 histogram of an integer field per key (bpftrace's hist()). */
  hist(value: FieldName<N>, opts: { by?: readonly KeyName<N>[]; maxKeys?: number; stringBytes?: number } = {}): Aggregation {
    return this.aggregate({ ...opts, value, hist: "log2" });
  }
  /** A linear histogram of an integer field per key (bpftrace's lhist()). */
  lhist(value: FieldName<N>, range: Exclude<HistSpec, "log2">, opts: { by?: readonly KeyName<N>[]; maxKeys?: number; stringBytes?: number } = {}): Aggregation {
    return this.aggregate({ ...opts, value, hist: linearRange(range, this.source) });
  }

  /** The same tracepoint and filters, decoding (or covering) other fields. */
  withFields<G extends FieldName<N>>(fields: readonly G[]): TracepointProbe<N, G> {
    return new TracepointProbe<N, G>(this.name, { ...(this.#opts as TracepointOptions<N, FieldName<N>>), fields } as TracepointOptions<N, G>);
  }

  /** @internal The options this probe was made with. */
  get options(): TracepointOptions<N, F> {
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
      if (this.#dyn && e instanceof VerifierError && /probe_read_kernel|unknown func/.test(e.log)) {
        const dl = this.#fields.filter((f) => f.decl.kind === "data_loc").map((f) => f.name);
        if (this.#opts.fields === undefined) {
          // The caller did not ask for these fields by name: trace without them, and say so.
          process.emitWarning(`${source}: leaving out ${dl.join(", ")}: __data_loc fields need kernel memory reads, which this kernel refuses (lockdown=confidentiality?)`, { code: "BPFBOOK_FIELDS_SKIPPED" });
          const rest = this.#fields.filter((f) => f.decl.kind !== "data_loc").map((f) => f.name as F);
          return new TracepointProbe<N, F>(this.name, { ...this.#opts, fields: rest }).#setup(prepare);
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
      fields: this.#decoders(),
      attach: () => [prog.attachTracepoint(this.format.group, this.format.name)],
    };
  }

  /** Loads, attaches and starts collecting; stop it with stop() / table(), or dispose it. */
  start(stop: StopOptions = {}): Trace {
    const opts = stopOptions(stop, "start()");
    return new Trace(this.#setup(), opts);
  }

  /** Collects until a stop condition (seconds, events, signal) and returns the events as an Arquero table with `.stats`. */
  collect(opts: CollectOptions): Promise<TraceTable<TracepointRow<N, F>>> {
    return collect<TracepointRow<N, F>>((o) => this.start(o), opts);
  }

  /** Yields the events as Arquero tables, one per batch, as they arrive. Breaking out of the loop stops the trace. */
  stream(opts: StreamOptions = {}): AsyncGenerator<TraceTable<TracepointRow<N, F>>> {
    return stream<TracepointRow<N, F>>((o) => this.start(o), opts);
  }
}

/**
 * A tracepoint of the running kernel, by "group:name" (see listTracepoints()).
 * Names and fields are typed from this machine's tracefs (generated at install).
 */
export function tracepoint<N extends TracepointName, F extends FieldName<N> = FieldName<N>>(
  name: N,
  opts: TracepointOptions<N, F> = {},
): TracepointProbe<N, F> {
  return new TracepointProbe<N, F>(name, opts);
}

/**
 * A tracepoint by a name only known at run time (not in this machine's generated
 * types, e.g. from a module loaded later): checked when called, untyped fields.
 * The library uses it too, so it compiles on kernels that lack some tracepoints.
 */
export function anyTracepoint(name: string, opts: TracepointOptions<string, string> = {}): TracepointProbe<string, string> {
  return new TracepointProbe<string, string>(name, opts);
}
