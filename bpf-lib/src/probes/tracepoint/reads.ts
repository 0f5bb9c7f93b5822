/* What a tracepoint probe derives in the kernel besides its record's fields: standard
 * columns the record lacks (uid, gid, parent pid and comm, cgroup, kernel and user stack
 * ids) and the `read`
 * option's reads (paths through kernel pointers from the current task or a pointer
 * field, user memory behind a pointer field: strings, string arrays, buffers, structs).
 * Each becomes a DeriveSpec (engine/derive.ts) plus the field declaration the engine
 * decodes, filters and keys it by. BTF offsets are resolved here, when the probe is
 * described, so a bad path fails before anything is loaded. */
import { BtfBlob } from "../../btf/blob.js";
import { currentTaskPath, resolvePath, type KernelPath } from "../../btf/path.js";
import type { KernelPathString } from "../../btf/typed.js";
import type { DeriveSpec } from "../../engine/derive.js";
import { MAX_DERIVED } from "../../engine/derive.js";
import { InvalidArgumentError, InvalidOptionError } from "../../errors.js";
import { fieldOf } from "../../tracefs/catalog.js";
import { nameList } from "../../options/shapes.js";
import type { FieldKind, TracepointField, TracepointFormat } from "../../tracefs/format.js";
import { RECORD_BASE } from "../../engine/layout.js";
import { KSTACK_TYPE, USTACK_TYPE } from "../../engine/stack-ids.js";

/** Standard columns a probe can add (the record does not carry them): `columns: [...]`, or by naming them in where/by. */
export const EXTRA_COLUMNS = ["uid", "gid", "ppid", "pcomm", "cgroup", "cgroup_path", "container", "kstack", "ustack"] as const;
export type ExtraColumn = (typeof EXTRA_COLUMNS)[number];
/** What each standard column holds in a row (stacks are folded strings; a cgroup not found is null). */
export interface ExtraValues {
  uid: number;
  gid: number;
  ppid: number;
  pcomm: string;
  cgroup: number;
  cgroup_path: string | null;
  container: string | null;
  kstack: string;
  ustack: string;
}
/** The columns `columns: C` adds to a row: a standard column that a record field (`Taken`) already names is `task_<name>`. */
export type ExtraRow<C extends ExtraColumn, Taken extends string = never> = { [K in C as K extends Taken ? `task_${K}` : K]: ExtraValues[K] };
/** Extra columns computed in user space from another one (the cgroup id). */
export const FROM_CGROUP: ReadonlySet<string> = new Set(["cgroup_path", "container"]);

/** One `read` entry. A string is a path: "current.real_parent.tgid", "skaddr->__sk_common.skc_dport", "(struct sock *)skaddr->sk_rcvbuf". */
export type ReadSpec =
  | string
  | KernelPathString<unknown>
  | {
      /** "current" (the current task_struct), or a pointer field of the tracepoint. */
      from: string;
      /** Members to follow from there ("real_parent.tgid"); none: the memory the pointer points to. */
      path?: string;
      /** The struct a `void *` or integer field points to: "sock". */
      as?: string;
      /** The pointer is a user-space address (a syscall argument): read user memory. */
      user?: boolean;
      /** Read a NUL-terminated string of up to this many bytes (with its NUL). */
      string?: number;
      /** Read this many raw bytes. */
      bytes?: number;
      /** With `bytes`: a field holding the buffer's length; reads min(length, bytes). */
      length?: string;
      /** The pointer points to an array of this many pointers to strings (execve's argv): a string[] column, ending at the first NULL. */
      array?: number;
    };

/** A derived column: what the kernel derives, and how the engine sees it. */
export interface DerivedColumn {
  column: string;
  spec: DeriveSpec;
  /** The field declaration keys, filters and decoders use. */
  decl: FieldKind;
  type: string;
  /** An array read (argv): the other slots of the same column follow this one. */
  list?: { index: number; count: number; slot: number };
  /** Computed in user space from this derived column (container, cgroup_path from cgroup). */
  from?: string;
  /** Record fields the kernel reads to derive it (a base pointer, a length): the copy window must cover them. */
  needs?: string[];
}

