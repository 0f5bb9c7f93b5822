/* Where instructions start inside a function, so a uprobe is only ever placed on
 * one. The kernel writes an int3 over the byte at the probe's offset and then
 * single-steps the original instruction from there; an offset in the middle of an
 * instruction makes the process execute garbage and die (SIGSEGV/SIGILL), in every
 * process that runs the function when no pid filter narrows it.
 *
 * x86-64 instructions are 1 to 15 bytes long, so the boundaries are found by
 * decoding forward from the function's first byte (a linear sweep, as bpftrace
 * does before placing an offset probe). The decoder is iced-x86 (Rust compiled to
 * WebAssembly, MIT, from the npm registry): it knows every encoding compilers emit,
 * including VEX/EVEX, and reports bytes it cannot decode, after which nothing is
 * proven. It is loaded only when an offset other than 0 is asked for. */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { createRequire } from "node:module";
import type { ElfFile, ElfSymbol } from "./elf.js";
import { UnsafeOffsetError } from "./errors.js";

type Iced = typeof import("iced-x86");
let iced: Iced | undefined;
function loadIced(): Iced {
  iced ??= createRequire(import.meta.url)("iced-x86") as Iced;
  return iced;
}

export const EM_X86_64 = 62;

export interface Instruction {
  /** Bytes from the function's start. */
  offset: number;
  length: number;
  /** Intel syntax, as objdump -M intel would print it. */
  text: string;
}

export interface FunctionCode {
  instructions: Instruction[];
  /** Offset of the first byte that did not decode (data, or an encoding unknown to the decoder), or -1. */
  undecodedAt: number;
}

/** The bytes of a function, read from its ELF file (`symbol.fileOffset`, `symbol.size` bytes). */
export function functionBytes(path: string, symbol: ElfSymbol): Uint8Array {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${path} is not a regular file`);
    const b = Buffer.alloc(symbol.size);
    let n = 0;
    while (n < b.length) {
      const r = readSync(fd, b, n, b.length - n, symbol.fileOffset + n);
      if (r <= 0) break;
      n += r;
    }
    return new Uint8Array(b.buffer, b.byteOffset, n);
  } finally {
    closeSync(fd);
  }
}

/** Decodes x86-64 code that starts at virtual address `vaddr`. */
export function decodeX86_64(code: Uint8Array, vaddr: number): FunctionCode {
  const { Decoder, DecoderOptions, Formatter, FormatterSyntax } = loadIced();
  const decoder = new Decoder(64, code, DecoderOptions.None);
  const formatter = new Formatter(FormatterSyntax.Intel);
  const instructions: Instruction[] = [];
  let undecodedAt = -1;
  try {
    decoder.ip = BigInt(vaddr);
    let offset = 0;
    while (decoder.canDecode) {
      const ins = decoder.decode();
      try {
        // An instruction cut by the end of the function also decodes as invalid.
        if (ins.isInvalid) {
          undecodedAt = offset;
          break;
        }
        instructions.push({ offset, length: ins.length, text: formatter.format(ins) });
        offset += ins.length;
      } finally {
        ins.free();
      }
    }
  } finally {
    decoder.free();
    formatter.free();
  }
  return { instructions, undecodedAt };
}

/** A function's instructions, decoded from its file. Only x86-64 is known. */
export function functionInstructions(elf: ElfFile, symbol: ElfSymbol): FunctionCode | null {
  if (elf.machine !== EM_X86_64 || symbol.size <= 0 || symbol.fileOffset < 0) return null;
  return decodeX86_64(functionBytes(elf.path, symbol), symbol.value);
}

/**
 * Throws UnsafeOffsetError unless `offset` starts an instruction of the function,
 * as decoded from its first byte. Offset 0 needs no proof.
 */
export function requireInstructionStart(elf: ElfFile, symbol: ElfSymbol, offset: number): void {
  if (offset === 0) return;
  const fail = (why: string, starts: readonly number[]) => {
    const nearest = [...starts].sort((a, b) => Math.abs(a - offset) - Math.abs(b - offset) || a - b).slice(0, 2).sort((a, b) => a - b);
    throw new UnsafeOffsetError(elf.path, symbol.name, offset, why, nearest);
  };
  if (elf.machine !== EM_X86_64) fail(`cannot be checked (bpfbook decodes x86-64 only; this file's ELF machine is ${elf.machine})`, []);
  if (symbol.size <= 0) fail("cannot be checked (the symbol has no size, so its code cannot be decoded)", []);
  const code = functionInstructions(elf, symbol);
  if (!code) fail("cannot be checked", []);
  const { instructions, undecodedAt } = code!;
  const starts = instructions.map((i) => i.offset);
  if (starts.includes(offset)) return;
  const inside = instructions.find((i) => offset > i.offset && offset < i.offset + i.length);
  if (inside) fail(`is inside the instruction "${inside.text}" at offset ${inside.offset} (${inside.length} bytes)`, starts);
  fail(`lies past the decodable code of the function (bytes from offset ${undecodedAt} do not decode as instructions)`, starts);
}
