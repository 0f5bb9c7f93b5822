/*
 * Loading what a cell imports before it runs. Converted cells call `require(...)` synchronously, but this
 * library and packages like arquero are ES modules, which only `import()` can load in general. So every
 * module named in the converted code is loaded (awaited) first, and the cell gets a `require` that hands back
 * the preloaded module.
 */
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import vm from "node:vm";
import { bpfbookEntry, bpfbookName, projectNodeModules } from "./locations.js";
import { currentSession } from "../replay.js";
import { resolveImportOnly } from "./package-exports.js";
import type { SideOutput } from "./compiler/index.js";

export type CellRequire = NodeJS.Require;

interface LocalModule {
  exports: unknown;
  id: string;
  filename: string;
  loaded: boolean;
}

type LocalFactory = (exports: unknown, require: CellRequire, module: LocalModule, filename: string, dirname: string) => void;

/** Module specifiers in converted code; the converter always emits string-literal `require("x")`. */
export function requiredSpecifiers(code: string): string[] {
  const specs = new Set<string>();
  for (const m of code.matchAll(/\brequire\(\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')\s*\)/g)) {
    if (m[1] !== undefined) {
      try {
        specs.add(JSON.parse(`"${m[1]}"`) as string);
      } catch {
        specs.add(m[1]);
      }
    } else if (m[2] !== undefined) specs.add(m[2]);
  }
  return [...specs];
}

function isRelative(spec: string): boolean {
  return spec.startsWith("./") || spec.startsWith("../") || spec === "." || spec === ".." || spec.startsWith("/");
}

function errorCode(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null || !("code" in e)) return undefined;
  return typeof e.code === "string" ? e.code : undefined;
}

/**
 * An ES module namespace as the converter's `__importStar`/`__importDefault` helpers expect an ES module
 * compiled to CommonJS: flagged `__esModule`, so `import x from` reads its `default` and `import * as` takes it whole.
 */
export function interop(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Object.prototype.toString.call(value) !== "[object Module]") return value;
  const ns = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(ns)) {
    Object.defineProperty(out, key, { enumerable: true, get: () => ns[key] });
  }
  Object.defineProperty(out, "__esModule", { value: true });
  return out;
}

export class ModuleNotFoundError extends Error {
  override name = "ModuleNotFoundError";
  readonly code = "MODULE_NOT_FOUND";
}

export class ModuleLoader {
  /** By specifier (packages) or absolute path (relative imports). */
  private readonly loaded = new Map<string, unknown>();
  /** Why a module of the cell being prepared could not load; thrown when the cell requires it. */
  private readonly failures = new Map<string, unknown>();
  /** Converted .ts files of the notebook's directory, by the .js path they stand for. */
  private readonly localSources = new Map<string, string>();
  private readonly localModules = new Map<string, LocalModule>();

  constructor(private readonly cwd: string) {}

  addLocalSources(outputs: SideOutput[] | undefined): void {
    for (const out of outputs ?? []) {
      this.localSources.set(out.path, out.data);
      // A changed file is evaluated afresh; modules that already imported it keep what they got.
      this.localModules.delete(out.path);
      for (const key of [...this.loaded.keys()]) if (this.localPath(key) === out.path) this.loaded.delete(key);
    }
  }

  /** Loads every module a cell requires; failures are kept and surface where the cell requires them. */
  async prepare(code: string): Promise<void> {
    this.failures.clear();
    await this.preload(code, this.cwd);
  }

  private async preload(code: string, fromDir: string): Promise<void> {
    for (const spec of requiredSpecifiers(code)) {
      const key = this.keyOf(spec, fromDir);
      if (this.loaded.has(key) || this.failures.has(key)) continue;
      try {
        this.loaded.set(key, await this.load(spec, key, fromDir));
      } catch (e) {
        this.failures.set(key, e);
      }
    }
  }

  /** The `require` given to code in `fromDir`: preloaded modules, else Node's own require from there. */
  requireFor(fromDir: string): CellRequire {
    const base = createRequire(join(fromDir, "noop.js"));
    const require = (spec: string): unknown => {
      const key = this.keyOf(spec, fromDir);
      if (this.loaded.has(key)) return this.loaded.get(key);
      if (this.failures.has(key)) throw this.failures.get(key);
      return interop(base(spec));
    };
    return Object.assign(require, { resolve: base.resolve, cache: base.cache, extensions: base.extensions, main: base.main });
  }