const DEFAULT_STRING = 64;
const MAX_READ_BYTES = 256;

let btfCache: BtfBlob | null = null;
function btf(): BtfBlob {
  btfCache ??= BtfBlob.vmlinux();
  return btfCache;
}

/** The leaf of a resolved path as a derive spec and a field declaration. */
function fromLeaf(column: string, path: KernelPath, base: Pick<DeriveSpec, "src" | "woff">, what: string, stringBytes: number | undefined, source: string): DerivedColumn {
  const leaf = path.leaf;
  const spec = (size: number, leafKind: "bytes" | "string", value: DeriveSpec["value"], offsets = path.offsets): DeriveSpec => ({
    column, ...base, offsets, leaf: leafKind, size, value, what, kernelRead: base.src !== "uptr",
  });
  switch (leaf.kind) {
    case "int":
      if (leaf.bitSize !== undefined) throw new InvalidArgumentError(`${source}: read "${column}" (${what}) is a bitfield (${leaf.bitSize} bits); bitfields cannot be read yet: read the member next to it, or the whole word`);
      return { column, spec: spec(leaf.size, "bytes", { kind: "int", size: leaf.size, signed: leaf.signed }), decl: { kind: "int", size: leaf.size, signed: leaf.signed }, type: path.type };
    case "pointer":
      return { column, spec: spec(8, "bytes", { kind: "int", size: 8, signed: false }), decl: { kind: "pointer", pointee: leaf.pointee, userString: false }, type: path.type };
    case "string":
      return { column, spec: spec(leaf.bytes, "bytes", { kind: "string", bytes: leaf.bytes }), decl: { kind: "char_array", length: leaf.bytes }, type: path.type };
    case "kstring": {
      const n = readBytes(stringBytes ?? DEFAULT_STRING, `read.${column}.string`, source, 2);
      // the path ends at the `char *` member: one more step reads the string it points to
      return { column, spec: spec(n, "string", { kind: "string", bytes: n }, [...path.offsets, 0]), decl: { kind: "char_array", length: n }, type: path.type };
    }
    case "bytes":
      if (leaf.size > MAX_READ_BYTES) throw new InvalidArgumentError(`${source}: read "${column}" (${what}) is ${leaf.size} bytes; at most ${MAX_READ_BYTES}`);
      return { column, spec: spec(leaf.size, "bytes", { kind: "bytes", size: leaf.size }), decl: { kind: "unknown", size: leaf.size }, type: path.type };
  }
}

function readBytes(v: unknown, option: string, source: string, min = 1): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > MAX_READ_BYTES) throw new InvalidOptionError(source, option, v, `an integer number of bytes from ${min} to ${MAX_READ_BYTES}`);
  return v;
}

const CAST_PATH = /^\s*(?:\(\s*(?:struct\s+)?([A-Za-z_]\w*)\s*\*\s*\)\s*)?([A-Za-z_]\w*)\s*(?:(?:->|\.)\s*(.+))?$/;

/** A string read spec as { from, path, as }. */
function parseReadString(s: string, column: string, source: string): { from: string; path?: string; as?: string } {
  const m = CAST_PATH.exec(s);
  if (!m) throw new InvalidOptionError(source, `read.${column}`, s, `a path such as "current.real_parent.tgid", "skaddr->__sk_common.skc_dport" or "(struct sock *)skaddr->sk_rcvbuf"`);
  const from = m[2] === "curtask" ? "current" : m[2]!;
  return { from, path: m[3]?.trim(), as: m[1] };
}

/** The window offset of a pointer-valued field, checked. */
function pointerField(format: TracepointFormat, name: string, column: string, source: string): TracepointField {
  const f = fieldOf(format, name);
  const d = f.decl;
  if (!(d.kind === "pointer" || (d.kind === "int" && d.size === 8))) throw new InvalidArgumentError(`${source}: read "${column}" starts from field "${name}", which is ${f.type}, not a pointer`);
  if (f.offset < RECORD_BASE) throw new InvalidArgumentError(`${source}: field "${name}" lies in the record header, which tracepoint programs cannot read`);
  return f;
}

