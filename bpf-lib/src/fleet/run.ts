/* One plan running on every host of a fleet. Resolves start() once each host has
 * attached or failed; keeps each host's progress from its agent's frames; stop()
 * sends stop to every host; finished() merges what came back (merge.ts) with each
 * host's part in `fleet.hosts`, and names the hosts whose data are absent in
 * `fleet.missing`. A host's failure is data, never the whole result's, unless every
 * host failed. Registered as a running collection (engine/running.ts) and a live
 * disposable (lifecycle.ts), so the notebook shows its progress and an interrupt,
 * or the process's exit, stops every host's trace. */
import type { ColumnTable } from "arquero";
import { started, stopped, type Running, type RunningStats, type StoppedBy } from "../engine/running.js";
import { track, untrack } from "../lifecycle.js";
import type { AgentConnection } from "./connection.js";
import { AgentDisconnectedError, AgentError, FleetFailedError, FleetStoppedError } from "./errors.js";
import { mergeAggregations, mergeEvents, mergeStats, withHostColumn, type HostTable } from "./merge.js";
import type { Plan } from "./plan.js";
import type { HelloMessage, TableMessage } from "./protocol.js";
import type { FleetInfo, FleetTable, HostError, HostProgress, HostResult } from "./results.js";

interface HostRun {
  host: string;
  progress: HostProgress;
  hello: HelloMessage | null;
  error: Error | null;
  table: { msg: TableMessage; table: ColumnTable } | null;
  conn: AgentConnection | null;
}

/** A host's error as `fleet.hosts` shows it: an agent's error is the host's own (its name, code, message). */
function errorOf(e: Error): HostError {
  if (e instanceof AgentError) return { name: e.remoteName, ...(e.remoteCode !== undefined ? { code: e.remoteCode } : {}), message: e.remoteMessage };
  const code = (e as { code?: unknown }).code;
  return { name: e.name, ...(typeof code === "string" ? { code } : {}), message: e.message };
}

/** Columns with a bigint in them (a typed bigint array, or any bigint value). */
function bigintColumnsOf(t: ColumnTable): string[] {
  return t.columnNames().filter((c) => {
    const col: unknown = t.column(c);
    if (col instanceof BigInt64Array || col instanceof BigUint64Array) return true;
    if (ArrayBuffer.isView(col)) return false;
    return Array.from(t.array(c) as ArrayLike<unknown>).some((v) => typeof v === "bigint");
  });
}

export class FleetRun<T = ColumnTable> implements Running, Disposable {
  readonly hosts: readonly string[];
  readonly #what: string;
  readonly #id: number;
  readonly #runs = new Map<string, HostRun>();
  readonly #started: Promise<void>;
  readonly #finished: Promise<FleetTable<T>>;
  #settleStarted!: () => void;
  #settleFinished!: () => void;
  #result: FleetTable<T> | null = null;
  #stoppedBy: StoppedBy = "stop";
  readonly #t0 = Date.now();
  /** When stop() was asked (0: not asked); when the run ended. */
  #stopAt = 0;
  #endAt = 0;

