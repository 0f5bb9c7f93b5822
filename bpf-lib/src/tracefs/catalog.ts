/* The tracepoints this kernel offers, and their parsed formats. */
import { readdirSync, readFileSync } from "node:fs";
import { PermissionError } from "../errors.js";
import { UnknownFieldError, UnknownTracepointError } from "./errors.js";
import { parseFormat, type TracepointField, type TracepointFormat } from "./format.js";
import { findTracefs } from "./mount.js";
import { nearest } from "./nearest.js";

export { nearest };

// ftrace's own record formats (function, print, ...) sit under events/ too, but
// they are not tracepoints: the kernel refuses to attach BPF programs to them.
const NOT_TRACEPOINTS = new Set(["ftrace"]);
const NAME_PART = /^[\w.+-]+$/;

/** Every `group:name` under `<root>/events`, sorted. */
export function listTracepoints(root: string = findTracefs()): string[] {
  const out: string[] = [];
  for (const group of readdirSync(`${root}/events`, { withFileTypes: true })) {
    if (!group.isDirectory() || NOT_TRACEPOINTS.has(group.name)) continue;
    for (const event of readdirSync(`${root}/events/${group.name}`, { withFileTypes: true })) {
      if (event.isDirectory()) out.push(`${group.name}:${event.name}`);
    }
  }
  return out.sort();
}

// Formats never change while the kernel runs; a module unload-and-reload could
// in theory change one, which is not worth re-reading for.
const formats = new Map<string, TracepointFormat>();

/** Parses `group:name` (or `group/name`) from this machine's tracefs, once. */
export function readFormat(name: string, root: string = findTracefs()): TracepointFormat {
  const at = name.search(/[:/]/);
  const group = at < 0 ? "" : name.slice(0, at);
  const event = at < 0 ? name : name.slice(at + 1);
  const key = `${root}\0${group}:${event}`;
  const cached = formats.get(key);
  if (cached) return cached;
  const unknown = () => new UnknownTracepointError(name, nearest(name, listTracepoints(root)));
  if (!NAME_PART.test(group) || !NAME_PART.test(event)) throw unknown();

  const path = `${root}/events/${group}/${event}/format`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw unknown();
    if (code === "EACCES") throw new PermissionError(`cannot read ${path}: permission denied; tracing needs root`, { cause: err });
    throw err;
  }
  const format = parseFormat(text, group, event);
  formats.set(key, format);
  return format;
}

/** The field called `fieldName`, or an error that lists what the tracepoint has. */
export function fieldOf(format: TracepointFormat, fieldName: string): TracepointField {
  const field = format.fields.find((f) => f.name === fieldName);
  if (field) return field;
  const names = format.fields.map((f) => f.name);
  throw new UnknownFieldError(
    `${format.group}:${format.name}`,
    fieldName,
    format.fields.filter((f) => !f.common).map((f) => f.name),
    nearest(fieldName, names, 3),
  );
}
