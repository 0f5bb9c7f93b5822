/* The ```ts blocks of docs/tools-by-example.md, docs/reads.md, docs/custom-bpf.md and docs/exports.md compile against the
 * package and run: each block is a module importing "bpfbook" (the package's own name,
 * resolved through package.json's exports), its last expression statement is the
 * result a notebook would show, and it must be a table, with nothing left attached.
 * A block preceded by `<!-- no-run: why -->` is type-checked only. */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { ROOT } from "./helpers/workload.js";
import { liveCount } from "../bpf-lib/src/lifecycle.js";

const DOCS = ["docs/tools-by-example.md", "docs/reads.md", "docs/custom-bpf.md", "docs/exports.md"];
// Inside the package, so `import ... from "bpfbook"` resolves to it (self-reference).
const DIR = join(ROOT, "dist", "test", "docs-snippets");
const TIMEOUT_MS = 20_000;

interface Block {
  doc: string;
  line: number;
  code: string;
  noRun?: string;
  file: string;
}

/** The ```ts blocks of a Markdown file, with the no-run marker on the line before. */
function extractBlocks(doc: string, text: string): Omit<Block, "file">[] {
  const lines = text.split("\n");
  const out: Omit<Block, "file">[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== "```ts") continue;
    let prev = i - 1;
    while (prev >= 0 && lines[prev]!.trim() === "") prev--;
    const marker = prev >= 0 ? /^<!--\s*no-run:?\s*(.*?)\s*-->$/.exec(lines[prev]!.trim()) : null;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== "```") end++;
    if (end === lines.length) throw new Error(`${doc}:${i + 1}: a \`\`\`ts block that never ends`);
    out.push({ doc, line: i + 1, code: lines.slice(start, end).join("\n"), ...(marker ? { noRun: marker[1] || "marked no-run" } : {}) });
    i = end;
  }
  return out;
}

/** The block with its last expression statement exported as the module's default: what a notebook cell would display. */
function withResult(code: string, name: string): string {
  const sf = ts.createSourceFile(name, code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const last = sf.statements.at(-1);
  if (!last || !ts.isExpressionStatement(last)) return `${code}\nexport default undefined;\n`;
  const expr = code.slice(last.expression.getStart(sf), last.expression.getEnd());
  return `${code.slice(0, last.getStart(sf))}const __result = (${expr});\nexport default __result;\n${code.slice(last.getEnd())}\n`;
}

const blocks: Block[] = DOCS.flatMap((doc) =>
  extractBlocks(doc, readFileSync(join(ROOT, doc), "utf8")).map((b, i) => ({ ...b, file: join(DIR, `${doc.replace(/\W+/g, "_")}_${String(i).padStart(2, "0")}_L${b.line}.mts`) })),
);

describe("docs examples", () => {
  before(() => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    for (const b of blocks) writeFileSync(b.file, withResult(b.code, b.file));
  });

  it("the docs have examples", () => {
    for (const doc of DOCS) assert.ok(blocks.filter((b) => b.doc === doc).length >= 3, `${doc} has ${blocks.filter((b) => b.doc === doc).length} ts blocks`);
  });

  it("every block type-checks against the package", () => {
    const program = ts.createProgram(blocks.map((b) => b.file), {
      strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
      noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(ROOT, "node_modules", "@types")], lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts"],
    });
    const byFile = new Map(blocks.map((b) => [b.file, b]));
    const errors = ts.getPreEmitDiagnostics(program).filter((d) => d.file && byFile.has(d.file.fileName)).map((d) => {
      const b = byFile.get(d.file!.fileName)!;
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${b.doc}:${b.line + 1 + line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
    assert.deepEqual(errors, []);
  });

  for (const b of blocks) {
    const name = `${b.doc}:${b.line}: ${b.code.split("\n").find((l) => l.trim() && !l.startsWith("import") && !l.startsWith("//"))?.trim().slice(0, 70) ?? ""}`;
    it(`runs ${name}`, { skip: b.noRun ? `not run here: ${b.noRun}` : false, timeout: TIMEOUT_MS }, async () => {
      const js = ts.transpileModule(readFileSync(b.file, "utf8"), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
      const file = b.file.replace(/\.mts$/, ".mjs");
      writeFileSync(file, js);
      const t0 = performance.now();
      const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
      const result = mod.default as { numRows?: () => number; numCols?: () => number } | undefined;
      assert.ok(result && typeof result.numRows === "function" && typeof result.numCols === "function", `the block's last expression is a table, not ${typeof result}`);
      assert.equal(liveCount(), 0, "nothing left attached after the block");
      console.log(`# ${b.doc}:${b.line}: ${result.numRows!()} rows x ${result.numCols!()} columns in ${Math.round(performance.now() - t0)} ms`);
    });
  }
});
