/* TypeScript types of a compiled cell's rows, maps and globals, for the notebook to
 * declare so later cells are type-checked against the user's C. Each leaf's type is the
 * value its decoder produces (record-decoder.ts, codec.ts). */
import type { ObjectDescription } from "./describe.js";
import type { Leaf, RecordLayout } from "./layout.js";

/** The value type of one leaf: bools decode as 0/1 and addresses as exact bigints. */
export function leafTypeText(leaf: Leaf): string {
  switch (leaf.kind) {
    case "int":
    case "bits":
    case "float": return "number";
    case "pointer": return "bigint";
    case "chars": return "string";
    case "ints": return "number[]";
    case "bytes": return "Uint8Array";
  }
}

const key = (name: string) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name));

function objectText(entries: readonly (readonly [string, string])[]): string {
  return entries.length ? `{ ${entries.map(([k, t]) => `${key(k)}: ${t}`).join("; ")} }` : "{}";
}

const byName = <T extends { name: string }>(list: readonly T[]) => [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** One row of `layout` as a TypeScript object type: `{ pid: number; comm: string }`. */
export function rowTypeText(layout: RecordLayout): string {
  return objectText(layout.leaves.map((l) => [l.name, leafTypeText(l)] as const));
}

/**
 * `{ events: ...; maps: ...; hists: ...; globals: ... }` of a cell's object, names sorted:
 * rings with a record type (RINGBUF()), maps with typed keys and values, HIST() keys, and
 * globals (a scalar or array as its value, a struct as a row).
 */
export function programTypeText(desc: ObjectDescription): string {
  const maps = byName(desc.maps);
  const events = maps.filter((m) => m.kind === "ringbuf" && m.record).map((m) => [m.name, rowTypeText(m.record!)] as const);
  const tables = maps
    .filter((m) => m.kind !== "ringbuf" && m.kind !== "hist" && m.key && m.value)
    .map((m) => [m.name, `{ kind: ${JSON.stringify(m.kind)}; key: ${rowTypeText(m.key!)}; value: ${rowTypeText(m.value!)} }`] as const);
  const hists = maps.filter((m) => m.kind === "hist" && m.histKey).map((m) => [m.name, `{ key: ${rowTypeText(m.histKey!)} }`] as const);
  const globals = byName(desc.globals).map((g) => {
    const leaves = g.layout.leaves;
    const bare = leaves.length === 1 && leaves[0]!.name === g.name;
    return [g.name, bare ? leafTypeText(leaves[0]!) : rowTypeText(g.layout)] as const;
  });
  return `{ events: ${objectText(events)}; maps: ${objectText(tables)}; hists: ${objectText(hists)}; globals: ${objectText(globals)} }`;
}
