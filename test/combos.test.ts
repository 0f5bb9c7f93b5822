/* The combination helper's own logic (test/helpers/combos.ts), pure: the all-pairs rows
 * hold every pair of levels, and a limit keeps every single level while it can (the VM
 * run loads 20 rows per kind instead of ~100). No kernel involved. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { allPairs, coverage, limitRows, limitedRows, product, KINDS, type Factor } from "./helpers/combos.js";

const F: Factor[] = [
  { name: "a", levels: ["0", "1", "2", "3", "4", "5"] },
  { name: "b", levels: ["x", "y"] },
  { name: "c", levels: ["p", "q", "r"] },
];

describe("combos: all pairs and limits", () => {
  it("allPairs covers every pair of levels of every two factors", () => {
    const rows = allPairs(F);
    const c = coverage(F, rows);
    assert.equal(c.ofPairs, 6 * 2 + 6 * 3 + 2 * 3);
    assert.deepEqual({ pairs: c.pairs, levels: c.levels, missing: c.missing }, { pairs: c.ofPairs, levels: 11, missing: [] });
    assert.ok(rows.length >= 18, "at least |a| x |c| rows");
  });

  it("a limit as large as the biggest factor keeps every level; a smaller one says which it left out", () => {
    const all = allPairs(F);
    const six = limitRows(F, all, 6);
    assert.equal(six.length, 6);
    assert.deepEqual(coverage(F, six).missing, []);
    for (const r of six) assert.ok(all.includes(r), "limited rows are rows of the all-pairs set");
    const three = limitRows(F, all, 3);
    assert.equal(three.length, 3);
    assert.equal(coverage(F, three).missing.length, 3, "three levels of a cannot fit in three rows");
    assert.deepEqual(limitRows(F, all, 1000), all);
    assert.deepEqual(limitRows(F, all, 0), []);
    assert.throws(() => limitRows(F, all, 2.5), RangeError);
  });

  it("every program kind's VM subset (20 rows, or its slowLimit) holds every level of every factor", () => {
    for (const [kind, k] of Object.entries(KINDS)) {
      const c = coverage(k.factors, limitRows(k.factors, k.full ? product(k.factors) : allPairs(k.factors), limitedRows(kind, 20)));
      assert.deepEqual(c.missing, [], kind);
      const biggest = Math.max(...k.factors.map((f) => f.levels.length));
      assert.ok(biggest <= 20, `${kind}: a factor has ${biggest} levels`);
    }
  });
});
