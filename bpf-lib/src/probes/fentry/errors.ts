/* Errors of kernel function probes. Like the tracepoint layer's, each lists the
 * nearest names so a typo is one step from fixed. */
import { BpfbookError } from "../../errors.js";

const didYouMean = (s: readonly string[]) => (s.length > 0 ? `; did you mean ${s.join(", ")}?` : "");

/** No kernel function of that name (not in the kernel's BTF, nor traceable by name). */
export class UnknownKernelFunctionError extends BpfbookError {
  readonly function: string;
  readonly suggestions: string[];
  constructor(fn: string, where: string, suggestions: string[]) {
    super("ENOKFUNC", `unknown kernel function ${JSON.stringify(fn)}: it is not in ${where}${didYouMean(suggestions)} (see kernelFunctions())`);
    this.function = fn;
    this.suggestions = suggestions;
  }
}

/** The function exists but cannot be probed (inlined everywhere, notrace, on the kprobe blacklist, ...). */
export class UntraceableKernelFunctionError extends BpfbookError {
  readonly function: string;
  readonly suggestions: string[];
  constructor(fn: string, why: string, suggestions: string[], opts: { errno?: number; cause?: unknown } = {}) {
    super("ENOTRACEABLE", `kernel function ${JSON.stringify(fn)} cannot be traced: ${why}${suggestions.length ? `; traceable functions with close names: ${suggestions.join(", ")}` : ""}`, opts);
    this.function = fn;
    this.suggestions = suggestions;
  }
}

/** An argument name the function does not have (or one a probe cannot read). */
export class UnknownArgumentError extends BpfbookError {
  readonly function: string;
  readonly argument: string;
  readonly available: string[];
  constructor(fn: string, arg: string, available: string[], suggestions: string[], detail?: string) {
    const hint = suggestions.length > 0 ? ` did you mean ${suggestions[0]}?` : "";
    super("ENOARG", detail ?? `${fn} has no argument ${JSON.stringify(arg)};${hint} it has: ${available.length ? available.join(", ") : "(none)"}`);
    this.function = fn;
    this.argument = arg;
    this.available = available;
  }
}
