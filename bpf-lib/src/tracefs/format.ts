/* Parser for tracefs `events/<group>/<name>/format` files. Pure: text in,
 * layout out, so it can be tested on formats copied from any kernel. */
import { baseType, isAggregate, isEnum, isIntSize, isPlainChar, knownInt } from "./c-types.js";
import { TracepointFormatError } from "./errors.js";

export type FieldKind =
  /** Decoded width and sign; read the low `size` bytes, little-endian, of a wider slot. */
  | { kind: "int"; size: 1 | 2 | 4 | 8; signed: boolean }
  /** Fixed `char x[N]`: a NUL-padded string. */
  | { kind: "char_array"; length: number }
  | { kind: "int_array"; elem: 1 | 2 | 4 | 8; signed: boolean; length: number }
  /** A u32 `len << 16 | offset`; with `rel` the offset counts from the end of this field. */
  | { kind: "data_loc"; elem: "string" | "bytes"; rel: boolean }
  /** `userString`: a char pointer argument of a syscall, read as a user-space string. */
  | { kind: "pointer"; pointee: string; userString: boolean }
  /** Structs, unions and odd sizes: kept as raw bytes. */
  | { kind: "unknown"; size: number };

export interface TracepointField {
  name: string;
  /** The C type as written, with array bounds moved onto it: `char[16]`, `const char *`. */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  decl: FieldKind;
  /** One of the common_* header fields every record starts with. */
  common: boolean;
  /** A derived array read (execve's argv): `count` string slots of `slot` bytes, one after another. */
  list?: { slot: number; count: number };
}

export interface TracepointFormat {
  group: string;
  name: string;
  id: number;
  fields: TracepointField[];
  printFmt: string;
}

// Old kernels wrote `field special:` and had no `signed:`; accept both.
const FIELD_LINE = /^field(?: special)?:(.+?);\s*offset:(\d+);\s*size:(\d+);(?:\s*signed:([01]);)?\s*$/;
// `<type> <name>` with an optional `[bound]`; the bound may be empty or symbolic.
const DECL = /^(.+?)\s*\b([A-Za-z_]\w*)\s*(?:\[([^\]]*)\])?$/;

export function parseFormat(text: string, group: string, name: string): TracepointFormat {
  const where = `${group}:${name}`;
  const fail = (line: number, problem: string): never => {
    throw new TracepointFormatError(where, line, problem);
  };
  let id: number | undefined;
  let sawFormat = false;
  let printFmt: string | undefined;
  const fields: TracepointField[] = [];

  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const no = i + 1;
    if (line === "") continue;
    if (line.startsWith("name:")) {
      const written = line.slice(5).trim();
      if (written !== name) fail(no, `it names event "${written}", expected "${name}"`);
    } else if (line.startsWith("ID:")) {
      const v = line.slice(3).trim();
      if (!/^\d+$/.test(v)) fail(no, `bad ID "${v}"`);
      id = Number(v);
    } else if (line === "format:") {
      sawFormat = true;
    } else if (line.startsWith("field")) {
      if (!sawFormat) fail(no, "field before the `format:` line");
      fields.push(parseField(line, no, fail));
    } else if (line.startsWith("print fmt:")) {
      // Last section, and the kernel does not escape newlines inside its string literals
      // (ext4_fc_stats), so it runs to the end of the file.
      printFmt = [line.slice("print fmt:".length).trimStart(), ...lines.slice(i + 1)].join("\n").trimEnd();
      break;
    } else {
      fail(no, `unexpected line ${JSON.stringify(line.length > 60 ? line.slice(0, 60) + "..." : line)}`);
    }
  }
  if (id === undefined) fail(0, "no `ID:` line");
  if (fields.length === 0) fail(0, "no fields");
  // Only syscall arguments are known to point into the calling process; a char
  // pointer elsewhere is a kernel address, which bpf_probe_read_user_str cannot read.
  if (group !== "syscalls") {
    for (const f of fields) if (f.decl.kind === "pointer") f.decl = { ...f.decl, userString: false };
  }
  return { group, name, id: id!, fields, printFmt: printFmt ?? "" };
}

function parseField(line: string, no: number, fail: (line: number, problem: string) => never): TracepointField {
  const m = FIELD_LINE.exec(line) ?? fail(no, `bad field line ${JSON.stringify(line)}`);
  const decl = m[1]!.trim();
  const offset = Number(m[2]);
  const size = Number(m[3]);
  const signed = m[4] === "1";
  const d = DECL.exec(decl) ?? fail(no, `cannot split "${decl}" into a type and a name`);
  const rawType = d[1]!.trim();
  const fieldName = d[2]!;
  const bound = d[3];
  const isArray = bound !== undefined;
  return {
    name: fieldName,
    type: isArray ? `${rawType}[${bound.trim()}]` : rawType,
    offset,
    size,
    signed,
    decl: isArray ? arrayKind(rawType, bound.trim(), size, signed) : scalarKind(rawType, size, signed),
    common: fieldName.startsWith("common_"),
  };
}

function scalarKind(type: string, size: number, signed: boolean): FieldKind {
  const loc = /^__(data|rel)_loc\s+(.*)$/.exec(type);
  if (loc) {
    const elem = /^char\s*\[\s*\]$/.test(baseType(loc[2]!)) ? "string" : "bytes";
    return { kind: "data_loc", elem, rel: loc[1] === "rel" };
  }
  // `const struct landlock_ruleset_attr *const`: the pointer itself may be qualified.
  const pointer = type.replace(/(\s*\b(const|volatile)\b)+$/, "");
  if (pointer.endsWith("*")) {
    const pointee = pointer.slice(0, -1).trim();
    return { kind: "pointer", pointee, userString: isPlainChar(baseType(pointee)) };
  }
  const int = intShape(baseType(type), size, signed);
  return int ? { kind: "int", ...int } : { kind: "unknown", size };
}

function arrayKind(type: string, bound: string, size: number, signed: boolean): FieldKind {
  const base = baseType(type);
  // `[]` is a flexible tail (size 0); a symbolic bound like TASK_COMM_LEN is recovered from the byte size.
  const written = /^\d+$/.test(bound) ? Number(bound) : undefined;
  if (isPlainChar(base)) return { kind: "char_array", length: written ?? size };
  if (isAggregate(base)) return { kind: "unknown", size };
  const pointer = base.endsWith("*");
  const natural = pointer ? 8 : knownInt(base)?.size;
  let elem: number | undefined = natural;
  if (elem === undefined || (written !== undefined && written * elem !== size)) {
    elem = written ? size / written : undefined;
  }
  if (elem === undefined || !isIntSize(elem)) return { kind: "unknown", size };
  const length = written ?? size / elem;
  const elemSigned = pointer ? false : (knownInt(base)?.signed ?? signed);
  return { kind: "int_array", elem, signed: elemSigned, length };
}

function intShape(base: string, size: number, signed: boolean): { size: 1 | 2 | 4 | 8; signed: boolean } | undefined {
  if (isPlainChar(base)) return isIntSize(size) ? { size: 1, signed } : undefined;
  if (isAggregate(base)) return undefined;
  const known = knownInt(base);
  if (known) {
    // A 32-bit kernel's long is narrower than ours: trust the format over the table.
    return known.size <= size || !isIntSize(size) ? known : { size, signed: known.signed };
  }
  // Enums are int-sized in C but the kernel packs some into a byte; syscalls widen them to 8.
  if (isEnum(base) && isIntSize(size)) return { size: size === 8 ? 4 : size, signed };
  return isIntSize(size) ? { size, signed } : undefined;
}
