/* Names that are neither in BTF (they are #defines) nor in a print fmt: signals
 * (Node's os.constants.signals), open flags and capabilities (the kernel's uapi
 * headers from Debian's linux-libc-dev, which libbpf-dev pulls in; Node's
 * fs.constants and `capsh --decode` when the headers are missing), errno (errors.ts).
 * Each source is read once, on first use. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { constants as fsConstants } from "node:fs";
import { constants as osConstants } from "node:os";
import { errnoName } from "../../errors.js";
import { CExprError, evaluate, parseExpr, type CInt, type EvalEnv } from "./c-expr.js";
import { flagNames, integer, type NamedValue } from "./print-flags.js";

/** Object-like `#define NAME value` lines, comments removed; the first definition of a name wins (as `#ifndef` guards make it). */
export function parseDefines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const src = text.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/.*$/gm, "").replace(/\\\n/g, " ");
  for (const m of src.matchAll(/^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(?![\w(])[ \t]*(.*)$/gm)) {
    const value = m[2]!.trim();
    if (value !== "" && !out.has(m[1]!)) out.set(m[1]!, value);
  }
  return out;
}

/** Every define whose value evaluates to an integer (other defines resolved), in file order. */
export function evaluateDefines(defines: Map<string, string>, keep: (name: string) => boolean): NamedValue[] {
  const cache = new Map<string, CInt | null>();
  const env: EvalEnv = {
    constant: (name) => value(name),
    type: () => undefined,
  };
  const value = (name: string): CInt | undefined => {
    if (cache.has(name)) return cache.get(name) ?? undefined;
    const text = defines.get(name);
    cache.set(name, null); // a define that names itself is not a number
    if (text === undefined) return undefined;
    try {
      const v = evaluate(parseExpr(text), env);
      const got = typeof v === "string" ? null : v;
      cache.set(name, got);
      return got ?? undefined;
    } catch (e) {
      if (e instanceof CExprError) return undefined;
      throw e;
    }
  };
  const out: NamedValue[] = [];
  for (const name of defines.keys()) {
    if (!keep(name)) continue;
    const v = value(name);
    if (v !== undefined) out.push({ value: v.v, name });
  }
  return out;
}

function readText(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    try {
      out.push(readFileSync(p, "utf8"));
    } catch {
      // not installed here: the next source decides
    }
  }
  return out;
}

