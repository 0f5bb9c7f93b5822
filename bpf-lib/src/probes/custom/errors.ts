/* The errors of BPF C written by a user: no compiler, a compile error, a verifier
 * rejection, each pointing at the user's own lines. */
import { BpfbookError } from "../../errors.js";

/** One compiler message, at a line of the user's source (the cell's line when the kernel knows where the C starts). */
export interface Diagnostic {
  severity: "error" | "warning" | "note";
  line: number;
  column: number;
  message: string;
  /** clang's excerpt: the source line and the caret under the column. */
  excerpt: string;
}

/** clang is not installed (or not runnable). */
export class CompilerMissingError extends BpfbookError {
  constructor(tried: string, detail: string) {
    super(
      "ENOCOMPILER",
      `compiling BPF C needs clang, and ${tried} ${detail}. Install it: \`apt-get install clang llvm\` (Debian, Ubuntu), \`dnf install clang llvm\` (Fedora), or point BPFBOOK_CLANG at a clang binary (version 11 or newer)`,
    );
  }
}

/** The C did not compile; `diagnostics` are clang's errors (and warnings), at the user's lines. */
export class CompileError extends BpfbookError {
  readonly diagnostics: readonly Diagnostic[];
  readonly source: string;
  constructor(source: string, diagnostics: Diagnostic[], output: string) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    const shown = errors.slice(0, 5);
    const body = shown.length
      ? shown.map((d) => `${source} line ${d.line}, column ${d.column}: ${d.message}${d.excerpt ? "\n" + d.excerpt : ""}`).join("\n")
      : output.trim();
    const more = errors.length > shown.length ? `\n(and ${errors.length - shown.length} more errors)` : "";
    super("ECOMPILE", `BPF C in ${source} does not compile (${errors.length || 1} error${errors.length === 1 ? "" : "s"}):\n${body}${more}`);
    this.source = source;
    this.diagnostics = diagnostics;
  }
}

/** The verifier's words, trimmed to the point. */
export interface VerifierWords {
  /** What the verifier said was wrong (`R0 invalid mem access 'map_value_or_null'`). */
  reason: string;
  /** The refused instruction as the verifier printed it (`8: (79) r1 = *(u64 *)(r0 +0)`), when the log shows one. */
  instruction: string | null;
  /** The register the reason names (`R0`), if any. */
  register: string | null;
  /** What usually fixes it, for the common rejections. */
  hint: string | null;
  /** The log was longer than what libbpf's print callback could pass on: only its head was read. */
  cut: boolean;
}

/** The verifier refused a program of the user's C: the line it refused, the instruction, the register, the reason and a hint. */
export class CustomVerifierError extends BpfbookError {
  readonly program: string;
  /** The line of the user's source the refused instruction came from (a loop's: its back-edge's; when the log names no instruction, the program's function; 0 when neither is known). */
  readonly line: number;
  readonly reason: string;
  readonly instruction: string | null;
  readonly register: string | null;
  readonly hint: string | null;
  readonly log: string;
  constructor(source: string, program: string, at: { line: number; code: string; what?: string } | null, words: VerifierWords, log: string, errno?: number) {
    const where = at ? `${source} line ${at.line}${at.what ? ` (${at.what})` : ""}: ${at.code.trim()}` : `${source} (the verifier named no source line)`;
    const insn = words.instruction ? `\n  instruction ${words.instruction}` : "";
    const cut = words.cut ? "\n(the log was cut: only its first part could be read)" : "";
    super(
      "EVERIFIER",
      `the kernel's verifier rejected program "${program}" at ${where}${insn}\n  ${words.reason}${words.hint ? `\n  hint: ${words.hint}` : ""}\nthe verifier's log, trimmed:\n${log}${cut}`,
      { errno },
    );
    this.program = program;
    this.line = at?.line ?? 0;
    this.reason = words.reason;
    this.instruction = words.instruction;
    this.register = words.register;
    this.hint = words.hint;
    this.log = log;
  }
}
