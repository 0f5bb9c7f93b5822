/* "Did you mean" ranking for tracepoint and field names. A typo in the event
 * name should beat a correct name in another group, and a fragment such as
 * "openat" should find every event that contains it. */

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("oepn"). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev2 = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[b.length]!;
}

function split(name: string): [group: string | undefined, event: string] {
  const at = name.search(/[:/]/);
  return at < 0 ? [undefined, name] : [name.slice(0, at), name.slice(at + 1)];
}

function score(query: string, candidate: string): number {
  const [qg, qn] = split(query.toLowerCase());
  const [cg, cn] = split(candidate.toLowerCase());
  let d = editDistance(qn, cn);
  // A fragment costs about one edit, longer containers a little more, so exact-ish typos still win.
  if (qn.length >= 3 && cn.includes(qn)) d = Math.min(d, 1 + (cn.length - qn.length) / (cn.length + 1));
  if (qg !== undefined && cg !== undefined && qg !== cg) d += Math.min(editDistance(qg, cg), 2) + 0.5;
  return d;
}

/** Up to `n` candidates close to `name`, best first. Names are `group:event` (or plain field names). */
export function nearest(name: string, candidates: Iterable<string>, n = 5): string[] {
  const [group, event] = split(name);
  // Beyond ~40% of the name edited, plus room for a wrong group, a suggestion is noise.
  const limit = Math.max(2, Math.ceil(event.length * 0.4)) + (group === undefined ? 0 : 2.5);
  const scored: Array<[string, number]> = [];
  for (const c of candidates) {
    const d = score(name, c);
    if (d <= limit) scored.push([c, d]);
  }
  scored.sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return scored.slice(0, n).map(([c]) => c);
}
