/* Names to places: "libc" or "c" to /lib/x86_64-linux-gnu/libc.so.6, "bash" to
 * /usr/bin/bash, and a function name to the file offset a uprobe attaches at. */
import { accessSync, constants, existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { basename, delimiter, join, resolve as resolvePath } from "node:path";
import { InvalidArgumentError } from "../errors.js";
import { editDistance, nearest } from "../tracefs/nearest.js";
import { openElf, type ElfSymbol } from "./elf.js";
import { BinaryNotFoundError, UnknownSymbolError } from "./errors.js";

const LIB_DIRS = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib"];

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** What a library name matches: "c", "libc", "libc.so" and "libc.so.6" all match libc.so.6 (and libc-2.36.so), not libcap.so. */
function libraryPattern(name: string): RegExp {
  if (/\.so(\.|$)/.test(name)) return new RegExp(`^${escapeRe(name)}(\\.[\\d.]+)?$`);
  const base = name.startsWith("lib") ? name : `lib${name}`;
  return new RegExp(`^${escapeRe(base)}(-[\\d.]+)?\\.so(\\.[\\d.]+)?$`);
}

/** Files mapped by a process (from /proc/PID/maps), in order of first appearance. */
export function mappedFiles(pid: number | "self"): string[] {
  let text = "";
  try {
    text = readFileSync(`/proc/${pid}/maps`, "utf8");
  } catch {
    return [];
  }
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\/.*)$/.exec(line);
    if (m && !m[1].endsWith(" (deleted)")) out.add(m[1]);
  }
  return [...out];
}