  /** @internal fleet.ts makes runs: `connections` resolve to each host's connection (or reject with why it has none). */
  constructor(what: string, id: number, plan: Plan, connections: ReadonlyMap<string, Promise<AgentConnection>>) {
    this.#what = what;
    this.#id = id;
    this.hosts = [...connections.keys()];
    for (const host of this.hosts) this.#runs.set(host, { host, progress: { state: "connecting", received: 0, lost: 0, rate: 0, seconds: 0 }, hello: null, error: null, table: null, conn: null });
    this.#started = new Promise<void>((r) => (this.#settleStarted = r));
    const settled = new Promise<void>((r) => (this.#settleFinished = r));
    this.#finished = settled.then(() => this.#merge());
    this.#finished.catch(() => {}); // finished() hands it out; an unawaited failure is in fleet.hosts
    track(this);
    started(this);
    for (const [host, conn] of connections) void this.#begin(this.#runs.get(host)!, conn, plan);
  }

  async #begin(r: HostRun, connecting: Promise<AgentConnection>, plan: Plan): Promise<void> {
    try {
      const conn = await connecting;
      r.conn = conn;
      r.hello = await conn.hello;
      if (this.#stopAt) throw new FleetStoppedError(r.host);
      r.progress.state = "starting";
      conn.run(this.#id, plan, {
        started: () => {
          r.progress.state = "running";
          this.#check();
        },
        progress: (p) => Object.assign(r.progress, { received: p.received, lost: p.lost, rate: p.rate, seconds: p.seconds }),
        table: (msg, table) => (r.table = { msg, table }),
        error: (e) => {
          r.error ??= e;
          this.#fail(r);
        },
        done: () => {
          if (r.error || !r.table) return this.#fail(r, new AgentDisconnectedError(r.host, "its agent finished the run without sending a table"));
          r.progress.state = "done";
          const s = r.table.msg.stats;
          if (typeof s.received === "number") r.progress.received = s.received;
          else if (typeof s.events === "number") r.progress.received = s.events;
          if (typeof s.lost === "number") r.progress.lost = s.lost;
          this.#check();
        },
      });
    } catch (e) {
      r.error ??= e as Error;
      this.#fail(r);
    }
  }

  #fail(r: HostRun, e?: Error): void {
    if (r.progress.state === "failed" || r.progress.state === "done") return;
    r.error ??= e ?? new AgentDisconnectedError(r.host, "the run ended without a reason from the host");
    r.progress.state = "failed";
    this.#check();
  }

  #check(): void {
    const states = [...this.#runs.values()].map((r) => r.progress.state);
    if (states.every((s) => s !== "connecting" && s !== "starting")) this.#settleStarted();
    if (states.every((s) => s === "done" || s === "failed")) {
      this.#settleStarted();
      this.#settleFinished();
    }
  }

