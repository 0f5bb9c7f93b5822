/*
 * Which candidates a typed prefix keeps, and in what order: names starting with it (case as typed) first,
 * then starting with it in any case, then containing it anywhere, as tslab ranked identifiers. Lists can be
 * long (56k kernel functions), so only the first `limit` are kept and the rest only counted.
 */

export interface Ranked {
  matches: string[];
  /** How many candidates matched, `matches` included. */
  total: number;
}

/** The default cap on what a completion reply carries. */
export const MAX_MATCHES = 200;

/** Lower-cased copies of the long lists the domains keep (the same arrays each time), made once. */
const lowered = new WeakMap<readonly string[], readonly string[]>();

function lowerCased(list: readonly string[]): readonly string[] {
  let l = lowered.get(list);
  if (!l) lowered.set(list, (l = list.map((c) => c.toLowerCase())));
  return l;
}

/** Candidates matching `prefix`, best first; within a class, in the order given. Duplicates are dropped. */
export function rank(candidates: readonly string[], prefix: string, limit = MAX_MATCHES): Ranked {
  const lower = prefix.toLowerCase();
  const lows = candidates.length > 1000 ? lowerCased(candidates) : candidates.map((c) => c.toLowerCase());
  const classes: string[][] = [[], [], []];
  const seen = new Set<string>();
  let total = 0;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    const l = lows[i]!;
    // cheapest test first: most of a long list matches nothing
    if (!l.includes(lower)) continue;
    if (seen.has(c)) continue;
    seen.add(c);
    const k = c.startsWith(prefix) ? 0 : l.startsWith(lower) ? 1 : 2;
    total++;
    // a class beyond the limit is never read: count it, do not keep it
    if (classes[k]!.length < limit) classes[k]!.push(c);
  }
  return { matches: classes.flat().slice(0, limit), total };
}
