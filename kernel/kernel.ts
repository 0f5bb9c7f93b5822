/* The kernel's main thread: runs cells and answers what the wire thread forwards.
 * Every shell request is framed by status busy/idle on iopub, and all of a
 * request's output is published before its idle. */
import { Worker } from "node:worker_threads";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import type { ConnectionInfo } from "./wire/connection.js";
import { FLAG, FLAG_COUNT, TICK_MS, type Channel, type OutMessage, type ToMain, type ToWire, type WireRequest } from "./wire/bridge.js";
import type { Header } from "./wire/message.js";
import { CellRunner } from "./cells/index.js";
import { toDisplayData, shouldDisplay, resetPlotlyInjection, LiveCharts, PLOTLY_MIME, type DisplayData } from "./display/index.js";
import { KernelImages } from "./display/kernel-images.js";
import { History } from "./history.js";
import { OutputCapture } from "./output.js";
import { CommRegistry, type Comm } from "./comms.js";
import { watchTraces } from "./progress.js";
import { installNotebookApi, PRELUDE } from "./notebook-api.js";
import { catchUncaught, type UncaughtKind } from "./uncaught.js";
import { activity, disposeAll, stopAll, type Running } from "../bpf-lib/src/index.js";
import { forceStopAll } from "../bpf-lib/src/engine/running.js";
import { banner, beginCell, endCell } from "./replay.js";

/** How long an interrupt waits for running traces to stop before the cell's reply goes out anyway. */
const STOP_TRACES_MS = 3000;
/**
 * How many executions' headers are kept for reporting late errors: a timer from a cell
 * older than this (hours of a long session) reports in the current cell instead, and
 * the map does not grow for the kernel's whole life.
 */
const KEEP_CELLS = 1000;

export interface KernelOptions {
  connection: ConnectionInfo;
  cwd: string;
}

