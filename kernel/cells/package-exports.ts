/*
 * Finding an import-only package next to the notebook. `require.resolve` refuses packages whose "exports"
 * offer no "require" condition, and `import()` resolves only from the importing file (this one), so for those
 * we read the package's "exports" ourselves: exact subpaths and the import/node/default conditions, which is
 * what such packages use in practice.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const conditions = ["import", "node", "default"];

function target(entry: unknown): string | undefined {
  if (typeof entry === "string") return entry;
  if (Array.isArray(entry)) {
    for (const e of entry) {
      const t = target(e);
      if (t !== undefined) return t;
    }
    return undefined;
  }
  if (typeof entry !== "object" || entry === null) return undefined;
  const map = entry as Record<string, unknown>;
  for (const [key, value] of Object.entries(map)) {
    if (conditions.includes(key)) {
      const t = target(value);
      if (t !== undefined) return t;
    }
  }
  return undefined;
}

function split(spec: string): { name: string; subpath: string } {
  const parts = spec.split("/");
  const n = spec.startsWith("@") ? 2 : 1;
  const rest = parts.slice(n).join("/");
  return { name: parts.slice(0, n).join("/"), subpath: rest ? `./${rest}` : "." };
}

/** The file `import(spec)` would load from `fromDir`, when the package's "exports" say so plainly. */
export function resolveImportOnly(spec: string, fromDir: string): string | undefined {
  const { name, subpath } = split(spec);
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const pkgDir = join(dir, "node_modules", name);
    const manifest = join(pkgDir, "package.json");
    if (existsSync(manifest)) {
      const exportsField = (JSON.parse(readFileSync(manifest, "utf8")) as { exports?: unknown }).exports;
      const isSubpathMap = typeof exportsField === "object" && exportsField !== null && !Array.isArray(exportsField) &&
        Object.keys(exportsField).some((k) => k.startsWith("."));
      const entry = isSubpathMap ? (exportsField as Record<string, unknown>)[subpath] : subpath === "." ? exportsField : undefined;
      const file = target(entry);
      return file?.startsWith("./") ? join(pkgDir, file) : undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}
