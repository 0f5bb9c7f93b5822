/* Values that are durations: shown in the unit that suits their size, with the axis
 * title saying which. */
import { UNIT_NS, normalizeUnit, pickUnit, type DurationUnit, type InputUnit } from "./units.js";

export interface ValueScale {
  /** A value in `shown` units. */
  apply(v: number): number;
  /** The unit values are drawn in, or undefined for plain numbers. */
  shown?: DurationUnit;
  /** The unit values arrive in. */
  given?: DurationUnit;
}

export function valueScale(unit: InputUnit | undefined, maxAbs: number, chart: string): ValueScale {
  if (unit === undefined) return { apply: (v) => v };
  const given = normalizeUnit(unit, chart);
  const shown = pickUnit(maxAbs * UNIT_NS[given]);
  const [mul, div] = [UNIT_NS[given], UNIT_NS[shown]];
  // Multiply then divide by whole powers of ten: 800000 ns is 0.8 ms, not 0.7999999999999999.
  return { apply: (v) => (v * mul) / div, shown, given };
}

export function scaledTitle(name: string, s: ValueScale): string {
  return s.shown ? `${name} (${s.shown})` : name;
}

export function maxAbs(xs: Iterable<number>): number {
  let m = 0;
  for (const x of xs) if (Math.abs(x) > m) m = Math.abs(x);
  return m;
}
