/* Renders kernel structs from this kernel's BTF as TypeScript interfaces
 * (generated/kernel-structs.d.ts), so `pathOf("task_struct", (t) => t.real_parent.tgid)`
 * completes member names and fails to compile on a member the kernel lacks. All ~10 000
 * structs would be several MB, so only the structs reachable from a set of roots within a
 * few pointer hops are written; a pointer to a struct beyond that is typed as its address. */
import { hostname, release } from "node:os";
import { BtfKind } from "./format.js";
import { cTypeName, resolve, type BtfTypeSource } from "./source.js";
import { shapeOf } from "./leaf.js";
import { membersOf } from "./members.js";
import { definitionOf, findStruct } from "./root.js";

/** Structs people follow paths through; the CLI adds every struct a tracepoint field points to. */
export const STRUCT_ROOTS: readonly string[] = [
  "task_struct", "sock", "tcp_sock", "inet_sock", "inet_connection_sock", "sock_common", "socket", "sk_buff", "file", "dentry", "inode",
  "super_block", "request", "bio", "block_device", "gendisk", "cred", "nsproxy", "mm_struct", "vm_area_struct", "net_device", "signal_struct",
  "cgroup", "css_set", "kernfs_node", "linux_binprm", "qstr", "path", "files_struct", "fdtable", "pid_namespace", "net", "uts_namespace",
  "mnt_namespace", "vfsmount", "mount", "page", "folio", "sched_entity", "rq", "pid", "user_namespace", "fs_struct", "kiocb", "msghdr",
];

/**
 * Pointer hops from a root within which pointed-to structs get their own interface. Every
 * struct reachable from the roots is ~1 100 structs and ~0.4 MB on 6.18 (function pointers
 * are not followed), so by default there is no cut.
 */
export const DEFAULT_DEPTH = Infinity;

export interface GeneratedStructTypes {
  text: string;
  /** Interfaces written. */
  structs: number;
  members: number;
  depth: number;
  /** Roots the BTF does not have (a kernel without that struct). */
  missing: string[];
}

const RESERVED = new Set(
  ("any unknown never number bigint boolean string symbol void undefined null object break case catch class const continue debugger default delete do " +
    "else enum export extends false finally for function if import in instanceof new return super switch this throw true try typeof var while with " +
    "implements interface let package private protected public static yield await").split(" "),
);
/** The interface name of struct `name`, inside namespace KernelStruct. */
export const interfaceName = (name: string): string => (RESERVED.has(name) ? `${name}_` : name);

const isAggregate = (kind: number | undefined) => kind === BtfKind.STRUCT || kind === BtfKind.UNION;

/** The struct ids to write: every root, the named structs embedded in them, and those `depth` pointer hops away. */
function reachable(src: BtfTypeSource, roots: number[], depth: number): Set<number> {
  const seen = new Set<number>();
  let level = roots;
  for (let d = 0; level.length > 0; d++) {
    const next: number[] = [];
    const visit = (id: number) => {
      if (seen.has(id)) return;
      seen.add(id);
      for (const m of membersOf(src, id)) edges(src, m.typeId, visit, (p) => d < depth && next.push(p));
    };
    level.forEach(visit);
    level = next.filter((id) => !seen.has(id));
  }
  return seen;
}

/** Calls `embedded` for named structs stored inline in a value of type `id`, `pointed` for structs it points to. */
function edges(src: BtfTypeSource, id: number, embedded: (id: number) => void, pointed: (id: number) => void, n = 0): void {
  const t = resolve(src, id);
  if (!t || n > 8) return;
  if (t.kind === BtfKind.ARRAY) return edges(src, t.extra[0]!, embedded, pointed, n + 1);
  if (isAggregate(t.kind)) {
    if (src.name(t.nameOff)) return embedded(t.id);
    // An anonymous struct as a named member: its members are inline too.
    for (const m of membersOf(src, t.id)) edges(src, m.typeId, embedded, pointed, n + 1);
    return;
  }
  if (t.kind === BtfKind.PTR) {
    const p = resolve(src, t.sizeOrType);
    const def = p && definitionOf(src, p);
    if (def && isAggregate(def.kind) && src.name(def.nameOff)) pointed(def.id);
    else if (def?.kind === BtfKind.PTR) edges(src, def.id, pointed, pointed, n + 1); // struct file **
  }
}

class Renderer {
  members = 0;
  constructor(readonly src: BtfTypeSource, readonly written: ReadonlySet<number>) {}

