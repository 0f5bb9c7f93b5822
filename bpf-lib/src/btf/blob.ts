/* Raw BTF bytes (the format of /sys/kernel/btf/vmlinux and of an ELF's .BTF section) as a
 * BtfTypeSource. libbpf's handle (KernelBtf) answers one type per FFI call, which is right for
 * a few types but takes ~1 s and ~50 MB to walk the whole kernel for a name index; parsing the
 * same bytes here takes one pass over a 5 MB buffer. Ids are the same as the kernel's, since
 * the bytes are the kernel's. Split BTF (modules) is not read. */
import { readFileSync } from "node:fs";
import { extraWords, type RawBtfType } from "./format.js";
import type { BtfTypeSource } from "./source.js";
import { NotSupportedError, errnoName } from "../errors.js";

const MAGIC = 0xeb9f;
const HEADER_BYTES = 24;

export class BtfBlob implements BtfTypeSource {
  static #vmlinux: BtfBlob | null = null;
  readonly source: string;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  /** Byte offset of each type's header, by id (index 0, void, unused). */
  readonly #at: Uint32Array;
  readonly #strings: number;
  readonly #stringsEnd: number;
  readonly #types = new Map<number, RawBtfType>();
  readonly #names = new Map<number, string>();
  readonly #decoder = new TextDecoder();

  private constructor(bytes: Uint8Array, source: string) {
    this.source = source;
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const v = this.#view;
    if (bytes.byteLength < HEADER_BYTES || v.getUint16(0, true) !== MAGIC) {
      throw new NotSupportedError(`BTF of ${source}`, "it is not raw BTF (no 0xeb9f magic, or it is big-endian)");
    }
    const hdrLen = v.getUint32(4, true);
    const typeOff = hdrLen + v.getUint32(8, true), typeEnd = typeOff + v.getUint32(12, true);
    this.#strings = hdrLen + v.getUint32(16, true);
    this.#stringsEnd = this.#strings + v.getUint32(20, true);
    if (typeEnd > bytes.byteLength || this.#stringsEnd > bytes.byteLength) {
      throw new NotSupportedError(`BTF of ${source}`, "its header points past the end of the data (truncated?)");
    }
    const at: number[] = [0];
    for (let p = typeOff; p < typeEnd;) {
      at.push(p);
      const info = v.getUint32(p + 4, true);
      p += 12 + 4 * extraWords((info >>> 24) & 0x1f, info & 0xffff);
    }
    this.#at = Uint32Array.from(at);
  }

  /** Parses raw BTF bytes. */
  static fromBytes(bytes: Uint8Array, source = "BTF bytes"): BtfBlob {
    return new BtfBlob(bytes, source);
  }

  /** Raw BTF from a file (another machine's /sys/kernel/btf/vmlinux, a dumped .BTF section). */
  static file(path: string): BtfBlob {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "an error";
      throw new NotSupportedError(`BTF of ${path}`, `it cannot be read (${code})`, { cause: e });
    }
    return new BtfBlob(bytes, path);
  }

  /** The running kernel's BTF, read once per process; NotSupportedError when the kernel has none. */
  static vmlinux(): BtfBlob {
    if (BtfBlob.#vmlinux) return BtfBlob.#vmlinux;
    const path = "/sys/kernel/btf/vmlinux";
    try {
      BtfBlob.#vmlinux = new BtfBlob(readFileSync(path), path);
    } catch (e) {
      if (e instanceof NotSupportedError) throw e;
      const errno = (e as NodeJS.ErrnoException).errno ?? 0;
      throw new NotSupportedError("kernel BTF", `${path} cannot be read (${errnoName(errno)}): it needs CONFIG_DEBUG_INFO_BTF=y`, { errno, cause: e });
    }
    return BtfBlob.#vmlinux;
  }

  /** Number of type ids, counting void (0): valid ids are 1 .. typeCount - 1. */
  get typeCount(): number {
    return this.#at.length;
  }

  /** Kind of type `id` without decoding it (-1 out of range). */
  kindOf(id: number): number {
    if (id <= 0 || id >= this.#at.length) return -1;
    return (this.#view.getUint32(this.#at[id]! + 4, true) >>> 24) & 0x1f;
  }

  /** Name offset of type `id` without decoding it. */
  nameOffOf(id: number): number {
    if (id <= 0 || id >= this.#at.length) return 0;
    return this.#view.getUint32(this.#at[id]!, true);
  }

  type(id: number): RawBtfType | null {
    if (!Number.isInteger(id) || id <= 0 || id >= this.#at.length) return null;
    let t = this.#types.get(id);
    if (t) return t;
    const p = this.#at[id]!, v = this.#view;
    const info = v.getUint32(p + 4, true);
    const kind = (info >>> 24) & 0x1f, vlen = info & 0xffff;
    const n = extraWords(kind, vlen);
    const extra = new Uint32Array(n);
    for (let i = 0; i < n; i++) extra[i] = v.getUint32(p + 12 + 4 * i, true);
    t = { id, kind, nameOff: v.getUint32(p, true), vlen, kflag: (info >>> 31) === 1, sizeOrType: v.getUint32(p + 8, true), extra };
    this.#types.set(id, t);
    return t;
  }

  name(off: number): string {
    if (off === 0) return "";
    let s = this.#names.get(off);
    if (s !== undefined) return s;
    const start = this.#strings + off;
    if (start >= this.#stringsEnd) return "";
    let end = start;
    while (end < this.#stringsEnd && this.#bytes[end] !== 0) end++;
    s = this.#decoder.decode(this.#bytes.subarray(start, end));
    this.#names.set(off, s);
    return s;
  }
}

/** Whether `src` answers kinds and names without decoding types (a BtfBlob). */
export function isBlob(src: BtfTypeSource): src is BtfBlob {
  return src instanceof BtfBlob;
}
