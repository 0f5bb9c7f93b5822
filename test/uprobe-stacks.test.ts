/* User stacks on uprobe events: a `ustack` column on uprobe and uretprobe streams and as an
 * aggregation key, frame by frame as bpftrace's ustack on the same calls in the same run,
 * with exact counts. The workload lingers after its calls so both tracers can still read
 * its mappings when they name frames. */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { liveCount, InvalidArgumentError } from "../bpf-lib/src/index.js";
import { uprobe, uretprobe } from "../bpf-lib/src/probes/uprobe/probe.js";
import { workload, programIdsOf, WORKLOAD } from "./helpers/workload.js";
import { bpftrace, parseStacks } from "./helpers/bpftrace.js";

const programsBefore = programIdsOf();
after(() => {
  assert.deepEqual(programIdsOf(), programsBefore, "no BPF program of this process is left loaded");
  assert.equal(liveCount(), 0, "nothing is left tracked as live");
});

/** Our folded stack (root first) as bpftrace lists it (leaf first). */
const leafFirst = (folded: unknown) => String(folded).split(";").reverse();
const N = 300;

describe("ustack on uprobe events", () => {
  it("a uprobe stream's ustack column names the same frames as bpftrace's ustack, for every call", async (ctx) => {
    const w = workload(["--linger", "5000", "names", String(N)]);
    try {
      const bt = await bpftrace(`uprobe:${WORKLOAD}:bpfbook_name /pid == ${w.pid}/ { @u[ustack] = count(); }`);
      const trace = uprobe(WORKLOAD, "bpfbook_name", { pid: w.pid, columns: ["ustack"] }).start({ events: N });
      const exited = w.go();
      const t = await trace.finished();
      const theirs = parseStacks(await bt.stop(), "u");
      assert.deepEqual(t.columnNames(), ["ts", "cpu", "pid", "tid", "comm", "ustack"]);
      assert.equal(t.numRows(), N);
      assert.equal(t.stats.stacksLost, 0);
      const stacks = [...new Set(Array.from(t.array("ustack") as ArrayLike<string>))];
      assert.equal(stacks.length, 1, `one call site: ${stacks.join(" | ")}`);
      assert.deepEqual(theirs.map((s) => s.count), [N]);
      if (theirs[0]!.frames.some((f) => f.startsWith("0x"))) ctx.diagnostic(`bpftrace left frames unnamed: ${theirs[0]!.frames.join(", ")}`);
      assert.deepEqual(leafFirst(stacks[0]), theirs[0]!.frames);
      assert.equal(leafFirst(stacks[0])[0], "bpfbook_name");
      w.child.kill("SIGKILL");
      await exited;
    } finally {
      w.child.kill("SIGKILL");
    }
  });

  it("a uretprobe's ustack is its caller's, as bpftrace's", async () => {
    const w = workload(["--linger", "5000", "names", String(N)]);
    try {
      const bt = await bpftrace(`uretprobe:${WORKLOAD}:bpfbook_line /pid == ${w.pid}/ { @u[ustack] = count(); }`);
      const trace = uretprobe(WORKLOAD, "bpfbook_line", { pid: w.pid, columns: ["ustack"] }).start({ events: N });
      void w.go();
      const t = await trace.finished();
      const theirs = parseStacks(await bt.stop(), "u");
      assert.equal(t.numRows(), N);
      const stacks = [...new Set(Array.from(t.array("ustack") as ArrayLike<string>))];
      assert.equal(stacks.length, 1, stacks.join(" | "));
      assert.deepEqual(theirs.map((s) => s.count), [N]);
      assert.deepEqual(leafFirst(stacks[0]), theirs[0]!.frames);
    } finally {
      w.child.kill("SIGKILL");
    }
  });

  it("count by ustack aggregates in the kernel: one row per stack, exact, the pid kept only to name it", async () => {
    const w = workload(["--linger", "5000", "names", String(N)]);
    try {
      const bt = await bpftrace(`uprobe:${WORKLOAD}:bpfbook_name /pid == ${w.pid}/ { @u[ustack] = count(); }`);
      let t, out = "";
      try {
        const agg = uprobe(WORKLOAD, "bpfbook_name", { pid: w.pid }).count({ by: ["ustack"] }).start({ events: N });
        void w.go();
        t = await agg.finished();
      } finally {
        out = await bt.stop();
      }
      const theirs = parseStacks(out, "u");
      assert.deepEqual(t.columnNames(), ["ustack", "count"]);
      assert.equal(t.numRows(), 1);
      assert.equal(Number(t.get("count", 0)), N);
      assert.equal(t.stats.stacksLost, 0);
      assert.deepEqual(leafFirst(t.get("ustack", 0)), theirs[0]!.frames);
      const byComm = await uprobe(WORKLOAD, "bpfbook_name", { pid: w.pid }).count({ by: ["comm", "ustack"] }).collect({ seconds: 0.2 });
      assert.deepEqual(byComm.columnNames(), ["comm", "ustack", "count"]);
    } finally {
      w.child.kill("SIGKILL");
    }
  });

  it("kstack on a uprobe is refused by name: a uprobe fires in user mode", () => {
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_name", { columns: ["kstack"] }), (e: unknown) => e instanceof InvalidArgumentError && /user mode.*ustack/.test((e as Error).message));
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_name").count({ by: ["kstack"] as never }), (e: unknown) => e instanceof InvalidArgumentError && /user mode/.test((e as Error).message));
  });
});
