/* kprobe(fn, options) and kretprobe(fn, options): typed descriptions of kernel
 * function probes. The function's BTF prototype names and types the arguments;
 * nothing touches the kernel until start()/collect()/stream() or an aggregation
 * starts. Then kprobe.bpf.c is configured through .rodata, loaded and attached —
 * as fentry/fexit when the kernel allows it (typed, cheaper), else as
 * kprobe/kretprobe — and read by the same engines as tracepoints: Trace for event
 * streams, AggregationRun for in-kernel aggregations (agg.h). */
import { checkSelfOption, excludeSelf } from "../self.js";
import { BpfObject } from "../../libbpf/object.js";
import type { BpfMap } from "../../libbpf/map.js";
import type { Link } from "../../libbpf/link.js";
import { AttachError, BpfbookError, InvalidArgumentError, LoadError, NotSupportedError, PermissionError, VerifierError } from "../../errors.js";
import { bpfObjectPath } from "../../paths.js";
import { privileges, requireTracingPrivileges } from "../../privileges.js";
import { decoders } from "../../engine/fields.js";
import type { FieldDecoder } from "../../engine/decoder.js";
import { encodeComm, encodePreds, predsFor, type Pred } from "../../engine/filter.js";
import { HDR_SIZE, MAX_USTR_LEN } from "../../engine/layout.js";
import { Trace, type CollectOptions, type StopOptions } from "../../engine/trace.js";
import type { TraceTable } from "../../engine/table.js";
import { collect, stream, type StreamOptions } from "../../engine/consume.js";
import type { HistSpec } from "../../engine/aggregation-run.js";
import { nearest } from "../../tracefs/nearest.js";
import { KernelBtf, formatPrototype, untypedPrototype, type KernelFunctionPrototype } from "./prototype.js";
import { nearestFunctions, requireTraceable, type Traceability } from "./names.js";
import { kindsFor, refused, unsupported, type Via } from "./support.js";
import { UnknownArgumentError, UntraceableKernelFunctionError } from "./errors.js";
import { linearRange } from "../../options/hist.js";
import { AGGREGATION_EXAMPLE, nameList, objectOption, optionsObject, stringOption } from "../../options/shapes.js";
import { bufferBytes, stringSlot, wakeupBytes } from "../../options/sizes.js";
import { processId } from "../../options/ranges.js";
import { stopOptions } from "../../options/durations.js";
import type { KernelFunctionAggregateOptions, KernelFunctionArgName, KernelFunctionKeyName, KernelFunctionPlan, KernelFunctionStringArg, KernelFunctionValueName, KernelFunctionWhere, KernelFunctionOptionsRow, KernelFunctionReads, KprobeOptions, KprobeRow, KretprobeOptions, KretprobeRow, StringSource } from "./types.js";
import { fieldOf, kernelFunctionColumnName, MAX_ARGS, MAX_STR, PROGRAMS, SLOT, STANDARD, STR_MODE, type Col, type Opened, type RunConfig } from "./plan.js";
import { KernelFunctionAggregation } from "./aggregate.js";
import { configureSlotDerived, derivedEventBytes, derivedNames, derivedPlan, kernelReadRefused, planSlotDerived, slotDerivedDecoders, type SlotDerived } from "../slot-reads.js";
import { isExtraColumn, type ExtraColumn, type ReadSpec } from "../tracepoint/reads.js";
import type { TracepointFormat } from "../../tracefs/format.js";
import { planEntryReads, type EntryReads } from "../entry-reads.js";

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0]!;

/** The prototype of `fn`, typed from BTF, or untyped (six 64-bit arguments) when BTF does not know it. */
export function kernelFunctionPrototype(fn: string): KernelFunctionPrototype {
  const btf = KernelBtf.tryVmlinux();
  return btf?.prototype(fn) ?? (requireTraceable(fn, "kprobe"), untypedPrototype(fn));
}

