/* Renders the running kernel's functions (BTF FUNCs) as a TypeScript declaration
 * file, so `kprobe("vfs_read", { args: ["count"] })` gets its argument names checked
 * and its rows typed. ~56 000 functions share ~21 000 signatures: each distinct one
 * is written once as a string literal type (`type $7xi = "file:P,buf:C,count:N,pos:P>N"`),
 * which template-literal helper types parse only for the functions a program names. */
import { hostname, release } from "node:os";
import { KernelBtf, type KernelFunctionPrototype, type KernelFunctionValueKind } from "./prototype.js";

export interface GeneratedKernelFunctionTypes {
  text: string;
  functions: number;
  signatures: number;
  /** Functions left out: duplicate names, names that are not identifiers. */
  skipped: number;
}

/** The type code of an argument or return value: N integer (number), P pointer (bigint), C char pointer (bigint, or a string on request), V void. */
export function typeCode(decl: KernelFunctionValueKind | null): "N" | "P" | "C" | "V" {
  if (decl === null) return "V";
  return decl.kind === "int" ? "N" : decl.kind === "pointer" ? (decl.char ? "C" : "P") : "V";
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const key = (name: string): string => (IDENTIFIER.test(name) ? name : JSON.stringify(name));

/**
 * The signature of one prototype as a string literal type, `"file:P,buf:C,count:N,pos:P>N"`
 * (readable arguments > return value), parsed by the helper types only for the functions a
 * program names: 56 000 object types cost tsc seconds per build, string literals nothing.
 */
export function signatureOf(p: KernelFunctionPrototype): string {
  const args = p.args.filter((a) => a.readable).map((a) => `${a.name}:${typeCode(a.decl)}`);
  return JSON.stringify(`${args.join(",")}>${typeCode(p.ret?.decl ?? null)}`);
}

/** Types over the signature table; the fallback (no BTF) has untyped versions of the same names. */
const HELPERS = `/** An argument's (or return value's) decoded type. */
type Decoded<T> = T extends "N" ? number : T extends "P" | "C" ? bigint : undefined;
type ArgList<S> = S extends \`\${infer A}>\${string}\` ? A : never;
type Pairs<A> = A extends \`\${infer H},\${infer T}\` ? H | Pairs<T> : A extends "" ? never : A;
type ArgMap<S> = { [P in Pairs<ArgList<S>> as P extends \`\${infer K}:\${string}\` ? K : never]: P extends \`\${string}:\${infer C}\` ? Decoded<C> : never };
type CharArgs<S> = Pairs<ArgList<S>> extends infer P ? (P extends \`\${infer K}:C\` ? K : never) : never;
type RetOf<S> = S extends \`\${string}>\${infer R}\` ? Decoded<R> : never;
/**
 * F's signature, or \`string\` for a name the table does not have. The table has a string index
 * signature so this is a plain property lookup: \`keyof\` of 56 000 names (or inference
 * against a mapped type over it) costs the type checker ~100 000 types and seconds per program.
 */
type Lookup<F extends string> = KernelFunctionSignatures[F];

/** Whether F is a function of the kernel the types were generated from. */
export type IsKernelFunction<F extends string> = string extends Lookup<F> ? false : true;
/** The readable arguments of kernel function F and their decoded types (any name for an unknown F). */
export type KernelFunctionArgs<F extends string> = string extends Lookup<F> ? Record<string, number | bigint> : ArgMap<Lookup<F>>;
/** The char-pointer arguments of F, which a probe can read as strings. */
export type KernelFunctionStrings<F extends string> = string extends Lookup<F> ? string : CharArgs<Lookup<F>>;
/** The decoded return value of F (undefined for void). */
export type KernelFunctionReturn<F extends string> = string extends Lookup<F> ? number | bigint : RetOf<Lookup<F>>;
`;

const FALLBACK_HELPERS = `export type IsKernelFunction<_F extends string> = boolean;
export type KernelFunctionArgs<_F extends string> = Record<string, number | bigint>;
export type KernelFunctionStrings<_F extends string> = string;
export type KernelFunctionReturn<_F extends string> = number | bigint;
`;

const DOC = `/** Kernel functions (BTF FUNCs) by name: "arg:code,...>return code", codes N (integer:
 * number, exact below 2^53), P (pointer: bigint address), C (char pointer: bigint, or a string
 * when asked for in \`strings\`), V (void). Only readable arguments are listed: integers and
 * pointers in the first six register slots. Use KernelFunctionArgs<F> and KernelFunctionReturn<F>. */`;

/** Pure rendering of `protos`; `header` is the first comment line, without the slashes. */
export function renderKernelFunctionTypes(protos: Iterable<KernelFunctionPrototype>, header: string): GeneratedKernelFunctionTypes {
  const byName = new Map<string, KernelFunctionPrototype>();
  let skipped = 0;
  for (const p of protos) {
    if (!IDENTIFIER.test(p.name) || byName.has(p.name)) {
      skipped++;
      continue;
    }
    byName.set(p.name, p);
  }
  const names = [...byName.keys()].sort();
  const sigs = new Map<string, string>();
  const members: string[] = [];
  for (const name of names) {
    const sig = signatureOf(byName.get(name)!);
    let alias = sigs.get(sig);
    if (alias === undefined) {
      alias = `$${sigs.size.toString(36)}`;
      sigs.set(sig, alias);
    }
    members.push(` ${key(name)}: ${alias};`);
  }
  const aliases = [...sigs].map(([sig, alias]) => `type ${alias} = ${sig};`);
  const text = [
    `// ${header}; do not edit`,
    "",
    HELPERS,
    DOC,
    "export interface KernelFunctionSignatures {",
    " [name: string]: string;",
    ...members,
    "}",
    "",
    ...aliases,
    "",
  ].join("\n");
  return { text, functions: names.length, signatures: sigs.size, skipped };
}

/** Reads every FUNC of the running kernel's BTF and renders them. */
export function generateKernelFunctionTypes(btf: KernelBtf = KernelBtf.vmlinux()): GeneratedKernelFunctionTypes {
  const protos: KernelFunctionPrototype[] = [];
  for (const id of btf.functions().values()) protos.push(btf.prototypeById(id));
  return renderKernelFunctionTypes(protos, `generated by bpfbook from ${btf.source} on ${hostname()} ${release()}`);
}

/** Written when the kernel has no BTF, so the project still compiles, untyped. */
export const KERNEL_FUNCTION_FALLBACK = [
  "// generated by bpfbook without kernel BTF (/sys/kernel/btf/vmlinux is missing); do not edit",
  "// Run `npm run build:types` on a kernel with CONFIG_DEBUG_INFO_BTF=y to get typed kernel functions.",
  "",
  FALLBACK_HELPERS,
  "export type KernelFunctionSignatures = Record<string, string>;",
  "",
].join("\n");
