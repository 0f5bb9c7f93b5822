/* Values derived in the kernel at each tracepoint event: standard columns the record lacks
 * (uid, gid, ppid, pcomm, cgroup, container), paths through kernel pointers (from the
 * current task, from a pointer field) and user memory (argv, structs, buffers). Every
 * workload prints nothing but does exactly what its mode says; bpftrace runs side by side
 * where it can say the same. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { anyTracepoint } from "../bpf-lib/src/probes/tracepoint/probe.js";
import { cgroup2Mount } from "../bpf-lib/src/cgroups/paths.js";
import { InvalidArgumentError, InvalidOptionError, UnknownMemberError } from "../bpf-lib/src/errors.js";
import { UnknownFieldError } from "../bpf-lib/src/tracefs/errors.js";
import { workload } from "./helpers/workload.js";
import { bpftrace, parseMap } from "./helpers/bpftrace.js";

const rows = (t: { objects(): object[] }) => t.objects() as Record<string, unknown>[];
const settle = () => new Promise((r) => setTimeout(r, 200));

describe("reads: standard columns", () => {
  it("uid, gid, ppid, pcomm of children that set a uid, filtered in the kernel by ppid; bpftrace agrees", async () => {
    const n = 9, uid = 4321;
    const w = workload(["setuid", String(uid), String(n)]);
    const bt = await bpftrace(`tracepoint:syscalls:sys_enter_getppid /curtask->real_parent->tgid == ${w.pid}/ { @[uid, gid, curtask->real_parent->tgid] = count(); }`);
    const t = anyTracepoint("syscalls:sys_enter_getppid", { fields: [], columns: ["uid", "gid", "ppid", "pcomm"], where: { ppid: w.pid } }).start();
    const agg = anyTracepoint("syscalls:sys_enter_getppid", { where: { ppid: w.pid } }).count({ by: ["uid", "ppid", "pcomm"] }).start();
    assert.equal(await w.go(), 0);
    await settle();
    const tab = await t.table();
    await agg.stop();
    const out = await bt.stop();
    assert.equal(tab.numRows(), n);
    for (const r of rows(tab)) {
      assert.equal(r.uid, uid);
      assert.equal(r.gid, 0);
      assert.equal(r.ppid, w.pid);
      assert.equal(r.pcomm, "workload");
      assert.notEqual(r.pid, w.pid); // each event is a child's
    }
    assert.equal(new Set(rows(tab).map((r) => r.pid)).size, n);
    assert.deepEqual(rows(await agg.finished()), [{ uid, ppid: w.pid, pcomm: "workload", count: n }]);
    assert.deepEqual([...parseMap(out)], [[`${uid},0,${w.pid}`, n]]);
  });

  it("a filter on a derived column runs in the kernel (uid), and the stream copies derived values from the filter's scratch", async () => {
    const n = 6;
    const w = workload(["setuid", "2222", String(n)]);
    const t = anyTracepoint("syscalls:sys_enter_getppid", { fields: [], columns: ["ppid"], where: { uid: 2222 } }).start();
    const other = workload(["getppid", "50"]); // uid 0: filtered out
    assert.equal(await w.go(), 0);
    assert.equal(await other.go(), 0);
    await settle();
    const tab = await t.table();
    assert.equal(tab.numRows(), n);
    assert.deepEqual([...new Set(rows(tab).map((r) => r.ppid))], [w.pid]);
    assert.deepEqual([...new Set(rows(tab).map((r) => r.uid))], [2222]);
    assert.ok(tab.stats.filtered >= 50, `filtered ${tab.stats.filtered}`);
  });

  it("container and cgroup_path: a child moved into a docker-like scope is counted under its container id", { skip: cgroup2Mount() ? false : "no cgroup2 mount" }, async () => {
    const mount = cgroup2Mount()!;
    const id = "bf".repeat(32);
    const dir = join(mount, `bpfbook-reads-${process.pid}`);
    const scope = join(dir, `docker-${id}.scope`);
    mkdirSync(scope, { recursive: true });
    try {
      const n = 40;
      const w = workload(["getppid", String(n)]);
      writeFileSync(join(scope, "cgroup.procs"), String(w.pid));
      const agg = anyTracepoint("syscalls:sys_enter_getppid", { where: { pid: w.pid } }).count({ by: ["container", "cgroup_path"] }).start();
      const t = anyTracepoint("syscalls:sys_enter_getppid", { fields: [], columns: ["container", "cgroup"], where: { pid: w.pid } }).start();
      assert.equal(await w.go(), 0);
      await settle();
      await agg.stop();
      const tab = await t.table();
      assert.deepEqual(rows(await agg.finished()), [{ container: id, cgroup_path: `/bpfbook-reads-${process.pid}/docker-${id}.scope`, count: n }]);
      assert.equal(tab.numRows(), n);
      assert.deepEqual([...new Set(rows(tab).map((r) => r.container))], [id]);
    } finally {
      rmdirSync(scope);
      rmdirSync(dir);
    }
  });
});

describe("reads: stable offsets", () => {
  it("standard columns named in fields keep their offsets when an aggregation widens the probe (withFields)", async () => {
    const n = 5, uid = 3333;
    const w = workload(["setuid", String(uid), String(n)]);
    const a = anyTracepoint("syscalls:sys_enter_getppid", { fields: ["ppid", "uid"] as never, where: { ppid: w.pid } }).count({ by: ["uid"] }).start();
    const b = anyTracepoint("syscalls:sys_enter_getppid", { fields: ["ppid", "uid"] as never, where: { ppid: w.pid } }).count({ by: ["pcomm", "uid", "ppid"] }).start();
    assert.equal(await w.go(), 0);
    await a.stop();
    await b.stop();
    assert.deepEqual(rows(await a.finished()), [{ uid, count: n }]);
    assert.deepEqual(rows(await b.finished()), [{ pcomm: "workload", uid, ppid: w.pid, count: n }]);
  });

  it("a char * member at the end of a path is followed to its string: current.fs.pwd.dentry.d_name.name is the cwd's name", async () => {
    const w = workload(["getppid", "3"]);
    const t = anyTracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: w.pid }, read: { cwd: "current.fs.pwd.dentry.d_name.name" } }).start();
    assert.equal(await w.go(), 0);
    await settle();
    const tab = await t.table();
    assert.deepEqual(rows(tab).map((r) => r.cwd), Array(3).fill(basename(process.cwd())));
    assert.equal(tab.stats.readFailed, undefined);
  });
});

describe("reads: user memory", () => {
  it("execve's argv as a string[] column (a read named after its field replaces it), cut strings counted; bpftrace's join agrees", async () => {
    const n = 4;
    const long = "y".repeat(100);
    const w = workload(["exec", String(n), "alpha", "βeta", long]);
    after(() => w.child.kill());
    const bt = await bpftrace(`tracepoint:syscalls:sys_enter_execve /curtask->real_parent->tgid == ${w.pid}/ { @[str(args->filename), str(args->argv[0]), str(args->argv[1]), str(args->argv[2])] = count(); }`);
    const t = anyTracepoint("syscalls:sys_enter_execve", { fields: ["filename"], where: { ppid: w.pid }, read: { argv: { from: "argv", user: true, array: 8, string: 32 } } }).start();
    assert.equal(await w.go(), 0);
    await settle();
    const tab = await t.table();
    const out = await bt.stop();
    assert.equal(tab.numRows(), n, JSON.stringify(rows(tab)));
    for (const r of rows(tab)) {
      assert.equal(r.filename, "/bin/true");
      assert.deepEqual(r.argv, ["true", "alpha", "βeta", "y".repeat(31)]);
    }
    assert.equal(tab.stats.truncated, n, "the 100-byte argument, once per exec"); 
    assert.equal(tab.stats.readFailed, undefined);
    assert.deepEqual([...parseMap(out)], [["/bin/true,true,alpha,βeta", n]]);
  });

  it("a typed user struct member: nanosleep's rqtp->tv_nsec and tv_sec (syscall pointers are user memory)", async () => {
    const w = workload(["sleep", "7", "3"]);
    const t = anyTracepoint("syscalls:sys_enter_nanosleep", { fields: [], where: { pid: w.pid }, read: { ns: "rqtp->tv_nsec", sec: { from: "rqtp", path: "tv_sec" } } }).start();
    assert.equal(await w.go(), 0);
    await settle();
    const tab = await t.table();
    assert.deepEqual(rows(tab).map((r) => [r.sec, r.ns]), [[0, 7_000_000], [0, 7_000_000], [0, 7_000_000]]);
  });

  it("a buffer with its length in another field: write()'s first bytes, longer ones cut and counted", async () => {
    const w = workload(["write", "20", "5"]);
    const t = anyTracepoint("syscalls:sys_enter_write", { fields: ["count"], where: { pid: w.pid }, read: { data: { from: "buf", bytes: 16, length: "count" } } }).start();
    const w2 = workload(["write", "5", "2"]);
    const t2 = anyTracepoint("syscalls:sys_enter_write", { fields: ["count"], where: { pid: w2.pid }, read: { data: { from: "buf", bytes: 16, length: "count" } } }).start();
    assert.equal(await w.go(), 0);
    assert.equal(await w2.go(), 0);
    await settle();
    const [a, b] = [await t.table(), await t2.table()];
    const letters = (i: number, len: number) => Array.from({ length: len }, (_, j) => String.fromCharCode(97 + ((i + j) % 26))).join("");
    assert.deepEqual(rows(a).map((r) => Buffer.from(r.data as Uint8Array).toString()), [0, 1, 2, 3, 4].map((i) => letters(i, 16)));
    assert.equal(a.stats.truncated, 5);
    assert.deepEqual(rows(b).map((r) => Buffer.from(r.data as Uint8Array).toString()), [0, 1].map((i) => letters(i, 5)));
    assert.equal(b.stats.truncated, 0);
  });
});

describe("reads: kernel pointers", () => {
  it("(struct sock *)skaddr paths on sock:inet_sock_set_state agree with the record's own sport/dport fields", async () => {
    const port = 20000 + (process.pid % 10000);
    const n = 5;
    const w = workload(["tcp", String(port), String(n)]);
    after(() => w.child.kill());
    const t = anyTracepoint("sock:inet_sock_set_state", {
      fields: ["sport", "dport", "newstate", "family"],
      where: { pid: w.pid },
      read: { num: "(struct sock *)skaddr->__sk_common.skc_num", dport_be: { from: "skaddr", as: "sock", path: "__sk_common.skc_dport" }, fam: "(struct sock *)skaddr->__sk_common.skc_family" },
    }).start();
    assert.equal(await w.go(), 0);
    await settle();
    const tab = await t.table();
    assert.ok(tab.numRows() >= 2 * n, `${tab.numRows()} state changes`);
    for (const r of rows(tab)) {
      // the record's dport and family are copied from these very members
      assert.equal(r.dport_be, ((r.dport as number) >> 8) | (((r.dport as number) & 0xff) << 8)); // network order
      assert.equal(r.fam, r.family);
      // skc_num is the bound port: the record's sport (inet_sport) while established
      if (r.newstate === 1) assert.equal(r.num, r.sport);
    }
    assert.ok(rows(tab).filter((r) => r.newstate === 1).length >= 2 * n);
    assert.ok(rows(tab).some((r) => r.dport === port));
  });
});

describe("reads: named errors", () => {
  it("says what was wrong and what would work", () => {
    assert.throws(() => anyTracepoint("syscalls:sys_enter_getppid", { read: { x: "current.real_parnt.tgid" } }), (e: unknown) => e instanceof UnknownMemberError && /real_parent/.test((e as Error).message));
    assert.throws(() => anyTracepoint("syscalls:sys_enter_execve", { read: { filename: "current.pid" } }), (e: unknown) => e instanceof InvalidArgumentError && /field of syscalls:sys_enter_execve/.test((e as Error).message));
    assert.throws(() => anyTracepoint("syscalls:sys_enter_getppid", { columns: ["uidd" as "uid"] }), /unknown column "uidd".*uid, gid, ppid/);
    assert.throws(() => anyTracepoint("syscalls:sys_enter_execve", { read: { a: { from: "argv", array: 2 } }, where: { a: "x" } as never }), /cannot be filtered in the kernel/);
    assert.throws(() => anyTracepoint("syscalls:sys_enter_execve", { read: { a: { from: "nope", string: 8 } } }), UnknownFieldError);
    assert.throws(() => anyTracepoint("syscalls:sys_enter_write", { read: { a: { from: "fd", string: 8 } } }), /not a pointer/);
    assert.throws(() => anyTracepoint("syscalls:sys_enter_write", { read: { a: { from: "buf", bytes: 9999 } } }), InvalidOptionError);
  });
});
