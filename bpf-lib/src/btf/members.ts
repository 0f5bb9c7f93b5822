/* The members of a struct or union as C sees them: members of anonymous structs and
 * unions appear as the parent's own (so `sock_common.skc_dport` is found inside its
 * anonymous union), with offsets in bits from the start of the outer type, and
 * bitfields with their width, whichever of BTF's two encodings the kernel used. */
import { BtfKind } from "./format.js";
import { resolve, type BtfTypeSource } from "./source.js";

export interface Member {
  name: string;
  /** The member's type id as declared (typedefs and qualifiers not yet resolved). */
  typeId: number;
  /** Bits from the start of the outer struct. */
  bitOffset: number;
  /** Width of a bitfield; 0 for an ordinary member. */
  bitSize: number;
}

const cache = new WeakMap<BtfTypeSource, Map<number, readonly Member[]>>();

/** Named members of struct/union `id` in declaration order, anonymous ones flattened. */
export function membersOf(src: BtfTypeSource, id: number): readonly Member[] {
  let bySource = cache.get(src);
  if (!bySource) cache.set(src, (bySource = new Map()));
  let out = bySource.get(id);
  if (!out) {
    const list: Member[] = [];
    collect(src, id, 0, list, 0);
    out = list;
    bySource.set(id, out);
  }
  return out;
}

/** Member `name` of struct/union `id`, looking inside anonymous members as C does. */
export function findMember(src: BtfTypeSource, id: number, name: string): Member | undefined {
  return membersOf(src, id).find((m) => m.name === name);
}

function collect(src: BtfTypeSource, id: number, base: number, out: Member[], depth: number): void {
  const t = src.type(id);
  if (!t || (t.kind !== BtfKind.STRUCT && t.kind !== BtfKind.UNION) || depth > 16) return;
  for (let i = 0; i < t.vlen; i++) {
    const nameOff = t.extra[i * 3]!, typeId = t.extra[i * 3 + 1]!, off = t.extra[i * 3 + 2]!;
    let bitOffset = base + (t.kflag ? off & 0xffffff : off);
    let bitSize = t.kflag ? off >>> 24 : 0;
    const name = src.name(nameOff);
    const target = resolve(src, typeId);
    if (!t.kflag && target?.kind === BtfKind.INT) {
      // The older encoding: the width and an extra offset live in the INT type itself.
      const enc = target.extra[0]!;
      const bits = enc & 0xff, intOffset = (enc >>> 16) & 0xff;
      if (bits !== target.sizeOrType * 8 || intOffset !== 0) {
        bitSize = bits;
        bitOffset += intOffset;
      }
    }
    if (name === "") {
      if (target && (target.kind === BtfKind.STRUCT || target.kind === BtfKind.UNION)) collect(src, target.id, bitOffset, out, depth + 1);
      continue; // unnamed bitfields are padding
    }
    out.push({ name, typeId, bitOffset, bitSize });
  }
}
