/* A plan: a probe description as JSON, what travels from the notebook to each host's
 * agent. It is the calls the cell made, in order (`tracepoint(...)`, then `.count(...)`)
 * and how to run the result (`start` or `collect`), with arguments that are plain data
 * only: strings, numbers, booleans, null, arrays, plain objects, bigints (as
 * {"$bigint": "…"}), undefined (as {"$undefined": true}) and other probe descriptions of
 * the same fleet (as {"$probe": [steps]}, for latency() and pair()). Anything else (a
 * function, a class instance, a Symbol, an Arquero expression) cannot mean the same on
 * another machine, so it is refused here, naming the call and the argument's path. */
import { FleetPlanError } from "./errors.js";

export const PLAN_VERSION = 1;

export type PlanValue = null | boolean | number | string | PlanValue[] | { [key: string]: PlanValue };
export interface PlanStep { call: string; args: PlanValue[] }
export interface Plan { v: typeof PLAN_VERSION; steps: PlanStep[]; run: { call: "start" | "collect"; args: PlanValue[] } }

/** The package's functions a plan may start with: "syscalls.*" allows every function of `syscalls`. */
export const CONSTRUCTORS: readonly string[] = [
  "tracepoint", "tracepoints", "uprobe", "uretprobe", "kprobe", "kretprobe", "startProfile", "latency", "pair",
  "syscalls.*", "sched.*", "block.*",
];

/** Method names no step may call: the runs (a plan's `run` says how to run), and the engine's hooks that load or attach. */
export const NOT_STEPS: ReadonlySet<string> = new Set([
  "start", "collect", "stream", "startEvents", "collectEvents", "streamEvents", "loadShared", "streamSetup", "configureRecord", "configure",
  "constructor", "prototype", "then", "catch", "finally", "toString", "toLocaleString", "valueOf", "toJSON", "hasOwnProperty", "isPrototypeOf",
  "propertyIsEnumerable", "__proto__", "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__", "dispose",
]);

/** Whether `name` is a constructor a plan may start with. */
export function isConstructor(name: string): boolean {
  if (CONSTRUCTORS.includes(name)) return true;
  const dot = name.indexOf(".");
  return dot > 0 && CONSTRUCTORS.includes(`${name.slice(0, dot)}.*`) && isMethodName(name.slice(dot + 1));
}

/** A public method's name: not private by convention (`_x`), not `#x`, not reserved. */
export function isMethodName(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9]*$/.test(name) && !NOT_STEPS.has(name);
}

/** What a value is, for a message ("a function", "an instance of AbortSignal"). */
function kindOf(v: unknown): string {
  if (typeof v === "function") return "a function";
  if (typeof v === "symbol") return "a Symbol";
  if (typeof v === "number") return `the number ${v}`;
  const name = (v as { constructor?: { name?: string } }).constructor?.name;
  return name ? `an instance of ${name}` : "an object that is not plain";
}

/** A path inside an argument: "argument 1" then " .by[0]". */
function sub(path: string, seg: string): string {
  return /^argument \d+$/.test(path) ? `${path} ${seg}` : path + seg;
}

const WHAT_WORKS = "a plan holds plain data only (strings, numbers, booleans, null, bigints, arrays, plain objects, and probes of the same fleet)";

/**
 * `v` as plan data. `probeSteps` recognizes this fleet's own probe descriptions (nested in
 * latency() and pair()). `call` and `path` name the place for errors: "count()", "argument 1 .by[0]".
 */
