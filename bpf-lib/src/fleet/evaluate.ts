/* The agent's side of a plan: replays its calls against the package's real exports.
 * Only the probe constructors of plan.ts's list may start a plan, and only the methods
 * that describe (STEP_METHODS: withFields, count, hist, ...) may follow, checked before
 * anything is called, so a plan can describe a probe and nothing else. With `cgroup`, every probe is scoped to that cgroup in the
 * kernel (`where: { cgroup: id }`); kinds whose options have no cgroup filter are
 * refused by name rather than run unscoped. */
import { FleetPlanError } from "./errors.js";
import { decodeValue, isConstructor, isMethodName, type PlanStep, type PlanValue } from "./plan.js";

export interface EvaluateOptions {
  /** The cgroup id (inode of its cgroup2 directory) every probe is scoped to. */
  cgroup?: number;
}

/**
 * The methods a step may call: those that describe (a narrower probe, an aggregation
 * of it), never one that loads, attaches, reads back or changes state. An allowlist,
 * checked before the call: a method is not run to find out what it gives.
 */
const STEP_METHODS: ReadonlySet<string> = new Set(["withFields", "withColumns", "count", "hist", "lhist", "stats", "aggregate", "latency", "latencyEvents"]);

/** Constructors that start something as they are called: a plan's first step only, never a probe given as an argument. */
const STARTS_AT_ONCE: ReadonlySet<string> = new Set(["startProfile"]);

/** Where each constructor takes the options object that holds `where`, or "nested": its probes are plan arguments, scoped themselves. */
const SCOPE_ARG: Readonly<Record<string, number | "nested">> = {
  tracepoint: 1, tracepoints: 1, uprobe: 2, uretprobe: 2, kprobe: 1, kretprobe: 1,
  "syscalls.count": 0, "syscalls.errors": 0, "syscalls.latency": 0,
  latency: "nested", pair: "nested",
};

function constructorOf(exports: Record<string, unknown>, name: string): (...args: unknown[]) => unknown {
  if (!isConstructor(name)) throw new FleetPlanError(`${name}()`, "", `is not a probe constructor a fleet runs; plans start with one of tracepoint, tracepoints, uprobe, uretprobe, kprobe, kretprobe, profile, latency, pair, syscalls.*, sched.*, block.*`);
  const [head, member] = name.split(".") as [string, string | undefined];
  const own = (o: unknown, k: string): unknown => (o !== null && typeof o === "object" || typeof o === "function") && Object.prototype.hasOwnProperty.call(o, k) ? (o as Record<string, unknown>)[k] : undefined;
  const f = member === undefined ? own(exports, head) : own(own(exports, head), member);
  if (typeof f !== "function") throw new FleetPlanError(`${name}()`, "", `this agent's bpfbook has no ${name}(): update bpfbook on the host`);
  return f as (...args: unknown[]) => unknown;
}

function scope(name: string, args: unknown[], cgroup: number): unknown[] {
  const at = SCOPE_ARG[name];
  if (at === "nested") return args;
  if (at === undefined) {
    throw new FleetPlanError(`${name}()`, "", `cannot be scoped to a cgroup (this agent runs with --cgroup, and ${name}() has no cgroup filter); use tracepoint(), tracepoints(), uprobe(), kprobe() or syscalls.* on such hosts, or run the agent without --cgroup`);
  }
  const out = args.slice();
  while (out.length <= at) out.push(undefined);
  const given = out[at];
  if (given !== undefined && (given === null || typeof given !== "object" || Array.isArray(given))) return out; // the constructor's own check names it
  const opts = (given ?? {}) as { where?: Record<string, unknown> };
  const where = opts.where ?? {};
  if (where.cgroup !== undefined && where.cgroup !== cgroup) {
    throw new FleetPlanError(`${name}()`, `argument ${at + 1} .where.cgroup`, `this agent is scoped to cgroup ${cgroup} (--cgroup); a probe there cannot filter another cgroup`);
  }
  out[at] = { ...opts, where: { ...where, cgroup } };
  return out;
}

/** Something that can run (start, collect) or is running (a started profile): what every step must give. */
function describesProbe(v: unknown): v is object {
  if (v === null || typeof v !== "object") return false;
  const o = v as Record<string, unknown>;
  return typeof o.start === "function" || typeof o.collect === "function" || typeof o.finished === "function";
}

/** The object the plan's steps describe (a probe, an aggregation, a running profile), made with the real package. */
export function evaluateSteps(steps: readonly PlanStep[], exports: Record<string, unknown>, opts: EvaluateOptions = {}, nestedProbe = false): object {
  const nested = (s: PlanStep[]): unknown => evaluateSteps(s, exports, opts, true);
  const decode = (args: PlanValue[]): unknown[] => args.map((a) => decodeValue(a, nested));
  const [first, ...rest] = steps;
  if (!first) throw new FleetPlanError("plan", "", "has no steps");
  if (nestedProbe && STARTS_AT_ONCE.has(first.call)) throw new FleetPlanError(`${first.call}()`, "", "starts as it is called: it cannot be an argument of another probe");
  const make = constructorOf(exports, first.call);
  let args = decode(first.args);
  if (opts.cgroup !== undefined) args = scope(first.call, args, opts.cgroup);
  let value: unknown = make(...args);
  let at = `${first.call}()`;
  for (const step of rest) {
    if (!isMethodName(step.call) || !STEP_METHODS.has(step.call)) throw new FleetPlanError(`${at}.${step.call}()`, "", `is not a method a plan may call: only ${[...STEP_METHODS].join(", ")} describe a probe`);
    const target = value as Record<string, unknown>;
    const m = target[step.call];
    if (typeof m !== "function" || Object.prototype.hasOwnProperty.call(Object.prototype, step.call)) {
      throw new FleetPlanError(`${at}.${step.call}()`, "", `what ${at} returned has no method ${step.call}`);
    }
    value = (m as (...a: unknown[]) => unknown).apply(target, decode(step.args));
    at = `${at}.${step.call}()`;
    if (!describesProbe(value)) throw new FleetPlanError(at, "", "returns a value, not a probe description: only calls that describe a probe can travel");
  }
  if (!describesProbe(value)) throw new FleetPlanError(at, "", "returns a value, not a probe description");
  return value;
}
