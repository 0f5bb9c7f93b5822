/* A small ELF64 (little-endian) reader: program headers (to turn file offsets into
 * virtual addresses and back), section headers, and the function symbols of
 * .symtab and .dynsym. Enough to place a uprobe on a function (its file offset) and
 * to name an address in a stack. Reads only the headers and symbol tables, never
 * the whole file, so a 100 MB binary costs what its symbol table costs. */
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { PermissionError } from "../errors.js";
import { BinaryNotFoundError, NotElfError } from "./errors.js";

export const ElfType = { none: 0, rel: 1, exec: 2, dyn: 3, core: 4 } as const;
const PT_LOAD = 1;
const SHT_SYMTAB = 2, SHT_NOBITS = 8, SHT_DYNSYM = 11, SHT_GNU_VERSYM = 0x6fffffff;
const STT_FUNC = 2, STT_GNU_IFUNC = 10;
const STB_LOCAL = 0, STB_GLOBAL = 1, STB_WEAK = 2;

export interface ElfSegment {
  type: number;
  /** PF_X = 1, PF_W = 2, PF_R = 4 */
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export interface ElfSection {
  name: string;
  type: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

export interface ElfSymbol {
  name: string;
  /** Virtual address (st_value). */
  value: number;
  size: number;
  /** "ifunc": a GNU indirect function, i.e. the resolver that picks the implementation at load. */
  kind: "func" | "ifunc";
  binding: "local" | "global" | "weak";
  /** Where the first instruction lies in the file (what a uprobe attaches at), or -1 if in no loaded segment. */
  fileOffset: number;
  table: "symtab" | "dynsym";
  /** A non-default symbol version (memcpy@GLIBC_2.2.5 next to memcpy@@GLIBC_2.14): kept for old binaries, not what new ones call. */
  oldVersion?: true;
}

function fail(path: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR") throw new BinaryNotFoundError(path, "no such file");
  if (code === "EACCES" || code === "EPERM") throw new PermissionError(`cannot read ${path} (${code}): reading its symbols needs read permission on the file; run as root or make it readable`, { errno: code === "EACCES" ? 13 : 1 });
  if (code === "EISDIR") throw new NotElfError(path, "it is a directory");
  throw e;
}

export class ElfFile {
  readonly path: string;
  readonly type: number;
  readonly machine: number;
  readonly segments: readonly ElfSegment[];
  readonly sections: readonly ElfSection[];
  #symbols: ElfSymbol[] | null = null;
  #sorted: ElfSymbol[] | null = null;
  #byName: Map<string, ElfSymbol[]> | null = null;

  private constructor(path: string, type: number, machine: number, segments: ElfSegment[], sections: ElfSection[]) {
    this.path = path;
    this.type = type;
    this.machine = machine;
    this.segments = segments;
    this.sections = sections;
  }

  /** Reads the headers of an ELF file. Throws BinaryNotFoundError, NotElfError or PermissionError. */
  static open(path: string): ElfFile {
    let fd: number;
    try {
      // O_NONBLOCK: a FIFO swapped in for a mapped file must not hang us (it is refused below)
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      fail(path, e);
    }
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw new NotElfError(path, "it is a directory");
      if (!st.isFile()) throw new NotElfError(path, "it is not a regular file");
      return ElfFile.#parse(path, st.size, (b, offset) => readSync(fd, b, 0, b.length, offset));
    } finally {
      closeSync(fd);
    }
  }

  /** Parses an ELF image already in memory (the vDSO, copied out of a process). */
  static fromBuffer(name: string, image: Uint8Array): ElfFile {
    const src = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
    return ElfFile.#parse(name, src.length, (b, offset) => src.copy(b, 0, offset, Math.min(src.length, offset + b.length)));
  }

  static #parse(path: string, fileSize: number, readInto: (b: Buffer, offset: number) => number): ElfFile {
    const read = (offset: number, length: number): Buffer => {
      const b = Buffer.alloc(length);
      if (offset + length > fileSize || readInto(b, offset) < length) throw new NotElfError(path, `truncated: wanted ${length} bytes at offset ${offset}, the file has ${fileSize}`);
      return b;
    };
    const magic = fileSize >= 4 ? read(0, 4).readUInt32BE(0) : 0;
    if (magic !== 0x7f454c46) throw new NotElfError(path, fileSize === 0 ? "it is empty" : "no ELF magic (\\x7fELF) at its start");
    if (fileSize < 64) throw new NotElfError(path, `only ${fileSize} bytes long`);
    const h = read(0, 64);
    if (h[4] !== 2) throw new NotElfError(path, h[4] === 1 ? "32-bit ELF files are not supported" : `unknown ELF class ${h[4]}`);
    if (h[5] !== 1) throw new NotElfError(path, "big-endian ELF files are not supported");
    const num = (b: Buffer, at: number) => Number(b.readBigUInt64LE(at));
    const type = h.readUInt16LE(16), machine = h.readUInt16LE(18);
    const phoff = num(h, 32), shoff = num(h, 40);
    const phentsize = h.readUInt16LE(54), phnum = h.readUInt16LE(56);
    const shentsize = h.readUInt16LE(58);
    let shnum = h.readUInt16LE(60), shstrndx = h.readUInt16LE(62);

    const segments: ElfSegment[] = [];
    if (phoff && phnum) {
      if (phentsize < 56) throw new NotElfError(path, `program header entries of ${phentsize} bytes`);
      const ph = read(phoff, phentsize * phnum);
      for (let i = 0; i < phnum; i++) {
        const o = i * phentsize;
        segments.push({ type: ph.readUInt32LE(o), flags: ph.readUInt32LE(o + 4), offset: num(ph, o + 8), vaddr: num(ph, o + 16), filesz: num(ph, o + 32), memsz: num(ph, o + 40) });
      }
    }

    const sections: ElfSection[] = [];
    if (shoff && shentsize >= 64 && shoff < fileSize) {
      if (shnum === 0) shnum = read(shoff, 64).readUInt32LE(32); // extended numbering: the count is in section 0's sh_size
      const sh = read(shoff, shentsize * shnum);
      if (shstrndx === 0xffff) shstrndx = sh.readUInt32LE(40); // SHN_XINDEX: in section 0's sh_link
      const raw = [];
      for (let i = 0; i < shnum; i++) {
        const o = i * shentsize;
        raw.push({ nameOff: sh.readUInt32LE(o), type: sh.readUInt32LE(o + 4), addr: num(sh, o + 16), offset: num(sh, o + 24), size: num(sh, o + 32), link: sh.readUInt32LE(o + 40), entsize: num(sh, o + 56) });
      }
      const strs = shstrndx < raw.length && raw[shstrndx].type !== SHT_NOBITS ? read(raw[shstrndx].offset, raw[shstrndx].size) : Buffer.alloc(0);
      for (const r of raw) {
        const end = strs.indexOf(0, r.nameOff);
        sections.push({ name: r.nameOff < strs.length ? strs.toString("latin1", r.nameOff, end < 0 ? strs.length : end) : "", type: r.type, addr: r.addr, offset: r.offset, size: r.size, link: r.link, entsize: r.entsize });
      }
    }
    const elf = new ElfFile(path, type, machine, segments, sections);
    elf.#load = read;
    try {
      elf.#readSymbols();
    } finally {
      elf.#load = null;
    }
    return elf;
  }

