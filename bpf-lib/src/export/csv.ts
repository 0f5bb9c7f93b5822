/* writeCsv: any table as CSV (Arquero's toCSV), with the values CSV has no type for
 * written so that they read back: string lists as JSON arrays, byte buffers as hex,
 * times as full ISO-8601 UTC, bigints as exact decimals. */
import type { ColumnTable } from "arquero";
import * as aq from "arquero";
import { InvalidOptionError } from "../errors.js";
import { optionsObject } from "../options/shapes.js";
import { hex, tableArgument } from "./columns.js";
import { writePrivate, type WriteOptions } from "../engine/write-private.js";

export interface CsvOptions extends WriteOptions {
  /** The field separator (default ","; "\t" for TSV). */
  delimiter?: string;
}

const WHAT = "writeCsv()";

/** How a cell that is not a plain number or string is written. */
function cell(v: unknown): unknown {
  if (Array.isArray(v)) return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x instanceof Uint8Array ? hex(x) : x));
  if (v instanceof Uint8Array) return hex(v);
  if (v instanceof Date) return v.toISOString();
  return v;
}

/** The table as CSV text (a header, then one line per row); see writeCsv(). */
export function csvText(table: ColumnTable, options: CsvOptions = {}): string {
  const t = tableArgument(table, "csvText()");
  const opts = optionsObject(options, "csvText()", '{ delimiter: "\\t" }');
  if (opts.delimiter !== undefined && (typeof opts.delimiter !== "string" || opts.delimiter.length !== 1 || /["\r\n]/.test(opts.delimiter))) {
    throw new InvalidOptionError("csvText()", "delimiter", opts.delimiter, 'one character other than a quote or a line break, e.g. "," or "\\t"');
  }
  // typed columns hold numbers (or bigints, which print exactly): only the others need a look
  const format: Record<string, (v: unknown) => unknown> = {};
  for (const c of t.columnNames()) {
    const col: unknown = t.column(c);
    if (!(ArrayBuffer.isView(col) && !(col instanceof DataView))) format[c] = cell;
  }
  return aq.toCSV(t, { format, ...(opts.delimiter !== undefined ? { delimiter: opts.delimiter } : {}) });
}

/**
 * Writes the table as CSV (owner-only, mode 0600, unless `mode` says otherwise):
 * string lists as JSON arrays, byte buffers as hex, Dates as ISO-8601 UTC, bigints as
 * exact decimals. CSV carries no types and no stats: writeParquet() keeps both.
 * Returns the text written.
 */
export function writeCsv(table: ColumnTable, path: string, options: CsvOptions = {}): string {
  if (typeof path !== "string" || path === "") throw new InvalidOptionError(WHAT, "path", path, 'a file name, e.g. "opens.csv"');
  const text = csvText(table, options);
  writePrivate(path, text, options);
  return text;
}
