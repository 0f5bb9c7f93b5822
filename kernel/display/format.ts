/* Value → short text, shared by the HTML and plain-text tables and the Plotly JSON,
 * so an address or a float reads the same everywhere. */
import { inspect } from "node:util";

/** Kernel virtual addresses live in the top of the 64-bit space on every arch we trace. */
export const KERNEL_ADDRESS_MIN = 0xffff000000000000n;

export function isKernelAddress(v: bigint): boolean {
  return v >= KERNEL_ADDRESS_MIN;
}

/** Hex for kernel addresses (that is how the kernel prints them), decimal otherwise. */
export function formatBigint(v: bigint): string {
  return isKernelAddress(v) ? `0x${v.toString(16)}` : v.toString();
}

/** Integers exactly; other numbers to 7 significant digits, which hides float noise. */
export function formatNumber(v: number): string {
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  return String(Number(v.toPrecision(7)));
}

/** 1234567 → "1,234,567" (counts in headers and footers). */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

export function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? "" : "s"}`;
}

/** One table cell as one line of text; null for missing values (styled apart). */
export function formatCell(v: unknown, maxChars: number): string | null {
  if (v === null || v === undefined) return null;
  let s: string;
  switch (typeof v) {
    case "number":
      s = formatNumber(v);
      break;
    case "bigint":
      s = formatBigint(v);
      break;
    case "string":
      s = v;
      break;
    case "boolean":
      s = String(v);
      break;
    default:
      if (v instanceof Date) s = Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
      else s = inspect(v, { depth: 2, breakLength: Infinity, compact: true, maxArrayLength: 20, colors: false });
  }
  return truncate(oneLine(s), maxChars);
}

/** Newlines and tabs would break row alignment; show them as escapes instead. */
function oneLine(s: string): string {
  return /[\n\r\t]/.test(s) ? s.replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t") : s;
}

export function truncate(s: string, maxChars: number): string {
  return s.length > maxChars ? `${s.slice(0, Math.max(1, maxChars - 1))}…` : s;
}