let ldCache: { name: string; path: string; x86_64: boolean }[] | null = null;
function ldconfigEntries(): { name: string; path: string; x86_64: boolean }[] {
  if (ldCache) return ldCache;
  ldCache = [];
  for (const ldconfig of ["/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"]) {
    try {
      const out = execFileSync(ldconfig, ["-p"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      for (const line of out.split("\n")) {
        const m = /^\s+(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)$/.exec(line);
        if (m) ldCache.push({ name: m[1], path: m[3], x86_64: /x86-64/.test(m[2]) });
      }
      break;
    } catch {
      // try the next location
    }
  }
  return ldCache;
}

function findLibrary(name: string, pid: number | undefined): { path: string | null; searched: string[] } {
  const re = libraryPattern(name);
  const searched: string[] = [];
  for (const who of [...(pid !== undefined ? [pid] : []), "self" as const]) {
    searched.push(`/proc/${who}/maps`);
    const hit = mappedFiles(who).find((p) => re.test(basename(p)));
    if (hit) return { path: hit, searched };
  }
  searched.push("ldconfig -p");
  const ld = ldconfigEntries().filter((e) => re.test(e.name)).sort((a, b) => Number(b.x86_64) - Number(a.x86_64));
  for (const e of ld) if (existsSync(e.path)) return { path: e.path, searched };
  for (const dir of LIB_DIRS) {
    searched.push(dir);
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    const hit = names.filter((n) => re.test(n)).sort((a, b) => a.length - b.length)[0];
    if (hit) return { path: join(dir, hit), searched };
  }
  return { path: null, searched };
}

function findExecutable(name: string): string | null {
  for (const dir of (process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      if (statSync(p).isFile()) {
        accessSync(p, constants.X_OK);
        return p;
      }
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * The file a binary name means: a path (anything with a "/"), an executable on PATH
 * ("bash"), or a library ("c", "libc", "libc.so.6", "pthread"), looked up in the
 * target process's mappings (when `pid` is given), this process's, `ldconfig -p`,
 * then the standard library directories. Returns a canonical path.
 */
export function resolveBinary(name: string, opts: { pid?: number } = {}): string {
  if (typeof name !== "string" || name === "") throw new InvalidArgumentError("the binary must be a path, an executable name or a library name like \"libc\"");
  const canonical = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  if (name.includes("/")) {
    const p = resolvePath(name);
    if (!existsSync(p)) throw new BinaryNotFoundError(name, `${p} does not exist`);
    return canonical(p);
  }
  const libLike = name.startsWith("lib") || /\.so(\.|$)/.test(name);
  if (!libLike) {
    const exe = findExecutable(name);
    if (exe) return canonical(exe);
  }
  const lib = findLibrary(name, opts.pid);
  if (lib.path) return canonical(lib.path);
  throw new BinaryNotFoundError(name, `no executable of that name on PATH${libLike ? " (not searched: it looks like a library)" : ""}, and no library matching ${libraryPattern(name)} in ${lib.searched.join(", ")}`);
}

/** Up to n function names close to `name`: typos first, then names containing it, then the least different. */
export function nearestSymbols(name: string, names: Iterable<string>, n = 5): string[] {
  const all = [...new Set(names)];
  const close = nearest(name, all, n);
  if (close.length >= n) return close;
  const lower = name.toLowerCase();
  const containing = lower.length >= 3 ? all.filter((s) => s.toLowerCase().includes(lower)).sort((a, b) => a.length - b.length) : [];
  const out = [...close];
  for (const s of containing) if (out.length < n && !out.includes(s)) out.push(s);
  if (out.length < n) {
    const scored = all.map((s) => [s, editDistance(lower, s.toLowerCase())] as const).sort((a, b) => a[1] - b[1] || a[0].length - b[0].length);
    for (const [s] of scored) {
      if (out.length >= n) break;
      if (!out.includes(s)) out.push(s);
    }
  }
  return out;
}

export interface ResolvedFunction {
  /** Canonical path of the binary. */
  path: string;
  symbol: ElfSymbol;
  /** Where the uprobe goes: the function's file offset plus the requested offset into it. */
  fileOffset: number;
}

/**
 * A function of an ELF file by name: its symbol and file offset. Throws
 * UnknownSymbolError (with the nearest names), NotElfError, BinaryNotFoundError,
 * PermissionError.
 */
export function resolveFunction(path: string, symbol: string, offset = 0): ResolvedFunction {
  const elf = openElf(path);
  const found = elf.lookup(symbol);
  if (found.length === 0) {
    const names = elf.functions().map((s) => s.name);
    throw new UnknownSymbolError(path, symbol, nearestSymbols(symbol, names), elf.hasSymtab ? "" : "only exported (.dynsym) functions are visible: the binary is stripped");
  }
  // The default version of a versioned symbol (what programs linked today call), then exported over local.
  const rank = (s: ElfSymbol) => (s.fileOffset < 0 ? 100 : 0) + (s.oldVersion ? 10 : 0) + (s.binding === "local" ? 1 : 0);
  const sym = [...found].sort((a, b) => rank(a) - rank(b))[0];
  if (sym.kind === "ifunc") {
    const impls = elf.functions().filter((s) => s.kind === "func" && !s.oldVersion && (s.name.startsWith(`__${symbol}_`) || s.name.startsWith(`${symbol}_`))).map((s) => s.name);
    const hint = impls.length
      ? `probe an implementation instead: ${[...new Set(impls)].sort((a, b) => a.length - b.length).slice(0, 6).join(", ")}`
      : `its implementations (like __${symbol}_avx2) are local symbols that this ${elf.hasSymtab ? "binary does not have" : "stripped binary left out: install its debug symbols, or probe a caller"}`;
    throw new InvalidArgumentError(`${symbol} in ${path} is a GNU indirect function (ifunc): its symbol is the resolver that picks an implementation once, at load time, not the code each call runs; ${hint}`);
  }
  if (sym.fileOffset < 0) throw new InvalidArgumentError(`${symbol} in ${path} is at 0x${sym.value.toString(16)}, which no loaded segment of the file holds`);
  if (!Number.isInteger(offset) || offset < 0 || (sym.size > 0 && offset >= sym.size)) {
    throw new InvalidArgumentError(`offset ${offset} is outside ${symbol} (${sym.size} bytes)`);
  }
  return { path, symbol: sym, fileOffset: sym.fileOffset + offset };
}
