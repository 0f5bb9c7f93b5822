/* Time columns: Dates or epoch milliseconds become a date axis in local time (what the
 * user's clock said); other numbers are seconds from the start, or interval numbers. */
import type { ColumnTable } from "arquero";
import { hasColumn, toNumber, values } from "./columns.js";

/** Epoch milliseconds between 1973 and 2100; seconds from a trace's start stay far below. */
const EPOCH_MS_MIN = 1e11;
const EPOCH_MS_MAX = 4.1e12;
/** A regular time axis is filled in only up to this many points. */
const MAX_GRID = 20_000;
/** How far (a share of the step) a time may sit from its slot on a regular axis. */
const GRID_JITTER = 0.05;

/**
 * The time column a chart uses when none is named: "time" (seconds since the start, as
 * `collect({ interval })` writes beside each row's interval number, or a wall clock),
 * else "interval" (the number alone, when a table has nothing better).
 */
export function defaultTimeColumn(table: ColumnTable): string {
  return hasColumn(table, "time") || !hasColumn(table, "interval") ? "time" : "interval";
}

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
  // The typical step (the median gap: the smallest could be a late time then a punctual
  // one), then the step that spans first to last exactly, so slots do not drift.
  const gaps = sorted.slice(1).map((v, i) => v - sorted[i]).sort((a, b) => a - b);
  const first = sorted[0];
  const span = sorted[sorted.length - 1] - first;
  const count = Math.round(span / gaps[(gaps.length - 1) >> 1]) + 1;
  if (!(count <= MAX_GRID) || count <= sorted.length) return lookup();
  const step = span / (count - 1);
  // Interval times are taken when each interval's flip ran: a millisecond late, never exact.
  const slotOf = (v: number) => Math.round((v - first) / step);
  const onGrid = sorted.every((v) => Math.abs((v - first) / step - slotOf(v)) < GRID_JITTER);
  if (!onGrid || new Set(sorted.map(slotOf)).size !== sorted.length) return lookup();
  const values = Array.from({ length: count }, (_, i) => Number((first + i * step).toPrecision(15)));
  for (const v of sorted) values[slotOf(v)] = v; // the times as they were; the missing ones from the step
  return { values, slot: (v) => slotOf(v) };
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
  return `${name} ${Number(v.toFixed(3))} s`;
}
