/* A user's BPF C program: compiled (cached), opened as a spec whose globals and ring
 * sizes can still change, loaded on first use, attached by its SEC names for a run or
 * a collection, its maps and rings read back in the types of its own BTF. Owned by a
 * disposable like every other kernel object: nothing pinned, nothing left behind. */
import { BpfObject } from "../../libbpf/object.js";
import { captureLog } from "../../libbpf/log.js";
import type { BpfMap } from "../../libbpf/map.js";
import type { Link } from "../../libbpf/link.js";
import { BtfBlob } from "../../btf/blob.js";
import { DisposedError, InvalidArgumentError, InvalidOptionError, VerifierError } from "../../errors.js";
import { track, untrack } from "../../lifecycle.js";
import { nearest } from "../../tracefs/nearest.js";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { compileBpf, compileBpfFile, type CompileOptions, type CompiledObject } from "./compile.js";
import { describeObject, recordTypeNamed, type CustomMapInfo, type ObjectDescription } from "./describe.js";
import type { RecordLayout } from "./layout.js";
import { encodeRecord } from "./codec.js";
import { explainVerifierError, type SourceLines } from "./verifier.js";
import { attachKind, attachPrograms } from "./attach.js";
import { Attachment } from "./attachment.js";
import { CustomEvents, type EventsOwner } from "./events.js";
import { CustomMap, type MapOwner } from "./map.js";
import type { AttachOptions, BpfCOptions, CustomTypes, EventsOptions } from "./types.js";
import { summaryHtml, summaryText, type ProgramSummary } from "./summary.js";

type MapEntry<T extends CustomTypes, K extends keyof T["maps"]> = T["maps"][K];
type KeyRow<E> = E extends { key: infer R extends object } ? R : Record<string, unknown>;
type ValueRow<E> = E extends { value: infer R extends object } ? R : Record<string, unknown>;

export interface RunOptions extends AttachOptions {
  /** Detach after this many seconds (leave it out to run until stop(), the signal or an interrupt). */
  seconds?: number;
  signal?: AbortSignal;
}

const byName = new Map<string, BpfCProgram>();

export class BpfCProgram<T extends CustomTypes = CustomTypes> implements EventsOwner, MapOwner, Disposable {
  readonly name: string;
  readonly compiled: CompiledObject;
  readonly description: ObjectDescription;
  readonly #source: SourceLines;
  #object: BpfObject | null;
  #attachment: Attachment | null = null;

  /** Compiles (or takes from the cache) and opens BPF C; nothing reaches the kernel until it is used. */
  static async compile<T extends CustomTypes = CustomTypes>(code: string, options: BpfCOptions = {}): Promise<BpfCProgram<T>> {
    const compiled = await compileBpf(code, options);
    return new BpfCProgram<T>(compiled, { name: compiled.sourceName, code, firstLine: options.firstLine ?? 1 }, options);
  }

  /** Compiles and opens a `.bpf.c` file (relative to the working directory: the notebook's). */
  static async file<T extends CustomTypes = CustomTypes>(path: string, options: Omit<BpfCOptions, "sourceName" | "firstLine"> = {}): Promise<BpfCProgram<T>> {
    const compiled = await compileBpfFile(path, options);
    return new BpfCProgram<T>(compiled, { name: compiled.sourceName, code: readFileSync(path, "utf8"), firstLine: 1 }, options);
  }

  /** Opens an object compiled before (here or on another machine: CO-RE relocates it to this kernel at load). */
  static open<T extends CustomTypes = CustomTypes>(objectPath: string, options: Omit<BpfCOptions, keyof CompileOptions> = {}): BpfCProgram<T> {
    const name = basename(objectPath).replace(/\.bpf\.o$|\.o$/, "");
    const compiled: CompiledObject = { path: objectPath, hash: "", cached: true, seconds: 0, warnings: [], sourceName: name };
    return new BpfCProgram<T>(compiled, { name, code: "", firstLine: 1 }, options);
  }