export class KernelFunctionProbe<Row extends object = Record<string, unknown>, K extends string = string, V extends string = string> {
  /** The kernel function. */
  readonly function: string;
  /** "kprobe" (entry) or "kretprobe" (return). */
  readonly kind: "kprobe" | "kretprobe";
  /** How errors name the probe: the call the user wrote (`kprobe("vfs_read")`, `kernelFunctionLatency("vfs_read")`). */
  readonly label: string;
  readonly prototype: KernelFunctionPrototype;
  readonly #opts: KretprobeOptions<string, string, string, boolean>;
  readonly #via: "auto" | Via;
  readonly #traceable: Traceability;
  readonly #cols = new Map<string, Col>();
  #event: Col[];
  readonly #strings: Col[];
  readonly #preds: Pred[];
  readonly #predCols: Col[];
  readonly #slot: number;
  readonly #bufferBytes: number;
  readonly #derived: SlotDerived;
  /** Arguments the derived values read through (the programs must read their slots). */
  readonly #needCols: Col[];
  /** Which reads happen at the entry and are carried to the return (kretprobe/fexit). */
  readonly #entryReads: EntryReads;
  /** The mechanism of the last start (fentry or kprobe), null before. */
  lastVia: Via | null = null;

  /** Validates everything up front: a bad function, argument, filter or size throws here, before the kernel is touched. */
  constructor(kind: "kprobe" | "kretprobe", fn: string, options: KretprobeOptions<string, string, string, boolean> = {}, label = `${kind}("${fn}")`) {
    this.kind = kind;
    this.function = fn;
    this.label = label;
    if (typeof fn !== "string" || !/^[A-Za-z_][\w.]*$/.test(fn)) throw new InvalidArgumentError(`a kernel function name is an identifier, got ${JSON.stringify(fn)}`);
    // Options first: they are wrong on any kernel, whether or not this one can trace the function.
    const what = label;
    const opts = optionsObject(options, what);
    this.#opts = opts;
    checkSelfOption(opts, what);
    this.#bufferBytes = bufferBytes(opts.bufferBytes, what);
    wakeupBytes(opts.wakeupBytes, this.#bufferBytes, what);
    this.#slot = stringSlot(opts.stringBytes, what, MAX_USTR_LEN);
    nameList(opts.args, "args", what);
    const where = objectOption(opts.where, "where", what, "an object of filters, e.g. { pid: 1234, count: { gt: 4096 } }");
    processId(where.pid, "where.pid", what);
    processId(where.tid, "where.tid", what);
    if (where.comm !== undefined) encodeComm(stringOption(where.comm, "where.comm", what, "a process name (comm) string, e.g. \"bash\""));
    const via = opts.via ?? "auto";
    if (via !== "auto" && via !== "fentry" && via !== "kprobe") throw new InvalidArgumentError(`via must be "auto", "fentry" or "kprobe", got ${JSON.stringify(via)}`);
    this.#via = via;
    this.#traceable = requireTraceable(fn, via);
    const proto = KernelBtf.tryVmlinux()?.prototype(fn) ?? untypedPrototype(fn);
    this.prototype = proto;
    if (via === "fentry" && !proto.typed) throw new NotSupportedError(`fentry on ${fn}`, "fentry needs the function's BTF prototype, and the kernel's BTF has none; use via: \"kprobe\"");
    const ret = kind === "kretprobe";
    if (via === "fentry" && ret && proto.slots > MAX_ARGS) {
      throw new NotSupportedError(`fexit on ${fn}`, `its return value follows ${proto.slots} argument slots; the program reads it after at most ${MAX_ARGS}. Use via: "kprobe"`);
    }

    // Every value the program can put in its window, by column name.
    for (const a of proto.args) {
      if (!a.readable || a.decl.kind === "other") continue;
      this.#cols.set(kernelFunctionColumnName(a.name), { column: kernelFunctionColumnName(a.name), slot: SLOT.arg0 + a.slot, decl: a.decl, type: a.type, arg: a.name });
    }
    if (ret) {
      if (proto.ret && proto.ret.decl.kind !== "other") this.#cols.set("ret", { column: "ret", slot: SLOT.ret, decl: proto.ret.decl, type: proto.ret.type });
      this.#cols.set("latency", { column: "latency", slot: SLOT.latency, decl: { kind: "int", size: 8, signed: false }, type: "u64 (ns)" });
    }

    // Derived values: standard columns and reads through arguments (typed by the prototype) or the return value.
    const readFormat: TracepointFormat = {
      group: kind, name: fn, id: 0, printFmt: "",
      fields: [...this.#cols.values()].filter((c) => c.column !== "latency").map((c) => ({ ...fieldOf(c), name: c.arg ?? c.column })),
    };
    const read = objectOption(opts.read, "read", what, `an object of named reads, e.g. { fname: "file->f_path.dentry->d_name.name" }`);
    const userArg = (from: unknown) => proto.args.some((a) => a.name === from && a.decl.kind === "pointer" && a.decl.user === true);
    // An argument BTF tags __user points into the calling process.
    const reads = Object.fromEntries(Object.entries(read).map(([k, v]) => [k, typeof v === "object" && v !== null && (v as { user?: unknown }).user === undefined && userArg((v as { from?: unknown }).from) ? { ...(v as object), user: true } : v])) as Record<string, ReadSpec>;
    const taken = new Set([...this.#cols.keys(), ...proto.args.map((a) => a.name)]);
    // Without __user tags (GCC-built kernels: Debian's 6.1, this host's) BTF cannot say whose memory a pointer holds.
    const byAddress = new Set(proto.args.filter((a) => a.decl.kind === "pointer" && a.decl.user === undefined).map((a) => a.name));
    this.#derived = planSlotDerived(readFormat, { columns: opts.columns, read: reads, stackEntries: opts.stackEntries }, Object.keys(where), taken, what, false, true, byAddress);
    this.#needCols = this.#derived.needs.filter((n) => n !== "ret").map((n) => this.#argCol(n));
    this.#entryReads = planEntryReads(read, this.#derived, ret, (n) => proto.args.some((a) => a.name === n), what);
    const replaced = new Set(this.#derived.fields.map((f) => f.name));

    // Strings: char pointers read in the kernel into fixed slots.
    const strings = new Map<string, StringSource>();
    const so = opts.strings;
    if (Array.isArray(so)) for (const s of so as readonly string[]) strings.set(s, "auto");
    else if (so) for (const [s, m] of Object.entries(so as Record<string, StringSource | undefined>)) strings.set(s, m ?? "auto");
    this.#strings = [];
    for (const [name, mode] of strings) {
      if (mode !== "user" && mode !== "kernel" && mode !== "auto") throw new InvalidArgumentError(`strings.${name} must be "user", "kernel" or "auto", got ${JSON.stringify(mode)}`);
      const c = this.#argCol(name);
      if (c.decl.kind !== "pointer" || (proto.typed && !c.decl.char)) {
        throw new InvalidArgumentError(`${fn}: argument "${c.arg}" is ${c.type}, not a char pointer; only char * arguments can be read as strings`);
      }
      // BTF's __user tag decides unless the caller did; without tags, the address does.
      const read: StringSource = mode !== "auto" ? mode : c.decl.user === true ? "user" : c.decl.user === false ? "kernel" : "auto";
      const col = { ...c, string: read };
      this.#cols.set(c.column, col);
      this.#strings.push(col);
    }
    if (this.#strings.length > MAX_STR) throw new InvalidArgumentError(`at most ${MAX_STR} strings per event; ${fn} asks for ${[...strings.keys()].join(", ")}`);

    // The event's columns: arguments in prototype order, then ret and latency.
    const names = opts.args ?? proto.args.filter((a) => a.readable).map((a) => a.name);
    const chosen = new Set<Col>();
    for (const n of names) chosen.add(this.#argCol(n));
    for (const s of this.#strings) chosen.add(this.#cols.get(s.column)!);
    const args = [...chosen].map((c) => this.#cols.get(c.column)!).sort((a, b) => a.slot - b.slot);
    const tail = ret ? [this.#cols.get("ret"), opts.latency ? this.#cols.get("latency") : undefined].filter((c): c is Col => c !== undefined) : [];
    this.#event = [...args, ...tail];

    // Derived values are columns too; one named after its argument replaces the argument's column.
    this.#event = this.#event.filter((c) => !replaced.has(c.column));
    for (const f of this.#derived.fields) {
      const decl = f.decl.kind === "int" ? { kind: "int" as const, size: f.decl.size, signed: f.decl.signed } : { kind: "pointer" as const, pointee: "char", char: false };
      this.#cols.set(f.name, { column: f.name, slot: -1, decl, type: f.type, derived: f });
    }

    // Filters: pid/tid/comm in stream.h; the rest as predicates on the window (record.h).
    this.#preds = [];
    this.#predCols = [];
    for (const [k, v] of Object.entries(where)) {
      if (v === undefined || k === "pid" || k === "tid" || k === "comm") continue;
      if (derivedNames(this.#derived).has(k) && !this.#cols.has(k)) throw new InvalidArgumentError(`${fn}: "${k}" cannot be filtered in the kernel (it is resolved in user space or a list); filter the table instead`);
      const c = this.column(k);
      if (c.string) throw new InvalidArgumentError(`${fn}: "${k}" is read as a string, which cannot be filtered in the kernel; filter the table instead, e.g. t.filter(d => d.${c.column} === ...)`);
      this.#preds.push(...predsFor(fieldOf(c), v, `${this.kind}:${fn}`));
      this.#predCols.push(c);
    }
    encodePreds(this.#preds);
  }

  /** An argument by name (or by its column name). */
  #argCol(name: string): Col {
    const c = this.#cols.get(name) ?? this.#cols.get(kernelFunctionColumnName(name));
    if (c?.arg !== undefined && (c.arg === name || c.column === name)) return c;
    throw this.#unknown(name, true);
  }

  #unknown(name: string, argsOnly: boolean): BpfbookError {
    const p = this.prototype;
    const bad = p.args.find((a) => a.name === name && !a.readable);
    const available = argsOnly ? p.args.filter((a) => a.readable).map((a) => a.name) : [...this.#cols.keys()];
    if (bad) return new UnknownArgumentError(this.function, name, available, [], `${this.function}: argument "${name}" (${bad.type}) cannot be read: ${bad.why}`);
    if (!argsOnly && (name === "ret" || name === "latency") && this.kind === "kprobe") {
      return new InvalidArgumentError(`"${name}" exists only on return probes: use kretprobe("${this.function}")`);
    }
    return new UnknownArgumentError(this.function, name, available, nearest(name, [...available, ...(argsOnly ? [] : ["pid", "tid", "comm", "cpu", "cgroup"])], 3));
  }

  /** @internal A column of the window by name: argument (name or column), `ret`, `latency`. */
  column(name: string): Col {
    const c = this.#cols.get(name);
    if (c) return c;
    const a = [...this.#cols.values()].find((x) => x.arg === name);
    if (a && !STANDARD.has(name)) return a;
    throw this.#unknown(name, false);
  }

  /** What will be loaded: the prototype, columns and how each decodes, event size, filters. */
  plan(): KernelFunctionPlan {
    const w = (this.#opts.where ?? {}) as Record<string, unknown>;
    return {
      function: this.function,
      prototype: formatPrototype(this.prototype),
      probe: this.kind,
      via: this.#via,
      traceable: { fentry: this.#traceable.fentry, kprobe: this.#traceable.kprobe },
      columns: this.#event.map((c) => ({
        name: c.arg ?? c.column, column: c.column, type: c.type,
        as: c.string ? "string" : c.decl.kind === "int" ? "number" : "bigint",
        ...(c.string ? { read: c.string } : {}),
      })),
      eventBytes: this.#layout().size,
      argSlots: this.#argSlots(this.#event),
      kernelFilters: [
        ...(["pid", "tid", "comm"] as const).filter((k) => w[k] !== undefined).map((k) => `${k} == ${JSON.stringify(w[k])}`),
        ...this.#preds.map((p) => `${p.field} ${p.op} ${p.value[0]}`),
      ],
      bufferBytes: this.#bufferBytes,
      derived: derivedPlan(this.#derived),
      readsAtEntry: this.#entryReads.columns,
    };
  }

  /** Argument slots the programs must read for these columns (and the filters). */
  #argSlots(uses: readonly Col[]): number {
    let n = 0;
    for (const c of [...uses, ...this.#predCols, ...this.#needCols]) if (c.arg !== undefined) n = Math.max(n, c.slot - SLOT.arg0 + 1);
    return Math.min(n, MAX_ARGS);
  }

  /** The event: which window slots it copies, then the strings. */
  #layout(): { first: number; nslots: number; derived: number; size: number } {
    const args = this.#event.filter((c) => c.arg !== undefined);
    const maxArg = args.reduce((m, c) => Math.max(m, c.slot), -1);
    let first: number, nslots: number;
    if (this.kind === "kprobe") {
      first = SLOT.arg0;
      nslots = maxArg < 0 ? 0 : maxArg - SLOT.arg0 + 1;
    } else {
      first = SLOT.ret;
      nslots = maxArg >= 0 ? maxArg + 1 : this.#opts.latency ? 2 : 1;
    }
    const derived = derivedEventBytes(this.#derived);
    return { first, nslots, derived, size: HDR_SIZE + nslots * 8 + derived + this.#strings.length * this.#slot };
  }

  #decoders(stacks: BpfMap): FieldDecoder[] {
    const { first, nslots, derived } = this.#layout();
    const slots = this.#event.map((c) => {
      const k = this.#strings.findIndex((s) => s.column === c.column);
      if (k >= 0) return decoders.chars(c.column, HDR_SIZE + nslots * 8 + derived + k * this.#slot, this.#slot);
      const at = HDR_SIZE + (c.slot - first) * 8;
      return c.decl.kind === "int" ? decoders.int(c.column, at, c.decl.size, c.decl.signed) : decoders.pointer(c.column, at);
    });
    const slotAt = (woff: number): number | null => {
      const k = Math.floor(woff / 8) - first;
      return k >= 0 && k < nslots ? HDR_SIZE + 8 * k + (woff % 8) : null;
    };
    return [...slots, ...slotDerivedDecoders(this.#derived, HDR_SIZE + nslots * 8, slotAt, { wantCgroup: Boolean(this.#opts.columns?.includes("cgroup")), stacks })];
  }

  /** Loads and attaches with the first mechanism that works: fentry/fexit, then kprobes (via: "auto"). */
  #open(run: RunConfig): Opened {
    requireTracingPrivileges(`tracing kernel function ${this.function}`);
    const ret = this.kind === "kretprobe";
    const order: Via[] = this.#via !== "auto" ? [this.#via]
      : [
        // fexit finds the return value after the arguments: only where the program can address it
        ...(this.prototype.typed && this.#traceable.fentry === null && !(ret && this.prototype.slots > MAX_ARGS) ? ["fentry" as const] : []),
        ...(this.#traceable.kprobe === null ? ["kprobe" as const] : []),
      ];
    const failures: { via: Via; paired: boolean; error: unknown }[] = [];
    const p = privileges();
    for (const via of order) {
      const argSlots = this.#argSlots(run.uses);
      // reads at entry need the entry too, carrying what they read to the return
      const paired = ret && (run.latency || (via === "kprobe" && argSlots > 0) || this.#entryReads.mask !== 0);
      let obj: BpfObject | null = null;
      try {
        obj = BpfObject.open(bpfObjectPath("kprobe"), "kprobe");
        const progs = PROGRAMS[via];
        const used = ret ? (paired ? [progs.ret, progs.entry] : [progs.ret]) : [progs.entry];
        for (const prog of obj.programs.values()) prog.setAutoload(used.includes(prog.name as never));
        if (via === "fentry") for (const name of used) obj.program(name).setAttachTarget(this.function);
        this.#configureShared(obj, via, argSlots, paired);
        run.configure(obj);
        obj.load();
        const links: Link[] = [];
        // The return first: an entry seen before its return is attached would only be stale.
        for (const name of used) {
          const prog = obj.program(name);
          if (via === "fentry") links.push(name === progs.ret ? prog.attachFexit(this.function) : prog.attachFentry(this.function));
          else links.push(name === progs.ret ? prog.attachKretprobe(this.function) : prog.attachKprobe(this.function));
        }
        if (failures.length && refused(kindsFor(failures[0]!.via, ret, failures[0]!.paired)).length === 0) {
          process.emitWarning(`${this.function}: ${failures[0]!.via} failed (${firstLine(failures[0]!.error)}); tracing it with ${via === "kprobe" ? "kprobes" : "fentry"} instead`, { code: "BPFBOOK_KFUNC_FALLBACK" });
        }
        this.lastVia = via;
        const kind = via === "fentry" ? (ret ? "fexit" : "fentry") : ret ? "kretprobe" : "kprobe";
        return { obj, via, links, source: `${kind}:${this.function}` };
      } catch (e) {
        obj?.dispose();
        const retry = e instanceof NotSupportedError || e instanceof LoadError || e instanceof VerifierError || e instanceof AttachError
          || (e instanceof PermissionError && p.capBpf && p.capPerfmon) || (e instanceof InvalidArgumentError && /cannot target/.test(e.message));
        if (!retry) throw e;
        failures.push({ via, paired, error: e });
      }
    }
    throw kernelReadRefused(this.#explain(failures), this.#derived, this.label);
  }

  /** Every mechanism failed: the kernel's reasons (NotSupportedError), or why this function cannot be traced. */
  #explain(failures: { via: Via; paired: boolean; error: unknown }[]): Error {
    const ret = this.kind === "kretprobe";
    const tried = failures.map((f) => ({ via: f.via, refused: refused(kindsFor(f.via, ret, f.paired)), error: f.error }));
    const what = `${this.label}${this.#via === "auto" ? "" : ` via ${this.#via}`}`;
    if (tried.length && tried.every((t) => t.refused.length > 0)) return unsupported(what, tried, failures.at(-1)?.error);
    const specific = tried.filter((t) => t.refused.length === 0);
    if (specific.length === 1 && specific[0]!.error instanceof VerifierError) return specific[0]!.error;
    const why = tried.map((t) => `${t.via}: ${t.refused.length ? t.refused.map((r) => r.reason).join(", ") : firstLine(t.error)}`).join("; ");
    const errno = specific.map((t) => (t.error instanceof BpfbookError ? t.error.errno : undefined)).find((x) => x !== undefined);
    return new UntraceableKernelFunctionError(this.function, why, nearestFunctions(this.function).filter((n) => n !== this.function), { errno, cause: specific[0]?.error });
  }

  /** What every run of this probe sets: filters, argument slots, pairing. */
  #configureShared(obj: BpfObject, via: Via, argSlots: number, paired: boolean): void {
    const w = (this.#opts.where ?? {}) as { pid?: number; tid?: number; comm?: string };
    if (w.pid !== undefined) obj.setConstant("cfg_pid", w.pid);
    if (w.tid !== undefined) obj.setConstant("cfg_tid", w.tid);
    excludeSelf(obj, this.#opts, w);
    if (w.comm !== undefined) {
      const c = encodeComm(w.comm);
      obj.setConstant("cfg_comm", c.bytes);
      obj.setConstant("cfg_comm_len", c.len);
    }
    obj.setConstant("cfg_npreds", this.#preds.length);
    obj.setConstant("cfg_preds", encodePreds(this.#preds));
    configureSlotDerived(obj, this.#derived, false);
    // stacks start at the traced function, not in the program and its trampoline
    obj.setConstant("cfg_kstack_skip", via === "fentry" ? 2 : 0);
    obj.setConstant("cfg_nargs", via === "fentry" ? Math.min(argSlots, this.prototype.slots) : argSlots);
    const ret = this.kind === "kretprobe";
    if (ret) {
      obj.setConstant("cfg_store", paired ? 1 : 0);
      obj.setConstant("cfg_paired", paired ? 1 : 0);
      obj.setConstant("cfg_start_args", via === "kprobe" && paired ? 1 : 0);
      obj.setConstant("cfg_has_ret", this.prototype.ret !== null ? 1 : 0);
      obj.setConstant("cfg_ret_slot", Math.min(this.prototype.slots, MAX_ARGS));
    }
    obj.setConstant("cfg_derive_entry", paired ? this.#entryReads.mask : 0);
    obj.setConstant("cfg_carry_bytes", paired ? this.#entryReads.carryBytes : 64);
    if (paired) {
      obj.map("starts").setValueSize(this.#entryReads.carryBytes);
      obj.map("starts").setMaxEntries(this.#entryReads.maxStarts);
    } else obj.map("starts").setMaxEntries(1);
  }

  /** Loads, attaches and starts collecting events; stop it with stop() / table(), or dispose it. */
  start(stop: StopOptions = {}): Trace<Row> {
    const checked = stopOptions(stop, "start()");
    const layout = this.#layout();
    const strings = this.#strings;
    const wake = wakeupBytes(this.#opts.wakeupBytes, this.#bufferBytes, this.kind);
    const opened = this.#open({
      uses: [...this.#event, ...strings],
      latency: this.#event.some((c) => c.column === "latency") || this.#predCols.some((c) => c.column === "latency"),
      configure: (obj) => {
        obj.setConstant("cfg_aggregate", 0);
        obj.setConstant("cfg_first_slot", layout.first);
        obj.setConstant("cfg_nslots", layout.nslots);
        obj.setConstant("cfg_event_size", layout.size);
        obj.setConstant("cfg_derive_bytes", layout.derived);
        obj.setConstant("cfg_nstr", strings.length);
        const slots = new Uint8Array(MAX_STR * 4), modes = new Uint8Array(MAX_STR * 4);
        strings.forEach((s, i) => {
          new DataView(slots.buffer).setUint32(i * 4, s.slot, true);
          new DataView(modes.buffer).setUint32(i * 4, STR_MODE[s.string!], true);
        });
        obj.setConstant("cfg_str_slot", slots);
        obj.setConstant("cfg_str_mode", modes);
        obj.setConstant("cfg_str_len", this.#slot);
        obj.setConstant("cfg_wakeup_bytes", wake);
        obj.map("events").setMaxEntries(this.#bufferBytes);
        for (const m of ["agg0", "agg1"]) obj.map(m).setMaxEntries(1);
      },
    });
    return new Trace<Row>({ source: opened.source, object: opened.obj, eventSize: layout.size, bufferBytes: this.#bufferBytes, wakeupBytes: wake, fields: this.#decoders(opened.obj.map("stacks")), attach: () => opened.links }, checked);
  }

  /** Collects until a stop condition (seconds, events, signal) and returns the events as an Arquero table with `.stats`. */
  collect(opts: CollectOptions): Promise<TraceTable<Row>> {
    return collect<Row>((o) => this.start(o), opts);
  }

  /** Yields the events as Arquero tables, one per batch, as they arrive. Breaking out of the loop stops the trace. */
  stream(opts: StreamOptions = {}): AsyncGenerator<TraceTable<Row>> {
    return stream<Row>((o) => this.start(o), opts);
  }

  /** Aggregates in the kernel: keys from `by` (standard columns, arguments, `ret`), an optional value and histogram. */
  aggregate(opts: KernelFunctionAggregateOptions<K, V> = {}): KernelFunctionAggregation {
    return new KernelFunctionAggregation(this as unknown as KernelFunctionProbe, opts, false);
  }
  /** Calls per key (bpftrace's count()). */
  count(opts: { by?: readonly K[]; maxKeys?: number; stringBytes?: number } = {}): KernelFunctionAggregation {
    return this.aggregate(opts);
  }
  /** count, sum, min, max and avg of an integer argument, `ret` or `latency` per key. */
  stats(value: V, opts: { by?: readonly K[]; maxKeys?: number; stringBytes?: number } = {}): KernelFunctionAggregation {
    return this.aggregate({ ...opts, value });
  }
  /** A log2 histogram of an integer argument, `ret` or `latency` per key (bpftrace's hist()). */
  hist(value: V, opts: { by?: readonly K[]; maxKeys?: number; stringBytes?: number } = {}): KernelFunctionAggregation {
    return this.aggregate({ ...opts, value, hist: "log2" });
  }
  /** A linear histogram (bpftrace's lhist()). */
  lhist(value: V, range: Exclude<HistSpec, "log2">, opts: { by?: readonly K[]; maxKeys?: number; stringBytes?: number } = {}): KernelFunctionAggregation {
    return this.aggregate({ ...opts, value, hist: linearRange(range, this.label) });
  }

  /**
   * Entry → return latency of the function, paired by thread in the kernel, as a log2
   * histogram per key (default), linear buckets, or "stats". Return probes only.
   */
  latency(options: { by?: readonly K[]; hist?: HistSpec | "stats"; maxKeys?: number; stringBytes?: number } = {}): KernelFunctionAggregation {
    const opts = optionsObject(options, this.label, AGGREGATION_EXAMPLE);
    if (this.kind !== "kretprobe") throw new InvalidArgumentError(`latency pairs entries with returns: use kretprobe("${this.function}").latency() or kernelFunctionLatency("${this.function}")`);
    return new KernelFunctionAggregation(this as unknown as KernelFunctionProbe, { by: opts.by, hist: opts.hist === "stats" ? undefined : opts.hist ?? "log2", maxKeys: opts.maxKeys, stringBytes: opts.stringBytes }, true);
  }

  /** @internal Loads and attaches for an aggregation (AggregationRun reads agg0/agg1/ctl/stats). */
  openAggregate(uses: Col[], latency: boolean, configure: (obj: BpfObject) => void): Opened {
    return this.#open({ uses, latency: latency || this.#predCols.some((c) => c.column === "latency"), configure });
  }

  /** @internal The same probe, also deriving these standard columns (when an aggregation keys by them). */
  withColumns(names: readonly string[]): KernelFunctionProbe {
    const have = derivedNames(this.#derived);
    const add = names.filter((n) => isExtraColumn(n) && !have.has(n) && !this.#cols.has(n)) as ExtraColumn[];
    if (add.length === 0) return this as unknown as KernelFunctionProbe;
    return new KernelFunctionProbe(this.kind, this.function, { ...this.#opts, columns: [...(this.#opts.columns ?? []), ...add] }, this.label);
  }

  /** @internal The same function, filters and mechanism, with latency streamed (for KernelFunctionAggregation.startEvents). */
  latencyEvents(): KernelFunctionProbe {
    return new KernelFunctionProbe("kretprobe", this.function, { ...this.#opts, args: [], strings: undefined, latency: true }, this.label);
  }
}

/**
 * A probe on the entry of kernel function `fn`: one row per call with the standard
 * columns and the arguments, typed from the kernel's BTF. fentry when the kernel
 * allows it, else a kprobe (`via` forces one).
 */
export function kprobe<N extends string, A extends KernelFunctionArgName<N> = KernelFunctionArgName<N>, S extends KernelFunctionStringArg<N> = never,
  C extends ExtraColumn = never, const R extends KernelFunctionReads = {}>(
  fn: N,
  opts: KprobeOptions<N, A, S, C, R> = {},
): KernelFunctionProbe<KprobeRow<N, A, S> & KernelFunctionOptionsRow<A, S, C, R>, Exclude<KernelFunctionKeyName<N>, "ret" | "latency">, Exclude<KernelFunctionValueName<N>, "ret" | "latency">> {
  return new KernelFunctionProbe("kprobe", fn, opts as KretprobeOptions<string, string, string, boolean>);
}

/**
 * A probe on the return of kernel function `fn`: one row per call with the standard
 * columns, `ret`, the arguments (as they were at entry) and optionally `latency`.
 * fexit when the kernel allows it, else a kretprobe (with a kprobe on entry when
 * arguments or latency are needed, paired by thread in the kernel).
 */
export function kretprobe<N extends string, A extends KernelFunctionArgName<N> = KernelFunctionArgName<N>, S extends KernelFunctionStringArg<N> = never, L extends boolean = false,
  C extends ExtraColumn = never, const R extends KernelFunctionReads = {}>(
  fn: N,
  opts: KretprobeOptions<N, A, S, L, C, R> = {},
): KernelFunctionProbe<KretprobeRow<N, A, S, L> & KernelFunctionOptionsRow<A, S, C, R>, KernelFunctionKeyName<N>, KernelFunctionValueName<N>> {
  return new KernelFunctionProbe("kretprobe", fn, opts as KretprobeOptions<string, string, string, boolean>);
}

/**
 * Entry → return latency of kernel function `fn` in ns, aggregated in the kernel
 * (log2 histogram per key by default): `kernelFunctionLatency("vfs_read", { by: ["comm"] })`.
 */
export function kernelFunctionLatency<N extends string>(fn: N, opts: KernelFunctionLatencyOptions<N> = {}): KernelFunctionAggregation {
  return latencyCalled("kernelFunctionLatency", fn, opts);
}

export interface KernelFunctionLatencyOptions<N extends string> {
  by?: readonly KernelFunctionKeyName<N>[];
  where?: KernelFunctionWhere<N>;
  via?: "auto" | Via;
  hist?: HistSpec | "stats";
  maxKeys?: number;
  stringBytes?: number;
}

/** kernelFunctionLatency under the name the user called it by (`kfuncLatency` too), so its errors quote that call. */
export function latencyCalled<N extends string>(name: string, fn: N, options: KernelFunctionLatencyOptions<N>): KernelFunctionAggregation {
  const label = `${name}(${JSON.stringify(fn)})`;
  const opts = optionsObject(options, label, AGGREGATION_EXAMPLE);
  const probe = new KernelFunctionProbe("kretprobe", fn, { where: opts.where as KernelFunctionWhere<string>, via: opts.via, args: [] }, label);
  return probe.latency({ by: opts.by, hist: opts.hist, maxKeys: opts.maxKeys, stringBytes: opts.stringBytes });
}
