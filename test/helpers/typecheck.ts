/* Compiles a cell-like module against the built library (dist/) with the project's strict
 * settings, and returns its own diagnostics: for tests of what the types accept and refuse. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import ts from "typescript";
import { ROOT } from "./workload.js";

/** `imports`: names imported from the library's index; `body`: the module's code. */
export function typecheck(imports: readonly string[], body: string, from = "index.js"): { errors: string[]; ms: number; instantiations: number } {
  const dir = mkdtempSync(join(tmpdir(), "bpfbook-types-"));
  try {
    const file = join(dir, "cell.mts");
    writeFileSync(file, `import { ${imports.join(", ")} } from ${JSON.stringify(join(ROOT, "dist", "bpf-lib", "src", from))};\n${body}\n`);
    const t0 = performance.now();
    const program = ts.createProgram([file], {
      strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
      noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(ROOT, "node_modules", "@types")], lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts"],
    });
    const errors = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    return { errors, ms: performance.now() - t0, instantiations: program.getInstantiationCount() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