  private constructor(compiled: CompiledObject, source: SourceLines, options: BpfCOptions) {
    this.compiled = compiled;
    this.#source = source;
    this.name = options.name ?? source.name;
    const object = BpfObject.open(compiled.path, this.name.replace(/[^\w.-]/g, "_").slice(0, 64) || "bpf");
    try {
      const btf = object.btfBytes();
      if (!btf) throw new InvalidArgumentError(`${this.name}: the compiled object has no BTF (it is compiled with -g; was it stripped?)`);
      this.description = describeObject(BtfBlob.fromBytes(btf, this.name));
      if (options.bufferBytes !== undefined) this.#sizeRings(object, options.bufferBytes);
    } catch (e) {
      object.dispose();
      throw e;
    }
    this.#object = object;
    for (const p of object.programs.values()) {
      if (attachKind(p.section) === null) {
        object.dispose();
        this.#object = null;
        throw new InvalidArgumentError(`${this.name}: program "${p.name}" has SEC("${p.section}"), which bpfbook cannot attach: use tracepoint/<group>/<name>, raw_tp/<name>, tp_btf/<name>, kprobe/<fn>, kretprobe/<fn>, fentry/<fn>, fexit/<fn>, uprobe/<path>:<symbol>, uretprobe/<path>:<symbol>, usdt/..., perf_event or xdp`);
      }
    }
    if (options.globals) this.set(options.globals as Partial<T["globals"]>);
    if (options.name !== undefined) {
      // a cell run again replaces its program: the previous one is released, not left loaded
      byName.get(options.name)?.dispose();
      byName.set(options.name, this as BpfCProgram);
    }
    track(this);
  }

