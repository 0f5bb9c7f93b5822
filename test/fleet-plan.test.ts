/* Plans (bpf-lib/src/fleet/plan.ts, builder.ts, evaluate.ts): a chain of calls becomes
 * JSON with plain data only, refusals name the call and the argument's path, and the
 * agent's evaluator replays a plan against the real package, refusing whatever is not a
 * probe constructor or a public method, and scoping every probe to its cgroup. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as aq from "arquero";
import * as bpfbook from "../bpf-lib/src/index.js";
import { builder, constructor, namespace } from "../bpf-lib/src/fleet/builder.js";
import { evaluateSteps } from "../bpf-lib/src/fleet/evaluate.js";
import { checkPlan, decodeValue, type Plan } from "../bpf-lib/src/fleet/plan.js";
import { FleetPlanError } from "../bpf-lib/src/fleet/errors.js";
import { typecheck } from "./helpers/typecheck.js";

const exportsOf = bpfbook as unknown as Record<string, unknown>;
const capture = async (p: Plan): Promise<Plan> => p;
type Chain = Record<string, (...a: unknown[]) => Chain & Promise<unknown>>;
const tp = constructor("tracepoint", capture) as unknown as (...a: unknown[]) => Chain;

describe("fleet plans", () => {
  it("turns a chain into JSON: steps in order, the run, plain data only", async () => {
    const plan = await tp("syscalls:sys_enter_openat", { fields: ["filename"], where: { pid: 42, cgroup: { in: [1, 2] } } })
      .count!({ by: ["comm", "filename"], maxKeys: 100 })
      .start!({ seconds: 5 }) as Plan;
    assert.deepEqual(plan, {
      v: 1,
      steps: [
        { call: "tracepoint", args: ["syscalls:sys_enter_openat", { fields: ["filename"], where: { pid: 42, cgroup: { in: [1, 2] } } }] },
        { call: "count", args: [{ by: ["comm", "filename"], maxKeys: 100 }] },
      ],
      run: { call: "start", args: [{ seconds: 5 }] },
    });
    assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
  });

  it("encodes bigints, undefined in the middle of arguments, and nested probes of the same fleet", async () => {
    const lat = constructor("latency", capture) as unknown as (...a: unknown[]) => Chain;
    const start = tp("raw_syscalls:sys_enter", { fields: [] });
    const plan = await lat({ start, end: tp("raw_syscalls:sys_exit", { where: { ret: 5n } }), by: ["comm"] }).collect!({ seconds: 1 }) as Plan;
    assert.deepEqual(plan.steps, [{
      call: "latency",
      args: [{
        start: { $probe: [{ call: "tracepoint", args: ["raw_syscalls:sys_enter", { fields: [] }] }] },
        end: { $probe: [{ call: "tracepoint", args: ["raw_syscalls:sys_exit", { where: { ret: { $bigint: "5" } } }] }] },
        by: ["comm"],
      }],
    }]);
    const lhist = await tp("x:y").lhist!("v", undefined, { by: ["pid"] }).collect!({ seconds: 1 }) as Plan;
    assert.deepEqual(lhist.steps[1], { call: "lhist", args: ["v", { $undefined: true }, { by: ["pid"] }] });
    assert.equal(decodeValue({ $bigint: "18446744073709551615" }, () => null), 18446744073709551615n);
  });

  it("namespaces make constructors of their members", async () => {
    const sys = namespace("syscalls", capture) as unknown as Chain;
    const plan = await sys.count!({ by: ["syscall"] }).collect!({ seconds: 2 }) as Plan;
    assert.deepEqual(plan.steps, [{ call: "syscalls.count", args: [{ by: ["syscall"] }] }]);
  });

  it("refuses what is not plain data, naming the call and the argument's path", () => {
    const refuses = (f: () => unknown, call: string, path: string, what: RegExp) =>
      assert.throws(f, (e: unknown) => e instanceof FleetPlanError && e.code === "EFLEETPLAN" && e.call === call && e.path === path && what.test(e.message) && e.message.startsWith(`${call} ${path}: `));
    refuses(() => tp("a:b").count!({ by: [() => 1] }), "count()", "argument 1 .by[0]", /a function cannot travel to the hosts.*apply the function to the merged table/);
    refuses(() => tp("a:b", { where: { comm: Symbol("x") } }), "tracepoint()", "argument 2 .where.comm", /a Symbol cannot travel/);
    refuses(() => tp("a:b").collect!({ seconds: 1, signal: new AbortController().signal }), "collect()", "argument 1 .signal", /an instance of AbortSignal cannot travel.*run\.stop\(\)/);
    refuses(() => tp("a:b").count!({ by: [aq.desc("comm")] }), "count()", "argument 1 .by[0]", /an instance of Wrapper cannot travel/);
    refuses(() => tp("a:b").count!({ by: [aq.escape((r: { x: number }) => r.x)] }), "count()", "argument 1 .by[0]", /an instance of Wrapper cannot travel/);
    refuses(() => tp("a:b", { where: { pid: new Date(0) } }), "tracepoint()", "argument 2 .where.pid", /an instance of Date cannot travel/);
    refuses(() => tp("a:b").start!({ seconds: Infinity }), "start()", "argument 1 .seconds", /the number Infinity has no JSON form/);
    refuses(() => tp("a:b", { $probe: 1 }), "tracepoint()", "argument 2 .$probe", /the plan's own/);
    refuses(() => tp("a:b").collect!({ seconds: 1, live: (t: unknown) => t }), "collect()", "argument 1 .live", /a function/);
  });

  it("is not thenable and has no private or reserved members", () => {
    const p = tp("a:b") as unknown as Record<string, unknown>;
    assert.equal(p.then, undefined);
    assert.equal(p._private, undefined);
    assert.equal(p.constructor, undefined);
    assert.equal(p.prototype, undefined);
    assert.equal(p.startEvents, undefined);
    assert.equal(typeof p.count, "function");
    assert.equal(typeof builder([], capture), "object");
  });
});

describe("the agent's evaluator", () => {
  it("replays a plan against the real package: a tracepoint's count is an Aggregation, nothing loaded", () => {
    const agg = evaluateSteps([
      { call: "tracepoint", args: ["syscalls:sys_enter_getppid", { fields: [] }] },
      { call: "count", args: [{ by: ["comm"] }] },
    ], exportsOf);
    assert.ok(agg instanceof bpfbook.Aggregation);
    assert.deepEqual((agg as bpfbook.Aggregation).columns(false), ["comm", "count"]);
    assert.equal(bpfbook.liveCount(), 0);
  });

  it("scopes every probe to the agent's cgroup, nested ones too, and refuses a probe that filters another cgroup", () => {
    const p = evaluateSteps([{ call: "tracepoint", args: ["syscalls:sys_enter_getppid", { fields: [], where: { pid: 3 } }] }], exportsOf, { cgroup: 4242 }) as bpfbook.TracepointProbe<string, string>;
    assert.deepEqual(p.options.where, { pid: 3, cgroup: 4242 });
    const bare = evaluateSteps([{ call: "tracepoint", args: ["syscalls:sys_enter_getppid"] }], exportsOf, { cgroup: 7 }) as bpfbook.TracepointProbe<string, string>;
    assert.deepEqual(bare.options.where, { cgroup: 7 });
    const seen: unknown[] = [];
    const fake = { tracepoint: (...a: unknown[]) => (seen.push(a), { start() {} }), latency: (o: unknown) => ({ o, start() {} }) };
    // a method is refused before it runs, not after what it returned is seen
    let called = false;
    assert.throws(() => evaluateSteps([{ call: "tracepoint", args: ["a:b"] }, { call: "plan", args: [] }], { tracepoint: () => ({ start() {}, plan: () => ((called = true), { x: 1 }) }) }), /tracepoint\(\)\.plan\(\): is not a method a plan may call/);
    assert.equal(called, false);
    assert.throws(() => evaluateSteps([{ call: "tracepoint", args: ["a:b"] }, { call: "count", args: [] }], { tracepoint: () => ({ start() {}, count: () => ({ x: 1 }) }) }), /tracepoint\(\)\.count\(\): returns a value, not a probe description/);
    evaluateSteps([{ call: "latency", args: [{ start: { $probe: [{ call: "tracepoint", args: ["a:b"] }] }, end: { $probe: [{ call: "tracepoint", args: ["c:d", { fields: [] }] }] } }] }], fake, { cgroup: 9 });
    assert.deepEqual(seen, [["a:b", { where: { cgroup: 9 } }], ["c:d", { fields: [], where: { cgroup: 9 } }]]);
    assert.throws(() => evaluateSteps([{ call: "tracepoint", args: ["a:b", { where: { cgroup: 8 } }] }], fake, { cgroup: 9 }),
      (e: unknown) => e instanceof FleetPlanError && e.path === "argument 2 .where.cgroup" && /scoped to cgroup 9/.test(e.message));
    assert.throws(() => evaluateSteps([{ call: "sched.runqueueLatency", args: [] }], exportsOf, { cgroup: 9 }),
      (e: unknown) => e instanceof FleetPlanError && /^sched\.runqueueLatency\(\): cannot be scoped to a cgroup/.test(e.message));
  });

  it("refuses calls that are not probe constructors or public methods", () => {
    const refuses = (steps: Plan["steps"], what: RegExp) => assert.throws(() => evaluateSteps(steps, exportsOf), (e: unknown) => e instanceof FleetPlanError && what.test(e.message));
    refuses([{ call: "disposeAll", args: [] }], /disposeAll\(\): is not a probe constructor a fleet runs/);
    refuses([{ call: "saveTrace", args: ["/etc/x"] }], /saveTrace\(\): is not a probe constructor/);
    refuses([{ call: "syscalls.__proto__", args: [] }], /is not a probe constructor/);
    refuses([{ call: "syscalls.constructor", args: [] }], /is not a probe constructor/);
    const tpStep = { call: "tracepoint", args: ["syscalls:sys_enter_getppid", { fields: [] }] };
    refuses([tpStep, { call: "constructor", args: [] }], /tracepoint\(\)\.constructor\(\): is not a method a plan may call/);
    refuses([tpStep, { call: "_x", args: [] }], /is not a method a plan may call/);
    refuses([tpStep, { call: "start", args: [] }], /start\(\): is not a method a plan may call/);
    refuses([tpStep, { call: "streamSetup", args: [] }], /is not a method a plan may call/);
    refuses([tpStep, { call: "nosuch", args: [] }], /nosuch\(\): is not a method a plan may call/);
    refuses([tpStep, { call: "plan", args: [] }], /tracepoint\(\)\.plan\(\): is not a method a plan may call/);
    refuses([tpStep, { call: "configureRecord", args: [] }], /is not a method a plan may call/);
    // a probe given as an argument is only described: one that starts as it is made cannot be one
    refuses([{ call: "latency", args: [{ start: { $probe: [{ call: "startProfile", args: [] }] }, end: { $probe: [tpStep] } }] }], /startProfile\(\): starts as it is called: it cannot be an argument of another probe/);
    assert.throws(() => decodeValue({ $eval: "x" }, () => null), /an unknown "\$" form/);
    const o = decodeValue(JSON.parse('{"__proto__": {"polluted": 1}}'), () => null) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(o), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("checks a plan's shape and version", () => {
    assert.throws(() => checkPlan({ v: 2, steps: [], run: {} }), /version 2; this agent reads plan version 1/);
    assert.throws(() => checkPlan({ v: 1, steps: [], run: { call: "start", args: [] } }), /has no steps/);
    assert.throws(() => checkPlan({ v: 1, steps: [{ call: "tracepoint", args: [] }], run: { call: "eval", args: [] } }), /run must be/);
  });
});

describe("the fleet's types", () => {
  it("are the package's: names, fields and keys checked, start() a FleetRun, collect() a FleetTable with a typed host column", () => {
    // one program (creating one costs seconds): what must type-check, then four lines that must not
    const bad = typecheck(["fleet"], `
      const f = fleet(["web-1", "web-2"]);
      const t = await f.tracepoint("syscalls:sys_enter_openat", { fields: ["filename"] }).collect({ seconds: 1 });
      const host: string = t.array("host")[0]!;
      const file: string = t.array("filename")[0]!;
      const missing: string[] = t.fleet.missing;
      const run = await f.tracepoint("syscalls:sys_enter_openat", { fields: ["filename"] }).count({ by: ["comm", "filename"] }).start();
      const rate: number = run.progress["web-1"]!.rate;
      const agg = await run.finished();
      const perHost = agg.perHost;
      const events: number = agg.stats.events;
      const lat = await f.syscalls.latency({ by: ["syscall"] }).collect({ seconds: 1 });
      void [host, file, missing, rate, perHost, events, lat];
      f.tracepoint("syscalls:sys_enter_openat", { fields: ["filenam"] });
      f.tracepoint("syscalls:sys_enter_opnat");
      f.tracepoint("syscalls:sys_enter_openat").count({ by: ["nosuch"] });
      f.tracepoint("syscalls:sys_enter_openat").stream();
    `);
    assert.equal(bad.errors.length, 4, bad.errors.join("\n"));
    assert.match(bad.errors[0]!, /"filenam"/);
    assert.match(bad.errors[1]!, /"syscalls:sys_enter_opnat"/);
    assert.match(bad.errors[2]!, /"nosuch"/);
    assert.match(bad.errors[3]!, /Property 'stream' does not exist/);
  });
});
