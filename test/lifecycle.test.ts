/* Nothing left behind: after dispose, after errors, and after kill -9. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { tracepoint, disposeAll, liveCount, stopAll, BpfObject, VerifierError, InvalidOptionError, activity } from "../bpf-lib/src/index.js";
import { uprobe } from "../bpf-lib/src/probes/uprobe/probe.js";
import { startProfile } from "../bpf-lib/src/probes/profile/profile.js";
import { xdp } from "../bpf-lib/src/probes/xdp/index.js";
import { createTestNet } from "./helpers/netns.js";
import { bpfObjectPath } from "../bpf-lib/src/paths.js";
import { programIdsOf, loadedProgramIds, ROOT, WORKLOAD, workload } from "./helpers/workload.js";

const ours = () => programIdsOf();
const gone = (ids: number[]) => { const live = new Set(loadedProgramIds()); return ids.every((id) => !live.has(id)); };

async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(25)) if (cond()) return true;
  return cond();
}

describe("lifecycle", () => {
  it("a started trace holds a program; dispose detaches and unloads it", async () => {
    const before = ours().length;
    const t = tracepoint("syscalls:sys_enter_getppid", { fields: [] }).start();
    const held = ours();
    assert.equal(held.length, before + 1);
    assert.equal(t.links.length, 1);
    assert.equal(t.links[0].kind, "tracepoint");
    t[Symbol.dispose]();
    assert.equal(t.links[0].attached, false);
    assert.ok(await until(() => ours().length === before && gone(held)), "program unloaded after dispose");
    assert.equal(liveCount(), 0);
  });

  it("disposeAll() releases every live trace (what a notebook interrupt does)", async () => {
    const a = tracepoint("syscalls:sys_enter_getppid", { fields: [] }).start();
    const b = tracepoint("syscalls:sys_enter_getpid", { fields: [] }).start();
    assert.equal(liveCount(), 2);
    const held = ours();
    assert.equal(held.length, 2);
    assert.equal(disposeAll(), 2);
    assert.equal(a.running || b.running, false);
    assert.ok(await until(() => ours().length === 0 && gone(held)));
  });

  it("a verifier rejection leaves nothing loaded and quotes the verifier", async () => {
    const obj = BpfObject.open(bpfObjectPath("tracepoint"));
    obj.setConstant("cfg_event_size", 8); // smaller than the header the program writes
    obj.program("on_tracepoint_dyn").setAutoload(false);
    assert.throws(() => obj.load(), (e: unknown) => {
      assert.ok(e instanceof VerifierError);
      assert.equal(e.code, "EVERIFIER");
      assert.match(e.log, /invalid access to memory|out of bounds|mem_size|R\d/);
      assert.ok(e.log.split("\n").length <= 26, "trimmed to the point");
      return true;
    });
    obj.dispose();
    assert.ok(await until(() => ours().length === 0));
  });

  it("kill -9 of a tracing process leaves no program attached", async () => {
    const child = spawn(process.execPath, [join(ROOT, "dist", "test", "helpers", "hold-trace.js")], { stdio: ["ignore", "pipe", "inherit"] });
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout!.once("data", (d: Buffer) => resolve(d.toString()));
      child.once("exit", (c) => reject(new Error(`tracer exited early with ${c}`)));
    });
    assert.match(line, /^attached \d+/);
    const held = programIdsOf(child.pid!);
    assert.equal(held.length, 1, "the tracer holds its program");
    assert.ok(loadedProgramIds().includes(held[0]));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    assert.ok(await until(() => gone(held)), `left behind: program ${held.join(", ")}`);
  });
});

/**
 * An AbortSignal that passes option validation (instanceof AbortSignal) but whose
 * `aborted` getter throws ERR_INVALID_THIS once the run reads it, after attach: so
 * these cases exercise the release path after attach, not validation.
 */
const notASignal = Object.create(AbortSignal.prototype) as AbortSignal;

/**
 * After a failure path: the promise rejected with `expected` (or any error when not given), within `ms`,
 * and this process holds exactly the programs it held before, tracks nothing, and stopAll() resolves.
 */
async function releasedAfter(run: () => Promise<unknown>, expected?: Error, ms = 5000): Promise<void> {
  const before = ours();
  const live = liveCount();
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    run().then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e })),
    new Promise<"hung">((r) => (timer = setTimeout(() => r("hung"), ms))),
  ]);
  clearTimeout(timer);
  assert.notEqual(settled, "hung", `did not settle within ${ms} ms`);
  assert.ok(settled !== "hung" && !settled.ok, "rejected");
  if (expected) assert.equal(settled.e, expected, "rejected with the callback's own error");
  else {
    assert.ok(settled.e instanceof Error);
    assert.ok(!(settled.e instanceof InvalidOptionError), `failed after attach, not in validation (${String(settled.e)})`);
  }
  assert.ok(Date.now() - started < ms);
  assert.deepEqual(ours(), before, "no program of ours left loaded");
  assert.equal(liveCount(), live, "nothing left tracked");
  assert.deepEqual(await stopAll("stop"), [], "stopAll() resolves, with nothing left to stop");
}

const boom = () => new Error("callback failed");

