/* Errors of symbol resolution: a binary that is not there, not an ELF file, or
 * has no such function. All are BpfbookErrors with stable codes. */
import { BpfbookError } from "../errors.js";

/** The binary or library does not exist (or a library name matched nothing). */
export class BinaryNotFoundError extends BpfbookError {
  readonly binary: string;
  constructor(binary: string, detail: string) {
    super("ENOENT", `binary "${binary}" not found: ${detail}`, { errno: 2 });
    this.binary = binary;
  }
}

/** The file exists but is not a 64-bit little-endian ELF file. */
export class NotElfError extends BpfbookError {
  readonly path: string;
  constructor(path: string, detail: string) {
    super("ENOEXEC", `${path} is not an ELF file bpfbook can read: ${detail}`, { errno: 8 });
    this.path = path;
  }
}

/** The binary has no function of that name; `nearest` lists the closest names it does have. */
export class UnknownSymbolError extends BpfbookError {
  readonly binary: string;
  readonly symbol: string;
  readonly nearest: readonly string[];
  constructor(binary: string, symbol: string, nearest: readonly string[], detail = "") {
    const hint = nearest.length ? `; nearest: ${nearest.join(", ")}` : "; it has no function symbols (stripped?)";
    super("ENOSYM", `${binary} has no function "${symbol}"${detail ? ` (${detail})` : ""}${hint}`);
    this.binary = binary;
    this.symbol = symbol;
    this.nearest = nearest;
  }
}

/**
 * A uprobe offset that is not proven to start an instruction: a probe there would
 * corrupt the instruction and crash the traced process. `nearest` lists the closest
 * offsets that are instruction starts.
 */
export class UnsafeOffsetError extends BpfbookError {
  readonly binary: string;
  readonly symbol: string;
  readonly offset: number;
  readonly nearest: readonly number[];
  constructor(binary: string, symbol: string, offset: number, why: string, nearest: readonly number[]) {
    const hint = nearest.length ? `nearest instruction starts: ${nearest.join(", ")}` : "only offset 0 (the function's start) is known to be safe";
    super("EUNSAFEOFFSET", `offset ${offset} into ${symbol} (${binary}) ${why}, and a uprobe there would crash the traced process; ${hint}; or pass unsafeOffset: true if you know better`);
    this.binary = binary;
    this.symbol = symbol;
    this.offset = offset;
    this.nearest = nearest;
  }
}