  /** Loads a module again at its next import (bpfbook, after the record/replay mode changed). */
  forget(spec: string): void {
    this.loaded.delete(spec);
    this.failures.delete(spec);
  }

  clear(): void {
    this.loaded.clear();
    this.failures.clear();
    this.localSources.clear();
    this.localModules.clear();
  }

  private keyOf(spec: string, fromDir: string): string {
    return isRelative(spec) ? resolve(fromDir, spec) : spec;
  }

  private localPath(abs: string): string | undefined {
    return [abs, `${abs}.js`, join(abs, "index.js")].find((p) => this.localSources.has(p));
  }

  private async load(spec: string, key: string, fromDir: string): Promise<unknown> {
    if (spec === bpfbookName) {
      const bpfbook = interop(await import(pathToFileURL(bpfbookEntry).href)) as object;
      // recording or replaying: the cells see bpfbook through the session's proxy
      return currentSession()?.wrap(bpfbook) ?? bpfbook;
    }
    const local = isRelative(spec) ? this.localPath(key) : undefined;
    if (local !== undefined) return this.loadLocal(local);
    const require = createRequire(join(fromDir, "noop.js"));
    if (isRelative(spec)) return this.loadWith(require, key);
    try {
      return await this.loadWith(require, spec);
    } catch (e) {
      const code = errorCode(e);
      if (code === "ERR_PACKAGE_PATH_NOT_EXPORTED") {
        const file = resolveImportOnly(spec, fromDir);
        if (file !== undefined) return interop(await import(pathToFileURL(file).href));
      }
      const missingHere = code === "ERR_PACKAGE_PATH_NOT_EXPORTED" ||
        (code === "MODULE_NOT_FOUND" && e instanceof Error && e.message.startsWith(`Cannot find module '${spec}'`));
      if (!missingHere) throw e;
      return this.loadFromProject(spec, fromDir, e);
    }
  }

  /** CommonJS through require; ES modules it refuses through import() of the file it resolved. */
  private async loadWith(require: NodeJS.Require, spec: string): Promise<unknown> {
    try {
      return interop(require(spec));
    } catch (e) {
      const code = errorCode(e);
      if (code !== "ERR_REQUIRE_ESM" && code !== "ERR_REQUIRE_ASYNC_MODULE") throw e;
      return interop(await import(pathToFileURL(require.resolve(spec)).href));
    }
  }

  /** Packages this project has (arquero...), so notebooks anywhere can use them without installing. */
  private async loadFromProject(spec: string, fromDir: string, first: unknown): Promise<unknown> {
    try {
      const ns: unknown = await import(spec);
      return interop(ns);
    } catch (e) {
      if (errorCode(e) !== "ERR_MODULE_NOT_FOUND") throw e;
      // Node's "not found" adds only its require stack; other refusals (a package's "exports") say something.
      const cause = errorCode(first) === "MODULE_NOT_FOUND" ? {} : { cause: first };
      throw new ModuleNotFoundError(
        `Cannot find module '${spec}': looked in node_modules of ${fromDir} and its parents, and in bpfbook's own ${projectNodeModules}`,
        cause,
      );
    }
  }

  private async loadLocal(path: string): Promise<unknown> {
    const existing = this.localModules.get(path);
    if (existing) return existing.exports;
    const source = this.localSources.get(path) ?? "";
    const module: LocalModule = { exports: {}, id: path, filename: path, loaded: false };
    // Registered before it runs so import cycles between local files see the partial exports, as in CommonJS.
    this.localModules.set(path, module);
    const dir = dirname(path);
    await this.preload(source, dir);
    const factory = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
      filename: path,
    }) as LocalFactory;
    try {
      factory(module.exports, this.requireFor(dir), module, path, dir);
    } catch (e) {
      // Half-initialised exports must not be handed to the next cell that imports it.
      this.localModules.delete(path);
      throw e;
    }
    module.loaded = true;
    return module.exports;
  }
}
