/* The cell compiler and executor: state across cells, errors at the cell's own lines, interrupts, imports. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CellRunner, type CellError, type CellOutcome } from "../kernel/cells/index.js";

function ok(outcome: CellOutcome): { value: unknown; hasValue: boolean } {
  if (outcome.status !== "ok") assert.fail(`expected ok, got ${outcome.status}: ${outcome.error.traceback.join("\n")}`);
  return outcome;
}

function failed(outcome: CellOutcome, status: "error" | "interrupted" = "error"): CellError {
  if (outcome.status !== status) assert.fail(`expected ${status}, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}

describe("cells", () => {
  // A notebook outside the project: "bpfbook", arquero and Node's types must resolve from anywhere.
  let dir = "";
  let runner: CellRunner;
  let count = 0;
  const run = (code: string) => runner.execute(code, ++count);
  const value = async (code: string) => ok(await run(code)).value;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "bpfbook-cells-"));
    writeFileSync(join(dir, "helper.ts"), "export function double(n: number): number {\n  return n * 2;\n}\n");
    // Types without a module behind them: type-checks, then fails to load.
    mkdirSync(join(dir, "node_modules", "@types", "ghost-pkg"), { recursive: true });
    writeFileSync(join(dir, "node_modules", "@types", "ghost-pkg", "index.d.ts"), "export declare const ghost: number;\n");
    runner = new CellRunner({ cwd: dir });
  });

  after(() => {
    runner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps state across cells", async () => {
    ok(await run("const base: number = 40;\nlet counter = 1;"));
    assert.equal(await value("counter += 1;\nbase + counter"), 42);
    assert.equal(await value("counter"), 2);
  });

  it("reads an earlier cell's names in shorthand properties, destructuring and imports too", async () => {
    ok(await run('import { join as joinPath } from "node:path";\nconst disk = "loop0";\nfunction sizeOf() { return 4; }\nconst { sep } = { sep: "/" };'));
    assert.deepEqual(await value("const o = { disk, sizeOf, sep, joinPath };\n[o.disk, o.sizeOf(), o.sep, typeof o.joinPath]"), ["loop0", 4, "/", "function"]);
    assert.deepEqual(await value("function f() { return { disk }; }\nf()"), { disk: "loop0" });
    // a shorthand in a destructuring assignment writes the earlier cell's variable
    ok(await run("let later = 1;"));
    assert.equal(await value("({ later } = { later: 5 });\nlater"), 5);
    // a local of the same name still wins inside its scope
    assert.deepEqual(await value("((disk: string) => ({ disk }))(\"sda\")"), { disk: "sda" });
  });

  it("lets a re-run cell declare its const, let and function again", async () => {
    const cell = (n: number) => `const again = ${n};\nlet also = again + 1;\nfunction twice() { return also * 2; }\ntwice()`;
    assert.equal(await value(cell(1)), 4);
    assert.equal(await value(cell(10)), 22);
    assert.equal(await value("again + also"), 21);
  });

  it("returns the last expression's value, and none after a statement", async () => {
    assert.deepEqual(ok(await run("const o = { a: [1, 2] };\no")), { status: "ok", value: { a: [1, 2] }, hasValue: true });
    assert.equal(ok(await run("const nothing = 1;")).hasValue, false);
    assert.equal(ok(await run("undefined")).hasValue, false);
    assert.deepEqual(ok(await run("null")), { status: "ok", value: null, hasValue: true });
    assert.equal(ok(await run("console.log('printed by a cell')")).hasValue, false);
  });

  it("reports type errors at the cell's lines and runs nothing", async () => {
    const n = count + 1;
    const error = failed(await run("(globalThis as any).sideEffect = 1;\nconst s: string = 1;\nlet k = 2;\nk.nope();"));
    assert.equal(error.ename, "TSError");
    assert.match(error.evalue, /Type 'number' is not assignable to type 'string'/);
    const text = error.traceback.join("\n");
    assert.match(text, new RegExp(`Cell In\\[${n}\\], line 2: Type 'number' is not assignable`));
    assert.match(text, new RegExp(`Cell In\\[${n}\\], line 4: Property 'nope' does not exist`));
    assert.equal((globalThis as Record<string, unknown>).sideEffect, undefined);
    // The failed cell declared nothing.
    assert.equal(failed(await run("s")).ename, "TSError");
  });

  it("maps a runtime error to the line of the cell it was thrown on", async () => {
    const n = count + 1;
    const error = failed(await run("const first = 1;\nconst second: number = first + 1;\nthrow new RangeError(`third ${second}`);"));
    assert.equal(error.ename, "RangeError");
    assert.equal(error.evalue, "third 2");
    assert.equal(error.traceback[0], "RangeError: third 2");
    assert.ok(error.traceback.includes(`Cell In[${n}], line 3: throw new RangeError(\`third \${second}\`);`), error.traceback.join("\n"));
  });

  it("maps frames of functions defined in earlier cells, past types and blank lines", async () => {
    const defined = count + 1;
    ok(await run([
      "interface Point { x: number; y: number }",
      "",
      "function check(p: Point): number {",
      "  const sum: number = p.x + p.y;",
      "",
      "  if (sum > 10) throw new Error(`too big: ${sum}`);",
      "  return sum;",
      "}",
    ].join("\n")));
    const calling = count + 1;
    const error = failed(await run("check({ x: 1, y: 2 });\n\nconst q = { x: 20, y: 3 };\ncheck(q)"));
    assert.equal(error.evalue, "too big: 23");
    assert.deepEqual(error.traceback.slice(1), [
      `Cell In[${defined}], line 6, in check: if (sum > 10) throw new Error(\`too big: \${sum}\`);`,
      `Cell In[${calling}], line 4: check(q)`,
    ]);
  });

  it("supports top-level await, also as the last expression", async () => {
    ok(await run("const waited = await new Promise<number>((r) => setTimeout(() => r(7), 10));"));
    assert.equal(await value("await Promise.resolve(42)"), 42);
    assert.equal(await value("waited"), 7);
    const error = failed(await run("await new Promise((r) => setTimeout(r, 5));\nthrow new Error('after await');"));
    assert.equal(error.evalue, "after await");
    assert.ok(error.traceback.some((l) => /line 2: throw new Error\('after await'\)/.test(l)), error.traceback.join("\n"));
  });

  it("carries interfaces, type aliases and import type across cells", async () => {
    ok(await run("interface Row { n: number }\ntype Rows = Row[];\nimport type { TraceTable } from 'bpfbook';"));
    assert.deepEqual(await value("const rows: Rows = [{ n: 1 }];\nlet table: TraceTable | undefined;\nrows"), [{ n: 1 }]);
    assert.equal(failed(await run("const wrong: Rows = [{ n: 'x' }];")).ename, "TSError");
  });

  it("interrupts a pending await with interrupt(), keeping earlier state", async () => {
    ok(await run("const kept = 'still here';"));
    const pending = run("await new Promise(() => {});");
    setTimeout(() => runner.interrupt(), 50);
    const error = failed(await pending, "interrupted");
    assert.equal(error.ename, "KeyboardInterrupt");
    assert.equal(await value("kept"), "still here");
  });

  it("survives an interrupted cell failing later, with nobody awaiting it", async () => {
    const pending = run("await new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 80));");
    setTimeout(() => runner.interrupt(), 20);
    failed(await pending, "interrupted");
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await value("kept"), "still here");
  });

  it("interrupts a pending await on SIGINT, and SIGINT between cells is harmless", async () => {
    process.kill(process.pid, "SIGINT");
    await new Promise((r) => setTimeout(r, 20));
    setTimeout(() => process.kill(process.pid, "SIGINT"), 50);
    assert.equal(failed(await run("await new Promise(() => {});"), "interrupted").ename, "KeyboardInterrupt");
    assert.equal(await value("kept"), "still here");
  });

  it("stops a synchronous infinite loop on SIGINT; the next cell still sees earlier names", async () => {
    ok(await run("let beforeLoop = 5;"));
    // Timers cannot fire during the loop, so another process signals; again and again, in case one lands early.
    const killer = spawn("sh", ["-c", `for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.3; kill -INT ${process.pid} || exit 0; done`], { stdio: "ignore" });
    try {
      const error = failed(await run("beforeLoop = 6;\nwhile (true) {}"), "interrupted");
      assert.equal(error.ename, "KeyboardInterrupt");
    } finally {
      killer.kill();
    }
    assert.equal(await value("beforeLoop"), 6);
    assert.equal(await value("kept + ' ' + base"), "still here 40");
  });

  it("imports arquero (an ES module) from a notebook outside the project", async () => {
    ok(await run("import * as aq from 'arquero';\nconst t = aq.table({ a: [1, 2, 3], b: ['x', 'y', 'x'] });"));
    assert.equal(await value("t.filter((d: any) => d.a > 1).numRows()"), 2);
    assert.deepEqual(await value("t.groupby('b').count().orderby('b').array('count')"), [2, 1]);
  });

  it("imports bpfbook with its types from a notebook outside the project", async () => {
    ok(await run("import { listTracepoints, tracepoint } from 'bpfbook';"));
    assert.equal(await value("listTracepoints().length > 100"), true);
    // Real types: a wrong argument type is refused.
    assert.equal(failed(await run("listTracepoints(42)")).ename, "TSError");
    assert.equal(await value("typeof tracepoint"), "function");
  });

  it("accepts `export` on declarations pasted from a module", async () => {
    assert.equal(await value("export function exported(): number {\n  return 3;\n}\nexport const alsoExported = exported();\nalsoExported"), 3);
    assert.equal(await value("exported() + alsoExported"), 6);
  });

  it("has Node's types and globals", async () => {
    assert.equal(await value("const b: Buffer = Buffer.from('hi');\nb.length + (typeof process.pid === 'number' ? 1 : 0)"), 3);
  });

  it("imports a .ts file next to the notebook", async () => {
    assert.equal(await value("import { double } from './helper.js';\ndouble(21)"), 42);
  });

  it("says which module is missing and where it looked", async () => {
    const error = failed(await run("import { ghost } from 'ghost-pkg';\nghost"));
    assert.equal(error.ename, "ModuleNotFoundError");
    assert.match(error.evalue, /Cannot find module 'ghost-pkg'/);
    assert.ok(error.evalue.includes(dir), error.evalue);
  });

  it("tells complete, incomplete and invalid code apart", () => {
    for (const code of ["const a = 1", "f(1, 2);\n", "const s = `x ${a} y`;"]) assert.equal(runner.isComplete(code).status, "complete", code);
    for (const code of ["foo(", "if (x) {", "function f() {\n  return 1;", "const s = `abc", "const a =", "/* note"]) {
      assert.equal(runner.isComplete(code).status, "incomplete", code);
    }
    assert.equal(runner.isComplete("if (x) {").indent, "  ");
    for (const code of ["x = )", "f(); }", "function f() {\n  x = )\n  return 1;"]) assert.equal(runner.isComplete(code).status, "invalid", code);
  });

  it("completes names from earlier cells and the cell itself", () => {
    const { matches, cursorStart, cursorEnd } = runner.complete("const abc = 1; ab", 17);
    assert.equal(matches[0], "abc");
    assert.deepEqual([cursorStart, cursorEnd], [15, 17]);
    assert.ok(runner.complete("bas", 3).matches.includes("base"));
  });

  it("shows the type of a variable", () => {
    const info = runner.inspect("counter", 7, 0);
    assert.equal(info.found, true);
    assert.match(info.text, /let counter: number/);
    assert.equal(runner.inspect("   ", 1, 0).found, false);
  });

  it("forgets everything on reset", async () => {
    runner.reset();
    assert.equal(failed(await run("counter")).ename, "TSError");
    assert.equal(await value("const fresh = 1;\nfresh"), 1);
  });
});
