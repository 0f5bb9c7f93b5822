/* A verifier rejection of the user's C, told in the user's terms: the line of their
 * source the refused instruction came from (BTF line info, which `#line` made the
 * cell's own lines), the verifier's reason, and what usually fixes it. */
import type { VerifierError } from "../../errors.js";
import { CustomVerifierError } from "./errors.js";

/** The user's source as compiled: its name in messages, its text and the line it starts at. */
export interface SourceLines {
  name: string;
  code: string;
  firstLine: number;
}

const HINTS: [RegExp, string][] = [
  [/invalid mem access '\w*_or_null'|invalid mem access 'ptr_or_null/, "check the pointer for NULL before using it (`if (!v) return 0;`): bpf_map_lookup_elem() and RESERVE() return NULL when there is nothing"],
  [/back-edge|infinite loop detected|loop is not bounded|The sequence of \d+ jumps is too complex|BPF program is too large/, "bound every loop by a constant the verifier can see (`for (int i = 0; i < 64; i++)`), or use bpf_loop()"],
  [/invalid access to packet|pkt_end|R\d+ offset is outside of the packet/, "compare against ctx->data_end before reading the packet: `if ((void *)(eth + 1) > data_end) return XDP_PASS;`"],
  [/combined stack size|stack depth \d+ exceeds|invalid (write|read) to stack R10 off=-\d{3}/, "the BPF stack holds 512 bytes: build large records in the ring with RESERVE(), or in a PERCPU_ARRAY scratch map"],
  [/invalid indirect read from stack|invalid read from stack|!read_ok/, "initialize variables and structs before use (`struct event e = {};`)"],
  [/cannot call GPL-restricted function/, "the program's license must be GPL-compatible (bpfbook.h declares GPL; a LICENSE of your own must too)"],
  [/unknown func|program of this type cannot use helper/, "this helper is not available to this kind of program (its SEC): pick another helper or another attach point"],
  [/invalid bpf_context access|dereference of modified ctx ptr/, "read the context only at constant offsets through its type (struct trace_event_raw_<event> for tracepoints, BPF_CORE_READ for kernel pointers)"],
  [/cannot write into rdonly|write into map forbidden|only read from bpf_array is supported/, "`const volatile` globals are read-only in the program: set them from TypeScript before load (`prog.set({...})`)"],
  [/R\d+ type=scalar expected=|R\d+ invalid mem access 'scalar'|invalid mem access 'inv'/, "a plain number is used as a pointer: read kernel memory with bpf_probe_read_kernel() or BPF_CORE_READ()"],
];

/** Re-tells a VerifierError of a user's object at the line of their source; other errors pass through. */
export function explainVerifierError(err: VerifierError, src: SourceLines): CustomVerifierError {
  const log = err.log.split("\n");
  const end = log.findIndex((l) => /^\s*(processed \d+ insns|verification time|stack depth \d)/.test(l));
  const body = end < 0 ? log : log.slice(0, end);
  const reason = [...body].reverse().find((l) => {
    const t = l.trim();
    return t !== "" && t !== "..." && !/^\d+: /.test(t) && !t.startsWith(";") && !/^(mark_precise|from \d+ to \d+|func#|Live regs)/.test(t);
  })?.trim() ?? "the verifier gave no reason";
  // The last source line annotation before the reason: where the refused instruction came from
  let line = 0;
  const at = new RegExp(`@ ${src.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\d+)\\s*$`);
  for (const l of body) {
    const m = at.exec(l);
    if (m && Number(m[1]) > 0) line = Number(m[1]);
  }
  const lines = src.code.split("\n");
  const code = line >= src.firstLine ? lines[line - src.firstLine] : undefined;
  const hint = HINTS.find(([re]) => re.test(body.join("\n")))?.[1] ?? null;
  return new CustomVerifierError(src.name, err.program, code === undefined ? null : { line, code }, reason, hint, err.log, err.errno);
}
