/* Groups of tracepoints (tracepoints(pattern | names[])): wildcards and common fields
 * (pure), then against the real kernel with workloads whose per-syscall counts are
 * known (test/fixtures/workload.c `stats`, `setuid`, `read`, `write`), side by side
 * with bpftrace's own wildcard probes; and nothing stays loaded after a stop, a
 * dispose, or a failure while loading the second program. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  tracepoints, listTracepoints, readFormat, UnknownTracepointError, NoMatchingTracepointError, InvalidPatternError, TooManyTracepointsError,
  UncommonFieldError, InvalidOptionError, liveCount,
} from "../bpf-lib/src/index.js";
import { matchNames, patternRegExp, patternStem, isPattern } from "../bpf-lib/src/probes/tracepoint/glob.js";
import { commonFields } from "../bpf-lib/src/probes/tracepoint/common.js";
import { GroupDecoder, interleave } from "../bpf-lib/src/engine/group-decoder.js";
import { DictColumn } from "../bpf-lib/src/engine/columns.js";
import { decoders } from "../bpf-lib/src/engine/fields.js";
import { HDR, HDR_SIZE } from "../bpf-lib/src/engine/layout.js";
import { workload, renamedWorkload, programIdsOf, loadedProgramIds, ROOT } from "./helpers/workload.js";
import { bpftrace, parseMap } from "./helpers/bpftrace.js";

type Row = Record<string, unknown>;
const rowsOf = (t: { objects(): object[] }) => t.objects() as Row[];
const tally = (xs: Iterable<unknown>) => {
  const m: Record<string, number> = {};
  for (const x of xs) m[String(x)] = (m[String(x)] ?? 0) + 1;
  return m;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the child blocks in its gate (readv, syscall 19): the dynamic loader's stat calls are over. */
async function atGate(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (readFileSync(`/proc/${pid}/syscall`, "utf8").startsWith("19 ")) return;
    await sleep(10);
  }
  throw new Error(`workload ${pid} never reached its gate`);
}

/** `workload stats PATH N`: N stat, 2N lstat, 3N newfstatat, 4N statx (x86_64 syscall numbers 4, 6, 262, 332). */
const STAT_CALLS = (n: number) => ({
  "syscalls:sys_enter_newstat": n, "syscalls:sys_enter_newlstat": 2 * n, "syscalls:sys_enter_newfstatat": 3 * n, "syscalls:sys_enter_statx": 4 * n,
});
const STAT_NR: Record<string, number> = { "syscalls:sys_enter_newstat": 4, "syscalls:sys_enter_newlstat": 6, "syscalls:sys_enter_newfstatat": 262, "syscalls:sys_enter_statx": 332 };
const STAT_LIST = Object.keys(STAT_NR);

describe("wildcards over group:name (pure)", () => {
  const names = ["a:x", "a:xy", "a:y", "b:x", "b:sys_enter_newstat", "b:sys_enter_statx", "b:sys_enter_fstatfs", "c.d:e+f"];
  it("* ? and {a,b}, never crossing the ':'", () => {
    assert.deepEqual(matchNames("a:*", names), ["a:x", "a:xy", "a:y"]);
    assert.deepEqual(matchNames("*:x", names), ["a:x", "b:x"]);
    assert.deepEqual(matchNames("a:?", names), ["a:x", "a:y"]);
    assert.deepEqual(matchNames("b:sys_enter_*stat*", names), ["b:sys_enter_newstat", "b:sys_enter_statx", "b:sys_enter_fstatfs"]);
    assert.deepEqual(matchNames("{a,b}:x", names), ["a:x", "b:x"]);
    assert.deepEqual(matchNames("b:sys_enter_{new,}stat{,x}", names), ["b:sys_enter_newstat", "b:sys_enter_statx"]);
    assert.deepEqual(matchNames("c.d:e+f", names), ["c.d:e+f"], ". and + are literal");
    assert.deepEqual(matchNames("a/x*", names), ["a:x", "a:xy"], "group/name like readFormat");
    assert.deepEqual(matchNames("*:*", names), names, "every name");
  });
  it("malformed patterns are InvalidPatternError naming the problem", () => {
    const bad: [string, RegExp][] = [
      ["syscalls:sys_enter_{a,b", /not closed/], ["syscalls:}x", /closes nothing/], ["syscalls:a,b", /outside \{a,b\}/],
      ["sys{calls:x,y}", /within the group or the name/], ["a:b:c*", /more than one ":"/], ["sys_enter_*", /group and a name/],
      ["syscalls:{a{b}}", /do not nest/], ["syscalls:sys enter*", /letters, digits/],
    ];
    for (const [p, re] of bad) assert.throws(() => patternRegExp(p), (e: unknown) => e instanceof InvalidPatternError && e.pattern === p && re.test(e.message), p);
  });
  it("tells patterns from names, and takes the wildcards out for suggestions", () => {
    assert.equal(isPattern("syscalls:sys_enter_openat"), false);
    assert.equal(isPattern("syscalls:sys_enter_open*"), true);
    assert.equal(isPattern("syscalls:sys_enter_{open,close}"), true);
    assert.equal(patternStem("syscalls:sys_enter_{opn,close}*"), "syscalls:sys_enter_opn");
  });
});