  #sizeRings(object: BpfObject, bytes: number): void {
    if (!Number.isInteger(bytes) || bytes < 4096 || (bytes & (bytes - 1)) !== 0) {
      throw new InvalidOptionError(this.name, "bufferBytes", bytes, "a power of two of at least 4096 (one page), e.g. 4 << 20");
    }
    for (const m of this.description.maps) if (m.kind === "ringbuf") object.map(m.name).setMaxEntries(bytes);
  }

  #obj(): BpfObject {
    if (this.#object === null) throw new DisposedError(`BPF program ${this.name}`);
    return this.#object;
  }

  /** The programs (functions with a SEC) and where each attaches. */
  get programs(): { name: string; section: string }[] {
    return [...this.#obj().programs.values()].map((p) => ({ name: p.name, section: p.section }));
  }

  get loaded(): boolean {
    return this.#obj().loaded;
  }

  /** Whether its programs are attached now (by start(), run() or a collection). */
  get attached(): boolean {
    return [...this.#obj().programs.values()].some((p) => p.links.length > 0);
  }

  /** Sets `const volatile` globals; only before the program is loaded (its first start, run or collection). */
  set(globals: Partial<T["globals"]>): this {
    const obj = this.#obj();
    if (obj.loaded) throw new InvalidArgumentError(`${this.name}: globals are set before load; this program is loaded already (compile it again, or set them in bpf.compile(code, { globals }))`);
    if (typeof globals !== "object" || globals === null) throw new InvalidArgumentError(`${this.name}: set() takes an object of globals, e.g. { min_bytes: 100 }`);
    const known = new Map(this.description.globals.map((g) => [g.name, g]));
    for (const [name, value] of Object.entries(globals)) {
      const g = known.get(name);
      if (!g) {
        const near = nearest(name, known.keys());
        throw new InvalidArgumentError(`${this.name}: there is no global "${name}"${near.length ? ` (did you mean ${near.join(", ")}?)` : ""}; the settable globals are the \`const volatile\` ones: ${[...known.keys()].join(", ") || "(none)"}`);
      }
      obj.setConstant(name, encodeRecord(g.layout, value, `${this.name}: global "${name}"`));
    }
    return this;
  }

  /** Verifies and loads the programs and creates the maps (done for you by start/run/collect). */
  load(): this {
    const obj = this.#obj();
    if (obj.loaded) return this;
    // libbpf's lines during the load: the whole verifier log, not only the excerpt the error quotes
    let failure: unknown = null;
    const { lines } = captureLog(() => {
      try {
        obj.load();
      } catch (e) {
        failure = e;
      }
    });
    if (failure instanceof VerifierError) throw explainVerifierError(failure, this.#source, lines);
    if (failure !== null) throw failure;
    return this;
  }

  /** @internal EventsOwner */
  loadedObject(): BpfObject {
    return this.load().#obj();
  }

  /** @internal MapOwner */
  loadedMap(name: string): BpfMap {
    const obj = this.#obj();
    if (!obj.loaded) throw new InvalidArgumentError(`${this.name}: map "${name}" exists once the program is loaded: run it first (prog.run({ seconds }), prog.start() or a collection of its events)`);
    return obj.map(name);
  }

  /** @internal EventsOwner */
  attachForCollection(opts: AttachOptions): Link[] {
    if (this.attached) throw new InvalidArgumentError(`${this.name} is attached already (by start(), run() or another collection): stop it first, or collect its events while it is not running`);
    return attachPrograms(this.load().#obj().programs, opts);
  }

  /** Loads (if needed) and attaches every program (or opts.programs) until stop(), dispose or an interrupt. */
  start(opts: AttachOptions = {}): this {
    if (this.attached) throw new InvalidArgumentError(`${this.name} is attached already: stop() it first`);
    const links = attachPrograms(this.load().#obj().programs, opts);
    this.#attachment = new Attachment(`bpf ${this.name}`, links);
    return this;
  }

  /** Detaches what start() attached; the maps stay readable. */
  stop(): void {
    const a = this.#attachment;
    this.#attachment = null;
    a?.detach("stop");
  }

  /** Attaches for `seconds` (or until the signal, stop() or an interrupt), then detaches; resolves to the program, its maps ready to read. */
  async run(opts: RunOptions = {}): Promise<this> {
    const { seconds, signal, ...attach } = opts;
    if (seconds !== undefined && (typeof seconds !== "number" || !(seconds > 0) || seconds > 2147483)) throw new InvalidOptionError(`${this.name}.run()`, "seconds", seconds, "a number of seconds above 0 (at most 2147483)");
    if (signal?.aborted) return this;
    this.start(attach);
    const a = this.#attachment!;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => a.detach("signal");
    try {
      signal?.addEventListener("abort", onAbort, { once: true });
      if (seconds !== undefined) timer = setTimeout(() => a.detach("seconds"), seconds * 1000);
      await a.done;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (this.#attachment === a) this.#attachment = null;
      a.detach("stop");
    }
    return this;
  }

  #mapInfo(name: string, what: "map" | "ring" | "hist"): CustomMapInfo {
    const maps = this.description.maps;
    const m = maps.find((x) => x.name === name);
    const fits = (x: CustomMapInfo) => (what === "ring" ? x.kind === "ringbuf" : what === "hist" ? x.kind === "hist" : x.kind !== "ringbuf");
    if (!m || !fits(m)) {
      const names = maps.filter(fits).map((x) => x.name);
      const near = nearest(name, names);
      const kind = what === "ring" ? "ring buffer" : what === "hist" ? "histogram (HIST)" : "map";
      throw new InvalidArgumentError(`${this.name} has no ${kind} "${name}"${m ? ` ("${name}" is a ${m.kind} map)` : ""}${near.length ? `; did you mean ${near.join(", ")}?` : ""}; its ${kind}s: ${names.join(", ") || "(none)"}`);
    }
    return m;
  }

  /**
   * A plain libbpf ring (`__uint(type, BPF_MAP_TYPE_RINGBUF)`), its records decoded as the
   * struct named in `record` (from the object's BTF); `Row` types the table. Without
   * RINGBUF()'s counters its `lost` is not known (0).
   */
  // First, and unconstrained: `prog.events<"ring">` (an instantiation expression) applies to every
  // overload, and ReturnType<> reads the last one, which must stay the RINGBUF one.
  events<Row = Record<string, unknown>>(ring: string, options: EventsOptions): CustomEvents<Row & object>;
  /** A ring buffer's records as tables: `.collect({ seconds })`, `.stream()`, `.start()`. */
  events<K extends keyof T["events"] & string>(ring: K): CustomEvents<T["events"][K] & object>;
  events(ring: string, options?: EventsOptions): CustomEvents<object> {
    const m = this.#mapInfo(ring, "ring");
    if (options !== undefined) {
      if (typeof options !== "object" || options === null || typeof options.record !== "string") {
        throw new InvalidOptionError(`${this.name}.events("${ring}")`, "record", (options as { record?: unknown } | null)?.record, "the C name of the record struct, e.g. { record: \"struct event\" }");
      }
      return new CustomEvents<object>(this, ring, this.#recordNamed(ring, options.record), m.stats);
    }
    if (!m.record) throw new InvalidArgumentError(`${this.name}: ring "${ring}" has no record type: name its struct (prog.events("${ring}", { record: "struct your_event" })), or declare it with RINGBUF(${ring}, struct your_event)`);
    return new CustomEvents<object>(this, ring, m.record, m.stats);
  }

  #recordNamed(ring: string, record: string): RecordLayout {
    const bytes = this.#obj().btfBytes();
    const found = bytes === null ? { names: [] } : recordTypeNamed(BtfBlob.fromBytes(bytes, this.name), record);
    if ("layout" in found) return found.layout;
    const bare = (n: string) => n.replace(/^(struct|union) /, "");
    const near = nearest(bare(record), found.names.map(bare)).map((n) => found.names.find((x) => bare(x) === n)!);
    const some = found.names.length > 20 ? `${found.names.slice(0, 20).join(", ")}, ...` : found.names.join(", ") || "(none)";
    throw new InvalidArgumentError(
      `${this.name}: ring "${ring}": the object's BTF has no struct "${record}"${near.length ? ` (did you mean ${near.join(", ")}?)` : ""}; its structs: ${some}. ` +
        `clang writes a type into BTF only when a global, a map or a function's argument uses it: a struct used only through a local pointer is not there; ` +
        `add \`${/^(struct|union) /.test(record) ? record : `struct ${record}`} *unused_${bare(record).replace(/\W/g, "_")} __attribute__((unused));\`, or declare the ring with RINGBUF(${ring}, ${record})`,
    );
  }

  /** A map, read and written in its key and value types: `.table()`, `.get(key)`, `.set(key, value)`, `.delete(key)`, `.clear()`. */
  map<K extends keyof T["maps"] & string>(name: K): CustomMap<KeyRow<MapEntry<T, K>>, ValueRow<MapEntry<T, K>>> {
    return new CustomMap(this, this.#mapInfo(name, "map"));
  }

  /** A HIST map: `.table()` gives key columns, bucket, low, high, count (for plot.histogram and percentiles). */
  hist<K extends keyof T["hists"] & string>(name: K): CustomMap<T["hists"][K] extends { key: infer R extends object } ? R : Record<string, unknown>, { count: number }> {
    return new CustomMap(this, this.#mapInfo(name, "hist"));
  }

  /** What it is: programs, maps and globals, and whether it is loaded or attached (the notebook shows this). */
  summary(): ProgramSummary {
    const state = this.#object === null ? "disposed" : this.attached ? "attached" : this.loaded ? "loaded" : "not loaded yet";
    return { name: this.name, compiled: this.compiled, state, programs: this.#object ? this.programs : [], description: this.description };
  }

  toString(): string {
    return summaryText(this.summary());
  }

  [Symbol.for("Jupyter.display")](): Record<string, string> {
    const s = this.summary();
    return { "text/plain": summaryText(s), "text/html": summaryHtml(s) };
  }

  /** Detaches and closes everything (idempotent). */
  dispose(): void {
    const obj = this.#object;
    if (obj === null) return;
    try {
      this.stop();
    } finally {
      this.#object = null;
      obj.dispose();
      untrack(this);
      for (const [n, p] of byName) if (p === (this as BpfCProgram)) byName.delete(n);
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
