/* The typed API of groups of tracepoints: which generated names a pattern or a list
 * stands for, the fields they all share, and the rows, filters and keys that follow.
 * A wildcard becomes a template literal type (`*` and `?` → `${string}`, `{a,b}` →
 * a union), matched against this machine's TracepointName. That errs only towards
 * more names (a `*` may cross the ":" here), so fewer fields are typed, never wrong ones. */
import type { TracepointFields, TracepointName, TracepointUserStrings } from "../../generated/tracepoints.js";
import type { FieldFilter } from "../../engine/filter.js";
import type { StandardRow } from "./probe.js";

type Alternatives<S extends string> = S extends `${infer A},${infer B}` ? A | Alternatives<B> : S;

/** A wildcard pattern as a template literal type. */
export type PatternTemplate<P extends string> =
  P extends `${infer A}{${infer X}}${infer B}` ? `${PatternTemplate<A>}${PatternTemplate<Alternatives<X>>}${PatternTemplate<B>}`
  : P extends `${infer A}*${infer B}` ? `${A}${string}${PatternTemplate<B>}`
  : P extends `${infer A}?${infer B}` ? `${A}${string}${PatternTemplate<B>}`
  : P;

/** The generated names one pattern (or name) stands for. */
type NamesOfOne<P extends string> = P extends TracepointName ? P : Extract<TracepointName, PatternTemplate<P>>;

/** The names a pattern or a list of names and patterns stands for (string: not known until run time). */
export type GroupNames<P> = P extends readonly (infer E extends string)[] ? (string extends E ? string : NamesOfOne<E>)
  : P extends string ? (string extends P ? string : NamesOfOne<P>) : string;

type UserStringsOf<N> = N extends keyof TracepointUserStrings ? TracepointUserStrings[N] : never;
/** A field's value in each tracepoint of N (a union when they differ). */
type ValueIn<N, K extends string> = N extends TracepointName ? (K extends keyof TracepointFields[N] ? (K extends UserStringsOf<N> ? string : TracepointFields[N][K]) : never) : never;
type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never;

/** Fields every tracepoint of N has, with the same type (a wide N: any string). */
export type CommonField<N extends string> = string extends N ? string
  : [N] extends [never] ? string
  : { [K in Extract<keyof TracepointFields[N & TracepointName], string>]: true extends IsUnion<ValueIn<N, K>> ? never : K }[Extract<keyof TracepointFields[N & TracepointName], string>];

/** A field named like a standard column, or `probe`, becomes `args_<name>`. */
export type GroupColumnName<K extends string> = K extends keyof StandardRow | "probe" ? `args_${K}` : K;

/** The value of common field K. */
export type CommonValue<N extends string, K extends string> = string extends N ? unknown : [N] extends [never] ? unknown : ValueIn<N, K>;

/** A row of a group's stream: the standard columns, `probe` (which tracepoint), and the fields F. */
export type TracepointGroupRow<N extends string, F extends string> = StandardRow & { probe: string extends N ? string : N } & { [K in F as GroupColumnName<K>]: CommonValue<N, K> };

export type GroupWhere<N extends string> = {
  pid?: number;
  tid?: number;
  comm?: string;
} & (string extends N ? Record<string, unknown> : { [K in CommonField<N> as GroupColumnName<K>]?: FieldFilter<CommonValue<N, K> extends bigint ? bigint | number : CommonValue<N, K>> });

/** What a group's aggregation can be keyed by: standard columns, `probe`, `syscall`, or common fields. */
export type GroupKeyName<N extends string> = "pid" | "tid" | "comm" | "cpu" | "cgroup" | "syscall" | "probe" | GroupColumnName<CommonField<N>>;