describe("common fields (pure, on this machine's formats)", () => {
  it("same name and shape in every record, wherever each puts it", () => {
    const f = (n: string) => readFormat(n);
    // filename is at offset 16 in newstat and 24 in newfstatat and statx: still common
    assert.deepEqual(commonFields(STAT_LIST.map(f)), ["__syscall_nr", "filename"]);
    assert.notEqual(f("syscalls:sys_enter_newstat").fields.find((x) => x.name === "filename")!.offset, f("syscalls:sys_enter_statx").fields.find((x) => x.name === "filename")!.offset);
    assert.deepEqual(commonFields(["syscalls:sys_enter_read", "syscalls:sys_enter_write"].map(f)), ["__syscall_nr", "fd", "buf", "count"]);
    // same name, another shape: close's fd is an unsigned int, accept's an int
    assert.deepEqual(commonFields(["syscalls:sys_enter_close", "syscalls:sys_enter_fchdir"].map(f)), ["__syscall_nr", "fd"]);
    assert.deepEqual(commonFields(["syscalls:sys_enter_close", "syscalls:sys_enter_fchdir", "syscalls:sys_enter_accept"].map(f)), ["__syscall_nr"]);
    assert.deepEqual(commonFields([]), []);
  });
});

describe("interleaving each probe's columns back into row order (pure)", () => {
  it("numbers, bigints turned in one probe only, strings and lists", () => {
    const probe = Uint32Array.from([0, 1, 1, 0, 2, 1]);
    assert.deepEqual([...(interleave([Int32Array.from([10, 13]), Int32Array.from([11, 12, 15]), Int32Array.from([14])], probe, 6) as Int32Array)], [10, 11, 12, 13, 14, 15]);
    const mixed = interleave([Float64Array.from([1, 4]), BigInt64Array.from([2n, 3n ** 39n, 6n]), Float64Array.from([5])], probe, 6);
    assert.ok(mixed instanceof BigInt64Array, "one probe's auto column turned bigint: the column is bigint");
    assert.deepEqual([...mixed as BigInt64Array], [1n, 2n, 3n ** 39n, 4n, 5n, 6n]);
    const dict = interleave([new DictColumn(Uint32Array.from([0, 1]), ["a", "b"]), new DictColumn(Uint32Array.from([0, 0, 1]), ["b", "c"]), new DictColumn(Uint32Array.from([0]), ["z"])], probe, 6) as DictColumn;
    assert.deepEqual(dict.toArray(), ["a", "b", "b", "b", "z", "c"]);
    assert.deepEqual(interleave([[[1], [4]], [[2], [3], [6]], [[5]]], probe, 6), [[1], [2], [3], [4], [5], [6]]);
  });
});

