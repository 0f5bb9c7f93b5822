/* The VM harness (test/vm/vm.ts): one boot of Debian's kernel under qemu, one
 * command whose output and exit status must come back. Skipped, with the
 * reason printed, where qemu or the kernel is not installed. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findKernel, runInVm, vmUnavailableReason } from "./vm.js";

const why = vmUnavailableReason();
if (why) console.log(`skipping the VM test: ${why}`);

describe("runInVm", { skip: why ?? false }, () => {
  it("boots Debian's kernel, runs a command, returns its output and status", { timeout: 60_000 }, async () => {
    const kernel = findKernel()!;
    const r = await runInVm(
      "echo hello-from-vm; uname -r; test -w /tmp && test ! -w \"$PWD\" && echo tmp-writable-root-readonly; " +
        "test -e /sys/kernel/tracing/kprobe_events && echo kprobes-ok; echo \"env:$BPFBOOK_TEST_VAR\"; exit 3",
      { timeoutMs: 55_000, env: { BPFBOOK_TEST_VAR: "it's a \"value\" $HOME" } },
    );
    console.log(`VM boot ${(r.bootMs / 1000).toFixed(1)} s, total ${(r.totalMs / 1000).toFixed(1)} s`);
    assert.equal(r.status, 3, r.output);
    const lines = r.output.trimEnd().split("\n");
    assert.equal(lines[0], "hello-from-vm", r.output);
    assert.equal(lines[1], kernel.version, "the guest runs Debian's kernel");
    assert.ok(lines.includes("tmp-writable-root-readonly"), r.output);
    assert.ok(lines.includes("kprobes-ok"), r.output);
    assert.ok(lines.includes(`env:it's a "value" $HOME`), r.output);
    assert.ok(!r.output.includes("@@bpfbook-vm"), "markers are stripped");
    assert.ok(r.bootMs > 0 && r.bootMs <= r.totalMs);
  });
});
