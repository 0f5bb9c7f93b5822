/* writeParquet / readParquet / writeCsv on real tables (an exec trace with argv lists
 * and dictionary strings, a write trace with byte buffers, an lseek trace with bigint
 * offsets, a histogram aggregation, a trace that saw nothing) and on an aggregation's
 * u64 bigints past 2^63, read back by an independent reader, DuckDB (its own Parquet
 * and CSV readers), and by readParquet: same rows, same types, same stats. */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as aq from "arquero";
import { tableFromIPC } from "@uwdata/flechette";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { csvText, InvalidArgumentError, InvalidOptionError, liveCount, parquetBytes, readParquet, tracepoint, withTime, writeCsv, writeParquet } from "../bpf-lib/src/index.js";
import type { ColumnTable } from "arquero";
import { traceFromArrow, traceToArrow } from "../bpf-lib/src/engine/persist.js";
import { toArrowTable } from "../bpf-lib/src/engine/arrow-types.js";
import { parquetWasm } from "../bpf-lib/src/export/parquet.js";
import { workload } from "./helpers/workload.js";

let dir = "";
let db: DuckDBInstance;
let duck: DuckDBConnection;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bpfbook-parquet-"));
  db = await DuckDBInstance.create(":memory:");
  duck = await db.connect();
});
after(() => {
  duck.closeSync();
  db.closeSync();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(liveCount(), 0);
});

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
/** What DuckDB reads from a Parquet file: column names, SQL types, rows as JS values (bytes as Uint8Array). */
async function duckRead(file: string): Promise<{ names: string[]; types: string[]; rows: Record<string, unknown>[] }> {
  const r = await duck.runAndReadAll(`SELECT * FROM read_parquet(${q(file)})`);
  const rows = r.getRowObjectsJS().map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? new Uint8Array(v) : v])));
  return { names: r.columnNames(), types: r.columnTypes().map(String), rows };
}
async function duckKv(file: string): Promise<Map<string, string>> {
  const r = await duck.runAndReadAll(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${q(file)})`);
  return new Map(r.getRowObjectsJS().map((x) => [String(x.k), String(x.v)]));
}
// (a dictionary's id is a number the encoder hands out, not part of the type)
const typeText = (fields: readonly { name: string; type: unknown }[]) => fields.map((f) => `${f.name}:${JSON.stringify(f.type, (k, v: unknown) => (k === "id" ? undefined : typeof v === "bigint" ? String(v) : v))}`);
/** Each column's Arrow type as writeParquet() names it from the table (bit widths, signedness, dictionaries, lists). */
const arrowTypesOf = (t: ColumnTable) => typeText(toArrowTable(t).schema.fields);
/** Each column's Arrow type as the Parquet file gives it back (arrow-rs's reader, through parquet-wasm). */
const parquetArrowTypes = (bytes: Uint8Array) => typeText(tableFromIPC(parquetWasm().readParquet(bytes).intoIPCStream()).schema.fields);
/** Rows with bytes as plain arrays, so deepEqual compares contents whatever the class (Buffer, Uint8Array). */
const plain = (rows: object[]) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Uint8Array ? [...v] : v])));

/** The Parquet round trip every table gets: DuckDB reads the same rows with the expected SQL types; readParquet gives back the same rows, Arrow types and stats. */
async function roundTrip(t: ColumnTable, name: string, sqlTypes: Record<string, string>): Promise<void> {
  const file = join(dir, `${name}.parquet`);
  const bytes = writeParquet(t, file);
  assert.deepEqual(readFileSync(file), Buffer.from(bytes));
  assert.equal(statSync(file).mode & 0o777, 0o600, "owner-only, as saveTrace");
  const d = await duckRead(file);
  assert.deepEqual(d.names, t.columnNames());
  assert.deepEqual(Object.fromEntries(d.names.map((n, i) => [n, d.types[i]])), sqlTypes, `${name}: DuckDB's types`);
  assert.deepEqual(plain(d.rows), plain(t.objects()), `${name}: DuckDB reads the same rows`);
  const stats = (t as { stats?: object }).stats;
  const kv = await duckKv(file);
  assert.equal(kv.get("bpfbook.version"), "1");
  if (stats) assert.deepEqual(JSON.parse(kv.get("bpfbook.stats")!), stats, `${name}: the stats, as Parquet key-value metadata`);
  const back = readParquet(file);
  assert.deepEqual(plain(back.objects()), plain(t.objects()), `${name}: readParquet gives the same rows`);
  assert.deepEqual(parquetArrowTypes(bytes), arrowTypesOf(t), `${name}: the file holds each column's type exactly`);
  assert.deepEqual(back.stats, stats);
}