  /** The TypeScript type of a value of BTF type `id`; null for what has no value (void, functions). */
  tsType(id: number, bitfield: boolean, depth = 0): string | null {
    const src = this.src;
    const shape = shapeOf(src, id);
    if (shape === null || depth > 8) return null;
    switch (shape.kind) {
      case "int":
        if (shape.bool) return "boolean";
        return shape.size === 8 && !bitfield ? "bigint" : "number";
      case "string":
      case "kstring":
        return "string";
      case "pointer": {
        const t = resolve(src, id)!;
        const p = resolve(src, t.sizeOrType);
        const def = p && definitionOf(src, p);
        if (def && this.written.has(def.id)) return `Ptr<KernelStruct.${interfaceName(src.name(def.nameOff))}>`;
        if (!def || isAggregate(def.kind) || def.kind === BtfKind.FWD || def.kind === BtfKind.FUNC_PROTO) return "bigint";
        // `struct file **`, `int *`, `char **`: a path may index it, as resolvePath does.
        const elem = this.tsType(t.sizeOrType, false, depth + 1);
        return elem === null ? "bigint" : `Ptr<Pointee<${elem}>>`;
      }
      case "bytes": {
        const t = resolve(src, id)!;
        if (t.kind !== BtfKind.ARRAY) return "Uint8Array";
        const elem = this.tsType(t.extra[0]!, false, depth + 1);
        return elem === null ? "Uint8Array" : `KernelArray<${elem}>`;
      }
      case "struct": {
        const name = src.name(src.type(shape.id)!.nameOff);
        if (name) return `KernelStruct.${interfaceName(name)}`;
        return this.body(shape.id, depth + 1);
      }
    }
  }

  /** `{ a: number; b: Ptr<KernelStruct.x> }` for struct `id`, anonymous members flattened. */
  body(id: number, depth = 0): string {
    const parts: string[] = [];
    for (const m of membersOf(this.src, id)) {
      const ts = this.tsType(m.typeId, m.bitSize > 0, depth);
      if (ts === null) continue;
      // The C type shows on hover: `__be16` says the bytes are in network order.
      const c = cTypeName(this.src, m.typeId).replace(/\*\//g, "* /");
      parts.push(`/** ${c}${m.bitSize ? `:${m.bitSize}` : ""} */ ${m.name}: ${ts};`);
      this.members++;
    }
    return parts.length ? `{ ${parts.join(" ")} }` : "{}";
  }
}

const HELPERS = `import type { Ptr, Pointee, KernelArray } from "../btf/brands.js";`;

const DOC = `/** Kernel structs by name: the roots a typed path can start from (\`pathOf("sock", ...)\`).
 * Integers are number (8-byte ones bigint, bitfields number), bools boolean, char arrays and
 * char pointers string; a pointer to a struct is that struct (follow it) or, as a leaf, its
 * address; arrays are KernelArray (index them, or read their bytes). */`;

/** Renders the structs reachable from `roots` (struct names) within `depth` pointer hops. */
export function renderStructTypes(src: BtfTypeSource, roots: readonly string[], depth: number, header: string): GeneratedStructTypes {
  const missing: string[] = [];
  const ids: number[] = [];
  for (const r of new Set(roots)) {
    const t = findStruct(src, r);
    if (t && isAggregate(t.kind)) ids.push(t.id);
    else missing.push(r);
  }
  const written = reachable(src, ids, depth);
  const r = new Renderer(src, written);
  const byName = new Map<string, number>();
  for (const id of written) byName.set(src.name(src.type(id)!.nameOff), id);
  const names = [...byName.keys()].sort();
  const lines = names.map((n) => {
    const id = byName.get(n)!;
    return `  /** ${cTypeName(src, id)} */\n  interface ${interfaceName(n)} ${r.body(id)}`;
  });
  const text = [
    `// ${header}; do not edit`,
    HELPERS,
    "",
    // A namespace keeps ~1 200 struct names out of the module's own names (members say KernelStruct.x).
    "export declare namespace KernelStruct {",
    ...lines,
    "}",
    "",
    DOC,
    "export interface KernelStructs {",
    ...names.map((n) => `  ${n}: KernelStruct.${interfaceName(n)};`),
    "}",
    "",
  ].join("\n");
  return { text, structs: names.length, members: r.members, depth, missing };
}

/** Written without kernel BTF, so the project still compiles: any struct name, any member, checked at run time. */
export const STRUCTS_FALLBACK = [
  "// generated by bpfbook without kernel BTF (/sys/kernel/btf/vmlinux is missing); do not edit",
  "// Run `npm run build:types` on a kernel with CONFIG_DEBUG_INFO_BTF=y to get typed kernel structs.",
  `import type { Untyped } from "../btf/brands.js";`,
  "",
  "export declare namespace KernelStruct {}",
  "export type KernelStructs = Record<string, Untyped>;",
  "",
].join("\n");

/** Renders the default roots plus `extraRoots` from `src`. */
export function generateStructTypes(src: BtfTypeSource, source: string, extraRoots: readonly string[] = [], depth = DEFAULT_DEPTH): GeneratedStructTypes {
  return renderStructTypes(src, [...STRUCT_ROOTS, ...extraRoots], depth, `generated by bpfbook from ${source} on ${hostname()} ${release()} (depth ${depth})`);
}
