/* text/plain for values with no richer form, the way Node's REPL prints them. */
import { inspect, types } from "node:util";

/** Error objects may come from another realm (vm contexts), so instanceof alone is not enough. */
export function isError(v: unknown): v is Error {
  return v instanceof Error || types.isNativeError(v);
}

/**
 * "Name: message", plus the code bpfbook errors carry and the cause chain. No stack:
 * this is an error shown as a value; the kernel reports thrown errors itself.
 */
export function errorPlain(e: Error): string {
  const lines: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; isError(cur) && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    const head = `${cur.name || "Error"}${typeof code === "string" || typeof code === "number" ? ` [${code}]` : ""}`;
    const line = cur.message ? `${head}: ${cur.message}` : head;
    lines.push(depth === 0 ? line : `Caused by: ${line}`);
    cur = (cur as { cause?: unknown }).cause;
  }
  if (cur !== undefined && lines.length > 0 && !isError(cur)) lines.push(`Caused by: ${inspectPlain(cur)}`);
  return lines.join("\n");
}

export function inspectPlain(v: unknown): string {
  try {
    return inspect(v, { depth: 4, colors: false, maxArrayLength: 100 });
  } catch {
    // Proxies and throwing getters can defeat inspect; say something rather than nothing.
    try {
      return String(v);
    } catch {
      return "[value that cannot be printed]";
    }
  }
}
