/*
 * The last step of a cell's emit: ES module syntax (imports, exports) to CommonJS over the runner's
 * `require` and `exports`, as tslab did. Top-level await stays: the cell runs as an async function's body.
 */
import type * as TS from "typescript";
import type { TypeScript } from "../typescript.js";

export function toCommonJS(ts: TypeScript, js: string): string {
  const out = ts.transpileModule(js, {
    fileName: "cell.js",
    compilerOptions: { module: ts.ModuleKind.CommonJS, esModuleInterop: true, target: ts.ScriptTarget.ES2022, newLine: ts.NewLineKind.LineFeed },
  }).outputText;
  // An ES module becomes a strict CommonJS module; tslab's cells were sloppy-mode function bodies, and
  // TypeScript 5.5 removed the option (noImplicitUseStrict) that kept them so.
  return out.replace(/^"use strict";\n/, "");
}
