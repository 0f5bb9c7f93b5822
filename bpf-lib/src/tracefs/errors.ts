/* Errors of the tracefs layer. They extend the project's BpfbookError so callers
 * can branch on a stable `code` instead of parsing messages. */
import { BpfbookError } from "../errors.js";

export const MOUNT_HINT = "mount it with `mount -t tracefs nodev /sys/kernel/tracing`, or run ./install.sh";

export class TracefsNotMountedError extends BpfbookError {
  readonly tried: readonly string[];
  constructor(tried: readonly string[]) {
    super("ETRACEFS", `tracefs is not mounted (no events directory under ${tried.join(" or ")}); ${MOUNT_HINT}`);
    this.tried = tried;
  }
}

/** A tracepoint format file did not have the expected shape. */
export class TracepointFormatError extends BpfbookError {
  readonly tracepoint: string;
  readonly line: number;
  constructor(tracepoint: string, line: number, problem: string) {
    super("EFORMAT", `cannot parse the format of ${tracepoint}${line > 0 ? ` (line ${line})` : ""}: ${problem}`);
    this.tracepoint = tracepoint;
    this.line = line;
  }
}

export class UnknownTracepointError extends BpfbookError {
  readonly tracepoint: string;
  readonly suggestions: string[];
  constructor(tracepoint: string, suggestions: string[]) {
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(", ")}?` : "";
    super("ENOTRACEPOINT", `unknown tracepoint ${JSON.stringify(tracepoint)}${hint} (see listTracepoints())`);
    this.tracepoint = tracepoint;
    this.suggestions = suggestions;
  }
}

export class UnknownFieldError extends BpfbookError {
  readonly tracepoint: string;
  readonly field: string;
  readonly available: string[];
  readonly suggestions: string[];
  constructor(tracepoint: string, field: string, available: string[], suggestions: string[]) {
    const hint = suggestions.length > 0 ? ` did you mean ${suggestions[0]}?` : "";
    const list = available.length > 0 ? available.join(", ") : "(none besides common_*)";
    super("ENOFIELD", `${tracepoint} has no field ${JSON.stringify(field)};${hint} its fields are: ${list}`);
    this.tracepoint = tracepoint;
    this.field = field;
    this.available = available;
    this.suggestions = suggestions;
  }
}