describe("GroupDecoder on a hand-made ring (pure)", () => {
  // probe 0: a 48-byte event with field x (s32) at 40; probe 1: 56 bytes, x at 48
  const events: { id: number; size: number; x: number; tid: number }[] = [
    { id: 0, size: 48, x: 1, tid: 10 }, { id: 1, size: 56, x: 2, tid: 10 }, { id: 0, size: 48, x: 3, tid: 11 },
    { id: 7, size: 48, x: 99, tid: 10 }, { id: 1, size: 48, x: 98, tid: 10 }, // no such probe; probe 1 at another size
    { id: 1, size: 56, x: 4, tid: 11 },
  ];
  const ring = new Uint8Array(4096);
  const dv = new DataView(ring.buffer);
  const offsets: number[] = [];
  let at = 0;
  for (const e of events) {
    dv.setUint32(at, e.size, true);
    const ev = at + 8;
    offsets.push(ev);
    dv.setUint32(ev, 1000 + e.x, true); // ts
    dv.setUint32(ev + HDR.pid, 5, true);
    dv.setUint32(ev + HDR.tid, e.tid, true);
    dv.setUint32(ev + HDR.cpu, 1, true);
    dv.setUint32(ev + HDR.flags, e.id, true);
    ring.set(new TextEncoder().encode(e.tid === 10 ? "ten" : "eleven"), ev + HDR.comm);
    dv.setInt32(ev + (e.id === 1 ? 48 : HDR_SIZE), e.x, true);
    at += (e.size + 15) & ~7;
  }
  const make = (capacity?: number) => new GroupDecoder({ u8: ring, dv }, [
    { eventSize: 48, fields: [decoders.int("x", HDR_SIZE, 4, true)] },
    { eventSize: 56, fields: [decoders.int("x", 48, 4, true)] },
  ], ["g:a", "g:b"], ["x"], capacity);
  const expect = (cols: ReturnType<GroupDecoder["take"]>) => {
    assert.deepEqual([...(cols.x as Int32Array)], [1, 2, 3, 4]);
    assert.deepEqual((cols.probe as DictColumn).toArray(), ["g:a", "g:b", "g:a", "g:b"]);
    assert.deepEqual([...(cols.ts as Float64Array)], [1001, 1002, 1003, 1004]);
    assert.deepEqual((cols.comm as DictColumn).toArray(), ["ten", "ten", "eleven", "eleven"]);
  };
  it("span: each record decoded with its probe's layout; unknown ids and wrong sizes counted as malformed", () => {
    const d = make();
    assert.equal(d.span(new Uint32Array(ring.buffer), ring.length, 0, at, Infinity), at);
    assert.equal(d.n, 4);
    assert.equal(d.malformed, 2);
    expect(d.peek());
    expect(d.take());
    assert.equal(d.n, 0);
  });
  it("filled to its capacity, then taken: the columns it handed over whole are made again for the next rows", () => {
    // A full chunk's columns are handed over as they are (no copy), which leaves the decoder's
    // own arrays empty; the rows after such a seal once lost their comm (a live group trace of
    // 65,536 rows: the second chunk's comm was all empty strings). One row at a time (max 1)
    // into a decoder of capacity 1, so no span grows it.
    const d = make(1);
    for (let round = 0; round < 3; round++) {
      assert.equal(d.span(new Uint32Array(ring.buffer), ring.length, 0, at, 1), offsets[1] - 8);
      const cols = d.take();
      assert.deepEqual([[...(cols.x as Int32Array)], (cols.comm as DictColumn).toArray(), (cols.probe as DictColumn).toArray()], [[1], ["ten"], ["g:a"]], `round ${round}`);
    }
  });
  it("record: the same, one record at a time", () => {
    const d = make();
    events.forEach((e, i) => d.record(offsets[i], e.size));
    assert.equal(d.malformed, 2);
    expect(d.take());
  });
});

