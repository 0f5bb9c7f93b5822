/* Compiles a user's BPF C with clang, against this kernel's vmlinux.h (CO-RE) and
 * bpfbook.h, into a cache keyed by everything that decides the object: the source,
 * the headers, the kernel's BTF, the compiler and its flags. Re-running a cell costs
 * a hash and a stat, not a compile. */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { packageRoot } from "../../paths.js";
import { InvalidArgumentError, NotSupportedError } from "../../errors.js";
import { CompileError, CompilerMissingError, type Diagnostic } from "./errors.js";

export interface CompileOptions {
  /** What the source is called in messages: a cell's name, a file name. Default "cell". */
  sourceName?: string;
  /** The line of the cell (or file) where the C starts, so messages and verifier errors give the cell's line numbers. Default 1. */
  firstLine?: number;
  /** Directories for `#include "..."` besides bpfbook's own (a `.bpf.c` file's directory is added for you). */
  includeDirs?: readonly string[];
  /** Preprocessor definitions (-DNAME=value). */
  defines?: Readonly<Record<string, string | number | boolean>>;
  /** Where compiled objects are kept. Default $BPFBOOK_CACHE, else $XDG_CACHE_HOME/bpfbook, else ~/.cache/bpfbook. */
  cacheDir?: string;
  /**
   * @internal The notebook compiles a cell's C before running it, for its types: the cell's
   * own compile then reports that compile (cached: false, its seconds), not a cache hit.
   */
  forTypes?: boolean;
}

export interface CompiledObject {
  /** The ELF object (BTF kept, DWARF stripped). */
  path: string;
  /** Content hash of everything that decided the object. */
  hash: string;
  /** Whether the object came from the cache (no compiler ran). */
  cached: boolean;
  /** Seconds the compiler took (0 when cached). */
  seconds: number;
  warnings: Diagnostic[];
  sourceName: string;
}

const ARCH: Record<string, string> = { x64: "x86", arm64: "arm64", s390x: "s390", ppc64: "powerpc", riscv64: "riscv" };
// -mcpu=v3 (kernels since 5.1): 32-bit atomics and jumps; clang 14 crashes on a used 32-bit
// __sync_fetch_and_add at the default v1
const FLAGS = ["-g", "-O2", "-target", "bpf", "-mcpu=v3", "-fno-color-diagnostics"];

/** The cache directory for compiled objects and generated headers. */
export function cacheDir(opt?: string): string {
  if (opt) return resolve(opt);
  if (process.env.BPFBOOK_CACHE) return resolve(process.env.BPFBOOK_CACHE);
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "bpfbook");
}

/** bpfbook's own headers (bpfbook.h). */
export function includeDir(): string {
  return join(packageRoot(), "bpf-lib", "include");
}

