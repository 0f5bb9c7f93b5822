/* Record and replay at the package's edge. A notebook sees bpfbook through a proxy of
 * its exports: recording, every call into it (and into the objects it hands back:
 * probes, running traces, programs) is logged in order with what it returned, tables
 * saved as Arrow; replaying, the same calls return the recorded values and nothing
 * reaches the kernel, so the notebook runs where there is no BPF and no root. The
 * pure parts (charts, percentiles, names) run for real either way, as does every
 * cell's own analysis. Calls match by what was called and in which order, not by
 * arguments: pids and times differ from run to run. */
import { hostname, release, cpus } from "node:os";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { packageRoot } from "../paths.js";
import { BpfbookError } from "../errors.js";
import {
  readIndex, resetRecording, writeIndex, RECORDING_FORMAT, RECORDING_VERSION,
  type MachineFacts, type RecordedCall, type RecordedError, type RecordingIndex,
} from "./format.js";
import { decodeData, encodeData, isData, isTable, loadTable, saveTable, type Encoded } from "./values.js";
import { isPure } from "./pure.js";

/** A replayed notebook made a call the recording does not have at that point. */
export class ReplayMismatchError extends BpfbookError {
  readonly cell: number;
  readonly call: string;
  constructor(cell: number, call: string, n: number, recorded: RecordedCall | undefined) {
    super(
      "EREPLAY",
      recorded
        ? `replay: cell ${cell} called ${call} (call ${n}), but the recording has ${recorded.call}${recorded.args ? `(${recorded.args})` : ""} from cell ${recorded.cell} at that point: the notebook changed since it was recorded; record it again (bpfbook run <notebook> --record)`
        : `replay: cell ${cell} called ${call} (call ${n}), which was not recorded (the recording ends after ${n} calls): the notebook changed since it was recorded; record it again (bpfbook run <notebook> --record)`,
    );
    this.cell = cell;
    this.call = call;
  }
}

const PROXY_TARGET = Symbol("bpfbook.replay.target");
/** How an object shows itself in the notebook (a program's summary): recorded like a method, so a replay shows the same. */
const JUPYTER_DISPLAY = Symbol.for("Jupyter.display");

