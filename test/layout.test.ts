/* The TypeScript mirror of bpf-lib/bpf/event.h agrees with the compiled objects (from their BTF). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BpfObject } from "../bpf-lib/src/libbpf/object.js";
import { bpfObjectPath } from "../bpf-lib/src/paths.js";
import { MAX_PREDS, PRED_SIZE, COMM_LEN, MAX_USTR } from "../bpf-lib/src/engine/layout.js";

describe("layout", () => {
  it("rodata constants have the sizes the TypeScript side writes", () => {
    const obj = BpfObject.open(bpfObjectPath("tracepoint"));
    try {
      const c = obj.constants();
      assert.equal(c.get("cfg_preds")?.size, MAX_PREDS * PRED_SIZE);
      assert.equal(c.get("cfg_comm")?.size, COMM_LEN);
      assert.equal(c.get("cfg_ustr_off")?.size, MAX_USTR * 4);
      for (const n of ["cfg_pid", "cfg_tid", "cfg_event_size", "cfg_window", "cfg_window_slot", "cfg_dyn_bytes", "cfg_npreds", "cfg_nustr", "cfg_ustr_len", "cfg_comm_len"]) {
        assert.equal(c.get(n)?.size, 4, n);
      }
      assert.equal(c.get("cfg_wakeup_bytes")?.size, 8);
      assert.throws(() => obj.setConstant("cfg_nope", 1), /has no constant "cfg_nope"; it has: .*cfg_pid/);
    } finally {
      obj.dispose();
    }
  });
});
