/* spill(): collect to Parquet files on disk instead of a table in memory, for traces
 * too long or too fast for one. The trace runs as collect() runs it (same stop
 * conditions, progress, stats); each batch it drains is handed to a writer thread,
 * which writes a file per `fileRows` rows. Memory stays near one file's worth of rows
 * (plus what the writer lags), whatever the trace's length. */
import { accessSync, constants, lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { Trace, type CollectOptions, type StopOptions } from "../engine/trace.js";
import type { Columns } from "../engine/decoder.js";
import { reportProgress } from "../engine/consume.js";
import { collectOptions } from "../options/durations.js";
import { integerIn } from "../options/shapes.js";
import { InvalidOptionError } from "../errors.js";
import type { ParquetCompression } from "../export/parquet.js";
import { SpillDirError } from "./errors.js";
import { SpillWriter } from "./writer.js";
import { SpilledTrace, removeTemporary, trackTemporary } from "./spilled-trace.js";

export interface SpillOptions extends CollectOptions {
  /**
   * The directory the files go to (it must exist and be writable). Left out: a new
   * private directory (mode 0700) under the system's temp directory, removed with
   * its files by dispose() (or when the process exits).
   */
  dir?: string;
  /** File names: <prefix>-000000.parquet, ... and the manifest <prefix>.json (default "trace"). A directory that already holds a spill of that prefix is refused. */
  prefix?: string;
  /** Rows per file (default 524,288; from 1,024 to 67,108,864): the memory the spill holds is about three files' worth (two waiting, one being encoded). */
  fileRows?: number;
  /** Parquet page compression (default "zstd": 2-3 bytes per row for the standard columns, and no slower to write than snappy). */
  compression?: ParquetCompression;
  /** File mode of the files (default 0o600: owner-only). */
  mode?: number;
  /** Whether dispose() removes the files (default: true for the temporary directory, false for a `dir` you gave). */
  remove?: boolean;
}

/** Anything that starts a trace: every probe's start() (tracepoint(), uprobe(), kprobe(), a pair, a group, BPF C events). */
export interface Spillable<Row extends object = Record<string, unknown>> {
  start(opts: StopOptions): Trace<Row>;
}

const WHAT = "spill()";
export const DEFAULT_FILE_ROWS = 1 << 19;
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const COMPRESSIONS: readonly ParquetCompression[] = ["zstd", "snappy", "lz4", "gzip", "none"];

interface Plan { dir: string; prefix: string; fileRows: number; compression: ParquetCompression; mode: number; remove: "dir" | "files" | "none"; made: boolean }

function plan(o: SpillOptions): Plan {
  const prefix = o.prefix ?? "trace";
  if (typeof prefix !== "string" || !PREFIX.test(prefix)) throw new InvalidOptionError(WHAT, "prefix", o.prefix, 'a file name prefix of letters, digits, ".", "_" and "-" (e.g. "opens")');
  const fileRows = integerIn(o.fileRows, "fileRows", WHAT, 1024, 1 << 26) ?? DEFAULT_FILE_ROWS;
  const compression = o.compression ?? "zstd";
  if (!COMPRESSIONS.includes(compression)) throw new InvalidOptionError(WHAT, "compression", o.compression, `one of ${COMPRESSIONS.map((c) => JSON.stringify(c)).join(", ")}`);
  const mode = integerIn(o.mode, "mode", WHAT, 0, 0o777) ?? 0o600;
  if (o.remove !== undefined && typeof o.remove !== "boolean") throw new InvalidOptionError(WHAT, "remove", o.remove, "true or false");
  if (o.dir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-spill-"));
    trackTemporary(dir);
    return { dir, prefix, fileRows, compression, mode, remove: o.remove === false ? "none" : "dir", made: true };
  }
  if (typeof o.dir !== "string" || o.dir === "") throw new InvalidOptionError(WHAT, "dir", o.dir, "the path of an existing, writable directory (or leave it out for a temporary one)");
  const dir = resolve(o.dir);
  let isDir = false;
  try {
    isDir = lstatSync(dir).isDirectory();
  } catch (e) {
    throw new SpillDirError(dir, `it does not exist (${(e as NodeJS.ErrnoException).code}); create it first, or leave dir out for a temporary directory`, { cause: e });
  }
  if (!isDir) throw new SpillDirError(dir, "it is not a directory (a symbolic link to one is refused too: give the directory's own path)");
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new SpillDirError(dir, "it is not writable by this process", { cause: e });
  }
  const clash = readdirSync(dir).filter((f) => f === `${prefix}.json` || (f.startsWith(`${prefix}-`) && f.endsWith(".parquet")));
  if (clash.length) throw new SpillDirError(dir, `it already holds a spill named "${prefix}" (${clash.slice(0, 3).join(", ")}${clash.length > 3 ? ", ..." : ""}); give another prefix or directory, or remove those files`);
  return { dir, prefix, fileRows, compression, mode, remove: o.remove === true ? "files" : "none", made: false };
}

