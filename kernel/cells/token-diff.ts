/*
 * Myers' O((N+M)D) longest common subsequence, for aligning a cell's tokens with its converted output's:
 * the differences (type annotations gone, `exports.` added, a few helper lines) are small next to the cell.
 */

/** For each index of `b`, the index of `a` it is matched with, or -1. Undefined when the edit distance exceeds `maxEdits`. */
export function matchSequences(a: readonly string[], b: readonly string[], maxEdits = 4000): Int32Array | undefined {
  const match = new Int32Array(b.length).fill(-1);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) {
    match[start] = start;
    start++;
  }
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
    match[endB] = endA;
  }
  const n = endA - start;
  const m = endB - start;
  if (n === 0 || m === 0) return match;
  const at = (i: number) => a[start + i];
  const bt = (j: number) => b[start + j];

  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && at(x) === bt(y)) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
    // Only diagonals -d..d matter for stepping back from d+1.
    trace.push(v.slice(offset - d, offset + d + 1));
  }
  if (!found) return undefined;

  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const prev = trace[d - 1];
    const get = (k: number) => prev[k + d - 1];
    const k = x - y;
    const prevK = k === -d || (k !== d && get(k - 1) < get(k + 1)) ? k + 1 : k - 1;
    const prevX = get(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      match[start + y] = start + x;
    }
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    match[start + y] = start + x;
  }
  return match;
}