/** Plans one `read` entry (an array read makes several derived values of one column). */
export function planRead(format: TracepointFormat, column: string, raw: ReadSpec, source: string): DerivedColumn[] {
  const spec = typeof raw === "string" ? parseReadString(raw, column, source) : raw;
  if (spec === null || typeof spec !== "object") throw new InvalidOptionError(source, `read.${column}`, raw, `a path string or { from, path?, as?, user?, string?, bytes?, length?, array? }`);
  const o = spec as Exclude<ReadSpec, string>;
  if (typeof o.from !== "string") throw new InvalidOptionError(source, `read.${column}.from`, o.from, `"current" or a pointer field of ${source}`);
  const what = `${o.as ? `(struct ${o.as} *)` : ""}${o.from}${o.path ? `->${o.path}` : ""}`;
  if (o.from === "current") {
    if (o.user === true) throw new InvalidArgumentError(`${source}: read "${column}": the current task is kernel memory; "user" applies to pointer fields`);
    if (!o.path) throw new InvalidArgumentError(`${source}: read "${column}": say which member of the current task to read, e.g. "current.real_parent.tgid"`);
    const p = currentTaskPath(btf(), o.path);
    return [fromLeaf(column, p, { src: "task" }, what, o.string, source)];
  }
  const f = pointerField(format, o.from, column, source);
  const woff = f.offset - RECORD_BASE;
  const needs = [f.name, ...(o.length !== undefined ? [o.length] : [])];
  // Pointer arguments of system calls point into the calling process.
  const user = o.user ?? format.group === "syscalls";
  const src = user ? "uptr" : "kptr";
  if (o.path !== undefined || o.as !== undefined) {
    if (o.array !== undefined || o.bytes !== undefined || o.length !== undefined) throw new InvalidArgumentError(`${source}: read "${column}": a path reads one typed member; array, bytes and length read untyped memory — use one or the other`);
    const p = resolvePath(btf(), f.type, o.path ?? "", o.as ? { as: o.as } : {});
    return [{ ...fromLeaf(column, p, { src, woff }, what, o.string, source), needs }];
  }
  // Untyped memory behind the pointer: a string, an array of strings, or bytes.
  if (o.array !== undefined) {
    const n = o.array;
    if (!Number.isInteger(n) || n < 1 || n > MAX_DERIVED) throw new InvalidOptionError(source, `read.${column}.array`, n, `how many pointers to read, 1 to ${MAX_DERIVED}`);
    const bytes = readBytes(o.string ?? DEFAULT_STRING, `read.${column}.string`, source, 2);
    return Array.from({ length: n }, (_, i) => ({
      column,
      spec: { column: `${column}[${i}]`, src, woff, offsets: [i * 8, 0], leaf: "string" as const, listNext: i > 0, size: bytes, value: { kind: "string" as const, bytes }, what: `${what}[${i}]`, kernelRead: !user },
      decl: { kind: "char_array" as const, length: bytes },
      type: "char *[]",
      list: { index: i, count: n, slot: bytes },
      needs,
    }));
  }
  if (o.bytes !== undefined) {
    if (o.string !== undefined) throw new InvalidArgumentError(`${source}: read "${column}": string and bytes are two ways to read the same memory; pick one`);
    const n = readBytes(o.bytes, `read.${column}.bytes`, source);
    let length: DeriveSpec["length"];
    if (o.length !== undefined) {
      const lf = fieldOf(format, o.length);
      if (lf.decl.kind !== "int") throw new InvalidArgumentError(`${source}: read "${column}": length field "${o.length}" is ${lf.type}, not an integer`);
      length = { woff: lf.offset - RECORD_BASE, size: lf.decl.size };
    }
    return [{ column, spec: { column, src, woff, offsets: [0], leaf: "bytes", size: n, length, value: { kind: "bytes", size: n }, what, kernelRead: !user }, decl: { kind: "unknown", size: n }, type: `u8[${n}]`, needs }];
  }
  const n = readBytes(o.string ?? DEFAULT_STRING, `read.${column}.string`, source, 2);
  return [{ column, spec: { column, src, woff, offsets: [0], leaf: "string", size: n, value: { kind: "string", bytes: n }, what, kernelRead: !user }, decl: { kind: "char_array", length: n }, type: "char *", needs }];
}