function isClass(f: unknown): boolean {
  return typeof f === "function" && /^class[\s{]/.test(Function.prototype.toString.call(f));
}

function argsText(args: unknown[]): string {
  try {
    return JSON.stringify(args, (_k, v: unknown) => {
      if (typeof v === "bigint") return `${v}n`;
      if ((typeof v === "object" || typeof v === "function") && v !== null && (v as { [PROXY_TARGET]?: unknown })[PROXY_TARGET] !== undefined) return "<handle>";
      if (typeof v === "function") return "<function>";
      if (v && typeof v === "object" && !isData(v)) return "<object>";
      if (isTable(v)) return `<table ${v.numRows()}×${v.numCols()}>`;
      return v;
    })?.slice(1, -1).slice(0, 300) ?? "";
  } catch {
    return "<arguments>";
  }
}

function errorOf(e: unknown): RecordedError {
  const x = e as { name?: unknown; message?: unknown; code?: unknown };
  return { name: String(x?.name ?? "Error"), message: String(x?.message ?? e), ...(typeof x?.code === "string" ? { code: x.code } : {}) };
}

export function machineFacts(doctor?: unknown): MachineFacts {
  let version = "0";
  try {
    version = (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
  } catch {
    // unknown
  }
  const mono = process.hrtime.bigint();
  return {
    hostname: hostname(), kernel: release(), cpus: cpus().length, recordedAt: new Date().toISOString(),
    epochOffsetNs: Date.now() * 1e6 - Number(mono), bpfbookVersion: version, ...(doctor === undefined ? {} : { doctor }),
  };
}

export class ReplaySession {
  readonly mode: "record" | "replay";
  readonly dir: string;
  /** The notebook cell (execution count) running now, for the log and for errors. */
  cell = 0;
  readonly #index: RecordingIndex;
  #next = 0;
  /** record: real object → handle id (weakly: a recording must not keep every trace alive); replay: handle id → proxy */
  readonly #ids = new WeakMap<object, number>();
  #nextId = 0;
  readonly #handles = new Map<number, unknown>();
  readonly #unwrap = new WeakMap<object, unknown>();
  #tables = 0;
  /** The real module: its error classes give replayed errors their class. */
  #module: Record<string, unknown> = {};

  private constructor(mode: "record" | "replay", dir: string, index: RecordingIndex) {
    this.mode = mode;
    this.dir = dir;
    this.#index = index;
  }

  /** Starts a recording in `dir` (what was there is replaced). */
  static record(dir: string, machine: MachineFacts = machineFacts()): ReplaySession {
    resetRecording(dir);
    const s = new ReplaySession("record", dir, { format: RECORDING_FORMAT, version: RECORDING_VERSION, machine, calls: [] });
    s.save();
    return s;
  }

  static replay(dir: string): ReplaySession {
    return new ReplaySession("replay", dir, readIndex(dir));
  }

  get machine(): MachineFacts {
    return this.#index.machine;
  }

  get calls(): readonly RecordedCall[] {
    return this.#index.calls;
  }

  /** Writes the index (recording): after every cell, so a kernel that dies still leaves what it had. */
  save(): void {
    if (this.mode === "record") writeIndex(this.dir, this.#index);
  }

  /** The package's exports as the notebook sees them in this mode. */
  wrap<T extends object>(module: T): T {
    this.#module = module as Record<string, unknown>;
    return this.#static(module, "") as T;
  }

  /** Namespaces and functions reached by property paths from the exports (`tools.opensnoop`): not handles. */
  #static(target: object, path: string): unknown {
    const session = this;
    return new Proxy(target, {
      get(t, prop, receiver) {
        const v = Reflect.get(t, prop, receiver);
        if (typeof prop === "symbol") return v;
        const name = path ? `${path}.${prop}` : prop;
        if (isPure(name) || isClass(v) || v === null || (typeof v !== "object" && typeof v !== "function")) return v;
        if (typeof v === "function") return session.#callable(v as (...a: unknown[]) => unknown, t, name);
        // a namespace (tools, syscalls, bpf: objects of functions) is a path; plain data is a value
        return isData(v) ? v : session.#static(v as object, name);
      },
    });
  }

  /** A function whose calls are logged (record) or answered from the log (replay). */
  #callable(fn: (...a: unknown[]) => unknown, self: unknown, name: string): (...a: unknown[]) => unknown {
    const session = this;
    const f = function (this: unknown, ...args: unknown[]): unknown {
      return session.mode === "record" ? session.#recordCall(fn, self, name, args) : session.#replayCall(name, args);
    };
    Object.defineProperty(f, "name", { value: name });
    return f;
  }

  #recordCall(fn: (...a: unknown[]) => unknown, self: unknown, name: string, args: unknown[]): unknown {
    const entry: RecordedCall = { n: this.#index.calls.length, cell: this.cell, call: name, args: argsText(args), outcome: { kind: "value", value: null } };
    this.#index.calls.push(entry);
    let r: unknown;
    try {
      r = Reflect.apply(fn, self, args.map((a) => this.#real(a)));
    } catch (e) {
      entry.outcome = { kind: "thrown", error: errorOf(e) };
      throw e;
    }
    if (r instanceof Promise) {
      const outcome: { kind: "promise"; resolved?: Encoded; rejected?: RecordedError } = { kind: "promise" };
      entry.outcome = outcome;
      return r.then(
        (v) => {
          outcome.resolved = this.#encode(v);
          return this.#present(v);
        },
        (e: unknown) => {
          outcome.rejected = errorOf(e);
          throw e;
        },
      );
    }
    entry.outcome = { kind: "value", value: this.#encode(r) };
    return this.#present(r);
  }

  #replayCall(name: string, args: unknown[]): unknown {
    const n = this.#next;
    const rec = this.#index.calls[n];
    if (!rec || rec.call !== name) throw new ReplayMismatchError(this.cell, `${name}(${argsText(args)})`, n, rec);
    this.#next++;
    const o = rec.outcome;
    if (o.kind === "thrown") throw this.#error(o.error);
    if (o.kind === "promise") return o.rejected ? Promise.reject(this.#error(o.rejected)) : Promise.resolve(this.#decode(o.resolved ?? { $undefined: 1 }));
    return this.#decode(o.value);
  }

  /** A recorded error with its class (the package's own, when it has one of that name), so `instanceof` holds. */
  #error(e: RecordedError): Error {
    const C = this.#module[e.name];
    const err = (typeof C === "function" && (C as { prototype?: unknown }).prototype instanceof Error ? Object.create((C as { prototype: object }).prototype) : new Error()) as Error & { code?: string };
    Object.defineProperty(err, "message", { value: e.message, writable: true, configurable: true });
    Object.defineProperty(err, "name", { value: e.name, writable: true, configurable: true });
    if (e.code) err.code = e.code;
    err.stack = `${e.name}: ${e.message}\n    (replayed from the recording)`;
    return err;
  }

  /** What the notebook gets back while recording: data as it is, objects as recording handles. */
  #present(v: unknown): unknown {
    if (v === null || typeof v !== "object" && typeof v !== "function") return v;
    if (isTable(v)) return v;
    if (isData(v)) return Array.isArray(v) ? v.map((x) => this.#present(x)) : v.constructor === Object ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.#present(x)])) : v;
    return this.#handleProxy(this.#ids.get(v as object)!, v as object);
  }

  #encode(v: unknown): Encoded {
    return encodeData(v, (o) => {
      if (isTable(o)) return saveTable(this.dir, String(this.#tables++).padStart(4, "0"), o);
      let id = this.#ids.get(o);
      if (id === undefined) {
        id = this.#nextId++;
        this.#ids.set(o, id);
      }
      return { $handle: id, callable: typeof o === "function" };
    });
  }

  #decode(e: Encoded): unknown {
    return decodeData(e, (m) => {
      if ("$table" in m || "$rows" in m) return loadTable(this.dir, m as never);
      if ("$handle" in m) {
        const id = m.$handle as number;
        let p = this.#handles.get(id);
        if (p === undefined) {
          p = this.#handleProxy(id, m.callable ? function () {} : {});
          this.#handles.set(id, p);
        }
        return p;
      }
      return undefined;
    });
  }

  /** The real object behind a handle (arguments passed back into bpfbook), deep in plain data too. */
  #real(a: unknown): unknown {
    if (a === null || typeof a !== "object" && typeof a !== "function") return a;
    const real = this.#unwrap.get(a as object);
    if (real !== undefined) return real;
    // copies only where a handle was inside: a template's strings array keeps its `raw`
    if (Array.isArray(a)) {
      const m = a.map((x) => this.#real(x));
      return m.every((x, i) => x === a[i]) ? a : m;
    }
    if (isData(a) && !isTable(a) && (a as object).constructor === Object) {
      const entries = Object.entries(a);
      const m = entries.map(([k, x]) => [k, this.#real(x)] as const);
      return m.every(([, x], i) => x === entries[i]![1]) ? a : Object.fromEntries(m);
    }
    return a;
  }

  /**
   * An object bpfbook handed back. Methods are logged as `$id.method`; property reads of
   * plain values as `$id.prop` (read live when recording, from the log when replaying).
   * `then` and `toJSON` are never read through (a handle is neither a promise nor JSON), nor are symbols other than
   * the iterator ones (the notebook's display looks at those, differently in each mode).
   */
  #handleProxy(id: number, target: object): unknown {
    const session = this;
    const label = `$${id}`;
    const p = new Proxy(target, {
      get(t, prop) {
        if (prop === PROXY_TARGET) return t;
        // nor `toJSON`: JSON.stringify reads it on a handle passed as an argument (argsText), before any replacer sees the value
        if (prop === "then" || prop === "toJSON") return undefined;
        if (typeof prop === "symbol" && prop !== Symbol.asyncIterator && prop !== Symbol.iterator && prop !== JUPYTER_DISPLAY) {
          return session.mode === "record" ? Reflect.get(t, prop) : undefined;
        }
        const name = typeof prop === "symbol" ? `${label}[${prop.description}]` : `${label}.${prop}`;
        if (session.mode === "replay") {
          const rec = session.#index.calls[session.#next];
          if (prop === JUPYTER_DISPLAY && rec?.call !== name) return undefined;
          if (rec && rec.call === name && rec.args === undefined) {
            session.#next++;
            return rec.outcome.kind === "value" ? session.#decode(rec.outcome.value) : undefined;
          }
          return session.#callable(() => undefined, t, name);
        }
        const v: unknown = Reflect.get(t, prop, t);
        if (typeof v === "function") return session.#callable(v as (...a: unknown[]) => unknown, t, name);
        if (prop === JUPYTER_DISPLAY) return v;
        session.#index.calls.push({ n: session.#index.calls.length, cell: session.cell, call: name, outcome: { kind: "value", value: session.#encode(v) } });
        return session.#present(v);
      },
      apply(t, self, args) {
        return session.mode === "record"
          ? session.#recordCall(t as (...a: unknown[]) => unknown, self, label, args)
          : session.#replayCall(label, args);
      },
    });
    this.#unwrap.set(p, target);
    return p;
  }
}
