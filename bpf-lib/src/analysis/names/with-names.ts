/* withNames(table, "group:name", fields?): name columns next to the number columns
 * of a tracepoint's table (`newstate` → `newstate_name`), like withErrno. */
import type { ColumnTable } from "arquero";
import { InvalidArgumentError } from "../../errors.js";
import { readFormat, fieldOf, nearest } from "../../tracefs/catalog.js";
import { fieldNames, namedFields, type FieldValue } from "./names.js";

// probes/tracepoint.ts puts a field named like a standard column in `args_<name>`.
const STANDARD = new Set(["ts", "cpu", "pid", "tid", "comm"]);
const columnOf = (field: string) => (STANDARD.has(field) ? `args_${field}` : field);

/**
 * Adds `<column>_name` for each field (default: every column of the table that is a
 * field of `source` with names), keeping the numbers. Values without a name (a
 * syscall's success) and missing values are null. The table's `stats` carry over.
 */
export function withNames<T extends ColumnTable>(table: T, source: string, fields?: readonly string[]): ColumnTable {
  if (table === null || typeof table !== "object" || typeof (table as { array?: unknown }).array !== "function") {
    throw new InvalidArgumentError("withNames: the first argument must be an Arquero table (a trace's table() or an aggregation's)");
  }
  if (fields !== undefined && (!Array.isArray(fields) || !fields.every((f) => typeof f === "string"))) {
    throw new InvalidArgumentError(`withNames: fields must be an array of field names; got ${JSON.stringify(fields) ?? String(fields)}`);
  }
  const format = readFormat(source);
  const columns = table.columnNames();
  const chosen = fields ?? namedFields(source).map((n) => n.field).filter((f) => columns.includes(columnOf(f)));
  const assigned: Record<string, Array<string | null>> = {};
  for (const field of chosen) {
    fieldOf(format, field); // UnknownFieldError with the tracepoint's fields
    const column = columnOf(field);
    if (!columns.includes(column)) {
      const near = nearest(column, columns, 3);
      throw new InvalidArgumentError(`withNames: the table has no column "${column}" for field ${field}; its columns: ${columns.join(", ")}${near.length ? ` (nearest: ${near.join(", ")})` : ""}`);
    }
    const decode = fieldNames(source, field);
    if (!decode) {
      const named = namedFields(source).map((n) => n.field);
      throw new InvalidArgumentError(`withNames: ${source} field ${field} has no names (its print fmt has no table for it, its type is not an enum, it is not an address); fields with names: ${named.length ? named.join(", ") : "none"}`);
    }
    const values = table.array(column) as ArrayLike<FieldValue | null | undefined>;
    const names = new Array<string | null>(values.length);
    for (let i = 0; i < values.length; i++) names[i] = decode(values[i]);
    assigned[`${column}_name`] = names;
  }
  if (Object.keys(assigned).length === 0) return table;
  const out = table.assign(assigned);
  const stats = (table as unknown as { stats?: unknown }).stats;
  if (stats !== undefined) Object.defineProperty(out, "stats", { value: stats, enumerable: false });
  return out;
}
