/* Time columns: Dates or epoch milliseconds become a date axis in local time (what the
 * user's clock said); other numbers are seconds from the start, or interval numbers. */
import type { ColumnTable } from "arquero";
import { toNumber, values } from "./columns.js";

/** Epoch milliseconds between 1973 and 2100; seconds from a trace's start stay far below. */
const EPOCH_MS_MIN = 1e11;
const EPOCH_MS_MAX = 4.1e12;
/** A regular time axis is filled in only up to this many points. */
const MAX_GRID = 20_000;

export interface TimeColumn {
  /** One number per row: epoch ms for dates, else the cell's number (NaN if none). */
  keys: number[];
  dates: boolean;
  /** Every value is an integer (interval numbers, whole seconds). */
  integers: boolean;
}

export function readTimes(table: ColumnTable, name: string, chart: string): TimeColumn {
  const cells = values(table, name, chart);
  const keys = cells.map(toNumber);
  let dates = cells.some((v) => v instanceof Date);
  let integers = true;
  let min = Infinity;
  let max = -Infinity;
  for (const k of keys) {
    if (!Number.isFinite(k)) continue;
    if (!Number.isInteger(k)) integers = false;
    if (k < min) min = k;
    if (k > max) max = k;
  }
  if (!dates && min >= EPOCH_MS_MIN && max < EPOCH_MS_MAX) dates = true;
  return { keys, dates, integers };
}

export interface Grid {
  values: number[];
  /** Position of a value on the grid. */
  slot(v: number): number;
}

/**
 * Sorted distinct times, with the missing steps of a regular series put back: a second
 * with no rows is a zero, and a line drawn straight across it would hide that.
 */
export function timeGrid(keys: readonly number[]): Grid {
  const sorted = [...new Set(keys.filter(Number.isFinite))].sort((a, b) => a - b);
  const lookup = (): Grid => {
    const at = new Map(sorted.map((v, i) => [v, i]));
    return { values: sorted, slot: (v) => at.get(v) ?? -1 };
  };
  if (sorted.length < 3) return lookup();
  let step = Infinity;
  for (let i = 1; i < sorted.length; i++) step = Math.min(step, sorted[i] - sorted[i - 1]);
  const first = sorted[0];
  const count = Math.round((sorted[sorted.length - 1] - first) / step) + 1;
  if (count > MAX_GRID || count === sorted.length) return lookup();
  const onGrid = sorted.every((v) => Math.abs((v - first) / step - Math.round((v - first) / step)) < 1e-6);
  if (!onGrid) return lookup();
  const values = Array.from({ length: count }, (_, i) => Number((first + i * step).toPrecision(15)));
  return { values, slot: (v) => Math.round((v - first) / step) };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** Local wall-clock time in the form Plotly reads as a date without shifting it to UTC. */
export function localDateString(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function axisValues(keys: readonly number[], dates: boolean): (number | string)[] {
  return dates ? keys.map(localDateString) : [...keys];
}

/** "time" for a date axis (its ticks carry the clock), "interval" for interval numbers, else "<name> (s)". */
export function timeTitle(name: string, t: TimeColumn): string {
  if (t.dates) return "time";
  if (t.integers && name !== "time") return name;
  return `${name} (s)`;
}

/** One time value for hover text: "2024-05-01 12:00:01.000", "interval 3", "time 1.5 s". */
export function timeText(name: string, t: TimeColumn, v: number): string {
  if (t.dates) return localDateString(v);
  if (t.integers && name !== "time") return `${name} ${v}`;
  return `${name} ${v} s`;
}