const TRIPLETS: Record<string, string> = { x64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu", arm: "arm-linux-gnueabihf", ppc64: "powerpc64le-linux-gnu", s390x: "s390x-linux-gnu", riscv64: "riscv64-linux-gnu" };

/** Where each kind of name came from, for the docs and for tests to report. */
export interface NamesSource {
  signals: string;
  openFlags: string;
  capabilities: string;
}
const sources: Partial<NamesSource> = {};

/** Which sources this machine provided (after the names were first used). */
export function uapiSources(): NamesSource {
  signalEntries();
  openFlagEntries();
  capabilityEntries();
  return sources as NamesSource;
}

// ---- signals

let signals: Map<number, string> | null = null;

function signalEntries(): Map<number, string> {
  if (signals) return signals;
  signals = new Map();
  // Aliases (SIGIOT for SIGABRT, SIGPOLL for SIGIO) come after the usual name.
  for (const [name, n] of Object.entries(osConstants.signals)) if (!signals.has(n)) signals.set(n, name);
  sources.signals = "os.constants.signals";
  return signals;
}

// The kernel's realtime signals run from 32 to 64 (SIGRTMIN, _NSIG in asm/signal.h);
// glibc keeps 32 and 33 for itself, so its SIGRTMIN is SIGRT_2. strace writes them this way.
const SIGRTMIN = 32, SIGRTMAX = 64;

/** `SIGKILL` for 9, `SIGRT_2` for 34, the number itself for 0 and for what is not a signal. */
export function signalName(value: number | bigint): string {
  const n = Number(integer(value));
  const name = signalEntries().get(n);
  if (name) return name;
  if (n >= SIGRTMIN && n <= SIGRTMAX) return `SIGRT_${n - SIGRTMIN}`;
  return String(n);
}

// ---- open flags

let openFlags: { access: NamedValue[]; flags: NamedValue[]; accmode: bigint } | null = null;

function openFlagEntries(): NonNullable<typeof openFlags> {
  if (openFlags) return openFlags;
  const triplet = TRIPLETS[process.arch];
  const texts = readText([...(triplet ? [`/usr/include/${triplet}/asm/fcntl.h`] : []), "/usr/include/asm/fcntl.h", "/usr/include/asm-generic/fcntl.h"]);
  let all: NamedValue[];
  if (texts.some((t) => /#\s*define\s+O_CREAT\b/.test(t))) {
    // The arch header first: its values win over the generic ones it includes.
    const defines = new Map<string, string>();
    for (const t of texts) for (const [k, v] of parseDefines(t)) if (!defines.has(k)) defines.set(k, v);
    all = evaluateDefines(defines, (n) => /^_*O_/.test(n));
    sources.openFlags = "the kernel's uapi headers (asm/fcntl.h, asm-generic/fcntl.h from linux-libc-dev)";
  } else {
    all = Object.entries(fsConstants).filter(([k, v]) => k.startsWith("O_") && typeof v === "number").map(([name, v]) => ({ name, value: BigInt(v as number) }));
    sources.openFlags = "fs.constants (no uapi headers: O_CLOEXEC, O_PATH, O_TMPFILE and O_LARGEFILE stay numbers; install linux-libc-dev)";
  }
  const accmode = all.find((e) => e.name === "O_ACCMODE")?.value ?? 3n;
  const access = ["O_RDONLY", "O_WRONLY", "O_RDWR"].flatMap((n) => all.filter((e) => e.name === n));
  const seen = new Set<bigint>();
  const flags = all
    .filter((e) => e.value !== 0n && (e.value & accmode) === 0n && !["O_ACCMODE", "O_NDELAY", "O_FSYNC", "O_RSYNC"].includes(e.name))
    .filter((e) => !seen.has(e.value) && seen.add(e.value))
    // Composite masks first (O_SYNC is __O_SYNC|O_DSYNC), then bits; __ names last, for what no public name covers.
    .sort((a, b) => Number(a.name.startsWith("__")) - Number(b.name.startsWith("__")) || popcount(b.value) - popcount(a.value) || (a.value < b.value ? -1 : 1));
  openFlags = { access, flags, accmode };
  return openFlags;
}

function popcount(v: bigint): number {
  let n = 0;
  for (let x = v; x > 0n; x >>= 1n) n += Number(x & 1n);
  return n;
}

/** `O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC`: the access mode (the low two bits; O_RDONLY is 0) first, then the flags, then any bits no name covers in hex. */
export function openFlagNames(value: number | bigint): string {
  const { access, flags, accmode } = openFlagEntries();
  const v = integer(value);
  const mode = v & accmode;
  const head = access.find((e) => e.value === mode)?.name ?? `0x${mode.toString(16)}`;
  const rest = flagNames(flags, v & ~accmode);
  return rest ? `${head}|${rest}` : head;
}

// ---- capabilities

let caps: Map<number, string> | null = null;

function capabilityEntries(): Map<number, string> {
  if (caps) return caps;
  caps = new Map();
  const [header] = readText(["/usr/include/linux/capability.h"]);
  if (header) {
    const defines = parseDefines(header);
    // Only plain numbers: CAP_LAST_CAP names another capability.
    for (const [name, v] of defines) if (name.startsWith("CAP_") && /^\d+$/.test(v) && !caps.has(Number(v))) caps.set(Number(v), name);
    sources.capabilities = "the kernel's uapi header linux/capability.h (linux-libc-dev)";
  }
  if (caps.size === 0) {
    try {
      // capsh lists the names libcap knows in bit order, then bare numbers for the rest.
      const out = execFileSync("capsh", ["--decode=0xffffffffffffffff"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 });
      out.trim().split("=")[1]?.split(",").forEach((name, i) => {
        if (!/^\d+$/.test(name)) caps!.set(i, name.toUpperCase());
      });
      sources.capabilities = "capsh --decode (libcap2-bin)";
    } catch {
      sources.capabilities = "none (install linux-libc-dev or libcap2-bin): capabilities stay numbers";
    }
  }
  return caps;
}

/** `CAP_SYS_ADMIN` for 21; the number itself for one this machine's headers do not know (newer than them). */
export function capabilityName(value: number | bigint): string {
  const n = Number(integer(value));
  return capabilityEntries().get(n) ?? String(n);
}

// ---- errno

/** A syscall's return value: the errno name of -4095..-1 (`ENOENT` for -2), null for a success. */
export function syscallErrorName(value: number | bigint): string | null {
  const v = integer(value);
  return v < 0n && v > -4096n ? errnoName(Number(-v)) : null;
}

/** A positive errno (`ENOENT` for 2); null for 0. */
export function errnoValueName(value: number | bigint): string | null {
  const v = integer(value);
  return v === 0n ? null : errnoName(Number(v));
}