  /** Resolves when every host has attached (or failed); rejects when every host failed. */
  async whenStarted(): Promise<this> {
    await this.#started;
    const runs = [...this.#runs.values()];
    if (runs.every((r) => r.progress.state === "failed")) throw new FleetFailedError(this.#what, new Map(runs.map((r) => [r.host, r.error!])));
    return this;
  }

  /** Each host's live counters (from its agent's progress frames, about once a second). */
  get progress(): Readonly<Record<string, Readonly<HostProgress>>> {
    return Object.fromEntries([...this.#runs].map(([h, r]) => [h, { ...r.progress }]));
  }

  get running(): boolean {
    return this.#result === null && [...this.#runs.values()].some((r) => r.progress.state !== "done" && r.progress.state !== "failed");
  }

  /** What the notebook's progress line shows: the plan, then each host's rate while it runs. */
  get source(): string {
    const per = [...this.#runs.values()].map((r) => `${r.host} ${r.progress.state === "running" ? `${Math.round(r.progress.rate).toLocaleString("en-US")}/s` : r.progress.state}`);
    return `${this.#what} on ${this.hosts.length} host${this.hosts.length === 1 ? "" : "s"} (${per.join(", ")})`;
  }

  progressStats(): RunningStats {
    let received = 0, lost = 0;
    for (const r of this.#runs.values()) {
      received += r.progress.received;
      lost += r.progress.lost;
    }
    return { source: this.source, received, lost, seconds: ((this.#endAt || Date.now()) - this.#t0) / 1000, stoppedBy: this.#stoppedBy };
  }

  describe(): string {
    const missing = [...this.#runs.values()].filter((r) => r.progress.state === "failed").map((r) => r.host);
    const s = this.progressStats();
    return `${this.#what} on ${this.hosts.length} hosts: ${s.received.toLocaleString("en-US")} events, ${s.lost} lost${missing.length ? `; missing: ${missing.join(", ")}` : ""}`;
  }

  /** Stops every host's trace (idempotent); resolves once every host has answered or failed. */
  async stop(by: StoppedBy = "stop"): Promise<void> {
    if (!this.#stopAt) {
      this.#stopAt = Date.now();
      this.#stoppedBy = by;
      for (const r of this.#runs.values()) r.conn?.stop(this.#id, by === "interrupt" ? "interrupt" : "stop");
    }
    await this.#finished.catch(() => {});
  }

  /** The merged table once every host has finished; rejects with FleetFailedError when none has data. */
  finished(): Promise<FleetTable<T>> {
    return this.#finished;
  }

  result(): ColumnTable | null {
    return this.#result as ColumnTable | null;
  }

  /** Synchronous release (process exit, a blocked interrupt): closes every host's agent, which releases everything there. */
  [Symbol.dispose](): void {
    for (const r of this.#runs.values()) if (r.progress.state !== "done" && r.progress.state !== "failed") r.conn?.close();
    this.#release();
  }

  #release(): void {
    untrack(this);
    stopped(this);
  }

  #merge(): FleetTable<T> {
    this.#endAt = Date.now();
    const runs = [...this.#runs.values()];
    // not stopped from here: the hosts ended it themselves (seconds, events), and say why
    const own = runs.find((r) => r.table)?.table?.msg.stats.stoppedBy;
    if (!this.#stopAt && typeof own === "string") this.#stoppedBy = own as StoppedBy;
    this.#release();
    const ok = runs.filter((r) => r.progress.state === "done" && r.table);
    if (ok.length === 0) throw new FleetFailedError(this.#what, new Map(runs.map((r) => [r.host, r.error ?? new AgentDisconnectedError(r.host, "no table came")])));
    const parts: HostTable[] = ok.map((r) => {
      const stats = { ...r.table!.msg.stats };
      const off = typeof stats.epochOffsetNs === "number" ? stats.epochOffsetNs : r.hello!.epochOffsetNs;
      return { host: r.host, table: r.table!.table, stats, epochOffsetNs: off };
    });
    const events = ok[0]!.table!.msg.kind === "events";
    const table = events ? mergeEvents(parts) : mergeAggregations(parts);
    // clocks on the wall: each host's monotonic start and stop plus its own offset
    const stats = mergeStats(parts.map((p) => ({
      ...p.stats,
      ...(typeof p.stats.startNs === "number" ? { startNs: p.stats.startNs + p.epochOffsetNs } : {}),
      ...(typeof p.stats.stopNs === "number" ? { stopNs: p.stats.stopNs + p.epochOffsetNs } : {}),
      epochOffsetNs: 0,
    })));
    if (!events) stats.keys = table.numRows();
    // which columns hold bigints is the merged table's to say (a sum past 2^53 may first appear in the merge)
    if ("bigintColumns" in stats) stats.bigintColumns = bigintColumnsOf(table);
    stats.hosts = ok.length;
    const hosts: HostResult[] = runs.map((r) => ({
      host: r.host,
      ok: ok.includes(r),
      ...(r.error && !ok.includes(r) ? { error: errorOf(r.error) } : {}),
      ...(r.table ? { stats: r.table.msg.stats, rows: r.table.table.numRows() } : {}),
      ...(r.hello ? { hostname: r.hello.hostname, kernel: r.hello.kernel, cpus: r.hello.cpus, bpfbook: r.hello.bpfbook, epochOffsetNs: r.hello.epochOffsetNs } : {}),
    }));
    const fleet: FleetInfo = { hosts, missing: hosts.filter((h) => !h.ok).map((h) => h.host) };
    Object.defineProperty(table, "stats", { value: Object.freeze(stats), enumerable: false });
    Object.defineProperty(table, "fleet", { value: Object.freeze(fleet), enumerable: false });
    Object.defineProperty(table, "perHost", { value: events ? null : withHostColumn(parts), enumerable: false });
    if (fleet.missing.length) process.emitWarning(`${this.#what}: no data from ${fleet.missing.join(", ")} (${hosts.filter((h) => !h.ok).map((h) => `${h.host}: ${h.error?.name}`).join("; ")}); see table.fleet.hosts`, "BpfbookFleetWarning");
    this.#result = table as unknown as FleetTable<T>;
    return this.#result;
  }
}
