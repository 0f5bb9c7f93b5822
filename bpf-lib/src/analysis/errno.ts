/* Syscall return values as errno names. */
import type { ColumnTable } from "arquero";
import { errnoName } from "../errors.js";

/** Adds an `errno` column: the name of a negative return value (-2 → "ENOENT"), "" otherwise. */
export function withErrno<T extends ColumnTable>(table: T, column = "ret"): ColumnTable {
  const ret = Array.from(table.array(column) as ArrayLike<number>);
  const names = ret.map((r) => (r < 0 && r > -4096 ? errnoName(-r) : ""));
  const out = table.assign({ errno: names });
  const stats = (table as unknown as { stats?: unknown }).stats;
  if (stats !== undefined) Object.defineProperty(out, "stats", { value: stats, enumerable: false });
  return out;
}
