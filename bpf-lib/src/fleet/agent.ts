/* `bpfbook agent --stdio`: the host's end of a fleet. Reads run/stop frames on stdin,
 * replays each plan against the package (evaluate.ts), and writes frames on stdout:
 * hello first, then per run started, progress about once a second, the table (Arrow
 * IPC) with its stats, and done; a failure is an error frame with the host's own
 * error name, code and message. Nothing else ever reaches stdout (the CLI sends
 * stray writes to stderr). When stdin closes (the notebook was interrupted, killed, or
 * lost its ssh connection) every run is stopped and released before the agent exits,
 * so nothing stays attached on a host the notebook lost. */
import { existsSync, statSync } from "node:fs";
import { cpus, hostname, release } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import type { ColumnTable } from "arquero";
import { activity, forceStopAll, type Running } from "../engine/running.js";
import { disposeAll } from "../lifecycle.js";
import { cgroup2Mount } from "../cgroups/paths.js";
import { InvalidArgumentError } from "../errors.js";
import { evaluateSteps } from "./evaluate.js";
import { checkPlan, decodeValue, type Plan, type PlanStep } from "./plan.js";
import { AGENT_IDLE_MS, encodeFrame, FrameDecoder, PROTOCOL, tableToBytes, type AgentMessage, type ClientMessage } from "./protocol.js";

export interface AgentIo {
  input: Readable;
  /** Writes one frame's bytes (stdout). */
  write(bytes: Uint8Array): void;
  /** A line for people (stderr). */
  log(line: string): void;
}

export interface AgentOptions {
  /** The package's exports (index.ts), which plans are replayed against. */
  exports: Record<string, unknown>;
  /** bpfbook's version, for hello. */
  version: string;
  /** A cgroup2 directory (absolute, or relative to the cgroup2 mount): every probe is scoped to it. */
  cgroup?: string;
  /** Milliseconds between progress frames (default 1000). */
  progressMs?: number;
  /** Milliseconds without any frame from the client after which the notebook counts as lost (default AGENT_IDLE_MS; 0: never). */
  idleMs?: number;
}

/**
 * The id BPF sees for a cgroup2 directory: its inode. The path is absolute under the
 * cgroup2 mount, or relative to it, and must be a cgroup (it has cgroup.procs): any
 * other directory has an inode too, and a scope to it would silently match nothing.
 */
export function cgroupId(path: string): { id: number; path: string } {
  const mount = cgroup2Mount();
  if (!mount) throw new InvalidArgumentError(`--cgroup ${JSON.stringify(path)}: cgroup2 is not mounted here, so nothing can be scoped to a cgroup; run the agent without --cgroup`);
  const p = isAbsolute(path) ? resolve(path) : resolve(mount, path);
  if (p !== mount && !p.startsWith(mount + "/")) throw new InvalidArgumentError(`--cgroup ${JSON.stringify(path)}: not under the cgroup2 mount ${mount}; give a directory under it (or a path relative to it)`);
  try {
    const st = statSync(p, { bigint: true });
    if (st.isDirectory() && existsSync(join(p, "cgroup.procs"))) return { id: Number(st.ino), path: p };
  } catch {
    // named below
  }
  throw new InvalidArgumentError(`--cgroup ${JSON.stringify(path)}: no cgroup2 directory ${p} (a cgroup has a cgroup.procs file; cgroup2 is mounted at ${mount})`);
}

function errorFields(e: unknown): { name: string; code?: string; message: string } {
  const x = e as { name?: unknown; code?: unknown; message?: unknown };
  return { name: typeof x?.name === "string" ? x.name : "Error", ...(typeof x?.code === "string" ? { code: x.code } : {}), message: typeof x?.message === "string" ? x.message : String(e) };
}

/** Stats as JSON can carry them: bigints as numbers (they are counters), nothing that cannot be cloned. */
function plainStats(stats: unknown): Record<string, unknown> {
  if (!stats || typeof stats !== "object") return {};
  return JSON.parse(JSON.stringify(stats, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v))) as Record<string, unknown>;
}

function isRunning(x: unknown): x is Running & { finished(): Promise<ColumnTable> } {
  const r = x as Partial<Record<string, unknown>> | null;
  return !!r && typeof r.stop === "function" && typeof r.finished === "function" && typeof r.progressStats === "function";
}

