/* The x86-64 instruction boundaries that uprobe offsets are checked against,
 * compared with objdump's disassembly of the same bytes: the test fixture's
 * functions and a spread of libc's, instruction start by instruction start. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { openElf, type ElfSymbol } from "../bpf-lib/src/symbols/elf.js";
import { resolveFunction } from "../bpf-lib/src/symbols/resolve.js";
import { functionInstructions, decodeX86_64, requireInstructionStart } from "../bpf-lib/src/symbols/instructions.js";
import { UnsafeOffsetError } from "../bpf-lib/src/symbols/errors.js";
import { WORKLOAD } from "./helpers/workload.js";

const LIBC = "/lib/x86_64-linux-gnu/libc.so.6";

/** Instruction starts (offsets from the symbol) as objdump -d lists them. */
function objdumpStarts(path: string, sym: ElfSymbol): number[] {
  const out = execFileSync("objdump", ["-d", "--no-show-raw-insn", `--start-address=0x${sym.value.toString(16)}`, `--stop-address=0x${(sym.value + sym.size).toString(16)}`, path], { encoding: "utf8", maxBuffer: 64 << 20 });
  const starts: number[] = [];
  for (const line of out.split("\n")) {
    const m = /^\s*([0-9a-f]+):\t(.*)$/.exec(line);
    if (m) starts.push(parseInt(m[1], 16) - sym.value);
  }
  return starts;
}

function compare(path: string, name: string): number {
  const elf = openElf(path);
  const sym = resolveFunction(path, name).symbol;
  const code = functionInstructions(elf, sym);
  assert.ok(code, `${name} decodes`);
  assert.equal(code.undecodedAt, -1, `${name}: every byte decodes`);
  assert.deepEqual(code.instructions.map((i) => i.offset), objdumpStarts(path, sym), `${name} in ${path}`);
  const last = code.instructions.at(-1)!;
  assert.equal(last.offset + last.length, sym.size, `${name}: the instructions cover the function exactly`);
  return code.instructions.length;
}

describe("x86-64 instruction boundaries", () => {
  it("match objdump for the workload's functions", () => {
    for (const f of ["bpfbook_target", "spin_here", "main", "parse_count"]) compare(WORKLOAD, f);
  });

  it("match objdump for libc functions (SSE, AVX-free and not, prefixes, long encodings)", () => {
    let n = 0;
    for (const f of ["malloc", "free", "qsort", "fopen", "getenv", "printf", "strtoull", "clock_gettime", "pthread_mutex_lock", "getaddrinfo", "sin", "memccpy"].filter((f) => {
      try { resolveFunction(LIBC, f); return true; } catch { return false; }
    })) n += compare(LIBC, f);
    assert.ok(n > 1000, `${n} instructions compared`);
  });

  it("decodes known bytes: lengths 1 to 15, and stops at bytes that are not an instruction", () => {
    // push rbp; mov rbp,rsp; lea eax,[rdi+1]; mov rax,imm64; 15-byte nop-padded lea; ret; ud2; then a lone 0xff
    const bytes = [0x55, 0x48, 0x89, 0xe5, 0x8d, 0x47, 0x01, 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8,
      0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc3, 0x0f, 0x0b, 0xff];
    const code = decodeX86_64(new Uint8Array(bytes), 0x1000);
    assert.deepEqual(code.instructions.map((i) => [i.offset, i.length]), [[0, 1], [1, 3], [4, 3], [7, 10], [17, 15], [32, 1], [33, 2]]);
    assert.equal(code.instructions[3].text, "mov rax,807060504030201h");
    assert.equal(code.undecodedAt, 35);
  });

  it("an offset inside an instruction is refused, naming the instruction and the nearest starts", () => {
    const elf = openElf(WORKLOAD);
    const sym = resolveFunction(WORKLOAD, "bpfbook_target").symbol;
    const ins = functionInstructions(elf, sym)!.instructions;
    const long = ins.find((i) => i.length >= 3)!;
    for (const i of ins) requireInstructionStart(elf, sym, i.offset); // every start is accepted
    assert.throws(() => requireInstructionStart(elf, sym, long.offset + 1), (e: unknown) => {
      assert.ok(e instanceof UnsafeOffsetError);
      assert.equal(e.code, "EUNSAFEOFFSET");
      assert.equal(e.offset, long.offset + 1);
      assert.deepEqual(e.nearest, [long.offset, long.offset + long.length]);
      assert.match(e.message, new RegExp(`is inside the instruction "${long.text.replace(/[[\]+]/g, "\\$&")}" at offset ${long.offset} \\(${long.length} bytes\\)`));
      assert.match(e.message, /unsafeOffset: true/);
      return true;
    });
  });
});