describe("tracepoints(): names, errors and limits (no kernel objects)", () => {
  it("resolves a wildcard in catalog order, a list in its own order, each once", () => {
    const g = tracepoints("syscalls:sys_enter_*stat*");
    assert.deepEqual(g.names, listTracepoints().filter((n) => /^syscalls:sys_enter_[^:]*stat[^:]*$/.test(n)));
    assert.ok(g.names.length >= 4 && g.names.includes("syscalls:sys_enter_statx"));
    assert.deepEqual(g.commonFields, ["__syscall_nr"]);
    const l = tracepoints(["syscalls:sys_enter_statx", "syscalls:sys_enter_new*stat", "syscalls:sys_enter_statx"]);
    assert.deepEqual(l.names, ["syscalls:sys_enter_statx", "syscalls:sys_enter_newfstat", "syscalls:sys_enter_newlstat", "syscalls:sys_enter_newstat"]);
    assert.deepEqual(l.plan().probes.map((p) => p.tracepoint), l.names);
    assert.equal(liveCount(), 0, "a description loads nothing");
  });
  it("a pattern that matches nothing: NoMatchingTracepointError (an UnknownTracepointError) with the nearest names", () => {
    assert.throws(() => tracepoints("syscalls:sys_enter_*stta*"), (e: unknown) => {
      assert.ok(e instanceof NoMatchingTracepointError && e instanceof UnknownTracepointError);
      assert.equal(e.code, "ENOTRACEPOINT");
      assert.ok(e.suggestions.includes("syscalls:sys_enter_statx"), e.message);
      assert.match(e.message, /^no tracepoint matches "syscalls:sys_enter_\*stta\*"; the nearest names are /);
      return true;
    });
    assert.throws(() => tracepoints(["syscalls:sys_enter_statx", "syscalls:sys_enter_stax"]), (e: unknown) => e instanceof UnknownTracepointError && e.suggestions.includes("syscalls:sys_enter_statx"));
  });
  it("too many matches: TooManyTracepointsError suggesting narrower patterns (and raw_syscalls for every syscall)", () => {
    assert.throws(() => tracepoints("syscalls:sys_enter_*"), (e: unknown) => {
      assert.ok(e instanceof TooManyTracepointsError);
      assert.equal(e.limit, 64);
      assert.ok(e.matches.length > 64);
      assert.match(e.message, /matches \d+ tracepoints, more than 64: .*maxProbes \(default 64\).*Narrow the pattern.*raw_syscalls:sys_enter/);
      return true;
    });
    assert.throws(() => tracepoints("syscalls:sys_enter_*stat*", { maxProbes: 3 }), (e: unknown) => e instanceof TooManyTracepointsError && e.limit === 3);
    assert.throws(() => tracepoints("syscalls:sys_enter_*stat*", { maxProbes: 0 }), InvalidOptionError);
    assert.equal(tracepoints("syscalls:sys_enter_*", { maxProbes: 1024 }).names.length > 64, true, "maxProbes raises the cap");
  });
  it("fields, filters, keys and values must be common: UncommonFieldError lists who lacks them", () => {
    assert.throws(() => tracepoints("syscalls:sys_enter_*stat*", { fields: ["filename"] as never[] }), (e: unknown) => {
      assert.ok(e instanceof UncommonFieldError);
      assert.equal(e.code, "ENOTCOMMON");
      assert.equal(e.field, "filename");
      assert.ok(e.lacking.includes("syscalls:sys_enter_newfstat") && !e.lacking.includes("syscalls:sys_enter_statx"));
      assert.deepEqual(e.common, ["__syscall_nr"]);
      assert.match(e.message, /field "filename" is not common to every tracepoint of syscalls:sys_enter_\*stat\*: \d+ lack it: .*syscalls:sys_enter_newfstat.*Fields common to all: __syscall_nr/);
      return true;
    });
    assert.throws(() => tracepoints("syscalls:sys_enter_{openat,close}", { where: { fd: 3 } as never }), (e: unknown) =>
      e instanceof UncommonFieldError && e.lacking.includes("syscalls:sys_enter_openat") && /missing from: syscalls:sys_enter_openat/.test(e.message));
    // same name, another shape: named with its type, against the type most matches have
    assert.throws(() => tracepoints(["syscalls:sys_enter_close", "syscalls:sys_enter_fchdir", "syscalls:sys_enter_accept"], { fields: ["fd"] as never[] }), (e: unknown) => {
      assert.ok(e instanceof UncommonFieldError);
      assert.deepEqual(e.lacking, []);
      assert.deepEqual(e.differing, [{ tracepoint: "syscalls:sys_enter_accept", type: "int: s32" }]);
      assert.match(e.message, /it has another type in syscalls:sys_enter_accept \(int: s32\) than u32\./);
      return true;
    });
    assert.throws(() => tracepoints(["syscalls:sys_enter_read", "syscalls:sys_enter_lseek"]).count({ by: ["count" as never] }), (e: unknown) => e instanceof UncommonFieldError && e.field === "count");
    assert.throws(() => tracepoints("syscalls:sys_enter_*stat*").stats("filename" as never), UncommonFieldError);
    assert.throws(() => tracepoints(STAT_LIST).count({ by: ["probe", "nope" as never] }), (e: unknown) => e instanceof UncommonFieldError && e.lacking.length === 4);
  });
  it("names of the wrong kind are InvalidOptionError", () => {
    assert.throws(() => tracepoints(42 as never), InvalidOptionError);
    assert.throws(() => tracepoints([] as never), InvalidOptionError);
    assert.throws(() => tracepoints(["syscalls:sys_enter_statx", 3] as never), InvalidOptionError);
  });
});

