/* Verifier acceptance on this kernel: every program kind loads (not attaches) in all
 * pairs of the feature levels that change its verified paths (test/helpers/combos.ts).
 * fentry needs a kernel that allows tracing programs: that kind runs in the VM
 * (test/vm/reads.test.ts), with the others again, proving 6.1 accepts them too. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KINDS, loadCombos } from "./helpers/combos.js";

describe("every combination the API allows loads", () => {
  for (const [kind, k] of Object.entries(KINDS)) {
    if (k.vmOnly) continue;
    it(`${kind}: all pairs of ${k.factors.map((f) => `${f.name}(${f.levels.length})`).join(" × ")}`, () => {
      const r = loadCombos(kind);
      console.log(`# ${kind}: ${r.count} combinations (${r.programs} programs) loaded in ${r.ms} ms, ${r.failures.length} refused`);
      assert.deepEqual(r.failures.slice(0, 5), [], `${r.failures.length} of ${r.count} refused`);
      assert.ok(r.programs >= r.count, "every combination loaded at least one program");
    });
  }

  it("fentry is refused here (the control: loads really reach the verifier), or loads where the kernel allows it", () => {
    const r = loadCombos("fentry", { limit: 3 });
    console.log(`# fentry: ${r.count} combinations, ${r.failures.length} refused on this kernel${r.failures[0] ? ` (${r.failures[0].error.slice(0, 120)})` : ""}`);
    assert.ok(r.failures.length === 0 || r.failures.length === r.count, "all or nothing: the kernel refuses the program kind, not a combination");
  });
});
