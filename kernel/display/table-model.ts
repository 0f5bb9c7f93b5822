/* What both table renderings need from an Arquero table (or anything shaped like one):
 * counts, column names and kinds, the first rows as text, and the run's stats. */
import * as aq from "arquero";
import { formatCell, formatCount, plural } from "./format.js";
import { tableStats, type StatsLike } from "./table-stats.js";
import { durationUnit, formatDurationIn } from "./table-units.js";
import type { DurationUnit } from "../../bpf-lib/src/plot/units.js";

/** The part of Arquero's ColumnTable we rely on; duck-typed so other copies of Arquero work too. */
export interface TableLike {
  numRows(): number;
  numCols(): number;
  columnNames(): string[];
  column(name: string): unknown;
}

export type ColumnKind = "number" | "string" | "bigint" | "date" | "boolean" | "object" | "dict" | "mixed" | "empty";

export interface TableCell {
  text: string | null;
  /** A number or bigint: right-aligned, whatever the column's kind says (a kind is named from a sample). */
  numeric: boolean;
  /** The exact value with its unit, when `text` is a duration rounded for reading ("4037269000 ns"). */
  exact?: string;
}

export interface TableModel {
  rows: number;
  cols: number;
  names: string[];
  kinds: ColumnKind[];
  /** Each column's duration unit (values shown as "4.04 s"), or undefined. */
  units: (DurationUnit | undefined)[];
  /** The first `shown` rows, row-major. */
  cells: TableCell[][];
  shown: number;
  /** "1,234 rows × 5 columns · showing first 20" */
  header: string;
  stats?: StatsLike;
  groupedBy?: string[];
}

export function numericKind(kind: ColumnKind): boolean {
  return kind === "number" || kind === "bigint";
}

/** Numbers right, everything else left, by the value itself: a kind is named from a sample of the column. */
export function rightAligned(kind: ColumnKind, cell: TableCell): boolean {
  return cell.numeric || (cell.text === null && numericKind(kind));
}

/** The type line under a column name: its kind, and the unit of a duration column's values. */
export function kindLabel(kind: ColumnKind, unit: string | undefined): string {
  return unit ? `${kind} (${unit})` : kind;
}

export function isTableLike(v: unknown): v is TableLike {
  if (v instanceof aq.ColumnTable) return true;
  if (typeof v !== "object" || v === null) return false;
  const t = v as Record<string, unknown>;
  return ["numRows", "numCols", "columnNames", "column"].every((m) => typeof t[m] === "function");
}

/**
 * Dictionary-encoded strings: bpf-lib's DictColumn (codes + dict + at) or Arquero's
 * wrapper around an Arrow dictionary vector (key/keyFor/groups), as after loadTrace().
 */
export function isDictColumn(col: unknown): boolean {
  if (typeof col !== "object" || col === null) return false;
  const c = col as Record<string, unknown>;
  if (typeof c.at !== "function") return false;
  if ("codes" in c && "dict" in c) return true;
  return typeof c.key === "function" && typeof c.keyFor === "function" && typeof c.groups === "function";
}

/** How many non-null values to look at before naming a column's kind. */
const KIND_SAMPLE = 100;
/** How far to scan for them, so a mostly-null million-row column stays cheap. */
const KIND_SCAN = 10_000;

export function columnKind(col: unknown): ColumnKind {
  if (isDictColumn(col)) return "dict";
  if (col instanceof BigInt64Array || col instanceof BigUint64Array) return "bigint";
  if (ArrayBuffer.isView(col) && !(col instanceof DataView)) return "number";
  const at = columnAccessor(col);
  if (!at) return "object";
  const length = Math.min(columnLength(col), KIND_SCAN);
  let kind: ColumnKind | undefined;
  let seen = 0;
  for (let i = 0; i < length && seen < KIND_SAMPLE; i++) {
    const v = at(i);
    if (v === null || v === undefined) continue;
    seen++;
    const k = valueKind(v);
    if (kind === undefined) kind = k;
    else if (kind !== k) return "mixed";
  }
  return kind ?? "empty";
}

function valueKind(v: unknown): ColumnKind {
  switch (typeof v) {
    case "number":
      return "number";
    case "string":
      return "string";
    case "bigint":
      return "bigint";
    case "boolean":
      return "boolean";
    default:
      return v instanceof Date ? "date" : "object";
  }
}

function columnLength(col: unknown): number {
  const n = (col as { length?: unknown }).length;
  return typeof n === "number" ? n : 0;
}

function columnAccessor(col: unknown): ((row: number) => unknown) | undefined {
  if (typeof col !== "object" || col === null) return undefined;
  const c = col as { at?: unknown };
  if (typeof c.at === "function") return (row) => (c.at as (i: number) => unknown).call(col, row);
  if ("length" in col) return (row) => (col as ArrayLike<unknown>)[row];
  return undefined;
}

/** Row accessor in table order: Arquero's getter honours filters and orderby; plain columns don't need it. */
function rowAccessor(table: TableLike, name: string): (row: number) => unknown {
  const getter = (table as { getter?: unknown }).getter;
  if (typeof getter === "function") return getter.call(table, name) as (row: number) => unknown;
  return columnAccessor(table.column(name)) ?? (() => undefined);
}

function groupNames(table: TableLike): string[] | undefined {
  const t = table as { isGrouped?: unknown; groups?: unknown };
  if (typeof t.isGrouped !== "function" || !t.isGrouped.call(table) || typeof t.groups !== "function") return undefined;
  const g = t.groups.call(table) as { names?: unknown } | null;
  return Array.isArray(g?.names) ? g.names.map(String) : undefined;
}

export function tableModel(table: TableLike, limit: number, maxCellChars: number): TableModel {
  const rows = table.numRows();
  const names = table.columnNames();
  const cols = names.length;
  const kinds = names.map((n) => columnKind(table.column(n)));
  const stats = tableStats(table);
  const tableUnit = stats?.kind === "aggregation" ? stats.unit : undefined;
  const units = names.map((n, c) => (kinds[c] === "number" || kinds[c] === "bigint" || kinds[c] === "mixed" ? durationUnit(n, tableUnit) : undefined));
  const shown = Math.max(0, Math.min(rows, Math.floor(limit)));
  const cells: TableCell[][] = Array.from({ length: shown }, () => new Array<TableCell>(cols));
  names.forEach((name, c) => {
    const get = rowAccessor(table, name);
    const unit = units[c];
    for (let r = 0; r < shown; r++) {
      const v = get(r);
      const numeric = typeof v === "number" || typeof v === "bigint";
      cells[r][c] = unit && numeric
        ? { text: formatDurationIn(v, unit), numeric, exact: `${formatCell(v, maxCellChars)} ${unit}` }
        : { text: formatCell(v, maxCellChars), numeric };
    }
  });
  const groupedBy = groupNames(table);
  let header = `${plural(rows, "row")} × ${plural(cols, "column")}`;
  if (groupedBy?.length) header += ` · grouped by ${groupedBy.join(", ")}`;
  if (shown < rows) header += ` · showing first ${formatCount(shown)}`;
  return { rows, cols, names, kinds, units, cells, shown, header, stats, groupedBy };
}
