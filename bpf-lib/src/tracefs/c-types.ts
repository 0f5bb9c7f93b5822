/* Natural sizes of the C integer types that appear in tracepoint formats (LP64).
 * The format's own size is not enough: syscall tracepoints widen every argument
 * to an 8-byte slot and say `int dfd; size:8; signed:0`, so the declared type is
 * the only place the real width and sign survive. Typedefs missing here fall
 * back to what the format says, which is right everywhere except those slots. */

export interface IntShape {
  size: 1 | 2 | 4 | 8;
  signed: boolean;
}

const s = (size: IntShape["size"]): IntShape => ({ size, signed: true });
const u = (size: IntShape["size"]): IntShape => ({ size, signed: false });

const KNOWN: ReadonlyMap<string, IntShape> = new Map<string, IntShape>([
  ["signed char", s(1)], ["unsigned char", u(1)],
  ["short", s(2)], ["short int", s(2)], ["signed short", s(2)], ["signed short int", s(2)],
  ["unsigned short", u(2)], ["unsigned short int", u(2)], ["ushort", u(2)],
  ["int", s(4)], ["signed", s(4)], ["signed int", s(4)],
  ["unsigned", u(4)], ["unsigned int", u(4)], ["uint", u(4)],
  ["long", s(8)], ["long int", s(8)], ["signed long", s(8)], ["signed long int", s(8)],
  ["unsigned long", u(8)], ["unsigned long int", u(8)], ["ulong", u(8)],
  ["long long", s(8)], ["long long int", s(8)], ["signed long long", s(8)],
  ["unsigned long long", u(8)], ["unsigned long long int", u(8)],
  ["bool", u(1)], ["_Bool", u(1)],
  ["u8", u(1)], ["u16", u(2)], ["u32", u(4)], ["u64", u(8)],
  ["s8", s(1)], ["s16", s(2)], ["s32", s(4)], ["s64", s(8)],
  ["__u8", u(1)], ["__u16", u(2)], ["__u32", u(4)], ["__u64", u(8)],
  ["__s8", s(1)], ["__s16", s(2)], ["__s32", s(4)], ["__s64", s(8)],
  ["uint8_t", u(1)], ["uint16_t", u(2)], ["uint32_t", u(4)], ["uint64_t", u(8)],
  ["int8_t", s(1)], ["int16_t", s(2)], ["int32_t", s(4)], ["int64_t", s(8)],
  ["size_t", u(8)], ["ssize_t", s(8)], ["ptrdiff_t", s(8)], ["uintptr_t", u(8)],
  ["pid_t", s(4)], ["uid_t", u(4)], ["gid_t", u(4)], ["qid_t", u(4)], ["umode_t", u(2)],
  ["off_t", s(8)], ["loff_t", s(8)], ["dev_t", u(4)], ["ino_t", u(8)], ["time64_t", s(8)],
  ["clockid_t", s(4)], ["timer_t", s(4)], ["mqd_t", s(4)], ["key_t", s(4)], ["key_serial_t", s(4)],
  ["rwf_t", s(4)], ["gfp_t", u(4)], ["sector_t", u(8)], ["blkcnt_t", u(8)],
  ["aio_context_t", u(8)], ["dma_addr_t", u(8)], ["phys_addr_t", u(8)], ["resource_size_t", u(8)],
]);

/** Drops qualifiers and normalises spacing so lookups see `unsigned int`, not `const  unsigned int`. */
export function baseType(type: string): string {
  return type
    .replace(/\b(const|volatile|__user|__rcu|__iomem|__percpu)\b/g, " ")
    .replace(/\s+/g, " ")
    .replace(/\s*\*\s*/g, " *")
    .trim();
}

/** `char` alone: its sign is a compiler flag (the kernel builds with -funsigned-char since 6.2), so the format decides. */
export function isPlainChar(base: string): boolean {
  return base === "char";
}

export function isAggregate(base: string): boolean {
  return /^(struct|union)\b/.test(base);
}

export function isEnum(base: string): boolean {
  return /^enum\b/.test(base);
}

export function knownInt(base: string): IntShape | undefined {
  return KNOWN.get(base);
}

export function isIntSize(n: number): n is IntShape["size"] {
  return n === 1 || n === 2 || n === 4 || n === 8;
}
