/* saveTrace/loadTrace: a trace that saw nothing is still a trace, and saved files
 * are readable by their owner only (they hold paths, arguments, command lines). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync, readFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { tracepoint, saveTrace, loadTrace } from "../bpf-lib/src/index.js";
import { workload } from "./helpers/workload.js";

describe("saveTrace", () => {
  it("saves and reloads a table with 0 rows, keeping columns and stats", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-persist-"));
    try {
      const w = workload(["openat", join(dir, "never"), "0"]);
      const trace = tracepoint("syscalls:sys_enter_openat", { where: { pid: w.pid } }).start({ seconds: 30 });
      assert.equal(await w.go(), 0);
      const t = await trace.table();
      assert.equal(t.numRows(), 0);
      const file = join(dir, "empty.arrow");
      saveTrace(t, file);
      const back = loadTrace(file);
      assert.equal(back.numRows(), 0);
      assert.deepEqual(back.columnNames(), t.columnNames());
      assert.deepEqual(back.stats, t.stats);
      assert.equal(statSync(file).mode & 0o777, 0o600, "owner-only by default");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an existing world-readable file becomes 0600; a mode can be asked for; a symlink is not followed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-persist-"));
    try {
      const w = workload(["openat", join(dir, "x"), "2"]);
      const trace = tracepoint("syscalls:sys_enter_openat", { where: { pid: w.pid } }).start({ seconds: 30 });
      await w.go();
      const t = await trace.table();
      const file = join(dir, "t.arrow");
      writeFileSync(file, "old", { mode: 0o644 });
      chmodSync(file, 0o644);
      saveTrace(t, file);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(loadTrace(file).numRows(), 2);
      saveTrace(t, file, { mode: 0o640 });
      assert.equal(statSync(file).mode & 0o777, 0o640);
      const target = join(dir, "target");
      writeFileSync(target, "keep");
      symlinkSync(target, join(dir, "link.arrow"));
      assert.throws(() => saveTrace(t, join(dir, "link.arrow")), (e: NodeJS.ErrnoException) => e.code === "ELOOP");
      assert.equal(readFileSync(target, "utf8"), "keep", "the symlink's target is untouched");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