/** Runs the agent until its input ends; resolves once everything it started is released. */
export async function runAgent(io: AgentIo, opts: AgentOptions): Promise<void> {
  const scope = opts.cgroup !== undefined ? cgroupId(opts.cgroup) : undefined;
  const runs = new Map<number, { running: Running | null; timer: NodeJS.Timeout | null }>();
  let closed = false;
  const send = (m: AgentMessage, body?: Uint8Array) => {
    if (closed) return;
    try {
      io.write(encodeFrame(m, body));
    } catch (e) {
      io.log(`bpfbook agent: could not write a ${m.type} frame: ${(e as Error).message}`);
    }
  };
  const mono = process.hrtime.bigint();
  send({
    type: "hello", protocol: PROTOCOL, bpfbook: opts.version, hostname: hostname(), kernel: release(), cpus: cpus().length,
    epochOffsetNs: Number(BigInt(Date.now()) * 1_000_000n - mono), ...(scope ? { cgroup: scope.path } : {}),
  });

  const execute = async (id: number, plan: Plan): Promise<void> => {
    const entry: { running: Running | null; timer: NodeJS.Timeout | null } = { running: null, timer: null };
    runs.set(id, entry);
    try {
      const nested = (s: PlanStep[]) => evaluateSteps(s, opts.exports, { cgroup: scope?.id });
      const target = evaluateSteps(plan.steps, opts.exports, { cgroup: scope?.id }) as Record<string, unknown>;
      const args = plan.run.args.map((a) => decodeValue(a, nested));
      let table: Promise<ColumnTable>;
      if (isRunning(target)) {
        entry.running = target;
        table = target.finished();
      } else if (plan.run.call === "start") {
        if (typeof target.start !== "function") throw new InvalidArgumentError(`what the plan describes cannot start (it has no start())`);
        const r = (target.start as (...a: unknown[]) => unknown)(...args);
        if (!isRunning(r)) throw new InvalidArgumentError(`start() gave something that is not a running collection`);
        entry.running = r;
        table = r.finished();
      } else {
        if (typeof target.collect !== "function") throw new InvalidArgumentError(`what the plan describes cannot collect (it has no collect())`);
        // the collection collect() starts, for progress and stop: it starts synchronously inside the call
        const seen: Running[] = [];
        const onStart = (r: Running) => seen.push(r);
        activity.on("start", onStart);
        try {
          table = (target.collect as (...a: unknown[]) => Promise<ColumnTable>)(...args);
        } finally {
          activity.off("start", onStart);
        }
        entry.running = seen[0] ?? null;
      }
      table.catch(() => {}); // awaited below, after started
      send({ type: "started", id });
      let last = { received: 0, at: Date.now() };
      entry.timer = setInterval(() => {
        const r = entry.running;
        if (!r) return;
        const s = r.progressStats();
        const now = Date.now();
        const rate = now > last.at ? ((s.received - last.received) * 1000) / (now - last.at) : 0;
        last = { received: s.received, at: now };
        send({ type: "progress", id, received: s.received, lost: s.lost, rate, seconds: s.seconds });
      }, opts.progressMs ?? 1000);
      let t = await table;
      // the scope's filter derives a cgroup column; one the cell did not ask for stays out, so the table has the shape it has on one host
      if (scope && t.columnNames().includes("cgroup") && !JSON.stringify(plan.steps).includes('"cgroup"') && typeof (t as { stats?: { received?: unknown } }).stats?.received === "number") {
        const stats = (t as { stats?: unknown }).stats;
        t = t.select(t.columnNames().filter((c) => c !== "cgroup"));
        Object.defineProperty(t, "stats", { value: stats, enumerable: false });
      }
      const stats = plainStats((t as { stats?: unknown }).stats);
      const kind = typeof stats.received === "number" && typeof stats.produced === "number" ? "events" : "aggregation";
      send({ type: "table", id, kind, stats }, tableToBytes(t));
    } catch (e) {
      send({ type: "error", id, ...errorFields(e) });
    } finally {
      if (entry.timer) clearInterval(entry.timer);
      runs.delete(id);
      send({ type: "done", id });
    }
  };

  const decoder = new FrameDecoder({ maxBodyBytes: 0 }); // the client sends headers only
  const idleMs = opts.idleMs ?? AGENT_IDLE_MS;
  let heard = Date.now();
  let idle: NodeJS.Timeout | null = null;
  await new Promise<void>((resolve) => {
    const end = () => {
      if (closed) return;
      closed = true;
      if (idle) clearInterval(idle);
      resolve();
    };
    // a client pings every few seconds: silence means a connection that died without an end
    // of input (a network gone, a notebook's machine suspended), and nobody will stop the runs
    if (idleMs > 0) {
      idle = setInterval(() => {
        if (Date.now() - heard <= idleMs) return;
        io.log(`bpfbook agent: nothing heard from the notebook for ${idleMs / 1000} s; taking it as lost`);
        end();
      }, Math.min(1000, idleMs));
    }
    io.input.on("data", (chunk: Buffer) => {
      heard = Date.now();
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch (e) {
        send({ type: "error", ...errorFields(e) });
        end();
        return;
      }
      for (const f of frames) {
        const m = f.header as ClientMessage;
        if (m.type === "run" && typeof m.id === "number") {
          if (runs.has(m.id)) {
            send({ type: "error", id: m.id, name: "FleetPlanError", code: "EFLEETPLAN", message: `run id ${m.id} is already running` });
            continue;
          }
          let plan: Plan;
          try {
            plan = checkPlan(m.plan);
          } catch (e) {
            send({ type: "error", id: m.id, ...errorFields(e) });
            send({ type: "done", id: m.id });
            continue;
          }
          void execute(m.id, plan);
        } else if (m.type === "stop" && typeof m.id === "number") {
          void runs.get(m.id)?.running?.stop(m.by === "interrupt" ? "interrupt" : "stop").catch(() => {});
        } else if (m.type === "ping") {
          // heard: that is all a ping says
        } else {
          io.log(`bpfbook agent: ignored a ${JSON.stringify((m as { type: string }).type)} frame`);
        }
      }
    });
    io.input.once("end", end);
    io.input.once("close", end);
    io.input.once("error", end);
  });
  // stdin closed: release everything at once (detach, close), whatever was running
  for (const r of runs.values()) if (r.timer) clearInterval(r.timer);
  const forced = forceStopAll();
  const disposed = disposeAll();
  io.log(`bpfbook agent: input closed; released ${forced} running collection${forced === 1 ? "" : "s"} (${disposed} objects)`);
}