const columnsOf = (t: ColumnTable): Columns => Object.fromEntries(t.columnNames().map((n) => [n, t.column(n) as unknown as Columns[string]]));

/** The batch with the trace's derived columns (names for numbers, ...), as its tables get them. */
function decorated(cols: Columns, decorate: Trace["decorate"]): Columns {
  return decorate ? columnsOf(decorate(aq.table(cols as Record<string, ArrayLike<unknown>>))) : cols;
}

const rowsOf = (cols: Columns) => {
  const first = Object.values(cols)[0];
  return first ? first.length : 0;
};

/**
 * Collects a probe's events into Parquet files as they arrive, instead of a table in memory:
 *
 *   await using s = await spill(tracepoint("syscalls:sys_enter_openat", { fields: ["filename"] }), { seconds: 600 });
 *   const top = await s.query("SELECT comm, count(*) AS opens FROM trace GROUP BY comm ORDER BY opens DESC LIMIT 10");
 *
 * Same stop conditions and progress as collect(); returns once every row is in a file.
 */
export async function spill<Row extends object = Record<string, unknown>>(probe: Spillable<Row>, options: SpillOptions): Promise<SpilledTrace> {
  if (typeof (probe as { start?: unknown } | null)?.start !== "function") {
    throw new InvalidOptionError(WHAT, "probe", probe, "a probe that streams events (tracepoint(...), uprobe(...), kprobe(...), a pair or a group); aggregations are small already: collect() them");
  }
  const o = options as SpillOptions | undefined;
  if (o === undefined || (typeof o === "object" && o !== null && o.seconds === undefined && o.events === undefined && o.signal === undefined)) {
    const conditions = "{ seconds: 60 }, { events: 10000000 } or { signal }";
    throw new InvalidOptionError(WHAT, "stop condition", options, conditions, `${WHAT} needs a stop condition: ${conditions} (got ${o === undefined ? "no options" : "none"}); to run until you decide, give it an AbortController's signal and abort() it (a notebook interrupt stops it too)`);
  }
  const opts = collectOptions(options, WHAT);
  const p = plan(opts);
  let trace: Trace<Row> | null = null;
  let writer: SpillWriter | null = null;
  try {
    writer = new SpillWriter({ dir: p.dir, prefix: p.prefix, fileRows: p.fileRows, compression: p.compression, mode: p.mode }, (e) => trace?.fail(e));
    const w = writer;
    const started: unknown = probe.start({ seconds: opts.seconds, events: opts.events, signal: opts.signal });
    if (!(started instanceof Trace)) {
      // an aggregation (or XDP sample) started a run of its own: stop it, and say what spills
      await (started as { stop?: () => Promise<unknown> } | null)?.stop?.();
      throw new InvalidOptionError(WHAT, "probe", probe, "a probe whose start() returns a Trace of events (tracepoint(...), uprobe(...), kprobe(...), a pair or a group); aggregations are small already: collect() them");
    }
    trace = started as Trace<Row>;
    const stopReporting = reportProgress(trace, opts);
    try {
      // the writer at most two files behind: beyond that the events wait in the ring (counted lost if it fills)
      const hold = () => w.backlog >= 2 * p.fileRows;
      for await (const cols of trace.batches({ hold })) w.post(decorated(cols, trace.decorate), rowsOf(cols));
    } finally {
      stopReporting();
    }
    // a trace that saw nothing still gets a file (of no rows), so its view has the trace's columns and queries answer 0
    if (w.posted === 0) w.post(columnsOf(trace.snapshot()), 0, true);
    await w.flush();
    const stats = trace.stats();
    const files = [...w.files].sort((a, b) => a.firstRow - b.firstRow);
    return SpilledTrace.written(p.dir, p.prefix, files, stats, {
      files: files.length, bytes: files.reduce((s, f) => s + f.bytes, 0), writeSeconds: w.writeMs / 1e3, peakBacklogRows: w.peakBacklog, fileRows: p.fileRows,
    }, p.remove, p.mode);
  } catch (e) {
    await trace?.stop();
    if (p.made) removeTemporary(p.dir);
    // a spill that failed leaves no files of its own behind (no manifest names them; a rerun with the same prefix would be refused)
    else for (const f of writer?.files ?? []) rmSync(f.path, { force: true });
    throw writer?.error ?? e;
  } finally {
    await writer?.close();
  }
}
