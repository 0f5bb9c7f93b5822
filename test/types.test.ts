/* Tracepoint names and fields are TypeScript types: mistakes fail to compile. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import ts from "typescript";
import { ROOT } from "./helpers/workload.js";

function check(body: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), "bpfbook-types-"));
  const file = join(dir, "cell.mts");
  writeFileSync(file, `import { tracepoint } from ${JSON.stringify(join(ROOT, "dist", "bpf-lib", "src", "index.js"))};\n${body}\n`);
  const program = ts.createProgram([file], {
    strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(ROOT, "node_modules", "@types")], lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts"],
  });
  return ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

describe("types", () => {
  it("a correct probe type-checks and its rows are typed", () => {
    const errs = check(`
      const t = await tracepoint("syscalls:sys_enter_openat", { fields: ["filename", "flags"], where: { comm: "nginx", flags: { ne: 0 } } }).collect({ seconds: 1 });
      const name: string = t.get("filename", 0) as string;
      type Row = typeof t extends { __row?: infer R } ? R : never;
      const f: NonNullable<Row>["filename"] = "x";
      const n: NonNullable<Row>["flags"] = 1;
      void name; void f; void n;`);
    assert.deepEqual(errs, []);
  });
  it("a misspelled tracepoint name is a type error", () => {
    const errs = check(`tracepoint("syscalls:sys_enter_opnat", { fields: ["filename"] });`);
    assert.ok(errs.some((e) => /sys_enter_opnat/.test(e)), errs.join("\n"));
  });
  it("a misspelled field is a type error", () => {
    const errs = check(`tracepoint("syscalls:sys_enter_openat", { fields: ["filenme"] });`);
    assert.ok(errs.some((e) => /"filenme"/.test(e)), errs.join("\n"));
  });
  it("a filter of the wrong type is a type error", () => {
    const errs = check(`tracepoint("syscalls:sys_enter_openat", { where: { flags: "x" } });`);
    assert.ok(errs.length > 0);
  });
});
