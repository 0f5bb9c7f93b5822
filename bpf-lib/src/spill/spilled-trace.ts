/* What spill() returns: a finished trace whose rows are in Parquet files, not in
 * memory. It has the stats a table has (received + lost == produced, exactly), the
 * files in row order, and query() over them as the view `trace`. A manifest beside the
 * files (<prefix>.json) lets openSpill() find them again in a later session. */
import { readFileSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { ColumnTable } from "arquero";
import type { TraceStats } from "../engine/stats.js";
import { formatStats } from "../engine/table.js";
import { writePrivate } from "../engine/write-private.js";
import { InvalidArgumentError } from "../errors.js";
import type { WrittenFile } from "./messages.js";
import { QuerySession } from "./query.js";
import type { ResultOptions } from "./convert.js";
import { SpillDirError } from "./errors.js";

/** How the spill went: files and bytes written, the writer's time, and how far it lagged behind the trace. */
export interface SpillStats {
  files: number;
  bytes: number;
  /** Seconds the writer thread spent joining, encoding and writing (beside the trace, not in its way). */
  writeSeconds: number;
  /** The most rows ever drained but not yet in a file: the memory the spill held at its peak is about this many rows. */
  peakBacklogRows: number;
  /** Rows per file the spill aimed at (a file holds at least this many, but the last). */
  fileRows: number;
}

/** A file of a spilled trace: its rows are rows [firstRow, firstRow + rows) of the trace. */
export interface SpillFile {
  path: string;
  firstRow: number;
  rows: number;
  bytes: number;
  /** ms the writer thread spent on it (join, Arrow, Parquet encoding, write). */
  ms: number;
}

interface Manifest {
  version: 1;
  stats: TraceStats;
  spill: SpillStats;
  files: { file: string; firstRow: number; rows: number; bytes: number; ms: number }[];
}

const MANIFEST_VERSION = 1;

/** Temporary spill directories not yet disposed: removed when the process exits. */
const temporary = new Set<string>();
let hooked = false;
export function trackTemporary(dir: string): void {
  temporary.add(dir);
  if (!hooked) {
    hooked = true;
    process.once("exit", () => {
      for (const d of temporary) rmSync(d, { recursive: true, force: true });
    });
  }
}

/** Removes a temporary spill directory (a spill that failed, or a disposed one). */
export function removeTemporary(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  temporary.delete(dir);
}

export class SpilledTrace implements AsyncDisposable, Disposable {
  /** The directory holding the files. */
  readonly dir: string;
  /** The Parquet files, in row order. */
  readonly files: readonly string[];
  /** Each file's rows and size. */
  readonly fileInfo: readonly SpillFile[];
  /** Rows in all the files: stats.received. */
  readonly numRows: number;
  /** The collection's stats, as a table's (received, lost, produced, filtered, seconds, stoppedBy, ...). */
  readonly stats: TraceStats;
  readonly spill: SpillStats;
  readonly #manifest: string;
  /** What dispose() removes: the whole directory (a temporary one), the files and manifest, or nothing. */
  readonly #remove: "dir" | "files" | "none";
  #session: Promise<QuerySession> | null = null;
  #disposed = false;

  /** @internal spill() and openSpill() make these. */
  constructor(dir: string, manifest: string, files: readonly SpillFile[], stats: TraceStats, spill: SpillStats, remove: "dir" | "files" | "none") {
    this.dir = dir;
    this.#manifest = manifest;
    this.fileInfo = Object.freeze(files.map((f) => Object.freeze({ ...f })));
    this.files = Object.freeze(files.map((f) => f.path));
    this.numRows = files.reduce((s, f) => s + f.rows, 0);
    this.stats = Object.freeze({ ...stats });
    this.spill = Object.freeze({ ...spill });
    this.#remove = remove;
  }

  /** @internal Writes the manifest beside the files (owner-only). */
  static written(dir: string, prefix: string, files: readonly WrittenFile[], stats: TraceStats, spill: SpillStats, remove: "dir" | "files" | "none", mode: number): SpilledTrace {
    const manifest = join(dir, `${prefix}.json`);
    const m: Manifest = { version: MANIFEST_VERSION, stats, spill, files: files.map((f) => ({ file: basename(f.path), firstRow: f.firstRow, rows: f.rows, bytes: f.bytes, ms: Math.round(f.ms) })) };
    writePrivate(manifest, JSON.stringify(m, null, 1) + "\n", { mode });
    return new SpilledTrace(dir, manifest, files.map(({ path, firstRow, rows, bytes, ms }) => ({ path, firstRow, rows, bytes, ms: Math.round(ms) })), stats, spill, remove);
  }

  /**
   * Runs SQL over the files with DuckDB, the rows seen as the view `trace`, and returns an
   * Arquero table (64-bit integers as numbers when every value is safe, else bigints;
   * see docs/spill.md). DuckDB stays open for the next query until dispose().
   */
  async query(sql: string, opts: ResultOptions = {}): Promise<ColumnTable> {
    if (this.#disposed) throw new InvalidArgumentError(`query(): this spilled trace (${this.stats.source}) was disposed`);
    this.#session ??= QuerySession.open({ trace: this }).catch((e: unknown) => {
      this.#session = null;
      throw e;
    });
    return (await this.#session).query(sql, opts);
  }

  describe(): string {
    const mb = (this.spill.bytes / 1e6).toFixed(1);
    return `${formatStats(this.stats)}; ${this.numRows} rows in ${this.files.length} Parquet file${this.files.length === 1 ? "" : "s"} (${mb} MB) in ${this.dir}`;
  }

  toString(): string {
    return this.describe();
  }

  /** Closes DuckDB; removes the files if spill() made the directory (or was asked to with remove: true). */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    const session = this.#session;
    this.#session = null;
    if (session) (await session.catch(() => null))?.close();
    this.#removeFiles();
  }

  #removeFiles(): void {
    if (this.#remove === "dir") removeTemporary(this.dir);
    else if (this.#remove === "files") {
      for (const f of [...this.files, this.#manifest]) rmSync(f, { force: true });
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  /** Removes the files as dispose() does; a query session still opening closes when it has opened. */
  [Symbol.dispose](): void {
    if (this.#disposed) return;
    this.#disposed = true;
    void this.#session?.then((s) => s.close(), () => {});
    this.#session = null;
    this.#removeFiles();
  }
}

/**
 * A spilled trace written earlier (in this or another session), from its manifest:
 * `openSpill("/data/run1/trace.json")`, or the directory and prefix (default "trace").
 * Its files stay when it is disposed.
 */
export function openSpill(path: string, prefix = "trace"): SpilledTrace {
  if (typeof path !== "string" || path === "") throw new SpillDirError(String(path), "give the spill's directory or its manifest (<prefix>.json)");
  const manifest = path.endsWith(".json") ? path : join(path, `${prefix}.json`);
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(manifest, "utf8")) as Manifest;
  } catch (e) {
    throw new SpillDirError(dirname(manifest), `no readable spill manifest ${basename(manifest)} there (${(e as Error).message.split("\n")[0]}); spill() writes one beside its files`, { cause: e });
  }
  if (m.version !== MANIFEST_VERSION || !Array.isArray(m.files)) throw new SpillDirError(dirname(manifest), `${basename(manifest)} is not a spill manifest of version ${MANIFEST_VERSION}`);
  const dir = dirname(manifest);
  return new SpilledTrace(dir, manifest, m.files.map((f) => ({ path: join(dir, f.file), firstRow: f.firstRow, rows: f.rows, bytes: f.bytes, ms: f.ms })), m.stats, m.spill, "none");
}
