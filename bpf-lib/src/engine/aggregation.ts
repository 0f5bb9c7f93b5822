/* Aggregations of tracepoint records in the kernel (aggregate.bpf.c): count/sum/min/
 * max/avg and log2 or linear histograms keyed by standard columns and fields, and
 * latency between a start and an end event. A spec until start()/collect(), which
 * hands the loaded objects to AggregationRun. */
import type { ColumnTable } from "arquero";
import { BpfObject } from "../libbpf/object.js";
import type { Link } from "../libbpf/link.js";
import { bpfObjectPath } from "../paths.js";
import { requireTracingPrivileges } from "../privileges.js";
import { InvalidArgumentError } from "../errors.js";
import { Trace, type StopOptions, type CollectOptions } from "./trace.js";
import { collect as collectTrace, stream as streamTrace, type StreamOptions } from "./consume.js";
import { decoders } from "./fields.js";
import { HDR_SIZE } from "./layout.js";
import type { TraceTable } from "./table.js";
import { kernelKeys, withCgroupKeys } from "./cgroup-keys.js";
import { planKey, encodeParts, keyColumns, resolveKeyField, STRING_BYTES, type KeyPlan } from "./keys.js";
import { syscallName } from "../analysis/syscalls.js";
import { histSpec, type HistSpec } from "../options/hist.js";
import { AGGREGATION_EXAMPLE, integerIn, nameList, optionsObject, stringOption } from "../options/shapes.js";
import { aggregateRunOptions, collectOptions, stopOptions } from "../options/durations.js";
import { bufferBytes as checkBufferBytes, maxKeys as checkMaxKeys } from "../options/sizes.js";
import { AggregationRun, type AggCollectOptions, type AggShape, type AggTable, type RunSetup } from "./aggregation-run.js";
import type { RecordSource } from "./record-source.js";
import { planCarry, windowEnd, type CarryPlan } from "./carry.js";
import type { FieldDecoder } from "./decoder.js";
import type { TracepointField, TracepointFormat } from "../tracefs/format.js";

const ROLE = { agg: 0, start: 1, end: 2 } as const;
const VAL = { one: 0, field: 1, delta: 2 } as const;
const HIST = { none: 0, log2: 1, linear: 2 } as const;

export interface AggregateOptions {
  /** Key columns: pid, tid, comm, cpu, cgroup, syscall, or fields of the tracepoint. */
  by?: readonly string[];
  /** The integer field whose values are summed/min/max'ed or put in a histogram (default: just count events). */
  value?: string;
  /** Histogram of the value per key: log2 buckets, or linear { min, max, step }. */
  hist?: HistSpec;
  /** Keys the kernel map holds (default 10240); events of keys beyond it are counted in stats.dropped. */
  maxKeys?: number;
  /** Bytes of user-space string keys (syscall arguments like filename) with their NUL, 8..120, default 32. Longer strings are cut, marked "…" and counted in stats.truncated. */
  stringBytes?: number;
}

export interface AggSpec {
  source: string;
  /** The probe whose events are aggregated (the end event for latency): a TracepointProbe. */
  probe: RecordSource;
  options: AggregateOptions;
  /**
   * Latency: the start probes and the pair keys that match starts to ends; `carry`: start
   * fields (or "pid", "tid", "comm" of the starting task) brought to the end, where keys and
   * rows see them; `fields`: the end's own fields in the rows of startEvents().
   */
  latency?: { starts: RecordSource[]; startKey: readonly string[]; endKey: readonly string[]; carry?: readonly string[]; fields?: readonly string[] };
  /** Adds derived columns to the result (errno names, ...); stats are kept. */
  decorate?: (t: ColumnTable) => ColumnTable;
  /** Key columns renamed (field name → documented name), e.g. sched_switch's next_comm → comm. */
  keyColumns?: Readonly<Record<string, string>>;
  /** One probe of a group of tracepoints: its id (cfg_probe_id), and every probe's name, which a `probe` key reads back. */
  group?: { id: number; names: readonly string[] };
}