  #load: ((offset: number, length: number) => Buffer) | null = null;

  #readSymbols(): void {
    const out: ElfSymbol[] = [];
    for (const [index, s] of this.sections.entries()) {
      if (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) continue;
      const vs = s.type === SHT_DYNSYM ? this.sections.find((x) => x.type === SHT_GNU_VERSYM && x.link === index) : undefined;
      const versym = vs && vs.size ? this.#load!(vs.offset, vs.size) : null;
      const strtab = this.sections[s.link];
      if (!strtab || strtab.type === SHT_NOBITS || s.size === 0) continue;
      const ent = s.entsize || 24;
      const data = this.#load!(s.offset, s.size);
      const strs = this.#load!(strtab.offset, strtab.size);
      const table = s.type === SHT_SYMTAB ? "symtab" : "dynsym";
      for (let o = ent; o + 24 <= data.length; o += ent) { // entry 0 is the null symbol
        const info = data[o + 4];
        const t = info & 0xf, bind = info >> 4;
        if (t !== STT_FUNC && t !== STT_GNU_IFUNC) continue;
        if (data.readUInt16LE(o + 6) === 0) continue; // SHN_UNDEF: imported, defined elsewhere
        const value = Number(data.readBigUInt64LE(o + 8));
        if (value === 0) continue;
        const nameOff = data.readUInt32LE(o);
        const end = strs.indexOf(0, nameOff);
        const name = strs.toString("utf8", nameOff, end < 0 ? strs.length : end);
        if (!name) continue;
        const i = o / ent;
        const old = versym !== null && i * 2 + 2 <= versym.length && (versym.readUInt16LE(i * 2) & 0x8000) !== 0;
        out.push({
          name, value, size: Number(data.readBigUInt64LE(o + 16)), kind: t === STT_FUNC ? "func" : "ifunc",
          binding: bind === STB_LOCAL ? "local" : bind === STB_WEAK ? "weak" : bind === STB_GLOBAL ? "global" : "global",
          fileOffset: this.fileOffsetOf(value), table, ...(old ? { oldVersion: true as const } : {}),
        });
      }
    }
    // .symtab and .dynsym repeat each other's exported functions: keep one of each (name, address).
    const seen = new Set<string>();
    this.#symbols = out.filter((s) => {
      const k = `${s.name}@${s.value}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }

  /** Whether the file still has its full symbol table (.symtab), not only the exported .dynsym. */
  get hasSymtab(): boolean {
    return this.sections.some((s) => s.type === SHT_SYMTAB);
  }

  /** Every defined function symbol (functions and GNU ifunc resolvers). */
  functions(): readonly ElfSymbol[] {
    return this.#symbols!;
  }

  /** The function symbols called `name` (aliases in .symtab and .dynsym are one entry per address). */
  lookup(name: string): ElfSymbol[] {
    if (!this.#byName) {
      this.#byName = new Map();
      for (const s of this.#symbols!) {
        const l = this.#byName.get(s.name);
        if (l) l.push(s);
        else this.#byName.set(s.name, [s]);
      }
    }
    return this.#byName.get(name) ?? [];
  }

  /** The file offset holding virtual address `vaddr`, or -1 if no loaded segment maps it from the file. */
  fileOffsetOf(vaddr: number): number {
    for (const p of this.segments) {
      if (p.type === PT_LOAD && vaddr >= p.vaddr && vaddr < p.vaddr + p.filesz) return vaddr - p.vaddr + p.offset;
    }
    // Relocatable objects and odd files: fall back to the section that holds it.
    for (const s of this.sections) {
      if (s.addr && s.type !== SHT_NOBITS && vaddr >= s.addr && vaddr < s.addr + s.size) return vaddr - s.addr + s.offset;
    }
    return -1;
  }

  /** The virtual address a file offset is loaded at (per the PT_LOAD segments), or -1. */
  vaddrOf(fileOffset: number): number {
    for (const p of this.segments) {
      if (p.type === PT_LOAD && fileOffset >= p.offset && fileOffset < p.offset + p.filesz) return fileOffset - p.offset + p.vaddr;
    }
    return -1;
  }

  /** Function symbols sorted by address, one per address (the most telling alias). */
  #sortedSymbols(): ElfSymbol[] {
    if (this.#sorted) return this.#sorted;
    const rank = (s: ElfSymbol) => (s.binding === "global" ? 0 : s.binding === "weak" ? 1 : 2) + (/^_/.test(s.name) ? 3 : 0) + (/^__/.test(s.name) ? 3 : 0) + (s.oldVersion ? 10 : 0);
    const all = [...this.#symbols!].sort((a, b) => a.value - b.value || rank(a) - rank(b) || b.size - a.size);
    const out: ElfSymbol[] = [];
    for (const s of all) if (out.length === 0 || out[out.length - 1].value !== s.value) out.push(s);
    return (this.#sorted = out);
  }

  /** The function containing virtual address `vaddr`, with the offset into it; null when no symbol covers it. */
  symbolize(vaddr: number): { name: string; offset: number } | null {
    const syms = this.#sortedSymbols();
    let lo = 0, hi = syms.length - 1, at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (syms[mid].value <= vaddr) {
        at = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (at < 0) return null;
    const s = syms[at];
    // Sized symbols must contain the address; size-0 symbols (hand-written assembly) get the benefit of the doubt.
    if (s.size > 0 && vaddr >= s.value + s.size) return null;
    return { name: s.name, offset: vaddr - s.value };
  }
}

const cache = new Map<string, { key: string; elf: ElfFile }>();

/** ElfFile.open, cached per path while the file (device, inode, size, mtime) stays the same. */
export function openElf(path: string): ElfFile {
  let key = "";
  try {
    const st = statSync(path);
    key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch (e) {
    fail(path, e);
  }
  const hit = cache.get(path);
  if (hit && hit.key === key) return hit.elf;
  const elf = ElfFile.open(path);
  if (cache.size > 256) cache.delete(cache.keys().next().value!);
  cache.set(path, { key, elf });
  return elf;
}
