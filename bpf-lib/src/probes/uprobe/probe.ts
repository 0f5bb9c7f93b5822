/* uprobe(binary, symbol, options): a typed description of a user-space function
 * probe. The binary and function are resolved (and errors thrown) when it is made;
 * nothing touches the kernel until start()/collect()/stream() or an aggregation
 * starts. Then uprobe.bpf.c is configured through .rodata, loaded, and attached
 * at the function's file offset: on entry (arguments), on return (the return
 * value), or both, paired by thread (latency, the arguments and the reads taken
 * at entry carried to the return). A list or a wildcard of symbols attaches the same
 * program to every match, each with its index as BPF cookie, and adds a `probe` column. */
import { checkSelfOption, excludeSelf } from "../self.js";
import { BpfObject } from "../../libbpf/object.js";
import type { Link } from "../../libbpf/link.js";
import { BpfbookError, InvalidArgumentError } from "../../errors.js";
import { linearRange } from "../../options/hist.js";
import { AGGREGATION_EXAMPLE, nameArgument, objectOption, optionsObject, stringOption } from "../../options/shapes.js";
import { bufferBytes, wakeupBytes } from "../../options/sizes.js";
import { processId } from "../../options/ranges.js";
import { stopOptions } from "../../options/durations.js";
import { bpfObjectPath } from "../../paths.js";
import { requireTracingPrivileges } from "../../privileges.js";
import { decoders } from "../../engine/fields.js";
import type { FieldDecoder } from "../../engine/decoder.js";
import { encodeComm, encodePreds, predsFor, type Pred } from "../../engine/filter.js";
import { HDR_SIZE, RECORD_BASE } from "../../engine/layout.js";
import { Trace, type CollectOptions, type StopOptions, type StreamSetup } from "../../engine/trace.js";
import type { TraceTable } from "../../engine/table.js";
import { collect, stream, type StreamOptions } from "../../engine/consume.js";
import type { TracepointField, TracepointFormat } from "../../tracefs/format.js";
import type { HistSpec } from "../../engine/aggregation-run.js";
import { encodeParts, type KeyPlan } from "../../engine/keys.js";
import { resolveBinary, resolveFunction, type ResolvedFunction } from "../../symbols/resolve.js";
import { openElf } from "../../symbols/elf.js";
import { requireInstructionStart } from "../../symbols/instructions.js";
import type { ArgName, IntType, UprobeAggregateOptions, UprobeKey, UprobeOptions, UprobePlan, UprobeRow } from "./types.js";
import { MAX_UPROBE_ARGS, SLOT, TYPES, slotField, type Layout } from "./plan.js";
import { UprobeAggregation } from "./aggregate.js";
import { checkFilterable, configureSlotDerived, derivedEventBytes, derivedNames, derivedPlan, planSlotDerived, slotDerivedDecoders, type SlotDerived } from "../slot-reads.js";
import { fieldOf } from "../../tracefs/catalog.js";
import { isExtraColumn, type ExtraColumn } from "../tracepoint/reads.js";
import { kernelReadRefused } from "../slot-reads.js";
import { planEntryReads, type EntryReads } from "../entry-reads.js";
import { isSymbolPattern, matchFunctions, type MatchedFunction } from "./match.js";
import { probeColumn } from "./probe-column.js";
import type { UprobeRowOf } from "./types.js";

export class UprobeProbe<R extends UprobeRow = UprobeRow> {
  readonly binary: string;
  /** The symbol as given (a list joined with ","). */
  readonly symbol: string;
  /** The (first) function attached to. */
  readonly function: ResolvedFunction;
  /** Every function attached to: one, or the matches of a list or wildcard (then rows have a `probe` column). */
  readonly functions: readonly MatchedFunction[];
  /** A list or wildcard: the `probe` column's names, by cookie. */
  readonly #multi: boolean;
  readonly #spec: string | readonly string[];
  readonly #opts: UprobeOptions;
  readonly #nargs: number;
  readonly #argTypes: IntType[];
  readonly #retType: IntType;
  readonly #format: TracepointFormat;
  readonly #preds: Pred[];
  readonly #bufferBytes: number;
  readonly #derived: SlotDerived;
  /** Which reads happen at the entry (all of them on an entry probe; on a uretprobe those through an argument, by default). */
  readonly #entryReads: EntryReads;

