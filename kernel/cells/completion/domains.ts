/*
 * Names the machine knows, for string arguments of the calls that take them: tracepoints and their fields
 * (the type system lists them too, but asking it for a 2,305-name union takes most of a second), kernel
 * functions (BTF and ftrace: ~56k, far more than the generated type union), a binary's function symbols
 * (for uprobes) and network interfaces (for XDP). Lists are read once and kept (a binary's until its file
 * changes; tracepoints for a minute and interfaces for a few seconds, they come and go), so a completion
 * after the first is cheap.
 */
import { statSync } from "node:fs";
import { kernelFunctions, listInterfaces, listTracepoints, readFormat, resolveBinary } from "../../../bpf-lib/src/index.js";
import { openElf } from "../../../bpf-lib/src/symbols/elf.js";
import type { Site } from "./site.js";

export interface Domain {
  /** What the names are, for the frontend's type column ("kernel function", ...). */
  kind: string;
  names: readonly string[];
}

/** Calls whose first argument names a tracepoint (or, for tracepoints(), a pattern, which starts as a name). */
const TRACEPOINT_CALLS = new Set(["tracepoint", "anyTracepoint", "tracepoints", "readFormat"]);
/** Calls whose options' `fields` list names fields of the tracepoint their first argument names. */
const FIELD_CALLS = new Set(["tracepoint", "anyTracepoint"]);
/** Calls whose first argument names a kernel function (the deprecated kfunc* names included). */
const KERNEL_FUNCTION_CALLS = new Set([
  "kprobe", "kretprobe", "kernelFunctionLatency", "kernelFunctionPrototype", "traceability",
  "kfuncLatency", "kfuncPrototype", "fentry", "fexit", "kfunc", "kretfunc",
]);
/** Calls whose second argument names a function of the binary their first argument names. */
const SYMBOL_CALLS = new Set(["uprobe", "uretprobe", "resolveFunction"]);
/** Calls whose first argument names a network interface. */
const INTERFACE_CALLS = new Set(["xdp", "resolveInterface"]);

const INTERFACES_TTL_MS = 5000;
/** Tracepoints appear with modules; reading 2,000 directories again now and then is cheap enough. */
const TRACEPOINTS_TTL_MS = 60_000;

let functions: readonly string[] | undefined;
const symbols = new Map<string, { mtimeMs: number; names: readonly string[] }>();
let interfaces: { at: number; names: readonly string[] } | undefined;
let tracepoints: { at: number; names: readonly string[] } | undefined;

export function tracepointNames(now = Date.now()): readonly string[] {
  if (!tracepoints || now - tracepoints.at > TRACEPOINTS_TTL_MS) {
    try {
      tracepoints = { at: now, names: listTracepoints() };
    } catch {
      tracepoints = { at: now, names: [] }; // no tracefs: the converter's types are all there is
    }
  }
  return tracepoints.names;
}

/** A tracepoint's own fields (the common_* header fields are not selectable); none for an unknown name. */
export function fieldNames(tracepoint: string): readonly string[] {
  try {
    return readFormat(tracepoint).fields.map((f) => f.name).filter((n) => !n.startsWith("common_"));
  } catch {
    return [];
  }
}

/** The names a string site can take beyond its type, or undefined when its call is not one of the above. */
export function domainOf(site: Site): Domain | undefined {
  const call = site.call;
  if (!call) return undefined;
  const tracepoint = call.args[0];
  if (site.option !== undefined) {
    if (site.option === "fields" && call.index === 1 && tracepoint && FIELD_CALLS.has(call.callee)) return { kind: "field", names: fieldNames(tracepoint) };
    return undefined;
  }
  if (call.index === 0 && TRACEPOINT_CALLS.has(call.callee)) return { kind: "tracepoint", names: tracepointNames() };
  if (call.index === 0 && KERNEL_FUNCTION_CALLS.has(call.callee)) return { kind: "kernel function", names: kernelFunctionNames() };
  if (call.index === 0 && INTERFACE_CALLS.has(call.callee)) return { kind: "interface", names: interfaceNames() };
  const binary = call.args[0];
  if (call.index === 1 && SYMBOL_CALLS.has(call.callee) && binary) return { kind: "function", names: symbolNames(binary) };
  return undefined;
}

export function kernelFunctionNames(): readonly string[] {
  functions ??= kernelFunctions();
  return functions;
}

export function interfaceNames(now = Date.now()): readonly string[] {
  if (!interfaces || now - interfaces.at > INTERFACES_TTL_MS) interfaces = { at: now, names: listInterfaces() };
  return interfaces.names;
}

/** Function symbols of a binary named as uprobe() takes it (path, executable or library name); none when it cannot be read. */
export function symbolNames(binary: string): readonly string[] {
  try {
    const path = resolveBinary(binary);
    const { mtimeMs } = statSync(path);
    const cached = symbols.get(path);
    if (cached?.mtimeMs === mtimeMs) return cached.names;
    const names = [...new Set(openElf(path).functions().filter((s) => !s.oldVersion).map((s) => s.name))].sort();
    symbols.set(path, { mtimeMs, names });
    return names;
  } catch {
    return []; // not found, not ELF, unreadable: nothing to offer (running the cell says why)
  }
}