export class Kernel {
  readonly session = randomUUID();
  readonly #worker: Worker;
  readonly #runner: CellRunner;
  readonly #history = new History();
  readonly #comms = new CommRegistry();
  /** Charts shown with a display id: live charts are completed and replaced at the end of a cell. */
  readonly #charts = new LiveCharts();
  /** Static images added to charts once the session is quiet (issue 13). */
  readonly #images: KernelImages<Partial<Header> | null>;
  /** Collections running (no images are drawn meanwhile). */
  readonly #collections = new Set<Running>();
  readonly #onCollectionStart = (r: Running) => void this.#collections.add(r);
  readonly #onCollectionStop = (r: Running) => {
    this.#collections.delete(r);
    this.#images.kick();
  };
  readonly #out: OutputCapture;
  #count = 0;
  /** The request being handled (cell output and displays belong to it). */
  #current: WireRequest | null = null;
  #queue: WireRequest[] = [];
  #busy = false;
  #executing = false;
  #pendingInput: { resolve: (s: string) => void; reject: (e: Error) => void } | null = null;
  #payload: Record<string, unknown>[] = [];
  /** Traces being stopped by an interrupt: the cell's reply waits for it, so the next cell sees partialResults(). */
  #interrupting: Promise<void> | null = null;
  #stopWatching: () => void;
  #stopCatching: () => void;
  #ticker: NodeJS.Timeout;
  /** Read by the wire thread while this one may be blocked (see FLAG). */
  readonly #flags = new Int32Array(new SharedArrayBuffer(4 * FLAG_COUNT));
  /** Execute requests by execution count, so an error thrown later in a cell's function is reported in that cell. */
  readonly #cells = new Map<number, Partial<Header>>();
  /** Nesting of the kernel's own work (FLAG.CLEANUP is set while above 0). */
  #cleanupDepth = 0;

  constructor(opts: KernelOptions) {
    this.#out = new OutputCapture((name, text, parent) => this.#send({ channel: "iopub", msgType: "stream", content: { name, text }, parent }));
    this.#runner = new CellRunner({
      cwd: opts.cwd, prelude: PRELUDE,
      onChecking: (on) => Atomics.store(this.#flags, FLAG.CHECKING, on ? 1 : 0),
      onSyncPart: (on) => {
        if (on) Atomics.add(this.#flags, FLAG.SYNC_SEQ, 1);
        Atomics.store(this.#flags, FLAG.SYNC_PART, on ? 1 : 0);
      },
    });
    this.#stopCatching = catchUncaught((kind, e) => this.#onUncaught(kind, e));
    // Lets the wire thread see that this thread's event loop is blocked (by a cell's synchronous loop).
    this.#ticker = setInterval(() => Atomics.add(this.#flags, FLAG.TICK, 1), TICK_MS);
    this.#ticker.unref();
    const workerUrl = new URL("./wire/worker.js", import.meta.url);
    this.#worker = new Worker(fileURLToPath(workerUrl), { workerData: { connection: opts.connection, session: this.session, flags: this.#flags } });
    this.#worker.on("message", (m: ToMain) => this.#onWire(m));
    this.#worker.on("error", (e) => this.#out.log(`wire thread error: ${e.stack ?? e}`));
    this.#images = new KernelImages({
      update: (id, bundle, parent) => {
        this.#charts.published(id, bundle, true);
        this.#iopub("update_display_data", { data: bundle.data, metadata: bundle.metadata, transient: { display_id: id } }, parent);
      },
      warn: (text, parent) => {
        this.#out.flush();
        if (parent) this.#send({ channel: "iopub", msgType: "stream", content: { name: "stderr", text: text + "\n" }, parent });
        else this.#out.log(text);
      },
      busy: () => this.#executing || this.#queue.length > 0 || [...this.#collections].some((r) => r.running),
    });
    activity.on("start", this.#onCollectionStart);
    activity.on("stop", this.#onCollectionStop);
    this.#stopWatching = watchTraces({
      // marked, so tools (and the replay test) can tell a run's status line from the cell's results
      show: (id, html, text, update) => this.#displayRaw({ data: { "text/html": html, "text/plain": text }, metadata: { bpfbook: { progress: true } } }, id, update),
    });
    installNotebookApi({
      display: (value, id, update) => this.#display(value, id, update),
      clearOutput: (wait) => this.#iopub("clear_output", { wait }),
      input: (prompt, password) => this.#input(prompt, password),
      page: (text) => this.#payload.push({ source: "page", data: { "text/plain": text }, start: 0 }),
      comm: (target, data) => this.#openComm(target, data),
      registerCommTarget: (name, fn) => this.#comms.targets.set(name, fn),
    });
    // SIGINT (Jupyter's interrupt, or the wire thread relaying interrupt_request):
    // the cell runner breaks the cell; here we stop traces, keeping their rows.
    process.on("SIGINT", () => {
      if (this.#executing) this.#interrupting ??= this.#ownWork(() => this.#interruptTraces());
    });
  }

  ready(): Promise<void> {
    return new Promise((resolve) => {
      const on = (m: ToMain) => {
        if (m.type === "ready") {
          this.#worker.off("message", on);
          resolve();
        }
      };
      this.#worker.on("message", on);
    });
  }

  #post(m: ToWire): void {
    this.#worker.postMessage(m);
  }

  #send(m: OutMessage): void {
    if (m.channel === "iopub" && m.msgType !== "stream") this.#out.flush();
    this.#post({ type: "send", message: m });
  }

  #iopub(msgType: string, content: unknown, parent: Partial<Header> | null = this.#current?.header ?? null): void {
    this.#send({ channel: "iopub", msgType, content, parent });
  }

  #reply(req: WireRequest, msgType: string, content: unknown, metadata: Record<string, unknown> = {}): void {
    this.#send({ channel: req.channel as Channel, msgType, content, parent: req.header, idents: req.idents, metadata });
  }

  #onWire(m: ToMain): void {
    if (m.type === "log") this.#out.log(`[wire] ${m.text}`);
    else if (m.type === "shutdown") void this.shutdown();
    else if (m.type === "request") {
      const r = m.request;
      if (r.channel === "stdin") return this.#onInputReply(r);
      this.#queue.push(r);
      void this.#drain();
    }
  }

  async #drain(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let r = this.#queue.shift(); r; r = this.#queue.shift()) {
        this.#current = r;
        this.#out.parent = r.header;
        this.#iopub("status", { execution_state: "busy" }, r.header);
        try {
          await this.#handle(r);
        } catch (e) {
          this.#out.log(`error handling ${r.header.msg_type}: ${e instanceof Error ? e.stack : String(e)}`);
        }
        this.#out.flush();
        this.#iopub("status", { execution_state: "idle" }, r.header);
      }
    } finally {
      this.#busy = false;
    }
  }

  async #handle(r: WireRequest): Promise<void> {
    const c = r.content;
    switch (r.header.msg_type) {
      case "execute_request":
        return this.#execute(r);
      case "complete_request": {
        const res = this.#runner.complete(String(c.code), Number(c.cursor_pos));
        return this.#reply(r, "complete_reply", { status: "ok", matches: res.matches, cursor_start: res.cursorStart, cursor_end: res.cursorEnd, metadata: res.metadata ?? {} });
      }
      case "inspect_request": {
        const res = this.#runner.inspect(String(c.code), Number(c.cursor_pos), Number(c.detail_level) === 1 ? 1 : 0);
        return this.#reply(r, "inspect_reply", { status: "ok", found: res.found, data: res.found ? { "text/plain": res.text } : {}, metadata: {} });
      }
      case "is_complete_request": {
        const res = this.#runner.isComplete(String(c.code));
        return this.#reply(r, "is_complete_reply", res.status === "incomplete" ? { status: res.status, indent: res.indent } : { status: res.status });
      }
      case "history_request":
        return this.#reply(r, "history_reply", { status: "ok", history: this.#history.query(c as Parameters<History["query"]>[0]) });
      case "comm_info_request":
        return this.#reply(r, "comm_info_reply", { status: "ok", comms: this.#comms.info(c.target_name as string | undefined) });
      case "comm_open":
        return this.#commOpen(r);
      case "comm_msg": {
        const comm = this.#comms.open.get(String(c.comm_id));
        comm?.onMessage?.(c.data);
        return;
      }
      case "comm_close": {
        const comm = this.#comms.open.get(String(c.comm_id));
        this.#comms.open.delete(String(c.comm_id));
        comm?.onClose?.(c.data);
        return;
      }
      default:
        this.#out.log(`unhandled message type ${r.header.msg_type}`);
    }
  }

  async #execute(r: WireRequest): Promise<void> {
    const c = r.content as { code: string; silent?: boolean; store_history?: boolean; allow_stdin?: boolean };
    const silent = Boolean(c.silent);
    const store = c.store_history !== false && !silent;
    if (store) this.#count++;
    const count = this.#count;
    if (!silent) this.#iopub("execute_input", { code: c.code, execution_count: count });
    if (store) this.#history.add(count, c.code);
    this.#payload = [];
    this.#executing = true;
    Atomics.add(this.#flags, FLAG.EXEC_SEQ, 1);
    Atomics.store(this.#flags, FLAG.EXECUTING, 1);
    this.#cells.set(count, r.header);
    // Maps iterate in insertion order: the first key is the oldest cell.
    if (this.#cells.size > KEEP_CELLS) this.#cells.delete(this.#cells.keys().next().value!);
    this.#charts.startCell();
    let outcome;
    let own = false;
    beginCell(count);
    // recording or replaying: said first, so a replay is never taken for live data
    const before = silent ? null : banner();
    if (before) this.#displayRaw({ data: before, metadata: { bpfbook: { banner: true } } }, undefined, false);
    try {
      outcome = await this.#runner.execute(c.code, count);
      endCell();
      // a `%bpfbook replay` line in this cell switched the mode just now
      const after = silent ? null : banner();
      if (after) this.#displayRaw({ data: after, metadata: { bpfbook: { banner: true } } }, undefined, false);
      // From here on only the kernel's own code runs for this request: not to be terminated.
      this.#enterOwn();
      own = true;
      // breakOnSigint consumes the SIGINT that stopped a synchronous part, and an earlier SIGINT
      // (during type checking) may have stopped traces before the cell started more: stop them now.
      if (outcome.status === "interrupted") {
        const earlier = this.#interrupting;
        this.#interrupting = (async () => {
          await earlier;
          await this.#interruptTraces();
        })();
      }
      if (this.#interrupting) await this.#settleInterrupt(this.#interrupting);
    } finally {
      this.#executing = false;
      this.#interrupting = null;
      Atomics.store(this.#flags, FLAG.EXECUTING, 0);
      if (own) this.#leaveOwn();
    }
    this.#out.flush();
    const value = outcome.status === "ok" && !silent && outcome.hasValue && shouldDisplay(outcome.value) ? this.#bundle(outcome.value) : null;
    // A final chart may take its live chart's place; a live chart that carried plotly.js gets it back.
    const end = this.#charts.finishCell(value);
    for (const u of end.updates) this.#displayRaw(u.bundle, u.id, true);
    if (outcome.status === "ok") {
      if (value) {
        if (end.result) {
          // a chart gets an id, so its static image can be added to it in place later
          const id = this.#images.enabled && end.result.data[PLOTLY_MIME] !== undefined ? randomUUID() : undefined;
          this.#iopub("execute_result", { execution_count: count, data: end.result.data, metadata: end.result.metadata, ...(id ? { transient: { display_id: id } } : {}) });
          this.#images.published(id, end.result, r.header);
        }
        if (store) this.#history.setOutput(count, String(value.data["text/plain"] ?? ""));
      }
      this.#reply(r, "execute_reply", { status: "ok", execution_count: count, payload: this.#payload, user_expressions: {} }, { status: "ok" });
    } else {
      const e = outcome.error;
      if (!silent) this.#iopub("error", { ename: e.ename, evalue: e.evalue, traceback: e.traceback });
      this.#reply(r, "execute_reply", { status: "error", execution_count: count, ename: e.ename, evalue: e.evalue, traceback: e.traceback }, { status: "error" });
    }
    this.#images.kick();
  }

  #bundle(value: unknown): DisplayData {
    try {
      return toDisplayData(value);
    } catch (e) {
      return { data: { "text/plain": inspect(value) }, metadata: { "bpfbook.display_error": String(e) } };
    }
  }

  #displayRaw(d: DisplayData, id: string | undefined, update: boolean): void {
    this.#charts.published(id, d, update);
    const content = { data: d.data, metadata: d.metadata, transient: id ? { display_id: id } : {} };
    this.#iopub(update ? "update_display_data" : "display_data", content);
    this.#images.published(id, d, this.#current?.header ?? null);
  }

  #display(value: unknown, id: string | undefined, update: boolean): void {
    this.#displayRaw(this.#bundle(value), id, update);
  }

  #enterOwn(): void {
    if (this.#cleanupDepth++ === 0) Atomics.store(this.#flags, FLAG.CLEANUP, 1);
  }

  #leaveOwn(): void {
    if (--this.#cleanupDepth === 0) Atomics.store(this.#flags, FLAG.CLEANUP, 0);
  }

  async #ownWork(work: () => Promise<void>): Promise<void> {
    this.#enterOwn();
    try {
      await work();
    } finally {
      this.#leaveOwn();
    }
  }

  /**
   * Waits for the interrupt's stop, but no longer than STOP_TRACES_MS: should it never
   * settle (its JavaScript terminated after all), whatever still runs is released now
   * and the reply goes out.
   */
  async #settleInterrupt(stopping: Promise<void>): Promise<void> {
    const late = Symbol("late");
    const r = await Promise.race([stopping, sleep(STOP_TRACES_MS, late, { ref: false })]);
    if (r !== late) return;
    const forced = forceStopAll();
    process.stderr.write(`interrupted: stopping traces did not finish within ${STOP_TRACES_MS / 1000} s${forced ? `; ${forced} trace${forced === 1 ? "" : "s"} detached` : ""}\n`);
  }

  /** Stops every running trace; never rejects, and gives up waiting after STOP_TRACES_MS, so the cell's reply always goes out. */
  async #interruptTraces(): Promise<void> {
    try {
      const timeout = sleep(STOP_TRACES_MS, null, { ref: false });
      const tables = await Promise.race([stopAll("interrupt"), timeout]);
      // Whatever did not stop in time (its pump was cut short by a terminated loop) is released now.
      const forced = forceStopAll();
      if (tables === null || forced) {
        process.stderr.write(`interrupted: ${forced} trace${forced === 1 ? "" : "s"} did not stop within ${STOP_TRACES_MS / 1000} s and ${forced === 1 ? "was" : "were"} detached\n`);
      } else if (tables.length) {
        const rows = tables.reduce((n, t) => n + t.numRows(), 0);
        process.stderr.write(`interrupted: ${tables.length} trace${tables.length > 1 ? "s" : ""} stopped and detached; ${rows} rows kept in partialResults()\n`);
      }
    } catch (e) {
      process.stderr.write(`interrupted: stopping traces failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }

  /**
   * An error no cell awaited. Shown as an error output of the cell whose code threw it
   * (the innermost cell frame of its stack), else of the cell running (or last run); the
   * kernel goes on. (Not AsyncLocalStorage: its async hooks and the interrupter's
   * terminateExecution together trip a Node assertion.)
   */
  #onUncaught(kind: UncaughtKind, e: unknown): void {
    try {
      const { error, cell } = this.#runner.explain(e);
      const parent = (cell !== undefined ? this.#cells.get(cell) : undefined) ?? this.#current?.header ?? null;
      const where = kind === "uncaughtException" ? "uncaught exception (in a callback no cell awaited)" : "unhandled promise rejection";
      const traceback = [...error.traceback, `(${where}; the kernel keeps running)`];
      if (parent) this.#iopub("error", { ename: error.ename, evalue: error.evalue, traceback }, parent);
      else this.#out.log(`${where}: ${traceback.join("\n")}`);
    } catch (again) {
      this.#out.log(`${kind}: ${String(e)} (and reporting it failed: ${String(again)})`);
    }
  }

  #input(prompt: string, password: boolean): Promise<string> {
    const r = this.#current;
    if (!r || r.header.msg_type !== "execute_request" || !(r.content as { allow_stdin?: boolean }).allow_stdin) {
      return Promise.reject(new Error("this frontend does not accept input (allow_stdin is false)"));
    }
    this.#out.flush();
    this.#send({ channel: "stdin", msgType: "input_request", content: { prompt, password }, parent: r.header, idents: r.idents });
    return new Promise((resolve, reject) => (this.#pendingInput = { resolve, reject }));
  }

  #onInputReply(r: WireRequest): void {
    const p = this.#pendingInput;
    this.#pendingInput = null;
    if (r.header.msg_type === "input_reply" && p) p.resolve(String((r.content as { value?: unknown }).value ?? ""));
  }

  #makeComm(id: string, target: string): Comm {
    const comm: Comm = {
      id,
      target,
      onMessage: null,
      onClose: null,
      send: (data) => this.#iopub("comm_msg", { comm_id: id, data }),
      close: (data) => {
        this.#comms.open.delete(id);
        this.#iopub("comm_close", { comm_id: id, data: data ?? {} });
      },
    };
    this.#comms.open.set(id, comm);
    return comm;
  }

  #commOpen(r: WireRequest): void {
    const c = r.content as { comm_id: string; target_name: string; data?: unknown };
    const target = this.#comms.targets.get(c.target_name);
    if (!target) {
      this.#iopub("comm_close", { comm_id: c.comm_id, data: { error: `no comm target "${c.target_name}"` } });
      return;
    }
    target(this.#makeComm(c.comm_id, c.target_name), c.data);
  }

  #openComm(target: string, data: unknown): Comm {
    const comm = this.#makeComm(randomUUID(), target);
    this.#iopub("comm_open", { comm_id: comm.id, target_name: target, data: data ?? {} });
    return comm;
  }

  async shutdown(): Promise<void> {
    activity.off("start", this.#onCollectionStart);
    activity.off("stop", this.#onCollectionStop);
    // Chromium is closed before the process exits (and killed by Playwright's exit handler if that took too long)
    await Promise.race([this.#images.close(), sleep(3000, undefined, { ref: false })]);
    this.#stopWatching();
    this.#stopCatching();
    clearInterval(this.#ticker);
    disposeAll();
    resetPlotlyInjection();
    this.#charts.reset();
    this.#runner.close();
    this.#out.flush();
    this.#post({ type: "close" });
    setTimeout(() => process.exit(0), 100).unref();
  }
}
