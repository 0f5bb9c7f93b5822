/* Top-N keys plus one "other" for the rest: a legend or axis with hundreds of entries
 * hides the few that matter. */
import { InvalidArgumentError } from "../errors.js";

/** "other" is drawn grey so it does not read as one more key. */
export const OTHER_COLOR = "#9e9e9e";

export function otherLabel(merged: number): string {
  return `other (${merged})`;
}

export interface Ranked {
  /** The kept keys, largest total first (ties by name, so charts are stable). */
  top: string[];
  /** The keys merged into "other"; empty when everything fits. */
  rest: string[];
}

export function checkTop(top: number, chart: string): number {
  if (!Number.isInteger(top) || top < 1) throw new InvalidArgumentError(`plot.${chart}: top must be a positive integer, not ${top}`);
  return top;
}

export function rankKeys(totals: ReadonlyMap<string, number>, top: number): Ranked {
  const keys = [...totals.keys()].sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
  return { top: keys.slice(0, top), rest: keys.slice(top) };
}

export function sumOf(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
