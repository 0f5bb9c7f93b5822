/* Separate debug files: distributions strip .symtab from libraries and ship it in
 * packages (libc6-dbg, *-dbgsym) under /usr/lib/debug/.build-id/xx/yyyy.debug, found by
 * the file's GNU build id. Their symbol addresses are the stripped file's, so a frame
 * that the stripped file names only as "libc.so.6+0x27249" gets its local function
 * name (__libc_start_call_main), as bpftrace and perf show it. */
import { closeSync, openSync, readSync } from "node:fs";
import { openElf, type ElfFile } from "./elf.js";

const NT_GNU_BUILD_ID = 3;
const DEBUG_ROOT = "/usr/lib/debug";

/** The GNU build id of an ELF file (hex), from its .note.gnu.build-id section, or null. */
export function buildId(elf: ElfFile): string | null {
  const s = elf.sections.find((x) => x.name === ".note.gnu.build-id");
  if (!s || s.size < 16 || s.size > 4096) return null;
  let fd = -1;
  try {
    fd = openSync(elf.path, "r");
    const b = Buffer.alloc(s.size);
    if (readSync(fd, b, 0, s.size, s.offset) < s.size) return null;
    // Elf64_Nhdr: namesz, descsz, type, then the name ("GNU\0") and the descriptor, 4-aligned
    const namesz = b.readUInt32LE(0), descsz = b.readUInt32LE(4), type = b.readUInt32LE(8);
    const desc = 12 + Math.ceil(namesz / 4) * 4;
    if (type !== NT_GNU_BUILD_ID || desc + descsz > b.length || descsz === 0) return null;
    return b.toString("hex", desc, desc + descsz);
  } catch {
    return null;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** The installed debug file of a stripped ELF file (one without .symtab), or null. */
export function debugFileFor(elf: ElfFile, root = DEBUG_ROOT): ElfFile | null {
  if (elf.hasSymtab) return null;
  const id = buildId(elf);
  if (!id || id.length < 4) return null;
  try {
    const dbg = openElf(`${root}/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`);
    return dbg.hasSymtab ? dbg : null;
  } catch {
    return null; // no debug package installed: the file's own symbols it is
  }
}
