/*
 * The language service's view of the notebook: two virtual files in the notebook's directory (the earlier
 * cells' declarations and the cell being compiled) over the real file system, read through the
 * type-resolution redirects so "bpfbook" and this project's packages resolve from any directory.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import type * as TS from "typescript";
import type { TypeScript } from "../typescript.js";
import { fileSystem } from "../type-resolution.js";

/** Compiler options for cells: what tslab used (not strict: notebooks lean on implicit any), on TypeScript 5.9. */
export function cellCompilerOptions(ts: TypeScript, cwd: string): TS.CompilerOptions {
  return {
    // ES modules during checking (top-level await, `using`), CommonJS only in the final transpile.
    module: ts.ModuleKind.ESNext,
    // package.json "exports" (ES-only packages) and "./x.js" naming a .ts next to the notebook
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts"],
    esModuleInterop: true,
    resolveJsonModule: true,
    allowJs: true,
    declaration: true,
    skipLibCheck: true,
    newLine: ts.NewLineKind.LineFeed,
    // rootDir keeps emitted paths of the notebook's own .ts files stable; nothing is written to outDir
    rootDir: cwd,
    outDir: join(cwd, "__bpfbook_out__"),
  };
}

/** A file the compiler sees only in memory. */
export class VirtualFile {
  version = 0;
  private content = "";

  constructor(readonly path: string) {}

  get text(): string {
    return this.content;
  }

  set(text: string): void {
    if (text === this.content) return;
    this.content = text;
    this.version++;
  }
}

/** Files that never change during a session: versions are not worth a stat each cell. */
function isStable(path: string): boolean {
  return path.includes("/node_modules/") || path.startsWith(fileSystem.typescriptLibDir);
}

/** `transformers` are the emit transforms of the cell being emitted (the language service asks its host for them). */
export function createHost(
  ts: TypeScript, cwd: string, options: TS.CompilerOptions, files: readonly VirtualFile[], transformers: () => TS.CustomTransformers | undefined,
): TS.LanguageServiceHost {
  const virtual = new Map(files.map((f) => [f.path, f]));
  const fs = fileSystem;
  return {
    getCompilationSettings: () => options,
    getCustomTransformers: transformers,
    getScriptFileNames: () => files.map((f) => f.path),
    getScriptVersion(path) {
      const v = virtual.get(path);
      if (v) return String(v.version);
      if (isStable(path)) return "0";
      try {
        return String(statSync(fs.redirect(path)).mtimeMs);
      } catch {
        return "missing";
      }
    },
    getScriptSnapshot(path) {
      const v = virtual.get(path);
      if (v) return ts.ScriptSnapshot.fromString(v.text);
      const text = fs.readFile(path);
      return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
    },
    getCurrentDirectory: () => cwd,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    useCaseSensitiveFileNames: () => true,
    fileExists: (path) => virtual.has(path) || fs.fileExists(path),
    readFile: (path) => virtual.get(path)?.text ?? fs.readFile(path),
    directoryExists: (path) => fs.directoryExists(path),
    getDirectories: (path) => fs.getDirectories(path),
    realpath: (path) => (virtual.has(path) ? path : fs.realpath(path)),
    readDirectory: (path, extensions, exclude, include, depth) => ts.sys.readDirectory(fs.redirect(path), extensions, exclude, include, depth),
  };
}