function run(cmd: string, args: readonly string[], maxBuffer = 64 << 20): Promise<{ code: number; stdout: string; stderr: string; spawnError?: NodeJS.ErrnoException }> {
  return new Promise((done) => {
    execFile(cmd, args, { maxBuffer, encoding: "utf8" }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      if (e && typeof e.code === "string") done({ code: -1, stdout, stderr, spawnError: e });
      else done({ code: e ? Number(e.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const clangs = new Map<string, Promise<{ path: string; version: string }>>();

/** The clang to use ($BPFBOOK_CLANG, else the first clang on PATH), and its version line. */
export function findClang(): Promise<{ path: string; version: string }> {
  const wanted = process.env.BPFBOOK_CLANG;
  const key = wanted ?? "";
  let found = clangs.get(key);
  if (found) return found;
  found = (async () => {
    const candidates = wanted ? [wanted] : ["clang", ...[19, 18, 17, 16, 15, 14, 13].map((v) => `clang-${v}`)];
    for (const c of candidates) {
      const path = c.includes("/") ? resolve(c) : (process.env.PATH ?? "").split(delimiter).filter(Boolean).map((d) => join(d, c)).find((p) => existsSync(p));
      if (!path || !existsSync(path)) continue;
      const r = await run(path, ["--version"]);
      if (r.code === 0) return { path, version: r.stdout.split("\n")[0]!.trim() };
      if (wanted) throw new CompilerMissingError(`BPFBOOK_CLANG=${wanted}`, `does not run (${r.spawnError?.code ?? `exit ${r.code}`})`);
    }
    throw new CompilerMissingError(wanted ? `BPFBOOK_CLANG=${wanted}` : "no clang", wanted ? "does not exist" : "is on PATH");
  })();
  clangs.set(key, found);
  // a later install is found without a restart
  found.catch(() => clangs.delete(key));
  return found;
}

/** Compiles the notebook made for a cell's types, reported by the cell's own compile (then forgotten). */
const compiledForTypes = new Map<string, { seconds: number; warnings: Diagnostic[] }>();

const sha = (...parts: (string | Uint8Array)[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex");
};

let vmlinuxDir: Promise<{ dir: string; hash: string }> | null = null;

/**
 * The directory holding this kernel's vmlinux.h, generated once per kernel BTF (by
 * bpftool) into the cache. Without bpftool, the one bpfbook was built with is used:
 * CO-RE relocates field offsets to this kernel at load either way.
 */
export function vmlinuxHeader(cache?: string): Promise<{ dir: string; hash: string }> {
  vmlinuxDir ??= (async () => {
    const btfPath = "/sys/kernel/btf/vmlinux";
    const built = join(packageRoot(), "bpf-lib", "build");
    if (!existsSync(btfPath)) {
      if (existsSync(join(built, "vmlinux.h"))) return { dir: built, hash: sha(readFileSync(join(built, "vmlinux.h"))).slice(0, 16) };
      throw new NotSupportedError("compiling BPF C", `${btfPath} is missing (the kernel needs CONFIG_DEBUG_INFO_BTF=y) and no vmlinux.h was built`);
    }
    const hash = sha(readFileSync(btfPath)).slice(0, 16);
    const dir = join(cacheDir(cache), "vmlinux", hash);
    const header = join(dir, "vmlinux.h");
    if (existsSync(header)) return { dir, hash };
    mkdirSync(dir, { recursive: true });
    const r = await run(process.env.BPFBOOK_BPFTOOL ?? "bpftool", ["btf", "dump", "file", btfPath, "format", "c"], 256 << 20);
    if (r.code !== 0) {
      if (existsSync(join(built, "vmlinux.h"))) return { dir: built, hash: sha(readFileSync(join(built, "vmlinux.h"))).slice(0, 16) };
      throw new NotSupportedError("compiling BPF C", `vmlinux.h could not be generated: bpftool ${r.spawnError ? "is not installed (`apt-get install bpftool`)" : `failed: ${r.stderr.trim().split("\n").pop()}`}`);
    }
    const tmp = `${header}.${process.pid}.tmp`;
    writeFileSync(tmp, r.stdout);
    renameSync(tmp, header);
    return { dir, hash };
  })();
  const p = vmlinuxDir;
  p.catch(() => { if (vmlinuxDir === p) vmlinuxDir = null; });
  return p;
}

/** `#include "x.h"` names of a source, to hash the local headers it uses. */
function localIncludes(code: string): string[] {
  return [...code.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)].map((m) => m[1]!).filter((n) => n !== "vmlinux.h" && !existsSync(join(includeDir(), n)));
}

function checkName(name: string): string {
  if (!/^[A-Za-z0-9_.\-/ ]{1,200}$/.test(name)) throw new InvalidArgumentError(`sourceName must be a plain name (letters, digits, _ . - /), got ${JSON.stringify(name)}`);
  return name;
}

/**
 * Compiles BPF C into an object file, or returns the cached one. Diagnostics name
 * `sourceName` and count lines from `firstLine`.
 */
export async function compileBpf(code: string, options: CompileOptions = {}): Promise<CompiledObject> {
  if (typeof code !== "string" || code.trim() === "") throw new InvalidArgumentError("bpf.c: the BPF C source is empty");
  const sourceName = checkName(options.sourceName ?? "cell");
  const firstLine = options.firstLine ?? 1;
  if (!Number.isInteger(firstLine) || firstLine < 1) throw new InvalidArgumentError(`firstLine must be a positive integer, got ${String(firstLine)}`);
  const clang = await findClang();
  const vmlinux = await vmlinuxHeader(options.cacheDir);
  const includes = [includeDir(), ...(options.includeDirs ?? []).map((d) => resolve(d))];
  const defines = Object.entries(options.defines ?? {}).map(([k, v]) => {
    if (!/^[A-Za-z_]\w*$/.test(k)) throw new InvalidArgumentError(`defines: ${JSON.stringify(k)} is not a C identifier`);
    return `-D${k}=${typeof v === "boolean" ? (v ? 1 : 0) : String(v)}`;
  });
  const arch = ARCH[process.arch];
  if (!arch) throw new NotSupportedError("compiling BPF C", `no BPF target architecture is known for ${process.arch}`);
  const args = [...FLAGS, `-D__TARGET_ARCH_${arch}`, ...defines, ...includes.map((d) => `-I${d}`), `-I${vmlinux.dir}`];
  // #line makes clang's messages and the BTF line info (which the verifier quotes) use the cell's own lines
  const text = `#line ${firstLine} "${sourceName}"\n${code}`;
  // every header of bpfbook's own (bpfbook.h includes the others), then the cell's local ones
  const headers = readdirSync(includeDir()).filter((f) => f.endsWith(".h")).sort().map((f) => readFileSync(join(includeDir(), f)));
  for (const inc of localIncludes(code)) {
    const found = includes.map((d) => join(d, inc)).find((p) => existsSync(p));
    if (found) headers.push(readFileSync(found));
  }
  const hash = sha(text, clang.version, vmlinux.hash, args.filter((a) => !a.startsWith(`-I${vmlinux.dir}`)).join(" "), ...headers).slice(0, 32);
  const dir = join(cacheDir(options.cacheDir), "bpf");
  const object = join(dir, `${hash}.bpf.o`);
  if (existsSync(object)) {
    const early = compiledForTypes.get(hash);
    compiledForTypes.delete(hash);
    if (early && !options.forTypes) return { path: object, hash, cached: false, seconds: early.seconds, warnings: early.warnings, sourceName };
    return { path: object, hash, cached: true, seconds: 0, warnings: [], sourceName };
  }
  mkdirSync(dir, { recursive: true });
  const src = join(dir, `${hash}.bpf.c`);
  writeFileSync(src, text);
  const tmp = `${object}.${process.pid}.tmp`;
  const t0 = process.hrtime.bigint();
  const r = await run(clang.path, [...args, "-c", src, "-o", tmp]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const diagnostics = parseDiagnostics(r.stderr, sourceName);
  if (r.code !== 0) {
    rmSync(tmp, { force: true });
    if (r.spawnError) throw new CompilerMissingError(clang.path, `could not be run (${r.spawnError.code})`);
    if (/PLEASE submit a bug report|Stack dump:/.test(r.stderr)) {
      // an LLVM crash: its stack dump says nothing to the user; the line it was at does
      const at = /^\d+\.\s+(.*)$/m.exec(r.stderr.split("Stack dump:")[1] ?? "")?.[1] ?? "";
      throw new CompileError(sourceName, diagnostics, `clang crashed compiling this C (an LLVM bug, not your error)${at ? `: ${at.replace(src, sourceName)}` : ""}; simplify the expression it names, e.g. do not use the result of an atomic add on a 32-bit value (make it 64-bit)`);
    }
    throw new CompileError(sourceName, diagnostics, r.stderr);
  }
  // DWARF is only the compiler's: BTF (kept) carries the types and line info libbpf and the verifier use
  await run("llvm-strip", ["-g", tmp]);
  renameSync(tmp, object);
  const warnings = diagnostics.filter((d) => d.severity === "warning");
  if (options.forTypes) compiledForTypes.set(hash, { seconds, warnings });
  return { path: object, hash, cached: false, seconds, warnings, sourceName };
}

/** Compiles a `.bpf.c` file; its directory is searched for `#include "..."`. */
export async function compileBpfFile(path: string, options: Omit<CompileOptions, "sourceName" | "firstLine"> = {}): Promise<CompiledObject> {
  const full = resolve(path);
  let code: string;
  try {
    code = readFileSync(full, "utf8");
  } catch (e) {
    throw new InvalidArgumentError(`bpf.file(): cannot read ${full} (${(e as NodeJS.ErrnoException).code ?? "error"}); give the path of a .bpf.c file, relative to the notebook's directory (${process.cwd()})`);
  }
  const name = full.startsWith(process.cwd() + "/") ? full.slice(process.cwd().length + 1) : full;
  return compileBpf(code, { ...options, sourceName: name, includeDirs: [dirname(full), ...(options.includeDirs ?? [])] });
}

/** clang's messages about the user's source: `name:line:col: severity: message` and the excerpt lines after it. */
export function parseDiagnostics(stderr: string, sourceName: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const re = /^(.*?):(\d+):(\d+): (fatal error|error|warning|note): (.*)$/;
  let cur: Diagnostic | null = null;
  for (const line of stderr.split("\n")) {
    const m = re.exec(line);
    if (m) {
      const file = m[1]!;
      const severity = m[4] === "fatal error" ? "error" : (m[4] as Diagnostic["severity"]);
      // Messages inside headers are reported at the line of the cell that led there (clang's "note"s say which).
      cur = { severity, line: Number(m[2]), column: Number(m[3]), message: file === sourceName || file.endsWith("/" + sourceName) ? m[5]! : `${m[5]} (in ${file.replace(/^.*\//, "")})`, excerpt: "" };
      out.push(cur);
    } else if (cur && line !== "" && !/^\d+ (errors?|warnings?)( and \d+ (errors?|warnings?))? generated\.$/.test(line) && !line.startsWith("In file included from")) {
      cur.excerpt += (cur.excerpt ? "\n" : "") + "    " + line;
    }
  }
  return out;
}
