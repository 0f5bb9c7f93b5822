/* The notebook's end of one host's agent: a child process (local, ssh, kubectl) whose
 * stdin takes run/stop frames and whose stdout gives hello, started, progress, table,
 * error and done frames. It checks the hello (protocol version), routes frames to the
 * run they belong to, and turns the child's end into a named error for every run still
 * waiting: HostUnreachableError before hello, AgentDisconnectedError after. The child
 * keeps the notebook's event loop alive only while a run waits on it. */
import type { ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { AgentDisconnectedError, AgentError, AgentProtocolError, HostUnreachableError } from "./errors.js";
import { CLIENT_SILENCE_MS, encodeFrame, FrameDecoder, PING_MS, PROTOCOL, tableFromBytes, type AgentMessage, type ClientMessage, type HelloMessage, type ProgressMessage, type TableMessage } from "./protocol.js";
import type { ColumnTable } from "arquero";
import type { Plan } from "./plan.js";

/** What a run hears from its host. */
export interface RunEvents {
  started(): void;
  progress(p: ProgressMessage): void;
  table(msg: TableMessage, table: ColumnTable): void;
  /** The host's own error (AgentError), or the connection's end (AgentDisconnectedError, HostUnreachableError). */
  error(e: Error): void;
  done(): void;
}

const STDERR_TAIL = 2000;

export class AgentConnection {
  readonly host: string;
  readonly hello: Promise<HelloMessage>;
  readonly #child: ChildProcess;
  readonly #decoder = new FrameDecoder();
  readonly #runs = new Map<number, RunEvents>();
  #helloMsg: HelloMessage | null = null;
  #stderr = "";
  #ended: Error | null = null;
  #resolveHello!: (h: HelloMessage) => void;
  #rejectHello!: (e: Error) => void;
  #helloTimer: NodeJS.Timeout | null;
  /** When the agent last sent anything: a running agent sends progress every second. */
  #heard = Date.now();
  readonly #silenceMs: number;
  /** Pings the agent (so it knows the notebook is there) and gives up on an agent that fell silent while running. */
  readonly #pulse: NodeJS.Timeout;

  constructor(host: string, child: ChildProcess, opts: { helloTimeoutMs?: number; silenceMs?: number } = {}) {
    this.host = host;
    this.#child = child;
    this.hello = new Promise<HelloMessage>((resolve, reject) => {
      this.#resolveHello = resolve;
      this.#rejectHello = reject;
    });
    this.hello.catch(() => {}); // a run's error() reports it; nobody may be awaiting hello
    const ms = opts.helloTimeoutMs ?? 30_000;
    this.#helloTimer = setTimeout(() => this.#end(new HostUnreachableError(host, `no hello within ${ms / 1000} s${this.#stderrText()}`)), ms);
    child.stdout!.on("data", (chunk: Buffer) => this.#data(chunk));
    child.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString("utf8")).slice(-STDERR_TAIL);
    });
    child.stdin!.on("error", () => {}); // the child gone: its exit says why
    child.once("error", (e) => this.#end(new HostUnreachableError(host, `could not start ${child.spawnfile}: ${e.message}`)));
    child.once("close", (code, signal) => this.#end(this.#exitError(code, signal)));
    this.#silenceMs = opts.silenceMs ?? CLIENT_SILENCE_MS;
    let pinged = Date.now();
    this.#pulse = setInterval(() => {
      if (this.#ended) return;
      const now = Date.now();
      if (now - pinged >= PING_MS) {
        pinged = now;
        this.#send({ type: "ping" });
      }
      // a connection that died without an end (a network gone) sends nothing, ever: give the host up
      if (this.#helloMsg && this.#runs.size > 0 && now - this.#heard > this.#silenceMs) {
        this.#fatal(new AgentDisconnectedError(host, `nothing heard for ${this.#silenceMs / 1000} s while it ran (a running agent reports every second): the connection is taken as lost and closed; the agent releases everything when it notices (its input ends, or ${this.#silenceMs / 1000} s without a ping)`));
      }
    }, Math.min(1000, PING_MS));
    this.#pulse.unref();
    this.#refresh();
  }

  /** The host's hello, once it came (its kernel, cpus, clock offset). */
  get info(): HelloMessage | null {
    return this.#helloMsg;
  }

  /** The connection ended (the child exited, or it was closed): it takes no more runs. */
  get ended(): boolean {
    return this.#ended !== null;
  }

  /** Sends a run; `events` hears everything about it until done() or error() ends it. */
  run(id: number, plan: Plan, events: RunEvents): void {
    if (this.#ended) {
      queueMicrotask(() => events.error(this.#ended!));
      return;
    }
    this.#runs.set(id, events);
    this.#refresh();
    this.#send({ type: "run", id, plan });
  }

  stop(id: number, by: "stop" | "interrupt" = "stop"): void {
    if (this.#runs.has(id) && !this.#ended) this.#send({ type: "stop", id, by });
  }

  /** Closes the agent's stdin: it stops and releases everything, then exits. Runs still waiting get AgentDisconnectedError. */
  close(): void {
    if (!this.#child.stdin!.writableEnded) this.#child.stdin!.end();
    // a child that ignores its closed stdin (a stuck ssh) must not keep the notebook alive
    this.#child.unref();
    setTimeout(() => {
      if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGTERM");
    }, 5000).unref();
    this.#end(new AgentDisconnectedError(this.host, "the fleet was closed"));
  }

  #send(msg: ClientMessage): void {
    try {
      this.#child.stdin!.write(encodeFrame(msg));
    } catch (e) {
      this.#end(new AgentDisconnectedError(this.host, `writing to the agent failed: ${(e as Error).message}`));
    }
  }

  #data(chunk: Buffer): void {
    this.#heard = Date.now();
    let frames;
    try {
      frames = this.#decoder.push(chunk);
    } catch (e) {
      this.#end(e as Error);
      this.#child.kill("SIGTERM");
      return;
    }
    for (const f of frames) this.#message(f.header as AgentMessage, f.body);
  }

  #message(m: AgentMessage, body: Uint8Array): void {
    if (!this.#helloMsg) {
      if (m.type !== "hello") return this.#fatal(new AgentProtocolError(this.host, null, PROTOCOL, undefined, m.type));
      if (m.protocol !== PROTOCOL) return this.#fatal(new AgentProtocolError(this.host, m.protocol, PROTOCOL, m.bpfbook));
      this.#helloMsg = m;
      if (this.#helloTimer) clearTimeout(this.#helloTimer);
      this.#helloTimer = null;
      this.#resolveHello(m);
      return;
    }
    if (m.type === "error" && m.id === undefined) return this.#fatal(new AgentError(this.host, m));
    const run = "id" in m && typeof m.id === "number" ? this.#runs.get(m.id) : undefined;
    if (!run) return;
    switch (m.type) {
      case "started": return run.started();
      case "progress": return run.progress(m);
      case "table": {
        let t: ColumnTable;
        try {
          t = tableFromBytes(body);
        } catch (e) {
          return run.error(new AgentError(this.host, { name: "FrameError", code: "EFRAME", message: `its table could not be read: ${(e as Error).message}` }));
        }
        return run.table(m, t);
      }
      case "error": return run.error(new AgentError(this.host, m));
      case "done":
        this.#runs.delete(m.id);
        this.#refresh();
        return run.done();
    }
  }

  #fatal(e: Error): void {
    this.#end(e);
    this.close();
  }

  #stderrText(): string {
    const s = this.#stderr.trim();
    return s ? ` (it said: ${s.split("\n").slice(-5).join(" | ")})` : "";
  }

  #exitError(code: number | null, signal: NodeJS.Signals | null): Error {
    const how = signal ? `killed by ${signal}` : `exited with status ${code}`;
    if (!this.#helloMsg) {
      const hint = code === 255 ? " (ssh could not connect: check `ssh -T -o BatchMode=yes <host>` works)" : code === 127 ? " (command not found: is bpfbook installed there? see the fleet's `command` option)" : "";
      return new HostUnreachableError(this.host, `${how} before its hello${hint}${this.#stderrText()}`);
    }
    return new AgentDisconnectedError(this.host, `${how}${this.#stderrText()}`);
  }

  /** Ends the connection (once): hello waiters and every waiting run get `e`. */
  #end(e: Error): void {
    if (this.#ended) return;
    this.#ended = e;
    clearInterval(this.#pulse);
    if (this.#helloTimer) clearTimeout(this.#helloTimer);
    this.#helloTimer = null;
    this.#rejectHello(e);
    const runs = [...this.#runs.values()];
    this.#runs.clear();
    for (const r of runs) r.error(e);
    this.#refresh();
  }

  /** Holds the event loop open only while hello or a run is awaited. */
  #refresh(): void {
    const busy = !this.#ended && (this.#runs.size > 0 || !this.#helloMsg);
    const streams = [this.#child.stdout, this.#child.stderr, this.#child.stdin] as (Readable & { ref?: () => void; unref?: () => void })[];
    for (const s of streams) (busy ? s?.ref : s?.unref)?.call(s);
    if (busy) this.#child.ref();
    else this.#child.unref();
  }
}