/** Plans a standard column the record lacks. */
export function planExtra(name: ExtraColumn, source: string): DerivedColumn {
  switch (name) {
    case "uid":
    case "gid":
      return { column: name, spec: { column: name, src: name, size: 4, value: { kind: "int", size: 4, signed: false }, what: `the task's ${name}` }, decl: { kind: "int", size: 4, signed: false }, type: "u32" };
    case "cgroup":
    case "cgroup_path":
    case "container":
      return { column: "cgroup", spec: { column: "cgroup", src: "cgroup", size: 8, value: { kind: "int", size: 8, signed: false }, what: "the task's cgroup v2 id" }, decl: { kind: "int", size: 8, signed: false }, type: "u64" };
    case "kstack":
    case "ustack": {
      // an s32 stack id in the `stacks` map (negative: bpf_get_stackid's error); named in user space
      const user = name === "ustack";
      return { column: name, spec: { column: name, src: name, size: 4, value: { kind: "stack", user }, what: `the ${user ? "user" : "kernel"} stack (bpf_get_stackid)` }, decl: { kind: "int", size: 4, signed: true }, type: user ? USTACK_TYPE : KSTACK_TYPE };
    }
    case "ppid":
      return fromLeaf("ppid", currentTaskPath(btf(), "real_parent.tgid"), { src: "task" }, "current->real_parent->tgid", undefined, source);
    case "pcomm":
      return fromLeaf("pcomm", currentTaskPath(btf(), "real_parent.comm"), { src: "task" }, "current->real_parent->comm", undefined, source);
  }
}

export function isExtraColumn(name: string): name is ExtraColumn {
  return (EXTRA_COLUMNS as readonly string[]).includes(name);
}

/**
 * The standard columns a probe derives: those in `columns` (validated) and those named
 * elsewhere (fields, where, by) that no field of the probe (`taken`) already has. In one
 * fixed order, whatever order they were named in: a probe made from another (withFields,
 * withColumns) must put every derived value at the same offset. A standard column whose
 * name a field has becomes `task_<name>`; container and cgroup_path ride on the cgroup id.
 */
export function planExtras(columns: unknown, named: readonly string[], taken: ReadonlySet<string>, source: string): { cols: DerivedColumn[]; extras: ExtraColumn[] } {
  const asked = nameList(columns, "columns", source) ?? [];
  for (const c of asked) if (!isExtraColumn(c)) throw new InvalidArgumentError(`${source}: unknown column "${c}" in columns; the standard columns a probe can add are ${EXTRA_COLUMNS.join(", ")} (use read: {...} for other values)`);
  const extras = new Set<ExtraColumn>(asked as ExtraColumn[]);
  for (const n of named) if (isExtraColumn(n) && !taken.has(n)) extras.add(n);
  const out: DerivedColumn[] = [];
  for (const e of EXTRA_COLUMNS) {
    if (!extras.has(e) || FROM_CGROUP.has(e)) continue;
    const d = planExtra(e, source);
    if (taken.has(d.column)) {
      d.column = `task_${d.column}`;
      d.spec.column = d.column;
    }
    out.push(d);
  }
  const fromCgroup = EXTRA_COLUMNS.filter((e) => extras.has(e) && FROM_CGROUP.has(e));
  if (fromCgroup.length) {
    const existing = out.find((d) => d.spec.src === "cgroup");
    if (existing) existing.from = fromCgroup.join(",");
    else out.push({ ...planExtra("cgroup", source), from: fromCgroup.join(",") });
  }
  return { cols: out, extras: EXTRA_COLUMNS.filter((e) => extras.has(e)) };
}
