/* Small pieces the tools share: a `by` option checked against its choices, and a
 * table's columns in the order the tool's ToolInfo lists them. */
import type { ColumnTable } from "arquero";
import { InvalidArgumentError } from "../errors.js";
import type { ToolInfo } from "./tool-info.js";

/** The value of a string option with a fixed set of choices (the default when left out). */
export function choice<C extends string>(info: ToolInfo, option: string, given: unknown, choices: readonly C[], fallback: C): C {
  if (given === undefined) return fallback;
  if (typeof given !== "string" || !(choices as readonly string[]).includes(given)) {
    throw new InvalidArgumentError(`tools.${info.name}(): ${option} must be ${choices.map((c) => JSON.stringify(c)).join(", ")}; got ${JSON.stringify(given)}`);
  }
  return given as C;
}

/** The table's columns that the tool documents, in the documented order (keys absent under another `by` are skipped). */
export function toolColumns(t: ColumnTable, info: ToolInfo): ColumnTable {
  const have = new Set(t.columnNames());
  return t.select(...info.columns.filter((c) => have.has(c)));
}
