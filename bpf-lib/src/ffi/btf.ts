/* The koffi declarations of libbpf's BTF API (Debian's libbpf.so.1, 1.1): load the
 * kernel's own type information (vmlinux BTF) and read its types one by one. Like
 * ffi/libbpf.ts, nothing above this file sees an address: a type comes back as
 * plain numbers (its header and the 32-bit words that follow it), a name as a
 * string, the BTF itself as a branded handle. */
import koffi from "koffi";
import type { BtfHandle } from "./libbpf.js";
import { declareOnce } from "./load.js";
// libbpf.ts declares the opaque `btf` type this file's signatures use: load it first.
import "./libbpf.js";

export type { BtfHandle } from "./libbpf.js";

/** Declared at the first call, when libbpf is loaded (ffi/load.ts). */
const fns = declareOnce((lib) => ({
  load_vmlinux_btf: lib.func("btf *btf__load_vmlinux_btf(void)"),
  parse: lib.func("btf *btf__parse(const char *path, void *ext)"),
  free: lib.func("void btf__free(btf *btf)"),
  type_cnt: lib.func("uint32_t btf__type_cnt(btf *btf)"),
  type_by_id: lib.func("void *btf__type_by_id(btf *btf, uint32_t id)"),
  name_by_offset: lib.func("const char *btf__name_by_offset(btf *btf, uint32_t off)"),
  find_by_name_kind: lib.func("int btf__find_by_name_kind(btf *btf, const char *name, uint32_t kind)"),
  raw_data: lib.func("const void *btf__raw_data(btf *btf, _Out_ uint32_t *size)"),
}));

export { BtfKind, extraWords, type RawBtfType } from "../btf/format.js";
import { extraWords, type RawBtfType } from "../btf/format.js";

/** errno of the last failed call on this thread. */
export function errno(): number {
  return koffi.errno();
}

/** The running kernel's BTF (/sys/kernel/btf/vmlinux, or a vmlinux image libbpf finds); null with errno set when there is none. */
export function loadVmlinuxBtf(): BtfHandle | null {
  return fns().load_vmlinux_btf() as BtfHandle | null;
}

/** BTF from a file: raw BTF (like /sys/kernel/btf/vmlinux) or an ELF object with a .BTF section. */
export function parseBtf(path: string): BtfHandle | null {
  return fns().parse(path, null) as BtfHandle | null;
}

export function freeBtf(btf: BtfHandle): void {
  fns().free(btf);
}

/** Number of types, counting the void type 0: valid ids are 1 .. typeCount - 1. */
export function typeCount(btf: BtfHandle): number {
  return fns().type_cnt(btf) as number;
}

/** The name at a string-section offset ("" for 0). */
export function nameByOffset(btf: BtfHandle, off: number): string {
  return (fns().name_by_offset(btf, off) as string | null) ?? "";
}

/** The id of the type named `name` of `kind`, or a negative errno (-ENOENT). */
export function findByNameKind(btf: BtfHandle, name: string, kind: number): number {
  return fns().find_by_name_kind(btf, name, kind) as number;
}

/** Type `id` as numbers; null for an id out of range. */
export function typeById(btf: BtfHandle, id: number): RawBtfType | null {
  const ptr = fns().type_by_id(btf, id) as bigint | null;
  if (ptr === null) return null;
  const hdr = new Uint32Array(koffi.view(ptr, 12).slice(0));
  const info = hdr[1]!;
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const n = extraWords(kind, vlen);
  const extra = n === 0 ? new Uint32Array(0) : new Uint32Array(koffi.view(ptr, 12 + n * 4).slice(12));
  return { id, kind, nameOff: hdr[0]!, vlen, kflag: (info >>> 31) === 1, sizeOrType: hdr[2]!, extra };
}

/**
 * A copy of the whole BTF blob as the kernel wrote it (header, types, strings): for
 * walking every type at once (56 000 functions) without a call per type.
 */
export function rawData(btf: BtfHandle): Uint8Array | null {
  const size = [0];
  const ptr = fns().raw_data(btf, size) as bigint | null;
  if (ptr === null || size[0] === 0) return null;
  return new Uint8Array(koffi.view(ptr, size[0]!).slice(0));
}
