/* Typed errors. Every error bpfbook throws is a BpfbookError with a stable
 * `code`; kernel failures carry `errno`. NotSupportedError is the sentinel for
 * "this kernel cannot do that", which tests use to skip. */
import { constants } from "node:os";
import { shown } from "./options/describe.js";

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `errno ${Math.abs(errno)}`;
}

export class BpfbookError extends Error {
  readonly code: string;
  readonly errno?: number;
  constructor(code: string, message: string, opts: { errno?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    if (opts.errno !== undefined) this.errno = Math.abs(opts.errno);
  }
}

/** The running kernel (or its configuration, or lockdown) cannot do this. */
export class NotSupportedError extends BpfbookError {
  readonly feature: string;
  constructor(feature: string, reason: string, opts: { errno?: number; cause?: unknown } = {}) {
    super("ENOTSUP", `${feature} is not supported here: ${reason}`, opts);
    this.feature = feature;
  }
}

/** The caller lacks a privilege (root, CAP_BPF, CAP_PERFMON). */
export class PermissionError extends BpfbookError {
  constructor(message: string, opts: { errno?: number; cause?: unknown } = {}) {
    super("EPERM", message, opts);
  }
}

/** The verifier refused a program; `log` is the trimmed verifier log. */
export class VerifierError extends BpfbookError {
  readonly program: string;
  readonly log: string;
  constructor(program: string, log: string, errno: number) {
    super("EVERIFIER", `the kernel's verifier rejected program "${program}" (${errnoName(errno)}):\n${log}`, { errno });
    this.program = program;
    this.log = log;
  }
}

/** Loading an object failed for a reason other than the verifier. */
export class LoadError extends BpfbookError {
  constructor(message: string, errno?: number) {
    super("ELOAD", message, { errno });
  }
}

/** Attaching a program failed. */
export class AttachError extends BpfbookError {
  constructor(message: string, errno?: number) {
    super("EATTACH", message, { errno });
  }
}

/** A map operation failed. */
export class MapError extends BpfbookError {
  constructor(message: string, errno?: number) {
    super("EMAP", message, { errno });
  }
}

/** Bad input from the caller: an option, a filter, a name. */
export class InvalidArgumentError extends BpfbookError {
  constructor(message: string) {
    super("EINVAL", message);
  }
}

/**
 * An option (or argument) with a value that cannot work: `.option` names it, `.got`
 * is what was given; the message says what would work.
 */
export class InvalidOptionError extends InvalidArgumentError {
  readonly option: string;
  readonly got: unknown;
  constructor(what: string, option: string, got: unknown, expected: string, message?: string) {
    super(message ?? `${what}: ${option} must be ${expected}; got ${shown(got)}`);
    this.option = option;
    this.got = got;
  }
}

/** An operation on something already disposed. */
export class DisposedError extends BpfbookError {
  constructor(what: string) {
    super("EDISPOSED", `${what} was already disposed`);
  }
}

/* Kernel paths (bpf-lib/src/btf/): following members and pointers through kernel structs by BTF. */

const LISTED_MEMBERS = 40;

/**
 * A kernel path names a member its struct does not have (on this kernel). `.type` is the
 * type the path had reached, `.suggestions` the nearest member names, `.deeper` full paths
 * where a member of that name lies inside a nested struct (`__sk_common.skc_dport`).
 */
export class UnknownMemberError extends BpfbookError {
  readonly type: string;
  readonly member: string;
  readonly path: string;
  readonly available: string[];
  readonly suggestions: string[];
  readonly deeper: string[];
  constructor(type: string, member: string, path: string, available: string[], suggestions: string[], deeper: string[] = []) {
    const hint = deeper.length > 0 ? `; it is inside a nested struct: ${deeper.join(", ")}.` : suggestions.length > 0 ? `; did you mean ${suggestions.join(", ")}?` : ".";
    const more = available.length > LISTED_MEMBERS ? `, ... (${available.length - LISTED_MEMBERS} more)` : "";
    const list = available.length > 0 ? available.slice(0, LISTED_MEMBERS).join(", ") + more : "(none)";
    super("ENOMEMBER", `${type} has no member ${JSON.stringify(member)} on this kernel (kernel path ${JSON.stringify(path)})${hint} Its members are: ${list}`);
    this.type = type;
    this.member = member;
    this.path = path;
    this.available = available;
    this.suggestions = suggestions;
    this.deeper = deeper;
  }
}

/** A kernel path follows more pointers than one read may (`.max`, MAX_PATH_DEREFS). */
export class PathTooDeepError extends BpfbookError {
  readonly path: string;
  readonly derefs: number;
  readonly max: number;
  constructor(path: string, derefs: number, max: number, pointers: string[]) {
    super(
      "EPATHDEPTH",
      `kernel path ${JSON.stringify(path)} follows ${derefs} pointers (${pointers.join(", ")}); at most ${max} can be followed in one path. ` +
        `Start from a nearer root (a tracepoint field or argument that already points there, with \`as\` for its struct), or read a shorter path`,
    );
    this.path = path;
    this.derefs = derefs;
    this.max = max;
  }
}

/** No struct, union or typedef of that name in the kernel's BTF; `.suggestions` has the nearest. */
export class UnknownKernelTypeError extends BpfbookError {
  readonly typeName: string;
  readonly suggestions: string[];
  constructor(typeName: string, where: string, suggestions: string[]) {
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(", ")}?` : "";
    super("ENOKTYPE", `unknown kernel type ${JSON.stringify(typeName)}: ${where} has no struct or union of that name${hint}`);
    this.typeName = typeName;
    this.suggestions = suggestions;
  }
}
