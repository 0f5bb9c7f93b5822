/* Which kernel functions exist and which can be probed: BTF's FUNCs (every
 * function the kernel was built with, inlined ones included), ftrace's
 * available_filter_functions (what fentry and ftrace-based kprobes can attach to:
 * not inlined, not notrace), /proc/kallsyms (what has an address at all) and the
 * kprobe blacklist. Each list is read once per process, lazily; unreadable ones
 * (lockdown makes available_filter_functions EPERM) are simply not consulted. */
import { readFileSync } from "node:fs";
import { nearest } from "../../tracefs/nearest.js";
import { TRACEFS_ROOTS } from "../../tracefs/mount.js";
import { KernelBtf } from "./prototype.js";
import { UnknownKernelFunctionError, UntraceableKernelFunctionError } from "./errors.js";

export interface FunctionList {
  names: ReadonlySet<string>;
  source: string;
}

let filterFunctions: FunctionList | null | undefined;
let kallsyms: FunctionList | null | undefined;
let blacklist: FunctionList | null | undefined;

/** Lines' first words ("vfs_read", "ext4_file_read_iter [ext4]" → the name). */
function firstWords(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const end = line.search(/\s/);
    const w = end < 0 ? line : line.slice(0, end);
    if (w && !w.startsWith("__ftrace_invalid_address__")) out.add(w);
  }
  return out;
}

/** ftrace's available_filter_functions, or null when it cannot be read (not mounted, lockdown). */
export function availableFilterFunctions(): FunctionList | null {
  if (filterFunctions !== undefined) return filterFunctions;
  filterFunctions = null;
  for (const root of TRACEFS_ROOTS) {
    const path = `${root}/available_filter_functions`;
    try {
      filterFunctions = { names: firstWords(readFileSync(path, "utf8")), source: path };
      break;
    } catch {
      // next root; EPERM under lockdown
    }
  }
  return filterFunctions;
}

/** Text symbols of /proc/kallsyms (functions with an address), or null when unreadable. */
export function kallsymsFunctions(): FunctionList | null {
  if (kallsyms !== undefined) return kallsyms;
  kallsyms = null;
  try {
    const names = new Set<string>();
    for (const line of readFileSync("/proc/kallsyms", "utf8").split("\n")) {
      // "ffffffff812a5e40 T vfs_read" or "... t foo [module]"
      const a = line.indexOf(" "), b = line.indexOf(" ", a + 1);
      if (a < 0 || b < 0) continue;
      const type = line[a + 1];
      if (type !== "t" && type !== "T") continue;
      const end = line.indexOf("\t", b + 1);
      names.add(end < 0 ? line.slice(b + 1) : line.slice(b + 1, end));
    }
    kallsyms = { names, source: "/proc/kallsyms" };
  } catch {
    // unreadable: do not consult it
  }
  return kallsyms;
}

/** Functions kprobes refuse (/sys/kernel/debug/kprobes/blacklist), or null when unreadable. */
export function kprobeBlacklist(): FunctionList | null {
  if (blacklist !== undefined) return blacklist;
  blacklist = null;
  const path = "/sys/kernel/debug/kprobes/blacklist";
  try {
    const names = new Set<string>();
    for (const line of readFileSync(path, "utf8").split("\n")) {
      const name = line.split(/\s+/)[1];
      if (name) names.add(name);
    }
    blacklist = { names, source: path };
  } catch {
    // debugfs not mounted, or no kprobes
  }
  return blacklist;
}

/** Every kernel function name known here: BTF's, plus ftrace's when it can be read. */
export function kernelFunctionNames(): string[] {
  const names = new Set<string>(KernelBtf.tryVmlinux()?.functions().keys() ?? []);
  for (const n of availableFilterFunctions()?.names ?? []) names.add(n);
  return [...names].sort();
}

/** Up to `n` function names close to `name`, preferring ones that can be traced. */
export function nearestFunctions(name: string, n = 5): string[] {
  const traceable = availableFilterFunctions()?.names;
  const pool = traceable ?? KernelBtf.tryVmlinux()?.functions().keys() ?? kallsymsFunctions()?.names ?? [];
  return nearest(name, pool, n);
}

/** What is known about probing `name` on this kernel, from the lists above. */
export interface Traceability {
  /** In the kernel's BTF (typed arguments, fentry possible). */
  inBtf: boolean;
  /** fentry and ftrace kprobes: null when possible or unknown, else why not. */
  fentry: string | null;
  /** kprobes: null when possible or unknown, else why not. */
  kprobe: string | null;
}

/**
 * Throws UnknownKernelFunctionError when nothing knows `name`; otherwise says which
 * mechanisms can attach to it, as far as the readable lists tell.
 */
export function traceability(name: string): Traceability {
  const btf = KernelBtf.tryVmlinux();
  const inBtf = btf !== null && btf.findFunction(name) >= 0;
  const aff = availableFilterFunctions();
  const inAff = aff?.names.has(name);
  // kallsyms is the slow list (~200 000 lines): read only when ftrace's cannot vouch for the name.
  const syms = inAff ? null : kallsymsFunctions();
  const inSyms = syms?.names.has(name);
  if (!inBtf && !inAff && !inSyms) {
    const where = [btf ? "the kernel's BTF (/sys/kernel/btf/vmlinux)" : null, aff?.source ?? null, syms?.source ?? null].filter(Boolean).join(", ") || "any list this process can read";
    throw new UnknownKernelFunctionError(name, where, nearestFunctions(name));
  }
  let fentry: string | null = null;
  let kprobe: string | null = null;
  if (!inBtf) fentry = "fentry needs the function in the kernel's BTF";
  else if (aff && !inAff) fentry = `it is not in ${aff.source} (inlined, notrace, or in a module without BTF)`;
  if (syms && !inSyms) kprobe = `it has no symbol in ${syms.source}: the compiler inlined it into its callers`;
  else if (kprobeBlacklist()?.names.has(name)) kprobe = `it is on the kprobe blacklist (${kprobeBlacklist()!.source})`;
  return { inBtf, fentry, kprobe };
}

/** Throws UntraceableKernelFunctionError when neither mechanism can attach to `name`. */
export function requireTraceable(name: string, via: "auto" | "fentry" | "kprobe"): Traceability {
  const t = traceability(name);
  const fentryOut = via === "kprobe" || t.fentry !== null;
  const kprobeOut = via === "fentry" || t.kprobe !== null;
  if (fentryOut && kprobeOut) {
    const why = [via !== "kprobe" ? `fentry: ${t.fentry}` : null, via !== "fentry" ? `kprobe: ${t.kprobe}` : null].filter(Boolean).join("; ");
    throw new UntraceableKernelFunctionError(name, why, nearestFunctions(name).filter((n) => n !== name));
  }
  return t;
}
