/* When a kernel function probe's reads happen, as planned on this host (the kernel side,
 * reads at entry carried to kretprobe/fexit rows, runs in the VM: test/vm/reads.test.ts,
 * "entry reads"): reads through an argument at the entry by default, `at: "return"`,
 * reads from `ret` and `current` at the return, and the errors for an `at` that cannot be. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../bpf-lib/src/index.js";
import { kprobe, kretprobe } from "../bpf-lib/src/probes/fentry/index.js";

describe("kernel function reads: at the entry or at the return", () => {
  it("a kretprobe reads through its arguments at the entry, unless at: \"return\"; ret and current at the return", () => {
    const p = kretprobe("do_sys_openat2", {
      args: [],
      read: {
        fname: { from: "filename", string: 64 },
        again: { from: "filename", string: 64, at: "return" },
        pcomm: "current.real_parent.comm",
        flags: "how->flags",
        ppid: { from: "current", path: "real_parent.tgid", at: "entry" },
      },
    });
    assert.deepEqual(p.plan().readsAtEntry, ["fname", "flags", "ppid"]);
    assert.deepEqual(p.plan().columns.map((c) => c.column), ["ret"]);
  });

  it("an entry probe reads everything at its entry", () => {
    assert.deepEqual(kprobe("do_sys_openat2", { read: { fname: { from: "filename", string: 64 }, pcomm: "current.real_parent.comm" } }).plan().readsAtEntry, ["fname", "pcomm"]);
  });

  it("an `at` that cannot be is refused by name", () => {
    assert.throws(() => kretprobe("getname_flags", { read: { s: { from: "ret", path: "name", at: "entry" } } }), (e: unknown) => e instanceof InvalidArgumentError && /read "s" uses the return value.*at: "return"/.test((e as Error).message));
    assert.throws(() => kprobe("do_sys_openat2", { read: { s: { from: "filename", string: 8, at: "return" } } }), /read "s" at: "return" needs a return probe/);
    assert.throws(() => kretprobe("do_sys_openat2", { read: { s: { from: "filename", string: 8, at: "later" as never } } }), (e: unknown) => e instanceof InvalidArgumentError && /read\.s\.at/.test((e as Error).message));
  });
});
