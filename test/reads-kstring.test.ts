/* A path that ends at a `char *` member (qstr.name, a kstring leaf) reads the string the
 * pointer points to, not the pointer's own bytes: the regression the VM run found
 * (test/vm/reads.test.ts showed vfs_read's "file->f_path.dentry->d_name.name" as the
 * pointer's bytes followed by d_iname). Checked here on a tracepoint, through the current
 * task's executable, whose name the workload knows. (bpftrace 0.17 cannot be the peer here:
 * on 6.18, dentry's d_name sits in an anonymous union it does not look into.) */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { anyTracepoint } from "../bpf-lib/src/probes/tracepoint/probe.js";
import { workload } from "./helpers/workload.js";

const PATH = "current.mm.exe_file.f_path.dentry.d_name.name";

describe("reads: a char * leaf", () => {
  it(`${PATH} is the executable's name: in a stream and as a key`, async () => {
    const n = 7;
    const w = workload(["getppid", String(n)]);
    let t, agg;
    try {
      const probe = anyTracepoint("syscalls:sys_enter_getppid", { fields: [], read: { exe: PATH }, where: { pid: w.pid } });
      t = probe.start();
      agg = probe.count({ by: ["exe"] }).start();
    } finally {
      // a failed start must not leave the child waiting at its gate
      assert.equal(await w.go(), 0);
    }
    await new Promise((r) => setTimeout(r, 200));
    const tab = await t.table();
    await agg.stop();
    assert.equal(tab.numRows(), n);
    assert.deepEqual([...new Set(Array.from(tab.array("exe") as ArrayLike<unknown>))], ["workload"]);
    assert.equal(tab.stats.readFailed ?? 0, 0);
    assert.deepEqual((await agg.finished()).objects(), [{ exe: "workload", count: n }]);
  });
});
