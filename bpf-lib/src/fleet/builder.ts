/* The fleet's probe descriptions, in the notebook: a Proxy that records each call
 * (`tracepoint(...)`, `.count(...)`) as a plan step, checking at once that its
 * arguments can travel (plan.ts), and hands the plan to the fleet on start() or
 * collect(). It is not thenable and has no private members, so `await probe` or a
 * typo'd `_x` never sends anything anywhere. */
import { inspect } from "node:util";
import { encodeArgs, isMethodName, PLAN_VERSION, type Plan, type PlanStep } from "./plan.js";

const STEPS = new WeakMap<object, readonly PlanStep[]>();

/** The steps of one of the fleet's probe descriptions, or null when `v` is not one (for nested probes in latency() and pair()). */
export function probeSteps(v: unknown): PlanStep[] | null {
  if ((typeof v !== "object" && typeof v !== "function") || v === null) return null;
  const s = STEPS.get(v);
  return s ? [...s] : null;
}

/** What a call chain reads like, for messages and display: tracepoint("x").count(). */
export function describeSteps(steps: readonly PlanStep[]): string {
  return steps.map((s, i) => `${i ? "." : ""}${s.call}(${s.args.length ? JSON.stringify(s.args).slice(1, -1).slice(0, 80) : ""})`).join("");
}

/** Runs a plan: start → a FleetRun, collect → a FleetTable (fleet.ts decides). */
export type PlanRunner = (plan: Plan) => Promise<unknown>;

/** A probe description whose calls extend `steps`; start()/collect() give the plan to `run`. */
export function builder(steps: readonly PlanStep[], run: PlanRunner): object {
  const target = Object.create(null) as object;
  const proxy: object = new Proxy(target, {
    get(_t, prop) {
      if (prop === inspect.custom) return () => `FleetProbe ${describeSteps(steps)}`;
      if (typeof prop !== "string") return undefined;
      if (prop === "start" || prop === "collect") {
        return (...args: unknown[]) => {
          // arguments are checked now, so a refusal throws where the call is, not in a promise
          const plan: Plan = { v: PLAN_VERSION, steps: [...steps], run: { call: prop, args: encodeArgs(args, `${prop}()`, probeSteps) } };
          return run(plan);
        };
      }
      if (!isMethodName(prop)) return undefined;
      return (...args: unknown[]) => builder([...steps, { call: prop, args: encodeArgs(args, `${prop}()`, probeSteps) }], run);
    },
    has: () => false,
    ownKeys: () => [],
    set: () => false,
    defineProperty: () => false,
    setPrototypeOf: () => false,
  });
  STEPS.set(proxy, steps);
  return proxy;
}

/** A constructor of the fleet: `name(...args)` starts a description. */
export function constructor(name: string, run: PlanRunner): (...args: unknown[]) => object {
  return (...args: unknown[]) => builder([{ call: name, args: encodeArgs(args, `${name}()`, probeSteps) }], run);
}

/** A namespace of constructors (syscalls, sched, block): any member name makes one. */
export function namespace(name: string, run: PlanRunner): object {
  return new Proxy(Object.create(null) as object, {
    get(_t, prop) {
      if (typeof prop !== "string" || !isMethodName(prop)) return undefined;
      return constructor(`${name}.${prop}`, run);
    },
  });
}
