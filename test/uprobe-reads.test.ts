/* Uprobe reads and derived columns against the real kernel: the gated workload's
 * `names N` mode calls bpfbook_name("name-<i>") and bpfbook_line(i), which returns
 * "line-<i>", so every string, uid and parent pid is known; bpftrace counts the same
 * calls side by side. */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { liveCount, InvalidArgumentError } from "../bpf-lib/src/index.js";
import { uprobe, uretprobe } from "../bpf-lib/src/probes/uprobe/probe.js";
import { workload, programIdsOf, WORKLOAD } from "./helpers/workload.js";
import { bpftrace, parseMap } from "./helpers/bpftrace.js";

const strs = (t: { array(c: string): unknown }, c: string) => Array.from(t.array(c) as ArrayLike<string>);
const nums = (t: { array(c: string): unknown }, c: string) => Array.from(t.array(c) as ArrayLike<number>, Number);
const programsBefore = programIdsOf();

after(() => {
  assert.deepEqual(programIdsOf(), programsBefore, "no BPF program of this process is left loaded");
  assert.equal(liveCount(), 0, "nothing is left tracked as live");
});

describe("uprobe reads: a char * argument and a returned char *", () => {
  it("uprobe string argument, uretprobe string return, uid and ppid: exact for all N", async () => {
    const N = 500;
    const w = workload(["names", String(N)]);
    const names = uprobe(WORKLOAD, "bpfbook_name", { pid: w.pid, columns: ["uid", "ppid"], read: { name: { from: "arg0", string: 32 } } }).start();
    const lines = uretprobe(WORKLOAD, "bpfbook_line", { pid: w.pid, read: { line: { from: "ret", user: true, string: 32 } } }).start();
    assert.equal(await w.go(), 0);
    const [a, b] = [await names.table(), await lines.table()];
    assert.deepEqual(a.columnNames(), ["ts", "cpu", "pid", "tid", "comm", "arg0", "uid", "ppid", "name"]);
    assert.deepEqual(strs(a, "name"), Array.from({ length: N }, (_, i) => `name-${i}`));
    assert.ok(nums(a, "uid").every((u) => u === process.getuid!()), "uid is the workload's");
    assert.ok(nums(a, "ppid").every((p) => p === process.pid), "ppid is this process (the workload's parent)");
    assert.deepEqual(b.columnNames(), ["ts", "cpu", "pid", "tid", "comm", "ret", "line"]);
    assert.deepEqual(strs(b, "line"), Array.from({ length: N }, (_, i) => `line-${i}`));
    assert.equal(a.stats.readFailed ?? 0, 0);
    assert.equal(b.stats.readFailed ?? 0, 0);
  });

  it("a read on a uretprobe of an argument is paired: read at the entry through the argument, carried to the return row", async () => {
    const N = 100;
    const w = workload(["names", String(N)]);
    const t = uretprobe(WORKLOAD, "bpfbook_name", { pid: w.pid, retType: "size_t", read: { name: { from: "arg0", string: 32 } } }).start();
    await w.go();
    const r = await t.table();
    assert.deepEqual(strs(r, "name"), Array.from({ length: N }, (_, i) => `name-${i}`));
    assert.deepEqual(nums(r, "ret"), Array.from({ length: N }, (_, i) => `name-${i}`.length));
  });

  it("filters and keys by read strings and derived columns; counts match bpftrace's str(arg0) / str(retval)", async () => {
    const N = 300;
    const w = workload(["names", String(N)]);
    const bt = await bpftrace(`uprobe:${WORKLOAD}:bpfbook_name /pid == ${w.pid}/ { @n[str(arg0)] = count(); } uretprobe:${WORKLOAD}:bpfbook_line /pid == ${w.pid}/ { @l[str(retval)] = count(); }`);
    const byName = uprobe(WORKLOAD, "bpfbook_name", { pid: w.pid, read: { name: { from: "arg0", string: 16 } } }).count({ by: ["name", "uid", "ppid"] as never }).start();
    const byLine = uretprobe(WORKLOAD, "bpfbook_line", { pid: w.pid, read: { line: { from: "ret", string: 16 } } }).count({ by: ["line"] as never }).start();
    const only7 = uprobe(WORKLOAD, "bpfbook_name", { pid: w.pid, read: { name: { from: "arg0", string: 16 } }, where: { name: "name-7" } }).start();
    await w.go();
    await Promise.all([byName.stop(), byLine.stop()]);
    const [kn, kl, f] = [await byName.finished(), await byLine.finished(), await only7.table()];
    const out = await bt.stop();
    const peer = parseMap(out, "n");
    const peerL = parseMap(out, "l");
    assert.equal(kn.numRows(), N);
    for (const r of kn.objects() as { name: string; uid: number; ppid: number; count: number }[]) {
      assert.equal(r.count, 1);
      assert.equal(r.uid, process.getuid!());
      assert.equal(r.ppid, process.pid);
      assert.equal(peer.get(r.name), 1, `bpftrace counted ${r.name} once`);
    }
    assert.equal(peer.size, N);
    assert.equal(kl.numRows(), N);
    for (const r of kl.objects() as { line: string; count: number }[]) assert.equal(peerL.get(r.line), r.count, `bpftrace counted ${r.line} as often`);
    assert.equal(peerL.size, N);
    assert.deepEqual(strs(f, "name"), ["name-7"]);
  });

  it("bad reads fail up front with named errors", () => {
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_name", { read: { r: { from: "ret", string: 8 } } }), /no field "ret"|ret/);
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_name", { read: { arg0: { from: "arg0", string: 8 } } }), InvalidArgumentError);
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_name", { columns: ["uidd" as never] }), (e: unknown) => e instanceof InvalidArgumentError && /uid, gid, ppid/.test((e as Error).message));
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_name", { read: { s: { from: "arg0", string: 100000 } } }), /2 to 256/);
    assert.equal(liveCount(), 0);
  });
});
