/* Typed kernel paths: `pathOf("task_struct", (t) => t.real_parent.tgid)` is checked against
 * this kernel's structs (generated/kernel-structs.d.ts), so the notebook completes member
 * names and a member the kernel lacks is a compile error; at run time a Proxy records the
 * members the function touches and returns the path as a string ("real_parent.tgid"),
 * which resolvePath turns into offsets. Template-literal path types were the other way;
 * they would re-walk task_struct's ~250 members at every keystroke, a property access
 * costs the checker one lookup. */
import { InvalidArgumentError } from "../errors.js";
import type { KernelStructs } from "../generated/kernel-structs.js";
import type { ArrayBytes, KernelPointer, Untyped } from "./brands.js";

export type { KernelStructs, KernelStruct } from "../generated/kernel-structs.js";
export type { Ptr, Pointee, KernelArray, KernelPointer, ArrayBytes } from "./brands.js";

/** A struct a typed path can start from. */
export type KernelStructName = keyof KernelStructs & string;

/** What a path can end on: a value, a pointer (its address) or an array (its bytes); not a struct. */
export type KernelLeafType = number | bigint | string | boolean | KernelPointer | ArrayBytes;

/** What the value at the end of a path reads as: a pointer as its address, an array as its bytes. */
export type LeafValue<R> = R extends Untyped
  ? number | bigint | string | boolean | Uint8Array
  : R extends KernelPointer
    ? bigint
    : R extends ArrayBytes
      ? Uint8Array
      : R;

declare const LEAF: unique symbol;
/** A kernel path as a string, carrying the type of its leaf's value for the probe that reads it. */
export type KernelPathString<V> = string & { readonly [LEAF]?: V };
/** The value type a path reads: `LeafOf<typeof p>`. */
export type LeafOf<P> = P extends KernelPathString<infer V> ? V : never;

const STEPS = Symbol("kernel path steps");
const INDEX = /^(0|[1-9][0-9]*)$/;

interface Recorded {
  readonly [STEPS]: readonly string[];
}

/** An object whose every member access returns another one, one step longer. */
function recorder(steps: readonly string[]): Recorded {
  return new Proxy(Object.create(null) as Recorded, {
    get(_target, key) {
      if (key === STEPS) return steps;
      // Symbols are the runtime's own probes (Symbol.toPrimitive, inspect): not members.
      if (typeof key === "symbol") return undefined;
      return recorder([...steps, INDEX.test(key) ? `[${key}]` : key]);
    },
  });
}

function record(what: string, fn: unknown, arg: string): string {
  if (typeof fn !== "function") throw new InvalidArgumentError(`${what}: expected a function such as (${arg}) => ${arg}.real_parent.tgid; got ${typeof fn}`);
  let got: unknown;
  try {
    got = (fn as (x: Recorded) => unknown)(recorder([]));
  } catch (e) {
    // Arithmetic or a call on a member reaches the recorder as a conversion it cannot make.
    if (!(e instanceof TypeError)) throw e;
    throw new InvalidArgumentError(`${what}: the function may only read members, such as (${arg}) => ${arg}.real_parent.tgid, not compute with them (${e.message})`);
  }
  const steps = typeof got === "object" && got !== null ? (got as Partial<Recorded>)[STEPS] : undefined;
  if (!steps) {
    throw new InvalidArgumentError(`${what}: the function must return a member of its argument, such as (${arg}) => ${arg}.real_parent.tgid, and compute nothing else; got ${typeof got}`);
  }
  if (steps.length === 0) throw new InvalidArgumentError(`${what}: the function returned its argument itself; return one of its members, such as (${arg}) => ${arg}.real_parent.tgid`);
  return steps.reduce((path, s) => (s.startsWith("[") ? path + s : path ? `${path}.${s}` : s), "");
}

/**
 * The path from struct `root` that `fn` follows, as a string for a probe's `read` option:
 * `pathOf("sock", (s) => s.__sk_common.skc_dport)` is `"__sk_common.skc_dport"`, typed so
 * that the probe knows the value is a number. A member this kernel lacks is a compile error.
 */
export function pathOf<S extends KernelStructName, R extends KernelLeafType>(root: S, fn: (s: KernelStructs[S]) => R): KernelPathString<LeafValue<R>> {
  if (typeof root !== "string" || (root as string) === "") throw new InvalidArgumentError(`pathOf(): the root must be a kernel struct name such as "task_struct"; got ${JSON.stringify(root)}`);
  return record(`pathOf(${JSON.stringify(root)})`, fn, "s") as KernelPathString<LeafValue<R>>;
}

/** A path from the current task: `currentPathOf((t) => t.real_parent.tgid)` is `"current.real_parent.tgid"`. */
export function currentPathOf<R extends KernelLeafType>(fn: (t: KernelStructs["task_struct"]) => R): KernelPathString<LeafValue<R>> {
  return `current.${record("currentPathOf()", fn, "t")}` as KernelPathString<LeafValue<R>>;
}
