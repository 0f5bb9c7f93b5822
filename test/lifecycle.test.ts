/* Nothing left behind: after dispose, after errors, and after kill -9. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { tracepoint, disposeAll, liveCount, BpfObject, VerifierError } from "../bpf-lib/src/index.js";
import { bpfObjectPath } from "../bpf-lib/src/paths.js";
import { programIdsOf, loadedProgramIds, ROOT } from "./helpers/workload.js";

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
