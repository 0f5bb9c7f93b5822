/* Decoders of derived values (tracepoint/reads.ts plans them, derive.h fills them in) for
 * every probe kind: the window's shape differs (a tracepoint copies its record, slot probes
 * copy some slots), so the caller says where each derived value and each length field lands. */
import type { BpfMap } from "../libbpf/map.js";
import { decoders, int64Mode } from "../engine/fields.js";
import type { FieldDecoder } from "../engine/decoder.js";
import type { DerivedLayout } from "../engine/derive.js";
import { stackDecoder } from "../engine/stack-columns.js";
import { StackSymbolizer } from "../symbols/stacks.js";
import { CgroupPaths } from "../cgroups/paths.js";
import { cgroupOwner } from "../cgroups/container.js";
import type { DerivedColumn } from "./tracepoint/reads.js";

export interface DerivedDecoding {
  /** Event offset of a derived value at window offset `woff`. */
  at(woff: number): number;
  /** Event offset of the window field a buffer's length is at, or null when the event lacks it. */
  lengthAt(woff: number): number | null;
  bigint?: unknown;
  /** The cgroup id column itself is asked for (not only cgroup_path/container from it). */
  wantCgroup: boolean;
  /** The program's stack map, read while decoding (stack ids become folded stacks). */
  stacks: BpfMap | null;
}

/** One decoder per derived column, in plan order (an array read's slots decode as one column). */
export function derivedDecoders(cols: readonly DerivedColumn[], layout: DerivedLayout, how: DerivedDecoding): FieldDecoder[] {
  const out: FieldDecoder[] = [];
  let cgroups: CgroupPaths | null = null;
  let symbolizer: StackSymbolizer | null = null;
  cols.forEach((c, i) => {
    const off = how.at(layout.fields[i]!.doff);
    const v = c.spec.value;
    if (v.kind === "stack") {
      if (!how.stacks) throw new Error(`internal: ${c.column} is a stack id but the probe gave no stack map`);
      symbolizer ??= new StackSymbolizer();
      out.push(stackDecoder(c.column, off, v.user, how.stacks, symbolizer));
      return;
    }
    if (c.list) {
      if (c.list.index === 0) out.push(decoders.stringList(c.column, off, c.list.slot, c.list.count));
      return;
    }
    if (c.from) {
      cgroups ??= new CgroupPaths();
      const paths = cgroups;
      for (const name of c.from.split(",")) {
        out.push(decoders.mapped(name, off, (id: bigint) => {
          const path = paths.path(id);
          return name === "cgroup_path" ? path : path === null ? null : cgroupOwner(path).container;
        }));
      }
      if (!how.wantCgroup) return;
    }
    const k = c.decl;
    switch (k.kind) {
      case "int": out.push(decoders.int(c.column, off, k.size, k.signed, int64Mode(how.bigint, c.column))); break;
      case "pointer": out.push(decoders.pointer(c.column, off)); break;
      case "char_array": out.push(c.spec.leaf === "string" ? decoders.readString(c.column, off, k.length) : decoders.chars(c.column, off, k.length)); break;
      default: {
        const len = c.spec.length;
        const lenAt = len ? how.lengthAt(len.woff) : null;
        out.push(len && lenAt !== null ? decoders.lengthBytes(c.column, off, c.spec.size, lenAt, len.size) : decoders.bytes(c.column, off, c.spec.size));
      }
    }
  });
  return out;
}
