/* sample()'s reads: each `read` entry, a path from the current task, resolved against
 * this kernel's BTF into a derived field (bpf/derive.h) of profile.bpf.c's window, and
 * what it can be in an aggregation: a key (integers, strings, addresses) or a value
 * (integers). */
import { BtfBlob } from "../../btf/blob.js";
import { currentTaskPath, type KernelPath } from "../../btf/path.js";
import { layoutDerived, MAX_DERIVED, type DeriveSpec, type DerivedField, type DerivedLayout } from "../../engine/derive.js";
import { STRING_BYTES } from "../../engine/keys.js";
import { InvalidArgumentError, InvalidOptionError } from "../../errors.js";
import { integerIn } from "../../options/shapes.js";
import { SAMPLE_STANDARD_KEYS } from "./sample-types.js";

/** What a read is, for the aggregations that use it. */
export type ReadKind =
  | { kind: "int"; size: 1 | 2 | 4 | 8; signed: boolean }
  | { kind: "string"; bytes: number }
  | { kind: "pointer" };

export interface SampleRead {
  name: string;
  path: KernelPath;
  kind: ReadKind;
  field: DerivedField;
}

export interface SampleReads {
  reads: SampleRead[];
  layout: DerivedLayout;
}

/** Column names an aggregation's table already uses: a read may not take one. */
const TAKEN = new Set<string>([...SAMPLE_STANDARD_KEYS, "bucket", "low", "high", "count", "sum", "min", "max", "avg", "interval", "time"]);

/** One read: its leaf as a derived field (without its window offset) and its kind. */
function planRead(name: string, path: KernelPath, stringBytes: number, what: string): { spec: DeriveSpec; kind: ReadKind } {
  const leaf = path.leaf;
  const where = `${what}: read ${JSON.stringify(name)} (current.${path.path}, ${path.type})`;
  const base = { column: name, src: "task" as const, what: `current.${path.path}`, kernelRead: true };
  switch (leaf.kind) {
    case "int":
      if (leaf.bitSize !== undefined) throw new InvalidArgumentError(`${where} is a bitfield; sampled reads take whole members: read an integer member, or count by another key`);
      return { spec: { ...base, offsets: path.offsets, leaf: "bytes", size: leaf.size, value: { kind: "int", size: leaf.size, signed: leaf.signed } }, kind: { kind: "int", size: leaf.size, signed: leaf.signed } };
    case "string":
      return { spec: { ...base, offsets: path.offsets, leaf: "string", size: leaf.bytes, value: { kind: "string", bytes: leaf.bytes } }, kind: { kind: "string", bytes: leaf.bytes } };
    case "kstring":
      // the leaf holds the string's address: one more pointer, then the string at offset 0
      return { spec: { ...base, offsets: [...path.offsets, 0], leaf: "string", size: stringBytes, value: { kind: "string", bytes: stringBytes } }, kind: { kind: "string", bytes: stringBytes } };
    case "pointer":
      return { spec: { ...base, offsets: path.offsets, leaf: "bytes", size: 8, value: { kind: "int", size: 8, signed: false } }, kind: { kind: "pointer" } };
    case "bytes":
      throw new InvalidArgumentError(`${where} is ${leaf.size} raw bytes; sampled reads take integers (values and keys), strings and addresses (keys): pick an integer member`);
  }
}

/**
 * Resolves `read` (name → path from the current task) against this kernel's BTF and lays
 * the values out in the window from offset 0. Unknown members, too many pointers and bad
 * names are named errors before anything is loaded.
 */
export function planReads(read: unknown, stringBytes: unknown, what: string): SampleReads {
  if (read === undefined) return { reads: [], layout: layoutDerived([], 0, what) };
  if (typeof read !== "object" || read === null || Array.isArray(read)) {
    throw new InvalidOptionError(what, "read", read, 'an object of name → kernel path from the current task, e.g. { runqlen: "current.se.cfs_rq.nr_queued" }');
  }
  const bytes = integerIn(stringBytes, "stringBytes", what, STRING_BYTES.min, STRING_BYTES.max) ?? STRING_BYTES.default;
  const entries = Object.entries(read as Record<string, unknown>);
  if (entries.length > MAX_DERIVED) throw new InvalidOptionError(what, "read", read, `at most ${MAX_DERIVED} reads`);
  const planned = entries.map(([name, p]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new InvalidArgumentError(`${what}: read name ${JSON.stringify(name)} must be an identifier (letters, digits, _), as it becomes a column`);
    if (TAKEN.has(name)) throw new InvalidArgumentError(`${what}: read name ${JSON.stringify(name)} is taken by a standard column (${[...TAKEN].join(", ")}); call it something else`);
    if (typeof p !== "string") throw new InvalidOptionError(what, `read.${name}`, p, 'a kernel path from the current task, such as "current.se.cfs_rq.nr_queued"');
    const path = currentTaskPath(BtfBlob.vmlinux(), p);
    return { name, path, ...planRead(name, path, bytes, what) };
  });
  const layout = layoutDerived(planned.map((x) => x.spec), 0, what);
  return { reads: planned.map((x, i) => ({ name: x.name, path: x.path, kind: x.kind, field: layout.fields[i] })), layout };
}
