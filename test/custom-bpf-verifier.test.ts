/* The verifier's rejections of a user's C, against the real kernel: each common one at
 * the line of the cell it came from, with the verifier's reason, the register and the
 * instruction, and its hint — unbounded loops (too large, too complex, infinite),
 * a missing NULL check, an unchecked packet read, a stack too large (clang's or the
 * verifier's) — and nothing left loaded after a refusal. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bpf, CompileError, CustomVerifierError } from "../bpf-lib/src/index.js";
import { programIdsOf } from "./helpers/workload.js";

/** The C starts at line 3 of its cell, as after a `%%bpf` line and a comment. */
const FIRST = 3;

async function refusal(code: string): Promise<CustomVerifierError> {
  using prog = await bpf.compile(code, { sourceName: "cell", firstLine: FIRST });
  let caught: unknown = null;
  try {
    prog.load();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CustomVerifierError, `expected a CustomVerifierError, got ${String(caught)}`);
  assert.deepEqual(programIdsOf(), [], "a refused load leaves nothing loaded");
  return caught;
}

const LOOP_HINT = /bound every loop by a constant the verifier can see .*bpf_loop\(\)/;

describe("verifier rejections of custom BPF C", () => {
  it("a missing NULL check after a map lookup: the dereference's line, R0, the hint", async () => {
    const e = await refusal(`#include "bpfbook.h"
HASH(counts, u32, u64, 16);
SEC("tracepoint/syscalls/sys_enter_getppid")
int on_call(void *ctx)
{
	u32 k = 0;
	u64 *v = bpf_map_lookup_elem(&counts, &k);
	*v += 1;
	return 0;
}
`);
    assert.equal(e.errno, 13);
    assert.equal(e.program, "on_call");
    assert.equal(e.line, 10); // `*v += 1;`: the C's 8th line, the cell's 10th
    assert.equal(e.reason, "R0 invalid mem access 'map_value_or_null'");
    assert.equal(e.register, "R0");
    assert.match(e.instruction ?? "", /^\d+: \(79\) r1 = \*\(u64 \*\)\(r0 \+0\)$/);
    assert.match(e.hint ?? "", /check the pointer for NULL before using it/);
    assert.match(e.message, /at cell line 10: \*v \+= 1;\n  instruction \d+: \(79\) r1 = \*\(u64 \*\)\(r0 \+0\)\n  R0 invalid mem access 'map_value_or_null'\n  hint: check the pointer for NULL/);
  });

  it("a loop bounded by a random number, with ADD() in it: too complex (EFAULT), at the loop's line", async () => {
    const e = await refusal(`#include "bpfbook.h"
HASH(counts, u32, u64, 16);
SEC("tracepoint/syscalls/sys_enter_getppid")
int on_call(void *ctx)
{
	u32 n = bpf_get_prandom_u32();
	for (u64 i = 0; i < n; i++)
		ADD(counts, &i, 1);
	return 0;
}
`);
    assert.equal(e.errno, 14);
    assert.equal(e.line, 9); // the `for`: the C's 7th line
    assert.match(e.message, /at cell line 9: for \(u64 i = 0; i < n; i\+\+\)/);
    assert.equal(e.reason, "The sequence of 8193 jumps is too complex.");
    assert.match(e.hint ?? "", LOOP_HINT);
  });

  it("the same loop with a 32-bit counter: an infinite loop (EINVAL), at the loop's line, not bpfbook.h's", async () => {
    const e = await refusal(`#include "bpfbook.h"
HASH(counts, u32, u64, 16);
SEC("tracepoint/syscalls/sys_enter_getppid")
int on_call(void *ctx)
{
	u32 n = bpf_get_prandom_u32();
	for (u32 i = 0; i < n; i++)
		ADD(counts, &i, 1);
	return 0;
}
`);
    assert.equal(e.errno, 22);
    assert.equal(e.line, 9);
    assert.match(e.reason, /^infinite loop detected at insn \d+$/);
    assert.match(e.hint ?? "", LOOP_HINT);
  });

  it("a plain loop bounded by a random number: too large (E2BIG), at the loop's line, even from a log cut before its verdict", async () => {
    // The verifier walks a million instructions here; its log outgrows bpfbook's 16 MiB buffer,
    // whose end (kernels since 6.4 keep the end) holds the verdict. One retry with the log, not
    // one per doubling of libbpf's own buffer (that took 30-90 s here).
    const e = await refusal(`#include "bpfbook.h"
SEC("tracepoint/syscalls/sys_enter_getppid")
int on_call(void *ctx)
{
	u32 n = bpf_get_prandom_u32();
	u64 s = 0;
	for (u32 i = 0; i < n; i++)
		s += bpf_get_smp_processor_id();
	return s & 1;
}
`);
    // E2BIG, or ENOSPC: since 6.4 a log cut to its buffer makes the load fail with ENOSPC whatever the verdict
    assert.ok(e.errno === 7 || e.errno === 28, `errno ${e.errno}`);
    assert.equal(e.line, 9); // the `for`: the back-edge's line
    assert.match(e.message, /at cell line 9: for \(u32 i = 0; i < n; i\+\+\)/);
    assert.match(e.reason, /^BPF program is too large/);
    assert.doesNotMatch(e.reason, /libbpf/);
    // an instruction of the loop's body or its back-edge: where the million was reached
    assert.match(e.instruction ?? "", /^\d+: \([0-9a-f]{2}\) /);
    assert.match(e.hint ?? "", LOOP_HINT);
  });

  it("an XDP program reading the packet without checking data_end: the read's line, R1, the hint", async () => {
    const e = await refusal(`#include "bpfbook.h"
SEC("xdp")
int on_packet(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	if (eth->h_proto == 0x0008) // IPv4, in network order
		return XDP_DROP;
	return XDP_PASS;
}
`);
    assert.equal(e.errno, 13);
    assert.equal(e.program, "on_packet");
    assert.equal(e.line, 9); // `if (eth->h_proto ...`
    assert.equal(e.reason, "R1 offset is outside of the packet");
    assert.equal(e.register, "R1");
    assert.match(e.instruction ?? "", /^\d+: \(69\) r\d = \*\(u16 \*\)\(r1 \+12\)$/);
    assert.match(e.hint ?? "", /compare against ctx->data_end before reading the packet/);
  });

  it("a stack too large in one function: clang refuses it first, at the function's line", async () => {
    const code = `#include "bpfbook.h"
SEC("tracepoint/syscalls/sys_enter_getppid")
int on_call(void *ctx)
{
	char buf[600];
	bpf_get_current_comm(buf, sizeof(buf));
	return buf[599];
}
`;
    const e = await bpf.compile(code, { sourceName: "cell", firstLine: FIRST }).catch((x: unknown) => x);
    assert.ok(e instanceof CompileError, String(e));
    const first = e.diagnostics.find((d) => d.severity === "error")!;
    assert.equal(first.line, 5); // `int on_call(void *ctx)`
    assert.match(first.message, /BPF stack limit of 512 bytes is exceeded/);
  });

  it("a stack too large across a call (XDP): the verifier's combined size, at the program's function, the hint", async () => {
    const e = await refusal(`#include "bpfbook.h"
static __noinline int fill(int n)
{
	char buf[400];
	bpf_probe_read_kernel(buf, sizeof(buf), (void *)(long)n);
	return buf[0];
}
SEC("xdp")
int on_packet(struct xdp_md *ctx)
{
	char big[300];
	bpf_probe_read_kernel(big, sizeof(big), ctx);
	return fill(big[0]) + big[1];
}
`);
    assert.equal(e.errno, 13);
    assert.equal(e.line, 11); // `int on_packet(...)`: the C's 9th line
    assert.match(e.message, /at cell line 11 \(the program's function: the verifier named no instruction\): int on_packet\(struct xdp_md \*ctx\)/);
    assert.equal(e.reason, "combined stack size of 2 calls is 704. Too large");
    assert.equal(e.instruction, null);
    assert.match(e.hint ?? "", /the BPF stack holds 512 bytes/);
  });
});
