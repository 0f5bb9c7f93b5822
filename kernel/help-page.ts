/*
 * What help(value) pages when the kernel had no static text for it (an expression, not a name): a
 * description read from the value itself. A function shows its name and parameter list, never its body
 * (compiled JavaScript says little and can be long); an object its class, methods and public properties,
 * not a dump of its private state.
 */
import { inspect } from "node:util";

const MAX_NAMES = 60;

/** The page help() shows: the kernel's static text when it has one, else a description of the value. */
export function helpPage(value: unknown, about?: string): string {
  if (typeof about === "string" && about) return about;
  if (typeof value === "function") return describeFunction(value as (...args: unknown[]) => unknown);
  if (value !== null && typeof value === "object") return describeObject(value);
  return inspect(value);
}

function describeFunction(fn: (...args: unknown[]) => unknown): string {
  const source = Function.prototype.toString.call(fn);
  if (/^class\b/.test(source)) {
    const methods = methodNames(fn.prototype as object);
    return `class ${fn.name || "(anonymous)"}${methods.length ? `\n\nMethods: ${methods.join(", ")}` : ""}`;
  }
  return `${fn.name || "(anonymous)"}(${parameters(source, fn.length)})`;
}

/** The parameter list as written ("a, b = 1"), or as many placeholders as the function declares. */
export function parameters(source: string, length: number): string {
  const arrow = /^(?:async\s+)?([\p{ID_Start}$_][\p{ID_Continue}$]*)\s*=>/u.exec(source);
  if (arrow) return arrow[1]!;
  const open = source.indexOf("(");
  if (open >= 0 && !source.includes("[native code]")) {
    let depth = 0;
    for (let i = open; i < source.length; i++) {
      if ("([{".includes(source[i]!)) depth++;
      else if (")]}".includes(source[i]!) && --depth === 0) return source.slice(open + 1, i).replace(/\s+/g, " ").trim();
    }
  }
  return Array.from({ length }, (_, i) => `arg${i}`).join(", ");
}

function describeObject(value: object): string {
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  const lines = [Array.isArray(value) ? `Array(${value.length})` : ctor && ctor !== "Object" ? ctor : "object"];
  const methods = methodNames(Object.getPrototypeOf(value) as object | null);
  const props = Object.keys(value).filter((k) => !k.startsWith("_") && typeof (value as Record<string, unknown>)[k] !== "function");
  const own = Object.keys(value).filter((k) => !k.startsWith("_") && typeof (value as Record<string, unknown>)[k] === "function");
  const all = [...new Set([...own.map((k) => `${k}()`), ...methods])];
  if (all.length) lines.push(`Methods: ${list(all)}`);
  if (props.length && !Array.isArray(value)) lines.push(`Properties: ${list(props)}`);
  if (!all.length && !props.length) lines.push(inspect(value, { depth: 1 }));
  return lines.join("\n\n");
}

/** Public methods and getters along the prototype chain, up to Object.prototype. */
function methodNames(proto: object | null): string[] {
  const out = new Set<string>();
  for (let p = proto; p && p !== Object.prototype && p !== Function.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const k of Object.getOwnPropertyNames(p)) {
      if (k === "constructor" || k.startsWith("_")) continue;
      const d = Object.getOwnPropertyDescriptor(p, k);
      if (d && (typeof d.value === "function" || d.get)) out.add(typeof d.value === "function" ? `${k}()` : k);
    }
  }
  return [...out];
}

function list(names: string[]): string {
  return names.length > MAX_NAMES ? `${names.slice(0, MAX_NAMES).join(", ")}, ... (${names.length - MAX_NAMES} more)` : names.join(", ");
}
