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

/** The verifier refused a program of the user's C: the line it refused, the verifier's reason and a hint. */
export class CustomVerifierError extends BpfbookError {
  readonly program: string;
  /** The line of the user's source the refused instruction came from (0 when the log did not say). */
  readonly line: number;
  readonly reason: string;
  readonly hint: string | null;
  readonly log: string;
  constructor(source: string, program: string, at: { line: number; code: string } | null, reason: string, hint: string | null, log: string, errno?: number) {
    const where = at ? `${source} line ${at.line}: ${at.code.trim()}` : `${source} (the verifier named no source line)`;
    super(
      "EVERIFIER",
      `the kernel's verifier rejected program "${program}" at ${where}\n  ${reason}${hint ? `\n  hint: ${hint}` : ""}\nthe verifier's log, trimmed:\n${log}`,
      { errno },
    );
    this.program = program;
    this.line = at?.line ?? 0;
    this.reason = reason;
    this.hint = hint;
    this.log = log;
  }
}
