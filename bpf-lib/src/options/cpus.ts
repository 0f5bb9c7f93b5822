/* CPU lists (profile's `cpus`): distinct online CPUs, so a typo is an error rather
 * than a perf_event_open failure (or a profile of fewer CPUs than asked). */
import { InvalidOptionError } from "../errors.js";

export function cpuList(v: unknown, online: readonly number[], what: string): readonly number[] | undefined {
  if (v === undefined) return undefined;
  const expected = `a non-empty array of distinct online CPU numbers (online: ${online.join(", ")})`;
  if (!Array.isArray(v) || v.length === 0) throw new InvalidOptionError(what, "cpus", v, expected);
  const seen = new Set<number>();
  for (const c of v) {
    if (typeof c !== "number" || !online.includes(c) || seen.has(c)) throw new InvalidOptionError(what, "cpus", v, expected);
    seen.add(c);
  }
  return v as number[];
}
