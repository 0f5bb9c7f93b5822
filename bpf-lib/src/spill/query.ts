/* SQL over Parquet files with DuckDB, the results as Arquero tables. Each view is a
 * name bound to files (a spilled trace's, or any Parquet files) through read_parquet;
 * DuckDB reads only the columns and row groups a query needs, so a query over 100 M
 * spilled rows never holds them in memory. DuckDB (a native module) loads on the
 * first query, and a missing package is a named error. */
import type { ColumnTable } from "arquero";
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { InvalidArgumentError, InvalidOptionError } from "../errors.js";
import { shown } from "../options/describe.js";
import { DuckDBMissingError, QueryError, trimDuckDBMessage } from "./errors.js";
import { resultTable, type ResultOptions } from "./convert.js";

type DuckDB = typeof import("@duckdb/node-api");
let duckdb: Promise<DuckDB> | null = null;

/** @duckdb/node-api, imported on first use (its native binding is 60 MB). */
export function loadDuckDB(): Promise<DuckDB> {
  duckdb ??= import("@duckdb/node-api").catch((e: unknown) => {
    duckdb = null;
    throw new DuckDBMissingError(e);
  });
  return duckdb;
}

/** What a view can be bound to: something that has Parquet files (a SpilledTrace), a list of Parquet paths, or one path (globs allowed, as read_parquet takes them). */
export type ViewSource = { readonly files: readonly string[] } | readonly string[] | string;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

function filesOf(name: string, source: ViewSource): readonly string[] {
  const files = typeof source === "string" ? [source] : Array.isArray(source) ? source : (source as { files?: unknown }).files;
  if (!Array.isArray(files) || files.some((f) => typeof f !== "string" || f === "")) {
    throw new InvalidOptionError("query()", `views.${name}`, source, "a spilled trace (what spill() returns), a Parquet file's path, or a list of paths");
  }
  return files as readonly string[];
}

/** The SQL that makes view `name` over the files (at least one: a view of no files would have no columns). */
export function viewSql(name: string, files: readonly string[]): string {
  // union_by_name: files of one trace could differ in a column's type (a plain-array column whose values changed kind)
  return `CREATE OR REPLACE VIEW "${name}" AS SELECT * FROM read_parquet([${files.map(sqlString).join(", ")}], union_by_name = true)`;
}

/** An open DuckDB (in memory) with views over Parquet files: for several queries against the same files. */
export class QuerySession implements AsyncDisposable, Disposable {
  readonly #instance: DuckDBInstance;
  readonly #conn: DuckDBConnection;
  readonly #js: DuckDB["JSDuckDBValueConverter"];
  readonly #views: string[] = [];
  #closed = false;

  private constructor(instance: DuckDBInstance, conn: DuckDBConnection, js: DuckDB["JSDuckDBValueConverter"]) {
    this.#instance = instance;
    this.#conn = conn;
    this.#js = js;
  }

  /** Opens DuckDB in memory and makes a view per entry of `views`. */
  static async open(views: Readonly<Record<string, ViewSource>>): Promise<QuerySession> {
    const bound = Object.entries(checkViews(views)).map(([name, source]) => [name, filesOf(name, source)] as const);
    const empty = bound.filter(([, files]) => files.length === 0).map(([n]) => n);
    if (empty.length) throw new InvalidArgumentError(`query(): ${empty.join(", ")} ${empty.length > 1 ? "have" : "has"} no Parquet files (a spilled trace that received no rows writes none); there is nothing to query`);
    const db = await loadDuckDB();
    const instance = await db.DuckDBInstance.create(":memory:");
    const session = new QuerySession(instance, await instance.connect(), db.JSDuckDBValueConverter);
    try {
      for (const [name, files] of bound) {
        await session.#run(viewSql(name, files));
        session.#views.push(name);
      }
    } catch (e) {
      session.close();
      throw e;
    }
    return session;
  }

  async #run(sql: string) {
    try {
      return await this.#conn.runAndReadAll(sql);
    } catch (e) {
      throw new QueryError(sql, trimDuckDBMessage(e instanceof Error ? e.message : String(e)), this.#views, { cause: e });
    }
  }

  /** Runs one SQL statement and returns its rows as an Arquero table (see convert.ts for the types). */
  async query(sql: string, opts: ResultOptions = {}): Promise<ColumnTable> {
    if (this.#closed) throw new InvalidArgumentError("query(): this query session was closed");
    if (typeof sql !== "string" || sql.trim() === "") throw new InvalidOptionError("query()", "sql", sql, 'an SQL statement, e.g. "SELECT comm, count(*) FROM trace GROUP BY 1"');
    resultOptions(opts);
    return resultTable(await this.#run(sql), this.#js, opts);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.closeSync();
    this.#instance.closeSync();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

function checkViews(views: unknown): Readonly<Record<string, ViewSource>> {
  if (typeof views !== "object" || views === null || Array.isArray(views) || Object.keys(views).length === 0) {
    throw new InvalidOptionError("query()", "views", views, "an object naming each view, e.g. { trace: spilled } or { opens: \"opens.parquet\" }");
  }
  for (const name of Object.keys(views)) {
    if (!IDENT.test(name)) throw new InvalidOptionError("query()", "views", name, `view names that are SQL identifiers (letters, digits, _; not starting with a digit); got ${shown(name)}`);
  }
  return views as Readonly<Record<string, ViewSource>>;
}

function resultOptions(opts: unknown): void {
  if (typeof opts !== "object" || opts === null) throw new InvalidOptionError("query()", "options", opts, '{ bigint: true } or { timestamps: "epoch" }');
  const o = opts as ResultOptions;
  if (o.bigint !== undefined && typeof o.bigint !== "boolean") throw new InvalidOptionError("query()", "bigint", o.bigint, "true or false");
  if (o.timestamps !== undefined && o.timestamps !== "date" && o.timestamps !== "epoch") throw new InvalidOptionError("query()", "timestamps", o.timestamps, '"date" or "epoch"');
}

/**
 * Runs SQL over Parquet files with DuckDB: each key of `views` is a view name, bound to
 * a spilled trace or to Parquet paths. Returns an Arquero table.
 *
 *   await query("SELECT comm, count(*) AS n FROM trace GROUP BY 1 ORDER BY n DESC", { trace: spilled })
 *
 * Opens DuckDB in memory for this one query; use QuerySession.open() for many.
 */
export async function query(sql: string, views: Readonly<Record<string, ViewSource>>, opts: ResultOptions = {}): Promise<ColumnTable> {
  const session = await QuerySession.open(views);
  try {
    return await session.query(sql, opts);
  } finally {
    session.close();
  }
}
