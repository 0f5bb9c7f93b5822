/* Every ```ts block of README.md and docs/*.md type-checks as a notebook cell: the blocks of one page are the
 * cells of one session, in order (a later block may use a name an earlier one declared), checked by the kernel's
 * own cell converter with the kernel's prelude (display(), html(), ...). Nothing runs: running the blocks of the
 * pages that can run here is test/docs-examples.test.ts's job. A block whose fence says ```ts fragment is not
 * code on its own (a signature, a shape); it is skipped and counted. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./helpers/workload.js";
import { createConverter, type Converter } from "../kernel/cells/compiler/index.js";
import { bpfCellSource, isBpfCell, typeBpfCalls } from "../kernel/cells/bpf-cells.js";
import { declaredNames, expandShorthands } from "../kernel/cells/shorthand.js";
import { blankExportModifiers } from "../kernel/cells/strip-exports.js";
import { PRELUDE } from "../kernel/notebook-api.js";

const PAGES = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
const FENCE = /^\s*```(ts|typescript)(?:\s+(.*))?$/;

interface Block {
  page: string;
  /** One-based line of the opening fence. */
  line: number;
  code: string;
  fragment: boolean;
}

/** The TypeScript blocks of a page, in order. */
function tsBlocks(page: string, text: string): Block[] {
  const lines = text.split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```/.exec(lines[i]!);
    if (!open) continue;
    const m = FENCE.exec(lines[i]!);
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) end++;
    if (end === lines.length) throw new Error(`${page}:${i + 1}: a fenced block that never ends`);
    if (m) out.push({ page, line: i + 1, code: lines.slice(i + 1, end).join("\n"), fragment: /\bfragment\b/.test(m[2] ?? "") });
    i = end;
  }
  return out;
}

/** The cell as the kernel hands it to the converter (runner.ts): BPF C typed, `export` blanked, shorthands written out. */
async function asCell(code: string, prevDecl: string): Promise<string> {
  const source = isBpfCell(code) ? await bpfCellSource(code) : await typeBpfCalls(code);
  return expandShorthands(blankExportModifiers(source), declaredNames(prevDecl));
}

const pages = PAGES.map((page) => ({ page, blocks: tsBlocks(page, readFileSync(join(ROOT, page), "utf8")) })).filter((p) => p.blocks.length > 0);

describe("docs snippets type-check as notebook cells", () => {
  // One converter for every page (loading one takes seconds); each page starts again from the prelude's declarations.
  let converter: Converter | undefined;
  const get = (): Converter => (converter ??= createConverter(join(ROOT, "notebooks")));
  after(() => converter?.close());
  let fragments = 0;

  for (const { page, blocks } of pages) {
    it(page, async (t) => {
      let prevDecl = PRELUDE;
      const errors: string[] = [];
      for (const b of blocks) {
        if (b.fragment) {
          fragments++;
          t.diagnostic(`${page}:${b.line}: a fragment, not checked`);
          continue;
        }
        const r = get().convert(prevDecl, await asCell(b.code, prevDecl));
        // a block's diagnostics are at its own lines; the fence is one line above its first
        for (const d of r.diagnostics) errors.push(`${page}:${b.line + 1 + d.start.line}: TS${d.code} ${d.messageText}`);
        // a block that does not compile declares nothing, as a failed cell: the next blocks see the names before it
        if (r.diagnostics.length === 0) prevDecl = r.declOutput ?? prevDecl;
      }
      assert.deepEqual(errors, []);
    });
  }

  it("checks the pages' blocks", () => {
    const total = pages.reduce((n, p) => n + p.blocks.length, 0);
    console.log(`# ${total} blocks on ${pages.length} pages, ${fragments} of them fragments`);
    assert.ok(total >= 100, `only ${total} TypeScript blocks found`);
    assert.ok(fragments <= 5, `${fragments} blocks are marked fragment: make them compile instead`);
  });
});
