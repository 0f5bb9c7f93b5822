/*
 * How cells' imports find their types from any directory. Modules resolve from the notebook's directory, so
 * neither "bpfbook" (this package, never installed under that name) nor the packages of this project
 * (arquero, @types/node) are found from a notebook outside the project. The cell compiler reads the file
 * system through a fallback, mirroring how cells load modules at run time: the file-system root's
 * `/node_modules`, the last place module resolution and the default type roots look, shows this project's
 * node_modules wherever the real one has nothing, and `/node_modules/bpfbook` is this package.
 * Files found there keep their `/node_modules/...` names (realpath does not undo the fallback), and this
 * package's own dependencies resolve there too: so every type the library hands a cell can be named by its
 * package ("arquero"), and declarations for the next cell never need a path into another package (TS2742).
 * Real files always win, so packages installed next to the notebook keep their own types.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { createRequire } from "node:module";
import { bpfbookName, projectNodeModules, projectRoot } from "./locations.js";

const rootModules = "/node_modules";
const ownPackage = `${rootModules}/${bpfbookName}`;
/** This package's own node_modules, hidden so its imports resolve at the root's fallback like the cell's. */
const ownModules = `${ownPackage}/node_modules`;

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir + "/");
}

/** The file a path stands for: this package, or this project's node_modules where the root has none. */
export function redirectPath(path: string): string {
  if (under(path, ownPackage)) return projectRoot + path.slice(ownPackage.length);
  if (under(path, rootModules) && !existsSync(path)) return projectNodeModules + path.slice(rootModules.length);
  return path;
}

function hidden(path: string): boolean {
  return under(path, ownModules);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The file system as the cell compiler's host reads it: every path goes through `redirectPath`. */
export const fileSystem = {
  redirect: redirectPath,
  /** Where TypeScript's lib.*.d.ts live (they never change during a session). */
  typescriptLibDir: dirname(createRequire(import.meta.url).resolve("typescript")),
  fileExists: (path: string): boolean => !hidden(path) && isFile(redirectPath(path)),
  directoryExists: (path: string): boolean => !hidden(path) && isDirectory(redirectPath(path)),
  readFile(path: string): string | undefined {
    try {
      return readFileSync(redirectPath(path), "utf8");
    } catch {
      return undefined;
    }
  },
  getDirectories(path: string): string[] {
    try {
      return readdirSync(redirectPath(path), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return [];
    }
  },
  realpath(path: string): string {
    const target = redirectPath(path);
    // a fallback keeps its name (see above)
    if (target !== path) return path;
    try {
      return realpathSync(path);
    } catch {
      return path;
    }
  },
};
