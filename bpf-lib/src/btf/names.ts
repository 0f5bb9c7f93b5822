/* The named types of a BTF (structs, unions, enums, typedefs, forward declarations) by
 * name, built once per source: root names such as "task_struct" or `as: "sock"` are
 * looked up here, and an unknown one is answered with the nearest names. */
import { BtfKind } from "./format.js";
import type { BtfTypeSource } from "./source.js";
import { isBlob } from "./blob.js";

const INDEXED: ReadonlySet<number> = new Set([BtfKind.STRUCT, BtfKind.UNION, BtfKind.ENUM, BtfKind.ENUM64, BtfKind.TYPEDEF, BtfKind.FWD]);

export class TypeNames {
  readonly #byName = new Map<string, number[]>();
  readonly #kinds = new Map<number, number>();

  constructor(src: BtfTypeSource) {
    const add = (id: number, kind: number, nameOff: number) => {
      if (!INDEXED.has(kind) || nameOff === 0) return;
      const name = src.name(nameOff);
      const ids = this.#byName.get(name);
      if (ids) ids.push(id);
      else this.#byName.set(name, [id]);
      this.#kinds.set(id, kind);
    };
    if (isBlob(src)) {
      for (let id = 1, n = src.typeCount; id < n; id++) add(id, src.kindOf(id), src.nameOffOf(id));
    } else {
      for (let id = 1, t = src.type(id); t !== null; t = src.type(++id)) add(id, t.kind, t.nameOff);
    }
  }

  /** Ids of the types called `name` whose kind is one of `kinds`, in id order. */
  find(name: string, kinds: readonly number[]): number[] {
    return (this.#byName.get(name) ?? []).filter((id) => kinds.includes(this.#kinds.get(id)!));
  }

  /** Every name with a type of one of `kinds` (for suggestions and for generators). */
  names(kinds: readonly number[]): string[] {
    const out: string[] = [];
    for (const [name, ids] of this.#byName) if (ids.some((id) => kinds.includes(this.#kinds.get(id)!))) out.push(name);
    return out;
  }
}

const cache = new WeakMap<BtfTypeSource, TypeNames>();

/** The name index of `src`, built on first use (~50 ms for a BtfBlob of the kernel, ~1 s through libbpf's KernelBtf). */
export function typeNames(src: BtfTypeSource): TypeNames {
  let names = cache.get(src);
  if (!names) {
    names = new TypeNames(src);
    cache.set(src, names);
  }
  return names;
}
