/*
 * The cell compiler (kernel/cells/compiler/) on the project's TypeScript: what a cell may say (using,
 * satisfies, const type parameters, NoInfer), names across cells (redeclared, reassigned, value and type
 * apart), types the next cell can name from any directory (no TS2742), exact diagnostic positions, and
 * nearest names for misspelled string literals.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CellRunner, type CellError, type CellOutcome } from "../kernel/cells/index.js";
import { createConverter, type Converter } from "../kernel/cells/compiler/index.js";
import { ROOT } from "./helpers/workload.js";

function ok(outcome: CellOutcome): unknown {
  if (outcome.status !== "ok") assert.fail(`expected ok, got ${outcome.status}: ${outcome.error.traceback.join("\n")}`);
  return outcome.value;
}

function failed(outcome: CellOutcome): CellError {
  if (outcome.status !== "error") assert.fail(`expected an error, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}

/** Cells run in order in one session of a notebook in `dir`. */
function session(dir: () => string) {
  let runner: CellRunner | undefined;
  let count = 0;
  const run = (code: string) => (runner ??= new CellRunner({ cwd: dir() })).execute(code, ++count);
  return { run, value: async (code: string) => ok(await run(code)), close: () => runner?.close() };
}

describe("cell compiler", () => {
  let dir = "";
  const cells = session(() => dir);
  const { run, value } = cells;
  let converter: Converter;

  before(() => {
    // A notebook outside the project: this package and its dependencies resolve through the root fallback.
    dir = mkdtempSync(join(tmpdir(), "bpfbook-compiler-"));
    writeFileSync(join(dir, "broken.ts"), "export const half: number = 'one half';\n");
    converter = createConverter(dir);
  });

  after(() => {
    cells.close();
    converter.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("disposes `using` and `await using` resources at the end of the cell", async () => {
    ok(await run("const log: string[] = [];"));
    // the cell's value is taken before its resources go
    assert.equal(await value([
      "using r = { [Symbol.dispose]() { log.push('disposed'); } };",
      "await using a = { async [Symbol.asyncDispose]() { await new Promise((s) => setTimeout(s, 5)); log.push('async disposed'); } };",
      "log.push('body');",
      "log.length",
    ].join("\n")), 1);
    assert.deepEqual(await value("log"), ["body", "async disposed", "disposed"]);
  });

  it("accepts TypeScript 5 syntax and types: satisfies, const type parameters, NoInfer", async () => {
    assert.equal(await value([
      "const conf = { port: 80 } satisfies Record<string, number>;",
      "function first<const T extends readonly unknown[]>(xs: T): T[0] { return xs[0]; }",
      "function pick<T extends string>(xs: T[], d: NoInfer<T>): T { return xs.includes(d) ? d : xs[0]; }",
      "const literal: 'a' = first(['a', 'b']);",
      "conf.port + pick(['x', 'y'], 'y').length",
    ].join("\n")), 81);
    const error = failed(await run("pick(['x', 'y'], 'z')"));
    assert.match(error.evalue, /Argument of type '"z"' is not assignable to parameter of type '"x" \| "y"'/);
  });

  it("lets a later cell declare a name again, value and type meanings apart", async () => {
    ok(await run("const again = 1;\ntype Shape = { n: number };\nconst Shape = 5;"));
    assert.equal(await value("const again = 'now a string';\nagain.length"), 12);
    assert.equal(await value("again.toUpperCase()"), "NOW A STRING");
    // a new type Shape leaves the value Shape standing
    ok(await run("type Shape = string;"));
    assert.equal(await value("const s: Shape = 'x';\ns + Shape"), "x5");
  });

  it("assigns an earlier cell's let, and refuses an earlier const", async () => {
    ok(await run("let counter = 1;\nconst fixed = 1;"));
    assert.equal(await value("counter = counter + 1;\ncounter++;\ncounter"), 3);
    assert.equal(await value("counter"), 3);
    const error = failed(await run("fixed = 2;"));
    assert.equal(error.evalue, "Cannot assign to 'fixed' because it is a constant.");
    assert.match(error.traceback[0] ?? "", /^Cell In\[\d+\], line 1: Cannot assign to 'fixed' because it is a constant\. \(TS2588\)$/);
  });

  it("awaits at the top level and returns the last expression's value", async () => {
    assert.equal(await value("const w = await new Promise<number>((r) => setTimeout(() => r(6), 5));\nw * 7"), 42);
    const r = converter.convert("", "await Promise.resolve(1);\nconst x = 2;\nx");
    assert.deepEqual([r.diagnostics, r.hasToplevelAwait, r.lastExpressionVar], [[], true, "tsLastExpr"]);
    assert.equal(converter.convert("", "const f = async () => { await 1; };").hasToplevelAwait, false);
  });

  it("puts diagnostics at the cell's own line and column, and names an imported file's errors by its path", () => {
    const r = converter.convert("", "const a = 1;\nconst b: string = a;");
    assert.deepEqual(r.diagnostics, [{
      start: { offset: 19, line: 1, character: 6 },
      end: { offset: 20, line: 1, character: 7 },
      messageText: "Type 'number' is not assignable to type 'string'.",
      category: 1,
      code: 2322,
      fileName: undefined,
    }]);
    const imported = converter.convert("", "import { half } from './broken.js';\nhalf");
    assert.deepEqual(imported.diagnostics.map((d) => [d.fileName, d.start.line, d.start.character, d.code]), [["broken.ts", 0, 13, 2322]]);
  });

  it("writes declarations the next cell can name from outside the project (no TS2742)", async () => {
    ok(await run("import * as aq from 'arquero';\nconst [t] = [aq.table({ a: [1, 2] })];"));
    assert.equal(await value("t.numRows()"), 2);
    const r = converter.convert("", "import { partialResults, tools } from 'bpfbook';\nimport { table } from 'arquero';\nconst [p] = partialResults();\nconst e = tools.execsnoop().shape(table({}));");
    assert.deepEqual(r.diagnostics, []);
    assert.match(r.declOutput ?? "", /declare const p: import\("arquero"\)\.ColumnTable & \{/);
    assert.match(r.declOutput ?? "", /declare const e: import\("arquero"\)\.ColumnTable;/);
    const next = converter.convert(r.declOutput ?? "", "const n: number = (p?.numRows() ?? 0) + e.numRows();");
    assert.deepEqual(next.diagnostics, []);
  });

  it("writes the same declarations for a notebook inside the project", async () => {
    const inside = createConverter(join(ROOT, "notebooks"));
    try {
      const r = inside.convert("", "import { partialResults } from 'bpfbook';\nconst [p] = partialResults();");
      assert.deepEqual(r.diagnostics, []);
      assert.match(r.declOutput ?? "", /declare const p: import\("arquero"\)\.ColumnTable & \{/);
      assert.deepEqual(inside.convert(r.declOutput ?? "", "p?.numRows()").diagnostics, []);
    } finally {
      inside.close();
    }
  });

  it("suggests the nearest names for a misspelled tracepoint or field", async () => {
    const name = failed(await run("import { tracepoint } from 'bpfbook';\ntracepoint('syscalls:sys_enter_opnat')"));
    assert.equal(name.ename, "TSError");
    assert.match(name.evalue, /is not assignable to parameter of type .*\. Did you mean "syscalls:sys_enter_openat"/);
    const field = failed(await run("import { tracepoint } from 'bpfbook';\ntracepoint('syscalls:sys_enter_openat', { fields: ['filenme'] })"));
    assert.match(field.evalue, /Did you mean '?"filename"'?\?/);
  });
});
