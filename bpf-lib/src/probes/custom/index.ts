/* Your own BPF C: `bpf.c` in a cell, `bpf.compile(code, options)`, `bpf.file(path)`. */
import { InvalidArgumentError } from "../../errors.js";
import { BpfCProgram } from "./program.js";
import type { BpfCOptions, CustomTypes } from "./types.js";
import type { CompileOptions } from "./compile.js";

type Interpolated = string | number | bigint | boolean;

/**
 * BPF C, compiled against this kernel (CO-RE) with bpfbook.h, cached by content.
 * In the notebook, a template without `${}` is typed from the compiled object: its
 * rings, maps, histograms and globals are checked in the cells that follow.
 */
function c<T extends CustomTypes = CustomTypes>(strings: TemplateStringsArray, ...values: Interpolated[]): Promise<BpfCProgram<T>> {
  if (!Array.isArray(strings) || !("raw" in strings)) throw new InvalidArgumentError("bpf.c is a template tag: bpf.c`...C...` (for a string, use bpf.compile(code))");
  let code = strings.raw[0]!;
  values.forEach((v, i) => {
    if (!["string", "number", "bigint", "boolean"].includes(typeof v)) throw new InvalidArgumentError(`bpf.c: \${} value ${i + 1} is ${v === null ? "null" : typeof v}; only strings, numbers, bigints and booleans go into C (globals set with prog.set() or bpf.compile(code, { globals }))`);
    code += String(typeof v === "boolean" ? Number(v) : v) + strings.raw[i + 1]!;
  });
  return BpfCProgram.compile<T>(code);
}

export const bpf = {
  c,
  /** BPF C from a string, with options: a name, the first line (for messages), globals, ring sizes, includes, defines. */
  compile: <T extends CustomTypes = CustomTypes>(code: string, options?: BpfCOptions): Promise<BpfCProgram<T>> => BpfCProgram.compile<T>(code, options),
  /** A `.bpf.c` file (relative to the notebook's directory); its directory is searched for `#include "..."`. */
  /** An object compiled before (`.bpf.o`, with BTF): CO-RE relocates it to this kernel at load. */
  object: <T extends CustomTypes = CustomTypes>(path: string, options?: Omit<BpfCOptions, keyof CompileOptions>): BpfCProgram<T> => BpfCProgram.open<T>(path, options),
  file: <T extends CustomTypes = CustomTypes>(path: string, options?: Omit<BpfCOptions, "sourceName" | "firstLine">): Promise<BpfCProgram<T>> => BpfCProgram.file<T>(path, options),
};

export { BpfCProgram } from "./program.js";
export type { RunOptions } from "./program.js";
export { CustomEvents } from "./events.js";
export { CustomMap } from "./map.js";
export type { RowArg, MapTableOptions } from "./map.js";
export type { CustomTypes, BpfCOptions, AttachOptions, EventsOptions } from "./types.js";
export { compileBpf, compileBpfFile, findClang, vmlinuxHeader, cacheDir } from "./compile.js";
export type { CompileOptions, CompiledObject } from "./compile.js";
export { CompileError, CompilerMissingError, CustomVerifierError } from "./errors.js";
export type { Diagnostic } from "./errors.js";
export { bpfTypeText, bpfFileTypeText } from "./typegen.js";
