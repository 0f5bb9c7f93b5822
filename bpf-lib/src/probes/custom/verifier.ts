/* A verifier rejection of the user's C, told in the user's terms: the line of their
 * source the refused instruction came from (BTF line info, which `#line` made the
 * cell's own lines), the instruction, the register and the verifier's reason, and what
 * usually fixes it. The whole log (not only the excerpt the VerifierError quotes) is
 * read when it is at hand: a loop's line can lie hundreds of log lines before the end. */
import type { VerifierError } from "../../errors.js";
import { CustomVerifierError } from "./errors.js";

/** The user's source as compiled: its name in messages, its text and the line it starts at. */
export interface SourceLines {
  name: string;
  code: string;
  firstLine: number;
}

const LOOP_HINT = "bound every loop by a constant the verifier can see (`for (int i = 0; i < 64; i++)`), or use bpf_loop()";
const LOOP = /back-edge|infinite loop detected|loop is not bounded|The sequence of \d+ jumps is too complex|BPF program is too large/;

/** Tested against the verifier's reason (and the lines after the last instruction), never the whole log: register states such as `pkt_end()` would match anything. */
const HINTS: [RegExp, string][] = [
  [/invalid mem access '\w*_or_null'|invalid mem access 'ptr_or_null/, "check the pointer for NULL before using it (`if (!v) return 0;`): bpf_map_lookup_elem() and RESERVE() return NULL when there is nothing"],
  [LOOP, LOOP_HINT],
  [/invalid access to packet|R\d+ offset is outside of the packet/, "compare against ctx->data_end before reading the packet: `if ((void *)(eth + 1) > data_end) return XDP_PASS;`"],
  [/combined stack size|stack depth \d+ exceeds|invalid (write|read) to stack R10 off=-\d{3}|stack (limit|size) (is )?exceeded/, "the BPF stack holds 512 bytes: build large records in the ring with RESERVE(), or in a PERCPU_ARRAY scratch map"],
  [/invalid indirect read from stack|invalid read from stack|!read_ok/, "initialize variables and structs before use (`struct event e = {};`)"],
  [/cannot call GPL-restricted function/, "the program's license must be GPL-compatible (bpfbook.h declares GPL; a LICENSE of your own must too)"],
  [/unknown func|program of this type cannot use helper/, "this helper is not available to this kind of program (its SEC): pick another helper or another attach point"],
  [/invalid bpf_context access|dereference of modified ctx ptr/, "read the context only at constant offsets through its type (struct trace_event_raw_<event> for tracepoints, BPF_CORE_READ for kernel pointers)"],
  [/cannot write into rdonly|write into map forbidden|only read from bpf_array is supported/, "`const volatile` globals are read-only in the program: set them from TypeScript before load (`prog.set({...})`)"],
  [/R\d+ type=scalar expected=|R\d+ invalid mem access 'scalar'|invalid mem access 'inv'/, "a plain number is used as a pointer: read kernel memory with bpf_probe_read_kernel() or BPF_CORE_READ()"],
];

/** What the kernel means by an errno when the log does not say (it was cut before its end). */
const BY_ERRNO: ReadonlyMap<number, { reason: string; hint: string }> = new Map([
  [7, { reason: "BPF program is too large: the verifier walked its limit of 1,000,000 instructions (a loop it cannot see the end of, or too many paths)", hint: LOOP_HINT }],
]);

/** How many log lines before the verdict are searched for the source line (a loop body can be long). */
const SEARCH_LINES = 2000;

const INSN = /^(\d+): \((?:[0-9a-f]{2})\) /;

/** Lines that are the verifier's bookkeeping, not its words: instructions, states, annotations. */
function noise(t: string): boolean {
  return t === "" || t === "..." || INSN.test(t) || /^\d+: (R\d|frame)/.test(t) || t.startsWith(";") || t.startsWith("libbpf: ")
    || /^(mark_precise|from \d+ to \d+|func#|Live regs|cur state:|old state:|last_idx|regs=|parent (didn't|already)|caller:|callee:|R\d+(_[rwD]+)?=|frame\d|propagating|verification time|stack depth|processed \d+ insns|arg#\d+ reference type)/.test(t);
}

/** The log between libbpf's BEGIN and END markers, from libbpf's captured lines; `cut` when the END never came (the print buffer kept the head of a longer log). */
export function fullVerifierLog(libbpfLines: readonly string[]): { lines: string[]; cut: boolean } | null {
  const text = libbpfLines.filter((l) => !l.startsWith("libbpf: ") || l.includes("-- BEGIN PROG LOAD LOG --")).join("");
  const m = /-- BEGIN PROG LOAD LOG --\n([\s\S]*?)(-- END PROG LOAD LOG --|$)/.exec(text);
  if (!m) return null;
  return { lines: m[1]!.split("\n"), cut: m[2] === "" };
}

/** Re-tells a VerifierError of a user's object at the line of their source; `libbpfLines` (what libbpf printed during the load) give the whole log. */
export function explainVerifierError(err: VerifierError, src: SourceLines, libbpfLines: readonly string[] = []): CustomVerifierError {
  const full = fullVerifierLog(libbpfLines);
  const cut = full?.cut ?? false;
  const log = (full?.lines ?? err.log.split("\n")).map((l) => l.trim());
  let end = log.findIndex((l) => /^(processed \d+ insns|verification time|stack depth \d)/.test(l));
  if (end < 0) end = log.length;
  const body = log.slice(Math.max(0, end - SEARCH_LINES), end);
  const at = body.findLastIndex((l) => !noise(l));
  const said = at < 0 ? null : body[at]!;
  const known = BY_ERRNO.get(err.errno ?? 0);
  // a cut log ends mid-walk: its last words are not the verdict, the errno is
  const reason = (cut && known ? known.reason : said) ?? known?.reason ?? "the verifier gave no reason";
  // the verdict: what the verifier said after the last instruction it walked (the reason is its last line)
  let walked = at;
  while (walked > 0 && !INSN.test(body[walked - 1]!)) walked--;
  const verdict = at < 0 ? [] : body.slice(walked, at + 1).filter((l) => !noise(l));
  const hint = HINTS.find(([re]) => re.test(reason) || verdict.some((l) => re.test(l)))?.[1] ?? known?.hint ?? null;
  const upTo = at < 0 || cut ? body.length : at;
  const loop = hint === LOOP_HINT ? backEdge(body, upTo) : -1;
  // a cut log's last instruction is wherever the print buffer ended; the loop's back-edge is the point
  const instruction = cut && loop >= 0 ? insnText(body[loop]!) : lastInstruction(body, upTo);
  const register = /\b(R\d+)\b/.exec(reason)?.[1] ?? null;
  let line = loop >= 0 ? lastLine(body, loop, src.name) : 0;
  if (line === 0) line = lastLine(body, upTo, src.name);
  const lines = src.code.split("\n");
  let where = line >= src.firstLine && lines[line - src.firstLine] !== undefined ? { line, code: lines[line - src.firstLine]! } : null;
  // no instruction named (the combined stack of a call chain is checked before any is walked): the program's own function
  where ??= functionLine(src, err.program);
  return new CustomVerifierError(src.name, err.program, where, { reason, instruction, register, hint, cut }, err.log, err.errno);
}

function insnText(l: string): string {
  return l.replace(/\s+;.*$/, "").replace(/(goto pc[+-]\d+) \d+: R.*$/, "$1").trim();
}

/** The refused instruction (the last one walked before the reason), without its register state. */
function lastInstruction(body: readonly string[], upTo: number): string | null {
  for (let i = upTo - 1; i >= 0; i--) if (INSN.test(body[i]!)) return insnText(body[i]!);
  return null;
}

function annotation(name: string): RegExp {
  return new RegExp(`@ ${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\d+)\\s*$`);
}

/** The last line of the user's source annotated before `upTo` (code inlined from bpfbook.h keeps its caller's line). */
function lastLine(body: readonly string[], upTo: number, name: string): number {
  const re = annotation(name);
  for (let i = upTo - 1; i >= 0; i--) {
    const m = re.exec(body[i]!);
    if (m && Number(m[1]) > 0) return Number(m[1]);
  }
  return 0;
}

/** A loop the verifier could not bound is its back-edge: the index of the last backward jump walked (-1: none). */
function backEdge(body: readonly string[], upTo: number): number {
  for (let i = upTo - 1; i >= 0; i--) if (INSN.test(body[i]!) && /goto pc-\d+/.test(body[i]!)) return i;
  return -1;
}

/** The line where the program's function is defined (`int on_packet(struct xdp_md *ctx)`), or null. */
function functionLine(src: SourceLines, program: string): { line: number; code: string; what: string } | null {
  const re = new RegExp(`^\\s*[A-Za-z_][\\w\\s*]*\\b${program}\\s*\\(`);
  const i = src.code.split("\n").findIndex((l) => re.test(l) && !/;\s*$/.test(l));
  return i < 0 ? null : { line: src.firstLine + i, code: src.code.split("\n")[i]!, what: "the program's function: the verifier named no instruction" };
}
