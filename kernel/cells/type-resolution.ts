/*
 * How cells' imports find their types from any directory. tslab resolves modules Node10-style from the
 * notebook's directory, so neither "bpfbook" (this package, never installed under that name) nor the packages
 * of this project (arquero, @types/node) are found from a notebook outside the project. We give the fork's
 * file system two fallbacks, mirroring how cells load modules at run time:
 *   - any `node_modules/bpfbook` is this package (its package.json "types" names the library's .d.ts);
 *   - the file-system root's `/node_modules`, the last place Node10 resolution and the default type roots look,
 *     shows this project's node_modules wherever the real one has nothing.
 * Real files always win, so packages installed next to the notebook keep their own types.
 */
import { existsSync } from "node:fs";
import { bpfbookName, projectNodeModules, projectRoot } from "./locations.js";

type PathMethod = (path: string, ...rest: unknown[]) => unknown;

const patched = new WeakSet<object>();
const ownPackage = new RegExp(`/node_modules/${bpfbookName}(/.*)?$`);
const rootModules = "/node_modules";

export function redirectPath(path: string): string {
  const own = ownPackage.exec(path);
  if (own) return projectRoot + (own[1] ?? "");
  if ((path === rootModules || path.startsWith(rootModules + "/")) && !existsSync(path)) {
    return projectNodeModules + path.slice(rootModules.length);
  }
  return path;
}

/** Patches the methods module and type-root resolution read through; once per process (the fork's sys is shared). */
export function installTypeResolution(sys: object): void {
  if (patched.has(sys)) return;
  patched.add(sys);
  const methods = sys as Record<string, unknown>;
  for (const name of ["fileExists", "directoryExists", "readFile", "realpath", "getDirectories"]) {
    const original = methods[name];
    if (typeof original !== "function") continue;
    const call = original as PathMethod;
    methods[name] = function (this: unknown, path: string, ...rest: unknown[]) {
      return call.call(this, redirectPath(path), ...rest);
    };
  }
}