describe("tracepoints(): aggregations against the kernel", () => {
  it("counts per probe over syscalls:sys_enter_*stat* exactly, equal to bpftrace's @[probe] = count()", async () => {
    const N = 25;
    const w = workload(["stats", "/etc/hostname", String(N)]);
    await atGate(w.pid);
    const bt = await bpftrace(`tracepoint:syscalls:sys_enter_*stat* /pid == ${w.pid}/ { @[probe] = count(); }`);
    const run = tracepoints("syscalls:sys_enter_*stat*", { where: { pid: w.pid } }).count({ by: ["probe"] }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const out = await bt.stop();
    const t = await run.finished();
    const ours = Object.fromEntries(rowsOf(t).map((r) => [r.probe, r.count]));
    assert.deepEqual(ours, STAT_CALLS(N));
    const theirs = Object.fromEntries([...parseMap(out)].map(([k, v]) => [k.replace(/^tracepoint:/, ""), v]));
    assert.deepEqual(theirs, ours, "bpftrace counts the same per probe");
    assert.equal(t.stats.events, 10 * N, "events summed over every probe's program");
    assert.equal(t.stats.source, "syscalls:sys_enter_*stat*");
  });

  it("counts syscalls:sys_enter_set*uid of forked children by comm, equal to bpftrace", async () => {
    const N = 7, UID = 4321, comm = "bpfbook-setuid";
    const w = workload(["setuid", String(UID), String(N)], { binary: renamedWorkload(comm) });
    await atGate(w.pid);
    const bt = await bpftrace(`tracepoint:syscalls:sys_enter_set*uid /comm == "${comm}"/ { @[probe, args->__syscall_nr] = count(); }`);
    const g = tracepoints("syscalls:sys_enter_set*uid", { where: { comm } });
    assert.deepEqual([...g.names].sort(), ["syscalls:sys_enter_setfsuid", "syscalls:sys_enter_setresuid", "syscalls:sys_enter_setreuid", "syscalls:sys_enter_setuid"]);
    const run = g.count({ by: ["probe", "__syscall_nr"] }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const out = await bt.stop();
    assert.deepEqual(rowsOf(await run.finished()), [{ probe: "syscalls:sys_enter_setuid", __syscall_nr: 105, count: N }]);
    assert.deepEqual([...parseMap(out)], [["tracepoint:syscalls:sys_enter_setuid,105", N]]);
  });

  it("stats and hist of a common field per probe: read and write byte counts", async () => {
    const R = 30, W = 20, LEN = 300, comm = "bpfbook-rw";
    const bin = renamedWorkload(comm);
    const r = workload(["read", "/etc/hostname", String(R)], { binary: bin });
    const w = workload(["write", String(LEN), String(W)], { binary: bin });
    await Promise.all([atGate(r.pid), atGate(w.pid)]);
    const g = tracepoints("syscalls:sys_enter_{read,write}", { where: { comm } });
    const stats = g.stats("count", { by: ["probe"] }).start();
    const hist = g.hist("count", { by: ["probe"] }).start();
    assert.equal(await r.go(), 0);
    assert.equal(await w.go(), 0);
    await Promise.all([stats.stop(), hist.stop()]);
    assert.deepEqual(rowsOf(await stats.finished()), [
      { probe: "syscalls:sys_enter_read", count: R, sum: 64 * R, min: 64, max: 64, avg: 64 },
      { probe: "syscalls:sys_enter_write", count: W, sum: LEN * W, min: LEN, max: LEN, avg: LEN },
    ]);
    assert.deepEqual(rowsOf(await hist.finished()), [
      { probe: "syscalls:sys_enter_read", bucket: 7, low: 64, high: 128, count: R },
      { probe: "syscalls:sys_enter_write", bucket: 9, low: 256, high: 512, count: W },
    ]);
  });
});

describe("tracepoints(): one stream from several programs", () => {
  it("a list whose common field lies at different offsets: exact rows per probe, filename and syscall number decoded for each", async () => {
    const N = 40;
    const path = "/etc/hostname";
    const w = workload(["stats", path, String(N)]);
    await atGate(w.pid);
    const g = tracepoints(STAT_LIST, { where: { pid: w.pid } });
    const trace = g.start({ seconds: 60 });
    assert.equal(await w.go(), 0);
    const t = await trace.table();
    assert.deepEqual(t.columnNames(), ["ts", "cpu", "pid", "tid", "comm", "probe", "__syscall_nr", "filename"]);
    assert.deepEqual(tally(t.array("probe") as Iterable<string>), STAT_CALLS(N));
    for (const row of rowsOf(t)) {
      assert.equal(row.__syscall_nr, STAT_NR[row.probe as string], `${row.probe}'s own syscall number`);
      assert.equal(row.filename, path);
      assert.equal(row.pid, w.pid);
    }
    // the workload makes them in order: all stats, then lstats, ...: row order survives the interleaving
    const probes = Array.from(t.array("probe") as Iterable<string>);
    assert.deepEqual(probes, STAT_LIST.flatMap((p, i) => Array<string>((i + 1) * N).fill(p)));
    const ts = t.array("ts") as number[];
    for (let i = 1; i < ts.length; i++) assert.ok(ts[i] >= ts[i - 1]);
    assert.equal(t.stats.received, 10 * N);
    assert.equal(t.stats.produced, 10 * N, "produced summed over the group (one shared counter map)");
    assert.equal(t.stats.received + t.stats.lost, t.stats.produced);
  });

  it("a wildcard stream: the probe column and the one common field, batch by batch", async () => {
    const N = 15;
    const w = workload(["stats", "/etc/hostname", String(N)]);
    await atGate(w.pid);
    const seen: Row[] = [];
    const g = tracepoints("syscalls:sys_enter_*stat*", { where: { pid: w.pid } });
    const it = g.stream({ batchMs: 0 });
    const done = (async () => {
      for await (const batch of it) {
        seen.push(...rowsOf(batch));
        if (seen.length >= 10 * N) break;
      }
    })();
    await sleep(200); // the generator loads on its first next()
    assert.equal(await w.go(), 0);
    await done;
    assert.deepEqual(tally(seen.map((r) => r.probe)), STAT_CALLS(N));
    assert.deepEqual(Object.keys(seen[0]), ["ts", "cpu", "pid", "tid", "comm", "probe", "__syscall_nr"]);
    for (const r of seen) assert.equal(r.__syscall_nr, STAT_NR[r.probe as string]);
  });
});

describe("tracepoints(): nothing stays loaded", () => {
  it("stop and dispose release every program of the group (bpftool prog show)", async () => {
    const before = new Set(programIdsOf());
    const g = tracepoints(STAT_LIST);
    const trace = g.start();
    const ours = programIdsOf().filter((id) => !before.has(id));
    assert.equal(ours.length, 4, "one program per tracepoint");
    const run = g.count({ by: ["probe"] }).start();
    const agg = programIdsOf().filter((id) => !before.has(id) && !ours.includes(id));
    assert.equal(agg.length, 4);
    trace[Symbol.dispose]();
    run[Symbol.dispose]();
    const loaded = new Set(loadedProgramIds());
    assert.deepEqual([...ours, ...agg].filter((id) => loaded.has(id)), [], "bpftool lists none of them");
    assert.equal(liveCount(), 0);
  });

  it("a failure loading the second program releases the first (run with too few open files left)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-group-"));
    const script = join(dir, "child.mjs");
    const lib = JSON.stringify(join(ROOT, "dist", "bpf-lib", "src", "index.js"));
    writeFileSync(script, `
      import { tracepoint, tracepoints } from ${lib};
      import { openSync, readdirSync, readlinkSync, readFileSync } from "node:fs";
      const fds = () => readdirSync("/proc/self/fd").length;
      const progs = () => readdirSync("/proc/self/fd").filter((f) => { try { return readlinkSync("/proc/self/fd/" + f) === "anon_inode:bpf-prog"; } catch { return false; } }).length;
      // what one streaming probe holds while it runs
      const base = fds();
      const one = tracepoint("syscalls:sys_enter_getppid").start();
      const per = fds() - base;
      await one.stop();
      const g = tracepoints(["syscalls:sys_enter_getppid", "syscalls:sys_enter_getpid", "syscalls:sys_enter_gettid"]);
      // leave room for one program and a half: the first loads, the second cannot
      const limit = Number(/^Max open files\\s+(\\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"))[1]);
      const hold = [];
      while (limit - fds() > per + (per >> 1)) hold.push(openSync("/dev/null", "r"));
      const before = fds();
      let error = null;
      try { g.start(); } catch (e) { error = { name: e.name, errno: e.errno, message: e.message }; }
      console.log(JSON.stringify({ per, error, progs: progs(), leaked: fds() - before }));
    `);
    const child = spawn("prlimit", ["--nofile=400:400", process.execPath, script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    assert.equal(await new Promise((r) => child.once("exit", r)), 0);
    const res = JSON.parse(out) as { per: number; error: { name: string; errno?: number; message: string } | null; progs: number; leaked: number };
    assert.ok(res.per >= 5, `one probe holds ${res.per} files`);
    assert.ok(res.error, "start() failed");
    assert.equal(res.error.errno, 24, `EMFILE: ${res.error.message}`);
    assert.equal(res.progs, 0, "no program fd stays open");
    assert.equal(res.leaked, 0, "every file the failed start opened is closed again");
  });
});