export function encodeValue(v: unknown, call: string, path: string, probeSteps: (v: unknown) => PlanStep[] | null): PlanValue {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (v === undefined) return { $undefined: true };
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new FleetPlanError(call, path, `${kindOf(v)} has no JSON form; ${WHAT_WORKS}`);
    return v;
  }
  if (typeof v === "bigint") return { $bigint: v.toString() };
  const steps = probeSteps(v);
  if (steps) return { $probe: steps as unknown as PlanValue };
  if (Array.isArray(v)) return v.map((x, i) => encodeValue(x, call, sub(path, `[${i}]`), probeSteps));
  if (typeof v === "object") {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto === Object.prototype || proto === null) {
      const out: { [k: string]: PlanValue } = {};
      for (const [k, x] of Object.entries(v)) {
        if (k.startsWith("$") || k === "__proto__") throw new FleetPlanError(call, sub(path, `.${k}`), `keys starting with "$" (and __proto__) are the plan's own; rename the option`);
        if (x === undefined) continue;
        out[k] = encodeValue(x, call, sub(path, `.${k}`), probeSteps);
      }
      if (Object.getOwnPropertySymbols(v).length) throw new FleetPlanError(call, path, `Symbol keys cannot travel; ${WHAT_WORKS}`);
      return out;
    }
  }
  const hint = typeof v === "function"
    ? "a function runs where it was written, not on the hosts: pass data (a field name, a filter object), or apply the function to the merged table after collect()"
    : (v as { constructor?: { name?: string } }).constructor?.name === "AbortSignal"
      ? "to stop on a signal, call run.stop() when it aborts (the FleetRun of start())"
      : `pass the same as plain data`;
  throw new FleetPlanError(call, path, `${kindOf(v)} cannot travel to the hosts: ${WHAT_WORKS}; ${hint}`);
}

/** The arguments of a call as plan data ("argument 1" is the first), trailing undefineds dropped. */
export function encodeArgs(args: readonly unknown[], call: string, probeSteps: (v: unknown) => PlanStep[] | null): PlanValue[] {
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  return args.slice(0, n).map((a, i) => encodeValue(a, call, `argument ${i + 1}`, probeSteps));
}

/**
 * Plan data back to values, on the agent. `probe` evaluates a nested {"$probe": steps}.
 * Objects are rebuilt key by key with defineProperty, so a "__proto__" key in hostile
 * JSON is a key, never a prototype.
 */
export function decodeValue(v: PlanValue, probe: (steps: PlanStep[]) => unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((x) => decodeValue(x, probe));
  const keys = Object.keys(v);
  if (keys.length === 1) {
    if (keys[0] === "$bigint" && typeof v.$bigint === "string" && /^-?\d+$/.test(v.$bigint)) return BigInt(v.$bigint);
    if (keys[0] === "$undefined") return undefined;
    if (keys[0] === "$probe" && Array.isArray(v.$probe)) return probe(v.$probe as unknown as PlanStep[]);
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (k.startsWith("$")) throw new FleetPlanError("plan", k, `an unknown "$" form (the plan's own are $bigint, $undefined, $probe)`);
    Object.defineProperty(out, k, { value: decodeValue(v[k]!, probe), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Checks a plan's shape (on the agent, before anything runs). */
export function checkPlan(p: unknown): Plan {
  const plan = p as Partial<Plan> | null;
  if (!plan || typeof plan !== "object") throw new FleetPlanError("plan", "", "is not an object");
  if (plan.v !== PLAN_VERSION) throw new FleetPlanError("plan", "", `version ${JSON.stringify(plan.v)}; this agent reads plan version ${PLAN_VERSION}`);
  if (!Array.isArray(plan.steps) || plan.steps.length === 0) throw new FleetPlanError("plan", "", "has no steps (a plan starts with a probe constructor, e.g. tracepoint)");
  for (const s of plan.steps) if (!s || typeof s.call !== "string" || !Array.isArray(s.args)) throw new FleetPlanError("plan", "", `a step that is not { call, args }: ${JSON.stringify(s).slice(0, 100)}`);
  if (!plan.run || (plan.run.call !== "start" && plan.run.call !== "collect") || !Array.isArray(plan.run.args)) throw new FleetPlanError("plan", "", `run must be { call: "start" | "collect", args }`);
  return plan as Plan;
}