export class Aggregation {
  readonly spec: AggSpec;
  readonly #end: RecordSource;
  readonly #starts: RecordSource[];
  readonly #plan: KeyPlan;
  readonly #pairEnd: KeyPlan | null;
  readonly #pairStarts: KeyPlan[];
  readonly #value: { woff: number; size: number; signed: boolean } | null;
  readonly #carry: CarryPlan | null;
  /** The end's own fields in pair rows. */
  readonly #endFields: TracepointField[];

  /** Validates keys, value and histogram against the tracepoint's fields up front. */
  constructor(given: AggSpec) {
    const o = optionsObject(given.options, given.source, AGGREGATION_EXAMPLE);
    const asked = nameList(o.by, "by", given.source) ?? [];
    // container and cgroup_path keys are the cgroup id in the kernel, resolved and merged here
    const by = kernelKeys(asked);
    const spec: AggSpec = by.length === asked.length && by.every((k, i) => k === asked[i])
      ? given
      : { ...given, decorate: (t) => (given.decorate ? given.decorate(withCgroupKeys(t, asked)) : withCgroupKeys(t, asked)) };
    this.spec = spec;
    // standard columns the record lacks (uid, ppid, ...) that keys or the value name are derived in the kernel
    const carriedNames = new Set(spec.latency?.carry ?? []);
    const probe = spec.probe.withColumns?.([...by, ...(typeof o.value === "string" ? [o.value] : [])].filter((k) => !carriedNames.has(k))) ?? spec.probe;
    histSpec(o.hist, spec.source, spec.latency ? ["stats"] : []);
    if (o.value !== undefined) stringOption(o.value, "value", spec.source, "the name of an integer field");
    integerIn(o.stringBytes, "stringBytes", spec.source, STRING_BYTES.min, STRING_BYTES.max);
    if (o.hist && !o.value && !spec.latency) throw new InvalidArgumentError("a histogram needs a value: { value: <integer field> } (or use latency())");
    // Carried start fields are fields of the end event, after everything its window holds.
    const pairing = spec.latency;
    const endFields = (pairing ? nameList(pairing.fields, "fields", spec.source) ?? [] : []).map((n) => resolveKeyField(probe.format, n));
    this.#endFields = endFields;
    const carry = pairing?.carry?.length
      ? planCarry(nameList(pairing.carry, "carry", spec.source) ?? [], pairing.starts.map((s) => s.format), windowEnd(probe.format, probe.derivedLayout), endFields.map((f) => columnOf(f.name)), spec.source)
      : null;
    this.#carry = carry;
    const fmt: TracepointFormat = carry ? { ...probe.format, fields: [...probe.format.fields, ...carry.fields] } : probe.format;
    this.#plan = planKey(by, fmt, { stringBytes: o.stringBytes, bucket: Boolean(o.hist), syscallNames: syscallName, probeNames: spec.group?.names });
    for (const p of this.#plan.parts) p.column = spec.keyColumns?.[p.column] ?? p.column;
    // The window must cover every field a key, the value or a pair key reads.
    const need = new Set<string>();
    for (const p of this.#plan.parts) if (p.field && !carry?.fields.includes(p.field)) need.add(p.field.name);
    for (const f of endFields) need.add(f.name);
    let value: { woff: number; size: number; signed: boolean } | null = null;
    if (o.value) {
      if (spec.latency) throw new InvalidArgumentError("latency aggregates the time between events; it takes no value field");
      const f = resolveKeyField(fmt, o.value);
      if (f.decl.kind !== "int") throw new InvalidArgumentError(`value "${o.value}" must be an integer field; it is ${f.type}`);
      value = { woff: f.offset - 8, size: f.decl.size, signed: f.decl.signed };
      need.add(f.name);
    }
    this.#value = value;
    if (spec.latency) {
      const { starts, startKey, endKey } = spec.latency;
      this.#pairEnd = planKey(endKey, fmt);
      for (const p of this.#pairEnd.parts) if (p.field) need.add(p.field.name);
      this.#pairStarts = starts.map((s) => planKey(startKey, s.format));
      this.#pairStarts.forEach((pk, i) => {
        const a = pk.parts.map((p) => p.size).join(","), b = this.#pairEnd!.parts.map((p) => p.size).join(",");
        if (a !== b) throw new InvalidArgumentError(`start key (${startKey.join(", ")}) of ${starts[i].source} and end key (${endKey.join(", ")}) differ in size (${a} vs ${b} bytes): they cannot match`);
      });
      const carried = (pairing?.carry ?? []).filter((n) => !["pid", "tid", "comm"].includes(n)).map((n) => (/^args_(pid|tid|comm)$/.test(n) ? n.slice(5) : n));
      this.#starts = starts.map((s, i) => s.withFields([...this.#pairStarts[i].parts.filter((p) => p.field).map((p) => p.field!.name), ...carried.filter((n) => s.format.fields.some((f) => f.name === n))]));
    } else {
      this.#pairEnd = null;
      this.#pairStarts = [];
      this.#starts = [];
    }
    this.#end = probe.withFields([...need]);
    const maxKeys = o.maxKeys ?? 10240;
    checkMaxKeys(maxKeys, spec.source);
  }

  shape(): AggShape {
    return {
      source: this.spec.source,
      hist: this.spec.options.hist,
      latency: Boolean(this.spec.latency),
      unsigned: this.#value !== null && !this.#value.signed,
      maxKeys: this.spec.options.maxKeys ?? 10240,
      columns: (interval) => this.columns(interval),
      decorate: this.spec.decorate,
    };
  }

  /** The table's columns, in order. */
  columns(interval: boolean): string[] {
    const keys = keyColumns(this.#plan);
    const vals = this.spec.options.hist ? ["bucket", "low", "high", "count"] : this.#value || this.spec.latency ? ["count", "sum", "min", "max", "avg"] : ["count"];
    return [...(interval ? ["interval", "time"] : []), ...keys, ...vals];
  }

  #configure(obj: BpfObject, probe: RecordSource, role: number, pair: KeyPlan | null): void {
    const o = this.spec.options;
    probe.configureRecord(obj);
    obj.setConstant("cfg_role", role);
    if (this.spec.group) obj.setConstant("cfg_probe_id", this.spec.group.id);
    obj.map("events").setMaxEntries(4096);
    if (pair) {
      obj.setConstant("cfg_npair", pair.parts.length);
      obj.setConstant("cfg_pair", encodeParts(pair.parts));
      obj.setConstant("cfg_pair_words", pair.size / 8);
      obj.map("starts").setKeySize(pair.size);
      obj.map("starts").setValueSize(8 + (this.#carry?.bytes ?? 0)); // the start timestamp, then carried words
      if (this.#carry) {
        obj.setConstant("cfg_carry_bytes", this.#carry.bytes);
        if (role === ROLE.end) obj.setConstant("cfg_carry_off", this.#carry.off);
      }
    } else {
      obj.map("starts").setKeySize(8);
      obj.map("starts").setValueSize(8);
      obj.map("starts").setMaxEntries(1);
    }
    if (role === ROLE.start) {
      obj.map("agg0").setMaxEntries(1);
      obj.map("agg1").setMaxEntries(1);
      obj.map("starts").setMaxEntries(o.maxKeys ? Math.max(o.maxKeys, 65536) : 65536);
      return;
    }
    obj.setConstant("cfg_nparts", this.#plan.parts.length);
    obj.setConstant("cfg_parts", encodeParts(this.#plan.parts));
    obj.setConstant("cfg_key_words", this.#plan.size / 8);
    obj.setConstant("cfg_cache", 1); // AggregationRun merges agg_cache into the maps' rows
    for (const m of ["agg0", "agg1"]) {
      obj.map(m).setKeySize(this.#plan.size);
      obj.map(m).setMaxEntries(o.maxKeys ?? 10240);
    }
    obj.setConstant("cfg_value_src", role === ROLE.end ? VAL.delta : this.#value ? VAL.field : VAL.one);
    obj.setConstant("cfg_value_signed", this.#value && !this.#value.signed ? 0 : 1);
    if (this.#value) {
      obj.setConstant("cfg_value_woff", this.#value.woff);
      obj.setConstant("cfg_value_size", this.#value.size);
    }
    const h = o.hist;
    obj.setConstant("cfg_hist", !h ? HIST.none : h === "log2" ? HIST.log2 : HIST.linear);
    if (h && h !== "log2") {
      obj.setConstant("cfg_lmin", BigInt(h.min));
      obj.setConstant("cfg_lmax", BigInt(h.max));
      obj.setConstant("cfg_lstep", BigInt(h.step));
    }
  }

  #load(streamMode: 0 | 2, bufferBytes: number, share?: BpfObject): { objects: BpfObject[]; end: BpfObject; starts: BpfObject[]; attach: () => Link[] } {
    const objects: BpfObject[] = [];
    try {
      const starts: BpfObject[] = [];
      this.#starts.forEach((p, i) => {
        const obj = BpfObject.open(bpfObjectPath("aggregate"), "aggregate");
        objects.push(obj);
        this.#configure(obj, p, ROLE.start, this.#pairStarts[i]);
        if (this.#carry) obj.setConstant("cfg_carry_src", this.#carry.src[i]!);
        if (starts.length) obj.map("starts").reuse(starts[0].map("starts"));
        obj.load();
        starts.push(obj);
      });
      const end = BpfObject.open(bpfObjectPath("aggregate"), "aggregate");
      objects.push(end);
      this.#configure(end, this.#end, this.spec.latency ? ROLE.end : ROLE.agg, this.#pairEnd);
      if (streamMode) {
        end.setConstant("cfg_stream", streamMode);
        end.setConstant("cfg_event_size", HDR_SIZE + 8 + this.#streamBytes());
        end.setConstant("cfg_stream_bytes", this.#streamBytes());
        end.setConstant("cfg_wakeup_bytes", Math.min(bufferBytes / 4, 1 << 20));
        end.map("events").setMaxEntries(bufferBytes);
      }
      if (starts.length) end.map("starts").reuse(starts[0].map("starts"));
      if (share) for (const m of ["agg0", "agg1", "ctl", "agg_cache"]) end.map(m).reuse(share.map(m));
      end.load();
      const attach = (): Link[] => {
        const links: Link[] = [];
        try {
          // End first: a start seen before its end is attached would only be stale.
          links.push(end.program("on_aggregate").attachTracepoint(this.#end.format.group, this.#end.format.name));
          starts.forEach((o, i) => links.push(o.program("on_aggregate").attachTracepoint(this.#starts[i].format.group, this.#starts[i].format.name)));
        } catch (e) {
          for (const l of links) l.dispose();
          throw e;
        }
        return links;
      };
      return { objects, end, starts, attach };
    } catch (e) {
      for (const o of objects.reverse()) o.dispose();
      throw e;
    }
  }

  /** Window bytes each pair event carries: through the end fields and the carried words. */
  #streamBytes(): number {
    let end = 0;
    for (const f of this.#endFields) end = Math.max(end, f.offset + f.size - 8);
    if (this.#carry) end = Math.max(end, this.#carry.off + this.#carry.bytes);
    return Math.ceil(end / 8) * 8;
  }

  /** Decoders of a pair event: latency, then the end fields and the carried fields (window offset w at HDR + 8 + w). */
  #pairDecoders(): FieldDecoder[] {
    const at = (f: TracepointField) => HDR_SIZE + 8 + f.offset - 8;
    const one = (f: TracepointField, column: string): FieldDecoder => {
      if (f.list) return decoders.stringList(column, at(f), f.list.slot, f.list.count);
      const d = f.decl;
      switch (d.kind) {
        case "int": return decoders.int(column, at(f), d.size, d.signed);
        case "pointer": return decoders.pointer(column, at(f));
        case "char_array": return decoders.chars(column, at(f), d.length);
        case "int_array": return decoders.ints(column, at(f), d.elem, d.signed, d.length);
        default: return decoders.bytes(column, at(f), f.size);
      }
    };
    return [
      decoders.int("latency", HDR_SIZE, 8, true),
      ...this.#endFields.map((f) => one(f, columnOf(f.name))),
      ...(this.#carry?.fields ?? []).map((f) => one(f, f.name)),
    ];
  }

  /**
   * Latency as an event stream instead of an aggregate: one row per matched pair with
   * the standard columns of the end event, `latency` (ns), the end's `fields` and the
   * carried start fields. A running Trace; its stats count unmatched ends, evicted and
   * dropped starts.
   */
  startEvents(stop: StopOptions = {}, opts: { bufferBytes?: number } = {}): Trace {
    if (!this.spec.latency) throw new InvalidArgumentError("events() streams latency pairs; for other aggregations use the tracepoint's own collect()/stream()");
    const checked = stopOptions(stop, "startEvents()");
    const bufferBytes = checkBufferBytes(optionsObject(opts, "startEvents()").bufferBytes, this.spec.source);
    requireTracingPrivileges(`tracing ${this.spec.source}`);
    const { end, starts, attach } = this.#load(2, bufferBytes);
    return new Trace({ source: this.spec.source, object: end, others: starts, eventSize: HDR_SIZE + 8 + this.#streamBytes(), bufferBytes, fields: this.#pairDecoders(), attach }, checked);
  }

  /** Collects latency pairs as rows (see startEvents). */
  collectEvents(opts: CollectOptions & { bufferBytes?: number }): Promise<TraceTable> {
    return collectTrace((o) => this.startEvents(o, opts), opts);
  }

  /** Yields latency pairs as tables, batch by batch (see startEvents); breaking out of the loop stops the trace. */
  streamEvents(opts: StreamOptions & { bufferBytes?: number } = {}): AsyncGenerator<TraceTable> {
    return streamTrace((o) => this.startEvents(o, opts), opts);
  }

  /**
   * @internal Loads without attaching (a group of tracepoints loads one per probe); with
   * `share`, it counts into that object's agg0/agg1/ctl maps.
   */
  loadShared(share?: BpfObject): RunSetup {
    const { objects, end, attach } = this.#load(0, 4096, share);
    return { objects, end, attach, plan: this.#plan };
  }

  /** Loads and attaches; the run stops on its own with seconds/events/signal, or with stop(). */
  start(options: AggCollectOptions = {}): AggregationRun {
    const opts = aggregateRunOptions(options, "start()");
    requireTracingPrivileges(`aggregating ${this.spec.source}`);
    const { objects, end, attach } = this.#load(0, 4096);
    return new AggregationRun(this.shape(), { objects, end, attach, plan: this.#plan }, opts);
  }

  /** Aggregates until a stop condition; returns the table (one row per key, or per interval and key). */
  async collect(options: AggCollectOptions): Promise<AggTable> {
    const opts = collectOptions(aggregateRunOptions(options, "collect()"), "collect()");
    const run = this.start(opts);
    return run.finished();
  }
}

/** A record field's column: one named like a standard column becomes args_<name> (as in tracepoint rows). */
function columnOf(field: string): string {
  return ["ts", "cpu", "pid", "tid", "comm"].includes(field) ? `args_${field}` : field;
}
