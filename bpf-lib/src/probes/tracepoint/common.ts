/* The fields a group of tracepoints shares: same name and same decoded shape (kind,
 * size, signedness, length) in every record, wherever each record puts it. Pure. */
import type { TracepointField, TracepointFormat } from "../../tracefs/format.js";
import { UncommonFieldError } from "./errors.js";

/** A field's shape in words; two fields with the same shape decode (and key) alike. */
export function shapeOf(f: TracepointField): string {
  const d = f.decl;
  switch (d.kind) {
    case "int": return `${d.signed ? "s" : "u"}${d.size * 8}`;
    case "pointer": return d.userString ? "user string" : "pointer";
    case "char_array": return `char[${d.length}]`;
    case "int_array": return `${d.signed ? "s" : "u"}${d.elem * 8}[${d.length}]`;
    case "data_loc": return `__data_loc ${d.elem === "string" ? "string" : "bytes"}`;
    default: return `${d.size} bytes`;
  }
}

const own = (f: TracepointFormat) => f.fields.filter((x) => !x.common);
const label = (f: TracepointFormat) => `${f.group}:${f.name}`;

/** The non-common_* fields every format has with the same shape, in the first format's order. */
export function commonFields(formats: readonly TracepointFormat[]): string[] {
  if (!formats.length) return [];
  return own(formats[0]).filter((f) => formats.every((g) => {
    const h = g.fields.find((x) => x.name === f.name && !x.common);
    return h !== undefined && shapeOf(h) === shapeOf(f);
  })).map((f) => f.name);
}

/** Throws UncommonFieldError for a field name that is not common to all `formats`. */
export function requireCommon(group: string, formats: readonly TracepointFormat[], common: readonly string[], field: string): void {
  if (common.includes(field)) return;
  const lacking: string[] = [];
  const found: { tracepoint: string; type: string }[] = [];
  for (const f of formats) {
    const x = f.fields.find((y) => y.name === field && !y.common);
    if (!x) lacking.push(label(f));
    else found.push({ tracepoint: label(f), type: `${x.type}: ${shapeOf(x)}` });
  }
  // the shape most matches have is "right"; the others differ from it
  const counts = new Map<string, number>();
  for (const x of found) counts.set(x.type.split(": ")[1], (counts.get(x.type.split(": ")[1]) ?? 0) + 1);
  const usual = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const differing = found.filter((x) => x.type.split(": ")[1] !== usual);
  throw new UncommonFieldError(group, field, lacking, differing, common, usual && differing.length ? usual : undefined);
}
