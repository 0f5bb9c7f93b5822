/* How an option's value is quoted in an error message: NaN, Infinity, bigints and
 * functions survive (JSON.stringify would turn them into null or nothing). */
export function shown(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "number" || typeof v === "boolean" || v === undefined || v === null) return String(v);
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === "function") return "a function";
  if (typeof v === "symbol") return v.toString();
  if (Array.isArray(v)) return `[${v.slice(0, 8).map(shown).join(", ")}${v.length > 8 ? ", ..." : ""}]`;
  const name = (v as object).constructor?.name;
  if (name && name !== "Object") return `a ${name}`;
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return "an object";
  }
}
