/* Verifier acceptance on this kernel: every program kind loads (not attaches) in
 * combinations of the feature levels that change its verified paths (test/helpers/combos.ts):
 * tracepoint streams and aggregations, uprobes, kprobes, profile() and offcpu(), sample({ read })
 * and XDP's aggregations and samples. fentry needs a kernel that allows tracing programs: that
 * kind runs in the VM (test/vm/reads.test.ts), with the others again, proving 6.1 accepts them too.
 *
 * Why pairs, not every combination: the options reach the verifier as frozen .rodata, so it
 * follows only the branches a configuration takes, and what one option leaves in registers and
 * on the stack (a window offset, a key size, a string slot) is what the next option's code is
 * verified against. A refusal comes from two options meeting (a key's size against the value's
 * offset, a filter's slot against a derived field's); a covering array loads every pair of
 * levels of any two options together at least once (a refusal that needs three options at
 * once would be missed; none has been seen). The full products are 1,728 (tracepoint streams)
 * to 82,944 (kprobes) loads per kind, at 0.39-0.46 s a load measured on this shared machine
 * (libbpf parses the kernel's BTF for every object; docs/vm.md has the table): hours, where
 * the pairs take 20-100 loads per kind. Kinds whose full product is small are loaded whole (`full` in
 * combos.ts: profile 16, offcpu 64); sample (504) and XDP aggregation (240) and sample (40)
 * would cost 20-230 s more each, so they are covered in pairs too. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KINDS, loadCombos, productSize } from "./helpers/combos.js";

describe("every combination the API allows loads", () => {
  for (const [kind, k] of Object.entries(KINDS)) {
    if (k.vmOnly) continue;
    const factors = k.factors.map((f) => `${f.name}(${f.levels.length})`).join(" × ");
    it(`${kind}: ${k.full ? `all ${productSize(k.factors)} combinations of` : "all pairs of"} ${factors}`, () => {
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