  /** Resolves the binary and the function, and validates every option: errors come here, before the kernel is touched. */
  constructor(binary: string, symbol: string | readonly string[], options: UprobeOptions = {}) {
    nameArgument(binary, "binary", "uprobe()", "a path, an executable on PATH (\"bash\") or a library (\"libc\")");
    if (!Array.isArray(symbol)) nameArgument(symbol as string, "symbol", "uprobe()", "the name of a function in the binary's symbol table, e.g. \"malloc\", a wildcard (\"read*\") or a list of them");
    const what = `uprobe(${JSON.stringify(binary)}, ${JSON.stringify(symbol)})`;
    const opts = optionsObject(options, what);
    this.#opts = opts;
    this.#spec = symbol;
    this.#multi = typeof symbol !== "string" || isSymbolPattern(symbol);
    if (this.#multi && opts.offset !== undefined) throw new InvalidArgumentError(`${what}: offset places a probe inside one function; with a list or a wildcard, give each function its own uprobe()`);
    if (!this.#multi && opts.maxFunctions !== undefined) throw new InvalidArgumentError(`${what}: maxFunctions bounds a list or a wildcard of functions; this names one`);
    checkSelfOption(opts, what);
    processId(opts.pid, "pid", what);
    const asked = opts.args ?? 0;
    if (!Number.isInteger(asked) || asked < 0 || asked > MAX_UPROBE_ARGS) throw new InvalidArgumentError(`args must be an integer from 0 to ${MAX_UPROBE_ARGS} (the integer registers of the x86_64 calling convention), got ${opts.args}`);
    const types = opts.argTypes ?? [];
    if (types.length > asked) throw new InvalidArgumentError(`argTypes lists ${types.length} types for ${asked} captured arguments; raise args`);
    for (const t of [...types, ...(opts.retType ? [opts.retType] : [])]) if (!(t in TYPES)) throw new InvalidArgumentError(`unknown integer type "${t}"; use one of ${Object.keys(TYPES).join(", ")}`);
    this.#retType = opts.retType ?? "i64";
    // Reads start from an argument (captured for them) or the return value: every slot, as fields.
    const slotType = (i: number): IntType => types[i] ?? "i64";
    const readable: TracepointField[] = Array.from({ length: MAX_UPROBE_ARGS }, (_, i) => slotField(`arg${i}`, SLOT.arg0 + i, slotType(i)));
    if (opts.retprobe) readable.push(slotField("ret", SLOT.ret, this.#retType));
    const whereKeys = Object.keys(objectOption(opts.where, "where", what, "an object of filters, e.g. { pid: 1234, arg0: { gt: 4096 } }")).filter((k) => !(this.#multi && k === "probe"));
    this.#derived = planSlotDerived({ group: "uprobe", name: `${binary}:${String(symbol)}`, id: 0, fields: readable, printFmt: "" }, opts, whereKeys, new Set(["ret", "latency", ...(this.#multi ? ["probe"] : []), ...readable.map((f) => f.name)]), what, true);
    // a uprobe fires in user mode: bpf_get_stackid finds no kernel frames (it would fail every time)
    if (this.#derived.cols.some((c) => c.spec.value.kind === "stack" && !c.spec.value.user)) {
      throw new InvalidArgumentError(`${what}: a uprobe fires in user mode, so there is no kernel stack to record; use "ustack" (the user stack), or a tracepoint or kernel function for kernel stacks`);
    }
    this.#entryReads = planEntryReads(opts.read, this.#derived, Boolean(opts.retprobe), (x) => /^arg[0-5]$/.test(x), what);
    const n = Math.max(asked, ...this.#derived.needs.filter((x) => x.startsWith("arg")).map((x) => Number(x.slice(3)) + 1));
    this.#nargs = n;
    this.#argTypes = Array.from({ length: n }, (_, i) => slotType(i));
    if (opts.offset !== undefined && opts.retprobe) throw new InvalidArgumentError("offset places an entry probe inside the function; a uretprobe always attaches at the function's start");
    this.#bufferBytes = bufferBytes(opts.bufferBytes, what);
    wakeupBytes(opts.wakeupBytes, this.#bufferBytes, what);

    this.binary = resolveBinary(binary, { pid: opts.pid });
    if (this.#multi) {
      const all = matchFunctions(this.binary, symbol, opts.maxFunctions, what);
      this.functions = probeFilter(all, (opts.where as { probe?: unknown } | undefined)?.probe, what);
      this.function = this.functions[0].function;
    } else {
      this.function = resolveFunction(this.binary, symbol as string, opts.offset ?? 0);
      this.functions = [{ name: symbol as string, function: this.function }];
    }
    if (opts.unsafeOffset !== undefined && typeof opts.unsafeOffset !== "boolean") throw new InvalidArgumentError(`unsafeOffset must be true or false, got ${String(opts.unsafeOffset)}`);
    if (!opts.unsafeOffset && !this.#multi) requireInstructionStart(openElf(this.binary), this.function.symbol, opts.offset ?? 0);
    this.symbol = typeof symbol === "string" ? symbol : symbol.join(",");

    const fields: TracepointField[] = this.#argTypes.map((t, i) => slotField(`arg${i}`, SLOT.arg0 + i, t));
    fields.push(slotField("ret", SLOT.ret, this.#retType));
    fields.push(slotField("latency", SLOT.latency, "u64"));
    fields.push(...this.#derived.fields);
    this.#format = { group: "uprobe", name: `${this.binary}:${this.symbol}`, id: 0, fields, printFmt: "" };

    const where = objectOption(opts.where, "where", what, "an object of filters, e.g. { pid: 1234, arg0: { gt: 4096 } }");
    this.#preds = [];
    for (const [k, v] of Object.entries(where)) {
      if (v === undefined || k === "pid" || k === "tid" || k === "comm" || (this.#multi && k === "probe")) continue;
      this.#preds.push(...predsFor(this.#field(k, Boolean(opts.retprobe), "filter on"), v, this.source));
    }
    encodePreds(this.#preds);
    processId(where.pid, "where.pid", what);
    processId(where.tid, "where.tid", what);
    if (opts.pid !== undefined && where.pid !== undefined && where.pid !== opts.pid) throw new InvalidArgumentError(`pid ${opts.pid} and where.pid ${String(where.pid)} disagree`);
    if (where.comm !== undefined) encodeComm(stringOption(where.comm, "where.comm", what, "a process name (comm) string, e.g. \"bash\""));
  }

  /** A column that can be filtered, keyed or aggregated: argN (captured), ret (on return). */
  #field(name: string, hasReturn: boolean, what: string): TracepointField {
    if (derivedNames(this.#derived).has(name)) {
      checkFilterable(this.#derived, name, this.source);
      return fieldOf(this.#format, name);
    }
    const m = /^arg(\d)$/.exec(name);
    if (m) {
      if (Number(m[1]) >= this.#nargs) throw new InvalidArgumentError(`${what} ${name}: capture it with { args: ${Number(m[1]) + 1} } (this probe captures ${this.#nargs} argument${this.#nargs === 1 ? "" : "s"})`);
      return this.#format.fields[Number(m[1])];
    }
    if (name === "ret") {
      if (!hasReturn) throw new InvalidArgumentError(`${what} ret: the return value needs { retprobe: true }`);
      return this.#format.fields[this.#nargs];
    }
    if (name === "latency") return this.#format.fields[this.#nargs + 1];
    if (name === "probe") throw new InvalidArgumentError(`${what} probe: there is a probe column when the symbol is a list or a wildcard (uprobe(binary, ["f", "g"]) or "f*"); this probe has one function`);
    const derived = [...derivedNames(this.#derived)];
    throw new InvalidArgumentError(`${what} "${name}": a uprobe has pid, tid, comm, cpu, cgroup, arg0..arg${Math.max(0, this.#nargs - 1)}${hasReturn ? ", ret" : ""}${derived.length ? `, ${derived.join(", ")}` : ""} (columns: [...] adds uid, gid, ppid, pcomm; read: {...} reads memory)`);
  }

  /** "uprobe:/path:symbol" or "uretprobe:/path:symbol". */
  get source(): string {
    return `${this.#opts.retprobe ? "uretprobe" : "uprobe"}:${this.binary}:${this.symbol}${this.#opts.offset ? `+${this.#opts.offset}` : ""}`;
  }

  #streamLayout(): Layout {
    if (!this.#opts.retprobe) return { entry: true, ret: false, paired: false, first: SLOT.arg0, nslots: this.#nargs };
    const paired = this.#nargs > 0 || Boolean(this.#opts.latency) || this.#entryReads.mask !== 0;
    return { entry: paired, ret: true, paired, first: SLOT.ret, nslots: paired ? 2 + this.#nargs : 1 };
  }

  #columns(l: Layout): string[] {
    const names = ["ret", "latency", ...this.#argTypes.map((_, i) => `arg${i}`)];
    return Array.from({ length: l.nslots }, (_, k) => names[l.first + k]);
  }

  /** What will be loaded and attached: where, which programs, columns, filters. */
  plan(): UprobePlan {
    const l = this.#streamLayout();
    const w = (this.#opts.where ?? {}) as Record<string, unknown>;
    return {
      binary: this.binary,
      symbol: this.symbol,
      ...(this.#multi ? { functions: this.functions.map((f) => ({ name: f.name, address: "0x" + f.function.symbol.value.toString(16), fileOffset: "0x" + f.function.fileOffset.toString(16) })) } : {}),
      address: "0x" + this.function.symbol.value.toString(16),
      fileOffset: "0x" + this.function.fileOffset.toString(16),
      programs: [...(l.entry ? ["uprobe" as const] : []), ...(l.ret ? ["uretprobe" as const] : [])],
      columns: ["ts", "cpu", "pid", "tid", "comm", ...(this.#multi ? ["probe"] : []), ...this.#columns(l), ...this.#derivedColumns()],
      eventBytes: this.#eventSize(l),
      kernelFilters: [
        ...(["pid", "tid", "comm"] as const).filter((k) => w[k] !== undefined).map((k) => `${k} == ${JSON.stringify(w[k])}`),
        ...this.#preds.map((p) => `${p.field} ${p.op} ${p.value[0]}`),
      ],
      ...(this.#opts.pid !== undefined ? { pid: this.#opts.pid } : {}),
      derived: derivedPlan(this.#derived),
      readsAtEntry: l.paired || !l.ret ? this.#entryReads.columns : [],
    };
  }

  #eventSize(l: Layout): number {
    return HDR_SIZE + 8 * l.nslots + derivedEventBytes(this.#derived);
  }

  /** The derived columns a stream decodes, in order. */
  #derivedColumns(): string[] {
    return [...new Set(this.#derived.cols.flatMap((c) => (c.from ? [...c.from.split(","), ...(this.#opts.columns?.includes("cgroup") ? [c.column] : [])] : [c.column])))];
  }

  /** @internal Opens and configures uprobe.bpf.c for a layout; the caller loads it. */
  configure(l: Layout, mode: { aggregate?: { plan: KeyPlan; value: TracepointField | null; hist?: HistSpec; maxKeys: number } }): { obj: BpfObject; attach: () => Link[] } {
    requireTracingPrivileges(`tracing ${this.source}`);
    const obj = BpfObject.open(bpfObjectPath("uprobe"), "uprobe");
    try {
      const o = this.#opts;
      const w = (o.where ?? {}) as { pid?: number; tid?: number; comm?: string };
      const pid = w.pid ?? o.pid;
      if (pid !== undefined) obj.setConstant("cfg_pid", pid);
      if (w.tid !== undefined) obj.setConstant("cfg_tid", w.tid);
      excludeSelf(obj, o, { pid, tid: w.tid });
      if (w.comm !== undefined) {
        const c = encodeComm(w.comm);
        obj.setConstant("cfg_comm", c.bytes);
        obj.setConstant("cfg_comm_len", c.len);
      }
      obj.setConstant("cfg_npreds", this.#preds.length);
      obj.setConstant("cfg_preds", encodePreds(this.#preds));
      obj.setConstant("cfg_nargs", this.#nargs);
      if (this.#multi) obj.setConstant("cfg_multi", 1);
      configureSlotDerived(obj, this.#derived, !mode.aggregate);
      obj.setConstant("cfg_paired", l.paired ? 1 : 0);
      // a paired entry derives the reads taken at entry and carries them in its start
      obj.setConstant("cfg_derive_entry", l.paired ? this.#entryReads.mask : 0);
      obj.setConstant("cfg_carry_bytes", l.paired ? this.#entryReads.carryBytes : 64);
      if (l.paired) {
        obj.map("starts").setValueSize(this.#entryReads.carryBytes);
        obj.map("starts").setMaxEntries(this.#entryReads.maxStarts);
      } else obj.map("starts").setMaxEntries(1);
      obj.program("on_entry").setAutoload(l.entry);
      obj.program("on_return").setAutoload(l.ret);
      const a = mode.aggregate;
      if (a) {
        obj.setConstant("cfg_aggregate", 1);
        obj.map("events").setMaxEntries(4096);
        obj.setConstant("cfg_nparts", a.plan.parts.length);
        obj.setConstant("cfg_parts", encodeParts(a.plan.parts));
        obj.setConstant("cfg_key_words", a.plan.size / 8);
        obj.setConstant("cfg_cache", 1); // AggregationRun merges agg_cache into the maps' rows
        for (const m of ["agg0", "agg1"]) {
          obj.map(m).setKeySize(a.plan.size);
          obj.map(m).setMaxEntries(a.maxKeys);
        }
        if (a.value) {
          obj.setConstant("cfg_value_src", 1);
          obj.setConstant("cfg_value_woff", a.value.offset - RECORD_BASE);
          obj.setConstant("cfg_value_size", a.value.size);
          obj.setConstant("cfg_value_signed", a.value.signed ? 1 : 0);
        }
        const h = a.hist;
        obj.setConstant("cfg_hist", !h ? 0 : h === "log2" ? 1 : 2);
        if (h && h !== "log2") {
          obj.setConstant("cfg_lmin", BigInt(h.min));
          obj.setConstant("cfg_lmax", BigInt(h.max));
          obj.setConstant("cfg_lstep", BigInt(h.step));
        }
      } else {
        for (const m of ["agg0", "agg1"]) {
          obj.map(m).setKeySize(8);
          obj.map(m).setMaxEntries(1);
        }
        obj.setConstant("cfg_first_slot", l.first);
        obj.setConstant("cfg_nslots", l.nslots);
        obj.setConstant("cfg_event_size", this.#eventSize(l));
        obj.setConstant("cfg_wakeup_bytes", wakeupBytes(o.wakeupBytes, this.#bufferBytes, this.source));
        obj.map("events").setMaxEntries(this.#bufferBytes);
      }
      obj.load();
    } catch (e) {
      obj.dispose();
      throw kernelReadRefused(e, this.#derived, this.source);
    }
    const attachPid = this.#opts.pid;
    const attach = (): Link[] => {
      const links: Link[] = [];
      try {
        // One program, attached at every function: the cookie (the function's index) names it in the kernel.
        this.functions.forEach(({ function: { path, fileOffset } }, cookie) => {
          // The return first: an entry seen before its return probe exists would only leave a stale start.
          if (l.ret) links.push(obj.program("on_return").attachUprobe(path, null, { pid: attachPid, retprobe: true, offset: fileOffset - (this.#opts.offset ?? 0), cookie }));
          if (l.entry) links.push(obj.program("on_entry").attachUprobe(path, null, { pid: attachPid, retprobe: false, offset: fileOffset, cookie }));
        });
      } catch (e) {
        for (const k of links) k.dispose();
        if (attachPid !== undefined && (e as { errno?: number }).errno === 3 /* ESRCH */) {
          throw new BpfbookError("ESRCH", `cannot attach ${this.source} to process ${attachPid}: no such process (it exited?)`, { errno: 3, cause: e });
        }
        throw e;
      }
      return links;
    };
    return { obj, attach };
  }

  #setup(): StreamSetup {
    const l = this.#streamLayout();
    const { obj, attach } = this.configure(l, {});
    const fields: FieldDecoder[] = this.#multi ? [probeColumn(this.functions.map((f) => f.name))] : [];
    fields.push(...this.#columns(l).map((name, k) => {
      const at = HDR_SIZE + 8 * k;
      if (name === "latency") return decoders.int(name, at, 8, false);
      const t = TYPES[name === "ret" ? this.#retType : this.#argTypes[Number(name.slice(3))]];
      return t.pointer ? decoders.pointer(name, at) : decoders.int(name, at, t.size, t.signed);
    }));
    const slotAt = (woff: number): number | null => {
      const k = Math.floor(woff / 8) - l.first;
      return k >= 0 && k < l.nslots ? HDR_SIZE + 8 * k + (woff % 8) : null;
    };
    fields.push(...slotDerivedDecoders(this.#derived, HDR_SIZE + 8 * l.nslots, slotAt, { wantCgroup: Boolean(this.#opts.columns?.includes("cgroup")), stacks: obj.map("stacks") }));
    return { source: this.source, object: obj, eventSize: this.#eventSize(l), bufferBytes: this.#bufferBytes, wakeupBytes: this.#opts.wakeupBytes, fields, attach };
  }

  /** Loads, attaches and starts collecting events; stop it with stop() / table(), or dispose it. */
  start(stop: StopOptions = {}): Trace<R> {
    const opts = stopOptions(stop, "start()");
    return new Trace<R>(this.#setup(), opts);
  }

  /** Collects calls until a stop condition (seconds, events, signal): one row per call (or return). */
  collect(opts: CollectOptions): Promise<TraceTable<R>> {
    return collect<R>((o) => this.start(o), opts);
  }

  /** Yields the calls as Arquero tables, batch by batch. Breaking out of the loop stops the trace. */
  stream(opts: StreamOptions = {}): AsyncGenerator<TraceTable<R>> {
    return stream<R>((o) => this.start(o), opts);
  }

  /** Aggregates in the kernel: keys from `by`, an optional value, an optional histogram. */
  aggregate(opts: UprobeAggregateOptions = {}): UprobeAggregation {
    return new UprobeAggregation(this, opts, false);
  }
  /** Calls per key (bpftrace's count()). */
  count(opts: { by?: readonly UprobeKey[]; maxKeys?: number } = {}): UprobeAggregation {
    return this.aggregate(opts);
  }
  /** count, sum, min, max, avg of an argument or the return value, per key. */
  stats(value: ArgName | "ret", opts: { by?: readonly UprobeKey[]; maxKeys?: number } = {}): UprobeAggregation {
    return this.aggregate({ ...opts, value });
  }
  /** A log2 histogram of an argument or the return value, per key. */
  hist(value: ArgName | "ret", opts: { by?: readonly UprobeKey[]; maxKeys?: number } = {}): UprobeAggregation {
    return this.aggregate({ ...opts, value, hist: "log2" });
  }
  /** A linear histogram of an argument or the return value, per key. */
  lhist(value: ArgName | "ret", range: Exclude<HistSpec, "log2">, opts: { by?: readonly UprobeKey[]; maxKeys?: number } = {}): UprobeAggregation {
    return this.aggregate({ ...opts, value, hist: linearRange(range, this.source) });
  }
  /**
   * Time from entry to return of each call, in ns, paired by thread, aggregated in the
   * kernel: a log2 histogram (default), a linear one, or "stats" (count/sum/min/max/avg).
   */
  latency(options: { by?: readonly UprobeKey[]; hist?: HistSpec | "stats"; maxKeys?: number } = {}): UprobeAggregation {
    const opts = optionsObject(options, this.source, AGGREGATION_EXAMPLE);
    return new UprobeAggregation(this, { by: opts.by, value: "latency", hist: opts.hist === "stats" ? undefined : opts.hist ?? "log2", maxKeys: opts.maxKeys }, true);
  }

  /** @internal */
  get nargs(): number {
    return this.#nargs;
  }
  /** @internal whether reads happen at the entry (a return then needs its entry) */
  get readsAtEntry(): boolean {
    return this.#entryReads.mask !== 0;
  }
  /** @internal A list or wildcard: the `probe` column's names, by cookie (undefined for one function). */
  get probeNames(): readonly string[] | undefined {
    return this.#multi ? this.functions.map((f) => f.name) : undefined;
  }
  /** @internal */
  get retprobe(): boolean {
    return Boolean(this.#opts.retprobe);
  }
  /** @internal the fields as a tracepoint-like format, for key planning */
  get format(): TracepointFormat {
    return this.#format;
  }
  /** @internal */
  field(name: string, hasReturn: boolean, what: string): TracepointField {
    return this.#field(name, hasReturn, what);
  }
  /** @internal The same probe, also deriving these standard columns (when an aggregation keys by them). */
  withColumns(names: readonly string[]): UprobeProbe<R> {
    const have = derivedNames(this.#derived);
    const add = names.filter((n) => isExtraColumn(n) && !have.has(n)) as ExtraColumn[];
    if (add.length === 0) return this;
    return new UprobeProbe<R>(this.binary, this.#spec, { ...this.#opts, columns: [...(this.#opts.columns ?? []), ...add] });
  }

  /** @internal whether a filter reads the return value */
  get filtersReturn(): boolean {
    return this.#preds.some((p) => p.field === "ret");
  }
}

/** `where.probe` (a name or a list of them) keeps those of the matches: the others are not attached at all. */
function probeFilter(all: MatchedFunction[], want: unknown, what: string): MatchedFunction[] {
  if (want === undefined) return all;
  const names = typeof want === "string" ? [want] : Array.isArray(want) && want.every((x) => typeof x === "string") ? (want as string[]) : null;
  if (!names || names.length === 0) throw new InvalidArgumentError(`${what}: where.probe is a function name or a list of them, e.g. { probe: ${JSON.stringify(all[0].name)} }`);
  const unknown = names.filter((n) => !all.some((f) => f.name === n));
  if (unknown.length) throw new InvalidArgumentError(`${what}: where.probe names ${unknown.map((n) => JSON.stringify(n)).join(", ")}, which ${unknown.length === 1 ? "is not a match" : "are not matches"}; the matches are ${all.map((f) => f.name).join(", ")}`);
  return all.filter((f) => names.includes(f.name));
}

/**
 * A probe on a user-space function: `binary` is a path, an executable on PATH
 * ("bash"), or a library ("libc", "c", "libssl.so.3"); `symbol` a function in its
 * symbol table, or a wildcard ("read*", "rl_?et*") or a list of names and wildcards:
 * then every match is attached (bounded by maxFunctions, default 64) and rows and keys
 * have a `probe` column naming the function. Throws BinaryNotFoundError, NotElfError,
 * UnknownSymbolError / NoMatchingSymbolError (with the nearest names),
 * TooManySymbolsError or PermissionError right away.
 */
export function uprobe<const S extends string | readonly string[]>(binary: string, symbol: S, opts: UprobeOptions = {}): UprobeProbe<UprobeRowOf<S>> {
  return new UprobeProbe<UprobeRowOf<S>>(binary, symbol, opts);
}

/** A probe on a function's return: uprobe(binary, symbol, { ...opts, retprobe: true }). */
export function uretprobe<const S extends string | readonly string[]>(binary: string, symbol: S, opts: Omit<UprobeOptions, "retprobe" | "offset" | "unsafeOffset"> = {}): UprobeProbe<UprobeRowOf<S>> {
  return new UprobeProbe<UprobeRowOf<S>>(binary, symbol, { ...opts, retprobe: true });
}