describe("writeParquet", () => {
  it("an exec trace: argv lists, dictionary strings, typed numbers of each width", async () => {
    const w = workload(["exec", "2", "alpha", "beta,gamma"]);
    const trace = tracepoint("syscalls:sys_enter_execve", { fields: ["filename"], columns: ["uid"], read: { argv: { from: "argv", array: 4, string: 16 } }, where: { comm: "workload" } }).start({ seconds: 30 });
    assert.equal(await w.go(), 0);
    const t = await trace.table();
    assert.equal(t.numRows(), 2);
    assert.deepEqual(t.array("argv"), [["true", "alpha", "beta,gamma"], ["true", "alpha", "beta,gamma"]]);
    await roundTrip(t, "exec", { ts: "DOUBLE", cpu: "USMALLINT", pid: "INTEGER", tid: "INTEGER", comm: "VARCHAR", filename: "VARCHAR", uid: "UINTEGER", argv: "VARCHAR[]" });
    // withTime's Date column: a timestamp
    await roundTrip(withTime(t).select("ts", "time"), "exec-time", { ts: "DOUBLE", time: "TIMESTAMP" });
  });

  it("byte buffers as BLOB, and 64-bit offsets as exact BIGINT", async () => {
    const w = workload(["write", "10", "3"]);
    const trace = tracepoint("syscalls:sys_enter_write", { fields: ["fd", "count"], read: { data: { from: "buf", bytes: 16, length: "count" } }, where: { pid: w.pid } }).start({ seconds: 30 });
    assert.equal(await w.go(), 0);
    const t = await trace.table();
    assert.equal(t.numRows(), 3);
    const expected = [0, 1, 2].map((i) => Buffer.from(Array.from({ length: 10 }, (_, j) => 97 + ((i + j) % 26))));
    assert.deepEqual((t.array("data") as Uint8Array[]).map((b) => Buffer.from(b)), expected);
    await roundTrip(t, "writes", { ts: "DOUBLE", cpu: "USMALLINT", pid: "INTEGER", tid: "INTEGER", comm: "VARCHAR", fd: "UINTEGER", count: "DOUBLE", data: "BLOB" });

    const offset = 2n ** 60n + 3n;
    const l = workload(["lseek", String(offset), "2"]);
    const seeks = tracepoint("syscalls:sys_enter_lseek", { fields: ["offset"], bigint: true, where: { pid: l.pid } }).start({ seconds: 30 });
    await l.go();
    const s = await seeks.table();
    // the row type does not yet follow `bigint:` (64-bit fields are typed number)
    assert.deepEqual([...(s.array("offset") as unknown as bigint[])], [offset, offset]);
    await roundTrip(s, "lseek", { ts: "DOUBLE", cpu: "USMALLINT", pid: "INTEGER", tid: "INTEGER", comm: "VARCHAR", offset: "BIGINT" });
  });

  it("aggregation tables: a real histogram, and u64 sums past 2^63 (bigints the Arrow path must not wrap)", async () => {
    const w = workload(["write", "100", "4"]);
    const run = tracepoint("syscalls:sys_enter_write", { where: { pid: w.pid } }).hist("count", { by: ["comm"] }).start();
    await w.go();
    await run.stop();
    const h = await run.finished();
    assert.deepEqual(h.objects(), [{ comm: "workload", bucket: 7, low: 64, high: 128, count: 4 }]);
    // plain number columns are doubles (what a JS number is): the type does not change with the values
    await roundTrip(h, "hist", { comm: "VARCHAR", bucket: "DOUBLE", low: "DOUBLE", high: "DOUBLE", count: "DOUBLE" });

    // as AggregationRun makes them: a column with any value past 2^53 is bigint throughout (plain arrays)
    const big = aq.table({ comm: ["a", "b"], count: [2n, 3n], sum: [2n ** 63n + 5n, 7n], min: [-(2n ** 62n), 1n], avg: [4.6e18, 2.5] });
    Object.defineProperty(big, "stats", { value: Object.freeze({ source: "made by hand", bigintColumns: ["count", "sum", "min"] }), enumerable: false });
    // saveTrace() shares the Arrow types (engine/arrow-types.ts): a u64 past 2^63 is uint64 there too
    assert.deepEqual(traceFromArrow(traceToArrow(big)).objects(), big.objects());
    await roundTrip(big, "bigints", { comm: "VARCHAR", count: "BIGINT", sum: "UBIGINT", min: "BIGINT", avg: "DOUBLE" });
  });

  it("a trace that saw nothing: 0 rows, its columns and stats", async () => {
    const w = workload(["getppid", "0"]);
    const trace = tracepoint("syscalls:sys_enter_execve", { fields: ["filename"], read: { argv: { from: "argv", array: 2, string: 16 } }, where: { pid: w.pid } }).start({ seconds: 30 });
    await w.go();
    const t = await trace.table();
    assert.equal(t.numRows(), 0);
    // a list column with no rows has nothing to say it is a list: it is written as strings
    await roundTrip(t, "empty", { ts: "DOUBLE", cpu: "USMALLINT", pid: "INTEGER", tid: "INTEGER", comm: "VARCHAR", filename: "VARCHAR", argv: "VARCHAR" });
  });

  it("every compression DuckDB reads back; bad arguments are named errors", async () => {
    const t = aq.table({ x: Int32Array.from([1, 2, 3]), s: ["a", "b", "c"] });
    for (const compression of ["snappy", "zstd", "gzip", "lz4", "none"] as const) {
      const file = join(dir, `c-${compression}.parquet`);
      writeParquet(t, file, { compression, mode: 0o644 });
      assert.equal(statSync(file).mode & 0o777, 0o644);
      const r = await duck.runAndReadAll(`SELECT compression FROM parquet_metadata(${q(file)}) LIMIT 1`);
      assert.equal(String(r.getRowObjectsJS()[0]!.compression), compression === "none" ? "UNCOMPRESSED" : compression === "lz4" ? "LZ4_RAW" : compression.toUpperCase());
      assert.deepEqual((await duckRead(file)).rows, [{ x: 1, s: "a" }, { x: 2, s: "b" }, { x: 3, s: "c" }]);
    }
    assert.throws(() => parquetBytes(t, { compression: "brotli" as "zstd" }), (e: Error) => e instanceof InvalidOptionError && /compression must be one of "snappy", "zstd", "gzip", "lz4", "none"/.test(e.message));
    assert.throws(() => writeParquet({ rows: [] } as unknown as ColumnTable, join(dir, "x.parquet")), (e: Error) => e instanceof InvalidArgumentError && /must be a table/.test(e.message));
    assert.throws(() => writeParquet(t, ""), /path must be a file name/);
    assert.throws(() => readParquet(42 as unknown as string), /a file name or the file's bytes/);
  });
});

describe("writeCsv", () => {
  it("any table as CSV: lists as JSON, bytes as hex, bigints exact, dates ISO; DuckDB reads the same values", async () => {
    const t = aq.table({
      ts: Float64Array.from([33011427324640, 2.5]),
      comm: ["with,comma", 'with "quote"'],
      argv: [["ls", "-l, -a"], []],
      data: [Uint8Array.of(0, 1, 255), Uint8Array.of()],
      sum: [2n ** 63n + 5n, -3n],
      time: [new Date(0), new Date(1_700_000_000_123)],
    });
    const file = join(dir, "t.csv");
    const text = writeCsv(t, file);
    assert.equal(readFileSync(file, "utf8"), text);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(text, [
      "ts,comm,argv,data,sum,time",
      '33011427324640,"with,comma","[""ls"",""-l, -a""]",0001ff,9223372036854775813,1970-01-01T00:00:00.000Z',
      '2.5,"with ""quote""",[],,-3,2023-11-14T22:13:20.123Z',
      "",
    ].join("\n"));
    const r = await duck.runAndReadAll(`SELECT * FROM read_csv(${q(file)}, all_varchar = true)`);
    assert.deepEqual(r.getRowObjectsJS(), [
      { ts: "33011427324640", comm: "with,comma", argv: '["ls","-l, -a"]', data: "0001ff", sum: "9223372036854775813", time: "1970-01-01T00:00:00.000Z" },
      { ts: "2.5", comm: 'with "quote"', argv: "[]", data: null, sum: "-3", time: "2023-11-14T22:13:20.123Z" },
    ]);
    assert.equal(csvText(t, { delimiter: "\t" }).split("\n")[0], "ts\tcomm\targv\tdata\tsum\ttime");
    assert.throws(() => csvText(t, { delimiter: '"' }), /delimiter must be one character other than a quote/);
  });

  it("a real trace as CSV: DuckDB infers its number and string columns, and the values are the table's", async () => {
    const w = workload(["getppid", "3"]);
    const trace = tracepoint("syscalls:sys_enter_getppid", { where: { pid: w.pid } }).start({ seconds: 30 });
    await w.go();
    const t = await trace.table();
    assert.equal(t.numRows(), 3);
    const file = join(dir, "getppid.csv");
    writeCsv(t, file);
    const r = await duck.runAndReadAll(`SELECT * FROM read_csv(${q(file)})`);
    assert.deepEqual(r.columnNames(), t.columnNames());
    const strings = ["comm"];
    assert.deepEqual(r.columnTypes().map(String), t.columnNames().map((c) => (strings.includes(c) ? "VARCHAR" : "BIGINT")));
    const asRead = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, strings.includes(k) ? v : BigInt(v as number)]));
    assert.deepEqual(r.getRowObjectsJS(), (t.objects() as Record<string, unknown>[]).map(asRead));
    assert.equal(writeCsv(t.filter(() => false), join(dir, "none.csv")), `${t.columnNames().join(",")}\n`, "0 rows: the header alone");
  });
});
