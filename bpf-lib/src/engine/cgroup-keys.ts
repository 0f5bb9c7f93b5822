/* Aggregations keyed by container or cgroup path: the kernel keys by cgroup id (all it
 * knows); here the ids become paths and container ids, and rows of one container (or
 * path) that the kernel kept apart (several cgroups of one pod) are merged. */

import type { ColumnTable } from "arquero";
import { CgroupPaths } from "../cgroups/paths.js";
import { cgroupOwner } from "../cgroups/container.js";
import { mergeRows } from "./merge-rows.js";

/** Key names resolved from the cgroup id in user space. */
export const CGROUP_KEYS: ReadonlySet<string> = new Set(["container", "cgroup_path"]);

/** The kernel's key for `by`: container and cgroup_path become one cgroup key. */
export function kernelKeys(by: readonly string[]): string[] {
  const out: string[] = [];
  for (const k of by) {
    const kk = CGROUP_KEYS.has(k) ? "cgroup" : k;
    if (!out.includes(kk)) out.push(kk);
  }
  return out;
}


/**
 * Adds the cgroup-derived key columns `by` asks for, in `by`'s order, and when `by` does not
 * keep the cgroup id itself, merges the rows that now share every key: counts and sums add,
 * min and max take the extremes, avg is recomputed.
 */
export function withCgroupKeys(t: ColumnTable, by: readonly string[], paths: CgroupPaths = new CgroupPaths()): ColumnTable {
  const wanted = by.filter((k) => CGROUP_KEYS.has(k));
  if (wanted.length === 0 || !t.columnNames().includes("cgroup")) return t;
  const ids = t.array("cgroup") as ArrayLike<number | bigint>;
  const add: Record<string, (string | null)[]> = {};
  for (const k of wanted) add[k] = [];
  for (let i = 0; i < t.numRows(); i++) {
    const path = paths.path(ids[i]!);
    for (const k of wanted) add[k]!.push(k === "cgroup_path" ? path : path === null ? null : cgroupOwner(path).container);
  }
  let out = t.assign(add);
  if (by.includes("cgroup")) return out.select(orderOf(out, by));
  out = mergeRows(out.select(out.columnNames().filter((c) => c !== "cgroup")));
  return out.select(orderOf(out, by));
}

/** Columns in the order: interval keys, `by`'s keys, then the rest (buckets, values). */
function orderOf(t: ColumnTable, by: readonly string[]): string[] {
  const names = t.columnNames();
  const lead = ["interval", "time"].filter((c) => names.includes(c));
  const keys = by.filter((c) => names.includes(c));
  return [...lead, ...keys, ...names.filter((c) => !lead.includes(c) && !keys.includes(c))];
}


