/* Unsigned 64-bit values of 2^63 and more: as an __s64 they are negative, so the
 * kernel must compare them unsigned (min/max, histogram buckets) and user space must
 * merge them unsigned. read(2)'s `count` is a size_t the caller chooses freely: a
 * read of fd -1 fails with EBADF after the tracepoint saw the count. Two processes,
 * one pinned to each CPU, so the key is merged across CPUs. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { anyTracepoint } from "../bpf-lib/src/index.js";

const BASE = 1n << 63n;
/** Reads of fd -1 with counts BASE + i for i in `from`..`to`-1 (and one of `small` bytes), on `cpu`. */
function reads(cpu: number, from: number, to: number, small?: number): void {
  const py = `import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.read.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
for i in range(${from}, ${to}):
    libc.read(-1, None, (1 << 63) + i)
${small === undefined ? "" : `libc.read(-1, None, ${small})`}
`;
  const r = spawnSync("taskset", ["-c", String(cpu), "/usr/bin/python3", "-c", py], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

describe("unsigned 64-bit values of 2^63 and more", () => {
  it("stats(): count, min and max exact across both CPUs, a small value below them all", async () => {
    // fd is an unsigned int: -1 reads as 2^32-1
    const run = anyTracepoint("syscalls:sys_enter_read", { where: { comm: "python3", fd: 0xffffffff } }).stats("count").start();
    reads(0, 0, 3);
    reads(1, 3, 7, 9);
    await run.stop();
    const rows = (await run.finished()).objects() as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    assert.equal(BigInt(rows[0].count as number), 8n);
    assert.equal(BigInt(rows[0].min as number), 9n);
    assert.equal(BigInt(rows[0].max as bigint), BASE + 6n);
  });

  it("hist('log2'): every value in the top bucket [2^63, 2^64), none in bucket 0", async () => {
    const run = anyTracepoint("syscalls:sys_enter_read", { where: { comm: "python3", fd: 0xffffffff } }).hist("count").start();
    reads(0, 0, 2);
    reads(1, 2, 5);
    await run.stop();
    const rows = (await run.finished()).objects() as { bucket: number; count: number }[];
    assert.deepEqual(rows.map((r) => [Number(r.bucket), Number(r.count)]), [[64, 5]]);
  });
});