describe("every path after attach releases", () => {

  it("tracepoint collect() with a signal that throws after attach", async () => {
    await releasedAfter(() => tracepoint("syscalls:sys_enter_getppid", { fields: [] }).collect({ seconds: 30, signal: notASignal }));
  });

  it("tracepoint collect(): a throwing onProgress ends the collection with its error", async () => {
    const e = boom();
    let calls = 0;
    await releasedAfter(() => tracepoint("syscalls:sys_enter_getppid", { fields: [] }).collect({ seconds: 30, progressMs: 20, onProgress: () => { calls++; throw e; } }), e);
    assert.equal(calls, 1, "the failing callback is not called again");
  });

  it("tracepoint stream(): a consumer that throws stops the stream", async () => {
    const e = boom();
    const w = workload(["getppid", "100"]);
    await releasedAfter(async () => {
      const batches = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid } }).stream({ seconds: 30, batchMs: 10 });
      const first = batches.next(); // runs the generator up to its first wait: attached
      void w.go();
      // What for-await does when its body throws: return() in a finally.
      try {
        const r = await first;
        assert.ok(!r.done && r.value.numRows() > 0);
        throw e;
      } finally {
        await batches.return(undefined);
      }
    }, e);
    assert.equal(await w.go(), 0, "the workload ran to the end");
  });

  it("aggregation collect() with a signal that throws after attach", async () => {
    await releasedAfter(() => tracepoint("syscalls:sys_enter_getppid").count({ by: ["pid"] }).collect({ seconds: 30, signal: notASignal }));
  });

  it("aggregation collect() settles when the final onInterval throws", async () => {
    const e = boom();
    const seen: number[] = [];
    await releasedAfter(() => tracepoint("syscalls:sys_enter_getppid").count({ by: ["pid"] }).collect({ seconds: 0.2, onInterval: (_t, n) => { seen.push(n); throw e; } }), e);
    assert.deepEqual(seen, [0], "called once, for the final table");
  });

  it("aggregation: a throwing onInterval mid-run ends the run with its error", async () => {
    const e = boom();
    const seen: number[] = [];
    await releasedAfter(() => tracepoint("syscalls:sys_enter_getppid").count({ by: ["pid"] }).collect({ seconds: 30, interval: 0.05, onInterval: (_t, n) => { seen.push(n); throw e; } }), e);
    assert.deepEqual(seen, [1], "called once, after the first interval, and not again for the final table");
  });

  it("uprobe collect(): a throwing onProgress; uprobe aggregation with a signal that throws after attach", async () => {
    const e = boom();
    await releasedAfter(() => uprobe(WORKLOAD, "bpfbook_target").collect({ seconds: 30, progressMs: 20, onProgress: () => { throw e; } }), e);
    await releasedAfter(() => uprobe(WORKLOAD, "bpfbook_target").count().collect({ seconds: 30, signal: notASignal }));
  });

  it("uprobe aggregation: a throwing onInterval while the workload runs", async () => {
    const e = boom();
    const w = workload(["call", "1000"]);
    await releasedAfter(async () => {
      const p = uprobe(WORKLOAD, "bpfbook_target", { pid: w.pid }).count().collect({ seconds: 30, interval: 0.05, onInterval: () => { throw e; } });
      void w.go();
      return p;
    }, e);
  });

  it("profile with a signal that throws after attach", async () => {
    await releasedAfter(async () => startProfile({ seconds: 30, signal: notASignal }));
  });

  it("XDP: count with a signal that throws after attach, sample with a throwing onProgress", async () => {
    using net = createTestNet();
    const e = boom();
    await releasedAfter(() => xdp(net.host).count().collect({ seconds: 30, signal: notASignal }));
    await releasedAfter(() => xdp(net.host).sample().collect({ seconds: 30, progressMs: 20, onProgress: () => { throw e; } }), e);
    await releasedAfter(() => xdp(net.host).count().collect({ seconds: 30, interval: 0.05, onInterval: () => { throw e; } }), e);
  });
});

/** Runs `body` with an activity listener that throws `e` on `event`, removed afterwards. */
async function withThrowingListener(event: "start" | "stop", e: Error, body: () => Promise<void>): Promise<void> {
  const listener = () => { throw e; };
  activity.on(event, listener);
  try {
    await body();
  } finally {
    activity.off(event, listener);
  }
}

describe("a throwing activity listener neither hangs a run nor leaves it attached", () => {
  it("start listener: trace, aggregation, profile", async () => {
    const e = boom();
    await withThrowingListener("start", e, async () => {
      await releasedAfter(async () => tracepoint("syscalls:sys_enter_getppid", { fields: [] }).collect({ seconds: 30 }), e);
      await releasedAfter(async () => tracepoint("syscalls:sys_enter_getppid").count({ by: ["pid"] }).collect({ seconds: 30 }), e);
      await releasedAfter(async () => startProfile({ seconds: 30 }), e);
    });
  });

  it("stop listener: trace, aggregation, profile settle with its error", async () => {
    const e = boom();
    await withThrowingListener("stop", e, async () => {
      await releasedAfter(async () => tracepoint("syscalls:sys_enter_getppid", { fields: [] }).collect({ seconds: 0.1 }), e);
      await releasedAfter(async () => tracepoint("syscalls:sys_enter_getppid").count({ by: ["pid"] }).collect({ seconds: 0.1 }), e);
      await releasedAfter(async () => startProfile({ seconds: 0.1 }).finished(), e);
    });
  });
});
