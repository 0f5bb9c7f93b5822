/* The errors of the spill path: a directory the files cannot go to, a query DuckDB
 * refused, and DuckDB not installed. Each says what would work. */
import { BpfbookError } from "../errors.js";

/** The spill directory cannot take the files: missing, not a directory, not writable, or already holding files of that prefix. `.dir` is the path. */
export class SpillDirError extends BpfbookError {
  readonly dir: string;
  constructor(dir: string, reason: string, opts: { cause?: unknown } = {}) {
    super("ESPILLDIR", `spill(): cannot spill into ${JSON.stringify(dir)}: ${reason}`, opts);
    this.dir = dir;
  }
}

/**
 * DuckDB refused a query (a syntax error, an unknown column or view, a type error).
 * `.sql` is the query; `.reason` is DuckDB's own message, trimmed (trimDuckDBMessage).
 */
export class QueryError extends BpfbookError {
  readonly sql: string;
  readonly reason: string;
  constructor(sql: string, reason: string, views: readonly string[], opts: { cause?: unknown } = {}) {
    const known = views.length ? ` (views: ${views.join(", ")})` : "";
    super("EQUERY", `query(): DuckDB refused the query${known}: ${reason}`, opts);
    this.sql = sql;
    this.reason = reason;
  }
}

/** The DuckDB package (@duckdb/node-api) is not installed or its native binding does not load. */
export class DuckDBMissingError extends BpfbookError {
  constructor(cause: unknown) {
    const why = cause instanceof Error ? cause.message.split("\n")[0] : String(cause);
    super("ENODUCKDB", `query(): DuckDB (@duckdb/node-api) could not be loaded (${why}); install it with \`npm install @duckdb/node-api\` (bpfbook's install.sh does), or read the Parquet files with readParquet()`, { cause });
  }
}

/** DuckDB's message, trimmed: blank lines dropped, at most four lines: the error kind and message, a hint ("Did you mean ..."), the "LINE n:" excerpt and the caret under the fault. */
export function trimDuckDBMessage(message: string): string {
  const lines = message.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
  return lines.slice(0, 4).join("\n");
}
