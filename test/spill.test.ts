/* spill(): real traces written to Parquet files as they run, queried with DuckDB.
 * Exact row counts across the files against a workload's known number of calls; the
 * same events collected in memory at the same time (a second program on the same
 * tracepoint) give exactly the aggregation DuckDB computes over the files; temporary
 * files go with dispose(); bad directories and bad SQL are named errors; DuckDB's
 * types become the documented JavaScript types. */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as aq from "arquero";
import { DuckDBMissingError, InvalidOptionError, liveCount, openSpill, query, QueryError, spill, SpillDirError, tracepoint, writeParquet } from "../bpf-lib/src/index.js";
import { renamedWorkload, workload, ROOT } from "./helpers/workload.js";
import { BpfObject } from "../bpf-lib/src/libbpf/object.js";
import { bpfObjectPath } from "../bpf-lib/src/paths.js";
import { HDR_SIZE } from "../bpf-lib/src/engine/layout.js";
import { Trace, type StopOptions } from "../bpf-lib/src/engine/trace.js";

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "bpfbook-spill-test-"));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  assert.equal(liveCount(), 0);
});

const getppid = (pid: number) => tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid } });

describe("spill", () => {
  it("N getppid calls: exactly N rows across the files, received + lost == produced", async () => {
    const N = 250_000;
    const w = workload(["getppid", String(N)]);
    const dir = scratch();
    const running = spill(getppid(w.pid), { dir, fileRows: 65_536, seconds: 60, events: N });
    // the trace attaches synchronously inside spill(); the workload starts after
    assert.equal(await w.go(), 0);
    const s = await running;
    assert.equal(s.stats.produced, N, "the workload made exactly N calls");
    assert.equal(s.stats.received + s.stats.lost, s.stats.produced);
    assert.equal(s.numRows, s.stats.received);
    assert.equal(s.stats.stoppedBy, "events");
    // files of fileRows rows or more (but the last), in row order, with no gap
    assert.ok(s.files.length >= 3 && s.files.length <= 4, `${s.files.length} files`);
    let next = 0;
    for (const [i, f] of s.fileInfo.entries()) {
      assert.equal(f.firstRow, next);
      if (i < s.fileInfo.length - 1) assert.ok(f.rows >= 65_536, `file ${i}: ${f.rows} rows`);
      assert.equal(statSync(f.path).size, f.bytes);
      assert.equal(statSync(f.path).mode & 0o777, 0o600, "owner-only");
      // DuckDB reads each file's own rows
      assert.deepEqual((await query("SELECT count(*) AS n FROM f", { f: f.path })).objects(), [{ n: f.rows }]);
      next += f.rows;
    }
    assert.equal(next, s.numRows);
    assert.deepEqual(readdirSync(dir).sort(), [...s.files.map((f) => f.slice(dir.length + 1)), "trace.json"].sort());
    assert.deepEqual((await s.query("SELECT count(*) AS n, count(DISTINCT pid) AS pids, min(pid) AS pid FROM trace")).objects(), [{ n: s.stats.received, pids: 1, pid: w.pid }]);
    // the manifest finds them again, with the same stats; a given dir keeps its files after dispose()
    const again = openSpill(dir);
    assert.deepEqual(again.files, s.files);
    assert.deepEqual(again.stats, s.stats);
    await s.dispose();
    assert.deepEqual((await again.query("SELECT count(*) AS n FROM trace")).objects(), [{ n: s.stats.received }]);
    await again.dispose();
    assert.ok(s.files.every((f) => existsSync(f)), "files in a dir you gave stay");
  });

  it("DuckDB's GROUP BY over the files equals Arquero's over the same events collected in memory", async () => {
    const bin = renamedWorkload("bpfbook-spill");
    const comm = "bpfbook-spill";
    // one process with 100,000 calls, and 150 short-lived children with one call each (setuid workload)
    const a = workload(["getppid", "100000"], { binary: bin });
    const b = workload(["setuid", "65534", "150"], { binary: bin });
    const probe = tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { comm } });
    // two programs on the same tracepoint, the same filter: each sees every event
    const memory = probe.start({ seconds: 120 });
    const spilling = spill(probe, { fileRows: 32_768, seconds: 120, events: 100_150 });
    assert.deepEqual(await Promise.all([a.go(), b.go()]), [0, 0]);
    await using s = await spilling;
    // the workloads have exited: stopping drains every event they made
    const table = await memory.table();
    assert.equal(s.stats.lost, 0);
    assert.equal(table.stats.lost, 0);
    assert.equal(s.numRows, 100_150);
    assert.equal(table.numRows(), 100_150);
    const duck = await s.query("SELECT pid, comm, count(*) AS n FROM trace GROUP BY pid, comm ORDER BY pid");
    const mem = table.groupby("pid", "comm").count({ as: "n" }).orderby("pid");
    assert.deepEqual(duck.objects(), mem.objects());
    assert.equal(duck.numRows(), 151);
    assert.deepEqual(duck.params({ big: a.pid }).filter((r: { pid: number }, $: { big: number }) => r.pid === $.big).objects(), [{ pid: a.pid, comm, n: 100_000 }]);
    // finer: by every column but ts (each program reads the clock itself, so the two ts of one event differ by its run time)
    const fine = await s.query("SELECT cpu, pid, tid, comm, count(*) AS n FROM trace GROUP BY ALL ORDER BY ALL");
    assert.deepEqual(fine.objects(), table.groupby("cpu", "pid", "tid", "comm").count({ as: "n" }).orderby("cpu", "pid", "tid", "comm").objects());
    // the columns come back with their types: ts a double, cpu u16, pid i32
    const rows = await s.query("SELECT ts, cpu, pid FROM trace LIMIT 3");
    assert.ok(rows.column("ts") instanceof Float64Array && rows.column("cpu") instanceof Uint16Array && rows.column("pid") instanceof Int32Array);
  });

  it("a writer that falls behind holds the drains: the backlog stays within two files and a batch, nothing is lost", async () => {
    // a million events at once from the kernel burst producer (bpf_loop, this process's own), all fitting in a 64 MiB ring
    const N = 1_000_000;
    const obj = BpfObject.open(bpfObjectPath("burst"));
    obj.setConstant("cfg_count", N);
    obj.setConstant("cfg_event_size", HDR_SIZE);
    obj.map("events").setMaxEntries(64 << 20);
    obj.load();
    const probe = { start: (o: StopOptions) => new Trace({ source: "burst", object: obj, eventSize: HDR_SIZE, bufferBytes: 64 << 20, fields: [], attach: () => [] }, o) };
    const fileRows = 8192;
    const running = spill(probe, { events: N, seconds: 120, fileRows });
    obj.program("burst").testRun();
    await using s = await running;
    assert.deepEqual([s.stats.produced, s.stats.received, s.stats.lost, s.numRows], [N, N, 0, N]);
    // drains outrun the writer (tens of millions of rows a second against a few): without the hold the backlog would be most of the million
    const oneBatch = 1 << 18; // a drain's most (DRAIN_MAX)
    assert.ok(s.spill.peakBacklogRows > 2 * fileRows && s.spill.peakBacklogRows <= 2 * fileRows + oneBatch, `peak backlog ${s.spill.peakBacklogRows}`);
    assert.deepEqual((await s.query("SELECT count(*) AS n, count(DISTINCT ts) AS stamps, min(pid) AS pid FROM trace")).objects(), [{ n: N, stamps: N, pid: process.pid }]);
    // numbers plain, strings dictionary-encoded in the files (writeParquet's dictionary: "strings")
    const enc = await query(`SELECT path_in_schema AS col, encodings FROM parquet_metadata(${JSON.stringify(s.files[0]).replace(/"/g, "'")}) WHERE row_group_id = 0 ORDER BY column_id`, { f: s.files[0]! });
    const encodings = Object.fromEntries(enc.objects().map((r) => [(r as { col: string }).col, (r as { encodings: string }).encodings]));
    assert.ok(!/DICTIONARY/.test(encodings.ts!) && /DICTIONARY/.test(encodings.comm!), JSON.stringify(encodings));
  });

  it("a temporary directory goes with dispose(), await using, or the process; a trace that saw nothing has 0 rows", async () => {
    const w = workload(["getppid", "1000"]);
    const run = spill(getppid(w.pid), { seconds: 60, events: 1000 });
    await w.go();
    const s = await run;
    assert.ok(s.dir.startsWith(join(tmpdir(), "bpfbook-spill-")));
    assert.equal(statSync(s.dir).mode & 0o777, 0o700);
    assert.equal(s.numRows, 1000);
    await s.dispose();
    assert.equal(existsSync(s.dir), false);
    await assert.rejects(s.query("SELECT 1"), /was disposed/);

    let dir = "";
    {
      const idle = workload(["getppid", "0"]);
      const running = spill(getppid(idle.pid), { seconds: 0.3 });
      await idle.go();
      await using empty = await running;
      dir = empty.dir;
      assert.equal(empty.numRows, 0);
      assert.equal(empty.files.length, 1, "one file of no rows: the view keeps the trace's columns");
      assert.deepEqual((await empty.query("SELECT count(*) AS n, max(pid) AS p FROM trace")).objects(), [{ n: 0, p: null }]);
      assert.deepEqual((await empty.query("SELECT * FROM trace")).columnNames(), ["ts", "cpu", "pid", "tid", "comm"]);
    }
    assert.equal(existsSync(dir), false, "await using removed it");

    // the process's exit removes a temporary directory nobody disposed
    const script = join(scratch(), "leave.mjs");
    writeFileSync(script, `import { spill, tracepoint } from ${JSON.stringify(pathToFileURL(join(ROOT, "dist", "bpf-lib", "src", "index.js")).href)};
const s = await spill(tracepoint("syscalls:sys_enter_getppid", { fields: [], where: { pid: 1 } }), { seconds: 0.2 });
console.log(s.dir);`);
    const left = execFileSync(process.execPath, [script], { encoding: "utf8" }).trim();
    assert.match(left, /bpfbook-spill-/);
    assert.equal(existsSync(left), false);
  });

  it("bad directories, options and SQL are named errors, before anything is attached", async () => {
    const p = getppid(process.pid);
    const missing = join(scratch(), "nope");
    await assert.rejects(spill(p, { dir: missing, seconds: 1 }), (e: unknown) => e instanceof SpillDirError && e.code === "ESPILLDIR" && e.dir === missing && /does not exist \(ENOENT\)/.test(e.message));
    const file = join(scratch(), "a-file");
    writeFileSync(file, "x");
    await assert.rejects(spill(p, { dir: file, seconds: 1 }), (e: unknown) => e instanceof SpillDirError && /not a directory/.test(e.message));
    const link = join(scratch(), "link");
    symlinkSync(scratch(), link);
    await assert.rejects(spill(p, { dir: link, seconds: 1 }), (e: unknown) => e instanceof SpillDirError && /symbolic link/.test(e.message));
    const taken = scratch();
    writeFileSync(join(taken, "trace-000000.parquet"), "");
    await assert.rejects(spill(p, { dir: taken, seconds: 1 }), (e: unknown) => e instanceof SpillDirError && /already holds a spill named "trace"/.test(e.message));
    await assert.rejects(spill(p, {} as never), (e: unknown) => e instanceof InvalidOptionError && /spill\(\) needs a stop condition/.test(e.message));
    await assert.rejects(spill(p, { seconds: 1, fileRows: 10 }), (e: unknown) => e instanceof InvalidOptionError && e.option === "fileRows");
    await assert.rejects(spill(p, { seconds: 1, compression: "brotli" as never }), (e: unknown) => e instanceof InvalidOptionError && e.option === "compression");
    await assert.rejects(spill({} as never, { seconds: 1 }), (e: unknown) => e instanceof InvalidOptionError && e.option === "probe");
    // an aggregation starts a run of its own, not a Trace: stopped, and refused
    await assert.rejects(spill(getppid(process.pid).count() as never, { seconds: 1 }), (e: unknown) => e instanceof InvalidOptionError && e.option === "probe" && /aggregations are small already/.test(e.message));
    assert.equal(liveCount(), 0, "the aggregation's run was stopped");

    const pq = join(scratch(), "t.parquet");
    writeParquet(aq.table({ a: Int32Array.from([1, 2]) }), pq);
    await assert.rejects(query("SELECT nope FROM t", { t: pq }), (e: unknown) =>
      e instanceof QueryError && e.code === "EQUERY" && e.sql === "SELECT nope FROM t" &&
      e.reason.startsWith('Binder Error: Referenced column "nope" not found') && /\nLINE 1: SELECT nope FROM t\n\s+\^$/.test(e.reason) && /\(views: t\)/.test(e.message));
    await assert.rejects(query("SELEC 1", { t: pq }), (e: unknown) => e instanceof QueryError && e.reason.startsWith('Parser Error: syntax error at or near "SELEC"'));
    await assert.rejects(query("SELECT 1", { "bad name": pq }), (e: unknown) => e instanceof InvalidOptionError && e.option === "views");
    await assert.rejects(query("SELECT 1", { t: pq }, { timestamps: "iso" as never }), (e: unknown) => e instanceof InvalidOptionError && e.option === "timestamps");
  });

  it("DuckDB missing: a named error that says how to install it", () => {
    // the package resolved as missing, as on a machine where it is not installed
    const hook = `export async function resolve(s, c, next) { if (s === "@duckdb/node-api") { const e = new Error("Cannot find package '@duckdb/node-api'"); e.code = "ERR_MODULE_NOT_FOUND"; throw e; } return next(s, c); }`;
    const script = `import { register } from "node:module";
register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hook)}));
const { query } = await import(${JSON.stringify(pathToFileURL(join(ROOT, "dist", "bpf-lib", "src", "index.js")).href)});
try { await query("SELECT 1", { t: "x.parquet" }); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`;
    const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" })) as { name: string; code: string; message: string };
    assert.equal(out.name, "DuckDBMissingError");
    assert.equal(out.code, "ENODUCKDB");
    assert.match(out.message, /Cannot find package '@duckdb\/node-api'.*npm install @duckdb\/node-api/);
    assert.equal(new DuckDBMissingError(new Error("x")).code, "ENODUCKDB");
  });

  it("DuckDB's types become exact JavaScript values", async () => {
    const pq = join(scratch(), "one.parquet");
    writeParquet(aq.table({ a: Int32Array.from([1]) }), pq);
    const warning = new Promise<Error>((r) => process.once("warning", r));
    const t = await query(`SELECT
        count(*) AS n, 9007199254740991::BIGINT AS safe, 9007199254740993::BIGINT AS big, 18446744073709551615::UBIGINT AS ubig,
        170141183460469231731687303715884105727::HUGEINT AS huge, sum(a) AS s, [1, 2]::INTEGER[] AS list, 'x' AS str, NULL::INTEGER AS nothing,
        3::TINYINT AS i8, 4::UINTEGER AS u32, 1.5::FLOAT AS f32, 2.25 AS dec, true AS yes, '\\x01\\x02'::BLOB AS blob,
        TIMESTAMP '2026-11-30 12:00:00.123' AS ms, TIMESTAMP '2026-11-30 12:00:00.123456' AS us, TIMESTAMP_NS '2026-11-30 12:00:00.123456789' AS ns, DATE '2026-11-30' AS day
      FROM t`, { t: pq });
    const row = t.object(0) as Record<string, unknown>;
    const warned = await warning;
    assert.match(warned.message, /rounded down to Dates in us \(1 values\), ns \(1 values\)/);
    assert.equal((warned as Error & { code?: string }).code, "BPFBOOK_IMPRECISE");
    assert.deepEqual({ ...row, ms: undefined, us: undefined, ns: undefined, day: undefined }, {
      n: 1, safe: 9007199254740991, big: 9007199254740993n, ubig: 18446744073709551615n, huge: 170141183460469231731687303715884105727n, s: 1,
      list: [1, 2], str: "x", nothing: null, i8: 3, u32: 4, f32: 1.5, dec: 2.25, yes: true, blob: new Uint8Array([1, 2]),
      ms: undefined, us: undefined, ns: undefined, day: undefined,
    });
    assert.ok(t.column("n") instanceof Float64Array && t.column("big") instanceof BigInt64Array && t.column("ubig") instanceof BigUint64Array);
    assert.ok(t.column("i8") instanceof Int8Array && t.column("u32") instanceof Uint32Array && t.column("f32") instanceof Float32Array);
    assert.deepEqual([row.ms, row.day], [new Date("2026-11-30T12:00:00.123Z"), new Date("2026-11-30T00:00:00Z")]);
    // finer than a ms: a Date rounded down, and a warning; "epoch" gives the exact counts
    assert.deepEqual([row.us, row.ns], [new Date("2026-11-30T12:00:00.123Z"), new Date("2026-11-30T12:00:00.123Z")]);
    const epoch = (await query("SELECT TIMESTAMP '2026-11-30 12:00:00.123456' AS us, TIMESTAMP_NS '2026-11-30 12:00:00.123456789' AS ns, 5::BIGINT AS b FROM t", { t: pq }, { timestamps: "epoch", bigint: true })).object(0);
    assert.deepEqual(epoch, { us: Date.UTC(2026, 10, 30, 12) * 1000 + 123456, ns: BigInt(Date.UTC(2026, 10, 30, 12)) * 1000000n + 123456789n, b: 5n });
  });
});

