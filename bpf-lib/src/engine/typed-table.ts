/*
 * A typed view of an Arquero table: the same object, with its row type carried along so
 * `t.array("comm")`, `t.objects()[0].pid` and `t.filter((d) => d.comm === "cat")` are typed
 * without casts, and a column name that is not in the row is a compile error.
 *
 * Types only, no wrapper: the value is Arquero's own ColumnTable. The interface extends the
 * class so a typed table stays assignable to ColumnTable (its private members make it nominal)
 * and overrides the members that read rows or columns. A member Arquero declares as returning
 * `this` must keep doing so to stay compatible; verbs that change the row's shape (select,
 * derive, groupby, count, rollup) return a new typed table first and keep Arquero's own
 * signature as the last overload for forms whose result cannot be computed (helpers, rename maps).
 */
import type { ColumnTable } from "arquero";

declare module "arquero/dist/types/helpers/escape.js" {
  /**
   * A function of a row, escaped (run as JavaScript, closures allowed). Its row type comes from the
   * verb it is passed to (`t.filter(aq.escape((d) => keep.has(d.comm)))`), so `d` needs no annotation.
   */
  export function escape<Row, R>(fn: (d: Row, $: Record<string, unknown>) => R): Escaped<Row, R>;
}

type Params = Record<string, unknown>;
type Op = ReturnType<typeof import("arquero").op.count>;
type Select = Parameters<ColumnTable["select"]>[number];
type ExprList = Parameters<ColumnTable["groupby"]>[number];
type ExprObject = Parameters<ColumnTable["derive"]>[0];
type TypedArrayConstructor = Exclude<Parameters<ColumnTable["array"]>[1], ArrayConstructor | undefined>;

/** The names of a row's columns. */
export type ColumnName<Row> = Extract<keyof Row, string>;
/** A function of one row, as filter, derive, rollup and orderby take them (plain or inside aq.escape). */
export type RowFunction<Row, R = unknown> = (d: Row, $: Params) => R;
/**
 * What aq.escape(fn) returns, typed by the row its function takes and what it returns. Only a
 * type: at run time it is Arquero's own wrapper. The augmentation below gives aq.escape this type.
 */
export interface Escaped<Row, R = unknown> { readonly __escaped?: (d: Row) => R }
/** A string expression or a helper's object (aq.desc(...), an escape): not checked against the row. */
type Untyped = string | { toString(): string };
type Entry<Row> = RowFunction<Row> | Escaped<Row> | object;

/** What a derive or rollup entry produces: a function's result; Arquero's op calls and escaped values are not typed. */
type ValueOf<F> = F extends (...args: never[]) => infer R ? ([R] extends [Op] ? unknown : R)
  : F extends Escaped<never, infer R> ? R : unknown;
type Values<V> = { [K in keyof V & string]: ValueOf<V[K]> };
/** Flattens an intersection so hovers and errors show one object type. */
type Flat<T> = { [K in keyof T]: T[K] } & {};

/**
 * An Arquero table whose rows are `Row`. `Keys` are the groupby columns, which count and rollup keep.
 * A trace's table is a TypedTable with its stats (TraceTable).
 */
export interface TypedTable<Row extends object, Keys extends string = never> extends ColumnTable {
  /** Only a type: the row type, for code that infers it (`typeof t extends { __row?: infer R }`). */
  readonly __row?: Row;

  /** A column's values in table order, as a new array. */
  array<K extends ColumnName<Row>>(name: K): Row[K][];
  array<K extends ColumnName<Row>, C extends TypedArrayConstructor>(name: K, constructor: C): InstanceType<C>;
  /** The value of column `name` at `row` (default 0). */
  get<K extends ColumnName<Row>>(name: K, row?: number): Row[K];
  getter<K extends ColumnName<Row>>(name: K): (row: number) => Row[K];
  object(row?: number): Row;
  objects(options?: { limit?: number; offset?: number }): Row[];
  objects(options?: Parameters<ColumnTable["objects"]>[0]): object[];
  [Symbol.iterator](): Iterator<Row>;

  filter(criteria: RowFunction<Row> | Escaped<Row> | Untyped): this;
  orderby(...keys: (ColumnName<Row> | RowFunction<Row> | Escaped<Row> | Untyped | (ColumnName<Row> | RowFunction<Row> | Escaped<Row> | Untyped)[])[]): this;
  dedupe(...keys: (ColumnName<Row> | ColumnName<Row>[] | Record<string, RowFunction<Row> | Escaped<Row> | Untyped>)[]): this;
  sample(size: number | RowFunction<Row, number>, options?: Parameters<ColumnTable["sample"]>[1]): this;

  select<K extends ColumnName<Row>>(...columns: (K | readonly K[])[]): TypedTable<Flat<Pick<Row, K>>, Extract<Keys, K>>;
  select(...columns: Exclude<Select, string>[]): this;

  derive<V extends Record<string, Entry<Row>>>(values: V, options?: Parameters<ColumnTable["derive"]>[1]): TypedTable<Flat<Omit<Row, keyof V> & Values<V>>, Keys>;
  derive(values: ExprObject, options?: Parameters<ColumnTable["derive"]>[1]): this;

  groupby<K extends ColumnName<Row>>(...keys: (K | readonly K[])[]): TypedTable<Row, K>;
  groupby<V extends Record<string, Entry<Row>>>(keys: V): TypedTable<Flat<Row & Values<V>>, keyof V & string>;
  groupby(...keys: Exclude<ExprList, string | string[]>[]): this;

  count<A extends string = "count">(options?: { as?: A }): TypedTable<Flat<Pick<Row, Keys & keyof Row> & { [P in A]: number }>>;
  count(options?: Parameters<ColumnTable["count"]>[0]): this;
  rollup<V extends Record<string, Entry<Row>>>(values: V): TypedTable<Flat<Pick<Row, Keys & keyof Row> & Values<V>>>;
  rollup(values?: ExprObject): this;
}

/** The row type of a typed table: `RowOf<typeof t>`. */
export type RowOf<T> = T extends { readonly __row?: infer R } ? NonNullable<R> : never;
