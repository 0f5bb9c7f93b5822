/* User-space addresses to function names: a process's executable mappings
 * (/proc/PID/maps, read while it is alive), the ELF symbol tables of the mapped
 * files (or of their installed debug files, debuginfo.ts) (an address's file offset is address − mapping start + mapping offset, then
 * the ELF's PT_LOAD segments give the virtual address its symbols use: this covers
 * PIE executables and shared libraries, whatever the load bias), the vDSO (read
 * from this process: every process maps the same image), and JIT perf maps
 * (/tmp/perf-PID.map, written by node --perf-basic-prof, the JVM's agents, ...). */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { basename } from "node:path";
import { ElfFile, openElf } from "./elf.js";
import { processUids, readTrustedFile } from "./trusted-file.js";
import { debugFileFor } from "./debuginfo.js";

export interface MapEntry {
  start: number;
  end: number;
  perms: string;
  /** File offset of `start`. */
  offset: number;
  inode: number;
  /** The file, or a pseudo name ("[vdso]", "[heap]"), or "" for anonymous memory. */
  path: string;
}

/** Parses /proc/PID/maps text; keeps executable mappings, sorted by address. */
export function parseMaps(text: string): MapEntry[] {
  const out: MapEntry[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+([0-9a-f]+)\s+\S+\s+(\d+)\s*(.*)$/.exec(line);
    if (!m || !m[3].includes("x")) continue;
    out.push({ start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], offset: parseInt(m[4], 16), inode: Number(m[5]), path: m[6].trim() });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** The executable mappings of a live process, or null once it is gone (or not readable; a zombie's maps are empty). */
export function readMaps(pid: number): MapEntry[] | null {
  try {
    const maps = parseMaps(readFileSync(`/proc/${pid}/maps`, "utf8"));
    return maps.length ? maps : null;
  } catch {
    return null;
  }
}

interface PerfMap {
  starts: number[];
  ends: number[];
  names: string[];
}

const warned = new Set<string>();

/**
 * /tmp/perf-PID.map: "START SIZE name" lines (hex), as JITs write them. Read only
 * if it is a regular file of the process's user or root (trusted-file.ts); otherwise
 * skipped with a BPFBOOK_PERF_MAP_SKIPPED warning (once per file and reason).
 */
export function readPerfMap(pid: number, uids: readonly number[] | (() => readonly number[]) = () => processUids(pid)): PerfMap | null {
  const path = `/tmp/perf-${pid}.map`;
  const r = readTrustedFile(path, uids);
  if ("skipped" in r) {
    if (r.skipped !== "missing" && !warned.has(`${path}: ${r.skipped}`)) {
      warned.add(`${path}: ${r.skipped}`);
      process.emitWarning(`${path} was not read: ${r.skipped}; JIT frames of process ${pid} stay unnamed`, { code: "BPFBOOK_PERF_MAP_SKIPPED" });
    }
    return null;
  }
  const text = r.text;
  const rows: [number, number, string][] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-fA-F]+)\s+([0-9a-fA-F]+)\s+(.+)$/.exec(line);
    if (m) rows.push([parseInt(m[1], 16), parseInt(m[2], 16), m[3]]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  return { starts: rows.map((r) => r[0]), ends: rows.map((r) => r[0] + r[1]), names: rows.map((r) => r[2]) };
}

let vdso: ElfFile | null | undefined;
/** The vDSO image, copied out of this process's memory (the same image every process maps). */
export function vdsoElf(): ElfFile | null {
  if (vdso !== undefined) return vdso;
  vdso = null;
  try {
    const line = readFileSync("/proc/self/maps", "utf8").split("\n").find((l) => l.endsWith("[vdso]"));
    const m = line && /^([0-9a-f]+)-([0-9a-f]+)/.exec(line);
    if (m) {
      const start = parseInt(m[1], 16), len = parseInt(m[2], 16) - start;
      const fd = openSync("/proc/self/mem", "r");
      try {
        const b = Buffer.alloc(len);
        readSync(fd, b, 0, len, start);
        vdso = ElfFile.fromBuffer("[vdso]", b);
      } finally {
        closeSync(fd);
      }
    }
  } catch {
    // no vDSO names then
  }
  return vdso;
}

export interface ProcessImage {
  pid: number;
  maps: MapEntry[] | null;
  perfMap: PerfMap | null;
}

/** What is needed to name a process's addresses later: read it while the process lives. */
export function snapshotProcess(pid: number): ProcessImage {
  return { pid, maps: readMaps(pid), perfMap: readPerfMap(pid) };
}

function findMapping(maps: MapEntry[], addr: number): MapEntry | null {
  let a = 0, b = maps.length - 1;
  while (a <= b) {
    const mid = (a + b) >> 1;
    const m = maps[mid];
    if (addr < m.start) b = mid - 1;
    else if (addr >= m.end) a = mid + 1;
    else return m;
  }
  return null;
}

/** Names user-space addresses of processes, caching the ELF files it reads. */
export class UserSymbolizer {
  readonly #elves = new Map<string, ElfFile | null>();
  readonly #debug = new Map<ElfFile, ElfFile | null>();
  /** Files that could not be read (path → reason), for the profile's notes. */
  readonly unreadable = new Map<string, string>();

  #elf(path: string, pid: number): ElfFile | null {
    const clean = path.replace(/ \(deleted\)$/, "");
    if (this.#elves.has(clean)) return this.#elves.get(clean)!;
    let elf: ElfFile | null = null;
    for (const p of [clean, `/proc/${pid}/root${clean}`]) {
      try {
        elf = openElf(p);
        break;
      } catch (e) {
        this.unreadable.set(clean, (e as Error).message);
      }
    }
    if (elf) this.unreadable.delete(clean);
    this.#elves.set(clean, elf);
    return elf;
  }

  /**
   * The frame name of `addr` in process `img`: the function, else `module+0xVADDR`,
   * else `0xADDR`; "[unknown]" when the process's mappings are known and no executable
   * one holds the address (a frame-pointer walk through code built without frame
   * pointers reads garbage "return addresses"). `returnAddress`: the address follows
   * a call (every frame but the leaf), so the call itself is at addr − 1, which may
   * belong to another function.
   */
  symbolize(img: ProcessImage | null, addr: number, returnAddress: boolean): string {
    const at = returnAddress ? addr - 1 : addr;
    const m = img?.maps ? findMapping(img.maps, at) : null;
    if (m) {
      if (m.path.startsWith("/")) {
        const fileOff = at - m.start + m.offset;
        const elf = this.#elf(m.path, img!.pid);
        const v = elf ? elf.vaddrOf(fileOff) : -1;
        const vaddr = v >= 0 ? v : fileOff;
        let dbg = elf ? this.#debug.get(elf) : null;
        if (elf && dbg === undefined) this.#debug.set(elf, (dbg = debugFileFor(elf)));
        // a stripped library's local functions are only in its debug file
        const s = dbg?.symbolize(vaddr) ?? elf?.symbolize(vaddr);
        return s ? s.name : `${basename(m.path.replace(/ \(deleted\)$/, ""))}+0x${vaddr.toString(16)}`;
      }
      if (m.path === "[vdso]") {
        const elf = vdsoElf();
        const off = at - m.start;
        const v = elf ? elf.vaddrOf(off) : -1;
        const s = elf?.symbolize(v >= 0 ? v : off);
        return s ? s.name : `[vdso]+0x${off.toString(16)}`;
      }
    }
    const pm = img?.perfMap;
    if (pm) {
      let a = 0, b = pm.starts.length - 1, i = -1;
      while (a <= b) {
        const mid = (a + b) >> 1;
        if (pm.starts[mid] <= at) {
          i = mid;
          a = mid + 1;
        } else {
          b = mid - 1;
        }
      }
      if (i >= 0 && at < pm.ends[i]) return pm.names[i];
    }
    if (img?.maps && !m) return "[unknown]";
    return `0x${addr.toString(16)}`;
  }
}
