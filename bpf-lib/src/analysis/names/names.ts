/* fieldNames("group:name", field): the decoder that turns a field's numbers into
 * the names the kernel itself uses, choosing the best source there is: the
 * tracepoint's print fmt (its __print_symbolic/__print_flags tables, its %pI4/%pI6c/
 * %pISpc/%pM addresses), then the BTF enum the field's C type names, then an address
 * or network-order port by field name and type, then the few fields whose names
 * are #defines (signals, open flags, capabilities, errno). */
import { readFormat, fieldOf } from "../../tracefs/catalog.js";
import type { TracepointField, TracepointFormat } from "../../tracefs/format.js";
import { InvalidArgumentError } from "../../errors.js";
import { BtfEnums, decoderFor } from "./btf-enums.js";
import { printFmtNames, type NameSource, type PrintFmtNames } from "./print-fmt.js";
import { formatAddressValue, portFromNetwork, type AddressKind } from "./format-addr.js";
import { capabilityName, errnoValueName, openFlagNames, signalName, syscallErrorName } from "./uapi.js";
import { integer } from "./print-flags.js";

/** A field's value as a table holds it: an integer, or the bytes of an array field. */
export type FieldValue = number | bigint | readonly number[] | Uint8Array;

export interface NameDecoder {
  /** The name of one value; null for a missing value, or where a value has no name (a syscall's success). */
  (value: FieldValue | null | undefined): string | null;
  /** Where the names come from: `print fmt: __print_symbolic(...)`, `BTF enum skb_drop_reason`, `print fmt: %pI4`, `signal names`. */
  readonly from: string;
}

const NO_BTF: NameSource = { constant: () => undefined, type: () => undefined };

const printed = new Map<string, PrintFmtNames>();

/** The print fmt names of a tracepoint (cached): tables, addresses and what failed. */
export function printFmtOf(format: TracepointFormat): PrintFmtNames {
  const key = `${format.group}:${format.name}:${format.id}`;
  let p = printed.get(key);
  if (!p) {
    p = printFmtNames(format, BtfEnums.tryVmlinux() ?? NO_BTF);
    printed.set(key, p);
  }
  return p;
}

function decoder(from: string, fn: (v: FieldValue) => string | null): NameDecoder {
  const d = (v: FieldValue | null | undefined) => (v === null || v === undefined ? null : fn(v));
  return Object.defineProperty(d, "from", { value: from, enumerable: true }) as NameDecoder;
}

const scalar = (v: FieldValue): bigint => {
  if (typeof v === "number" || typeof v === "bigint") return integer(v);
  throw new InvalidArgumentError(`this field's names need an integer value; got an array of ${v.length}`);
};

/** Field names that hold network addresses when the print fmt does not say so. */
const ADDRESS_NAME = /addr|^(src|dst)(_?ip)?$/i;

function addressKind(f: TracepointField): AddressKind | null {
  if (!ADDRESS_NAME.test(f.name)) return null;
  const d = f.decl;
  if (d.kind === "int_array" && d.elem === 1) return d.length === 4 ? "ipv4" : d.length === 16 ? "ipv6" : null;
  if (d.kind === "int" && d.size === 4 && /\b__be32\b/.test(f.type)) return "ipv4";
  if (d.kind === "unknown" && d.size === 16 && /\bin6_addr\b/.test(f.type)) return "ipv6";
  return null;
}

interface Rule {
  from: string;
  test(group: string, event: string, field: string): boolean;
  decode(v: bigint): string | null;
}

// Which fields carry these numbers is a fact about the tracepoints, not a table of names:
// the names themselves come from uapi.ts's sources.
const RULES: Rule[] = [
  {
    from: "signal names (os.constants.signals)",
    test: (g, e, f) => f === "sig" && (g === "signal" || (g === "syscalls" && /^sys_enter_(kill|tkill|tgkill|rt_sigqueueinfo|rt_tgsigqueueinfo|pidfd_send_signal|rt_sigaction)$/.test(e))),
    decode: (v) => signalName(v),
  },
  {
    from: "open flags (uapi fcntl.h)",
    test: (g, e, f) => g === "syscalls" && f === "flags" && /^sys_enter_(open|openat|open_by_handle_at)$/.test(e),
    decode: (v) => openFlagNames(v),
  },
  {
    from: "capability names (uapi linux/capability.h)",
    test: (g, _e, f) => g === "capability" && f === "cap",
    decode: (v) => capabilityName(v),
  },
  {
    from: "errno names of negative returns",
    test: (g, e, f) => f === "ret" && ((g === "syscalls" && e.startsWith("sys_exit_")) || (g === "raw_syscalls" && e === "sys_exit")),
    decode: (v) => syscallErrorName(v),
  },
  {
    from: "errno names",
    test: (g, _e, f) => g === "signal" && f === "errno",
    decode: (v) => errnoValueName(v),
  },
];

const cache = new Map<string, NameDecoder | null>();

/**
 * The names of `field` of tracepoint `source` ("group:name"), or null when no source
 * names it. Throws UnknownTracepointError / UnknownFieldError for names that do not exist.
 */
export function fieldNames(source: string, field: string): NameDecoder | null {
  if (typeof source !== "string") throw new InvalidArgumentError(`fieldNames: the tracepoint must be a "group:name" string; got ${typeof source}`);
  if (typeof field !== "string") throw new InvalidArgumentError(`fieldNames: the field must be a string; got ${typeof field}`);
  const format = readFormat(source);
  const f = fieldOf(format, field);
  const key = `${format.group}:${format.name}:${field}`;
  if (cache.has(key)) return cache.get(key)!;
  const d = choose(format, f);
  cache.set(key, d);
  return d;
}

function choose(format: TracepointFormat, f: TracepointField): NameDecoder | null {
  const p = printFmtOf(format);
  const table = p.fields.get(f.name);
  if (table) {
    const kinds = [...new Set(table.tables.map((t) => t.kind === "symbolic" ? "__print_symbolic" : "__print_flags"))].join(", ") || "text chosen by ?:";
    return decoder(`print fmt: ${kinds}`, (v) => table.decode(scalar(v)));
  }
  const addr = p.addresses.get(f.name);
  if (addr) return decoder(`print fmt: ${addr.conversion}`, (v) => formatAddressValue(addr.kind, v, f.size, addr.port));

  if (f.decl.kind === "int") {
    const e = BtfEnums.tryVmlinux()?.enumOfType(f.type);
    if (e) {
      const d = decoderFor(e.members);
      return decoder(`BTF enum ${e.name || `(anonymous, as ${f.type})`}`, (v) => d(scalar(v)));
    }
  }

  const kind = addressKind(f);
  if (kind) return decoder(`address (${kind}, by field name and type)`, (v) => formatAddressValue(kind, v, f.size));
  if (/port$/.test(f.name) && f.decl.kind === "int" && f.size === 2 && /\b__be16\b/.test(f.type)) {
    return decoder("port in network order (__be16)", (v) => String(portFromNetwork(scalar(v))));
  }

  if (f.decl.kind === "int") {
    const rule = RULES.find((r) => r.test(format.group, format.name, f.name));
    if (rule) return decoder(rule.from, (v) => rule.decode(scalar(v)));
  }
  return null;
}

/** Every field of `source` that has names, with where they come from. */
export function namedFields(source: string): Array<{ field: string; from: string }> {
  const format = readFormat(source);
  const out: Array<{ field: string; from: string }> = [];
  for (const f of format.fields) {
    if (f.common) continue;
    const d = fieldNames(source, f.name);
    if (d) out.push({ field: f.name, from: d.from });
  }
  return out;
}
