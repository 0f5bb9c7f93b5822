/* Every link a notebook's text makes to the docs resolves: the file exists and, with an
 * anchor, has that heading (a reader of a published notebook follows them). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ROOT } from "./helpers/workload.js";

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
const anchorOf = (heading: string) => heading.trim().toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-");

describe("notebook links", () => {
  it("every relative link in every notebook resolves to a file and heading", () => {
    const dir = join(ROOT, "notebooks");
    const bad: string[] = [];
    let checked = 0;
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".ipynb"))) {
      const nb = JSON.parse(readFileSync(join(dir, f), "utf8")) as { cells: { cell_type: string; source: string | string[] }[] };
      for (const c of nb.cells.filter((x) => x.cell_type === "markdown")) {
        const text = Array.isArray(c.source) ? c.source.join("") : c.source;
        for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
          const link = m[1]!;
          if (/^[a-z]+:/.test(link) || link.startsWith("#")) continue;
          checked++;
          const [path, anchor] = link.split("#");
          const file = resolve(dirname(join(dir, f)), path!);
          if (!existsSync(file)) {
            bad.push(`${f}: ${link} (no such file)`);
            continue;
          }
          if (anchor) {
            const headings = [...readFileSync(file, "utf8").matchAll(/^#+ (.+)$/gm)].map((h) => anchorOf(h[1]!));
            if (!headings.includes(anchor)) bad.push(`${f}: ${link} (no heading #${anchor})`);
          }
        }
      }
    }
    assert.ok(checked > 0, "the notebooks link to the docs");
    assert.deepEqual(bad, []);
  });
});
