/* Every link the docs and the notebooks make resolves: README.md, ARCHITECTURE.md, docs/*.md and the
 * markdown cells of notebooks/*.ipynb. A relative link names a file or folder that exists and, with an
 * anchor, a heading of that page (a notebook's headings are those of its markdown cells); an anchor alone
 * names a heading of the same page. http(s) links are only checked for syntax (no network here).
 * README.md also lists every shipped notebook, one line each. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "./helpers/workload.js";

interface Page {
  /** Relative to the project root. */
  name: string;
  /** The Markdown text (a notebook's markdown cells, one after another). */
  text: string;
}

function notebookMarkdown(file: string): string {
  const nb = JSON.parse(readFileSync(file, "utf8")) as { cells: { cell_type: string; source: string | string[] }[] };
  return nb.cells.filter((c) => c.cell_type === "markdown").map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source)).join("\n\n");
}

function pageAt(name: string): Page {
  const file = join(ROOT, name);
  return { name, text: name.endsWith(".ipynb") ? notebookMarkdown(file) : readFileSync(file, "utf8") };
}

const notebooks = readdirSync(join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb")).sort();
const pages: Page[] = [
  "README.md", "ARCHITECTURE.md",
  ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`),
  ...notebooks.map((f) => `notebooks/${f}`),
].map(pageAt);

/** The text outside fenced code blocks. */
function unfenced(text: string): string {
  return text.replace(/^([ \t]*)(```|~~~)[^\n]*\n[\s\S]*?^\1\2`*[ \t]*$/gm, "");
}

/** The text outside fenced code blocks and inline code spans, where links are links. */
function prose(text: string): string {
  return unfenced(text).replace(/(`+)[^`\n]*?\1/g, "");
}

/** GitHub's anchor for a heading: markup dropped, lower case, punctuation dropped, spaces to dashes. */
function anchorOf(heading: string): string {
  const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/<[^>]+>/g, "");
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, "").replace(/ /g, "-");
}

/** A page's anchors, repeated headings numbered as GitHub does (`name`, `name-1`, ...). */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of unfenced(text).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const base = anchorOf(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Inline links and images `[text](target "title")`, and reference definitions `[id]: target`. */
function linksOf(text: string): string[] {
  const body = prose(text);
  const inline = [...body.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const refs = [...body.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]!);
  return [...inline, ...refs];
}

/** What is wrong with one link of `page`, or null. */
function brokenLink(page: Page, link: string, anchorsByFile: (file: string) => Set<string>): string | null {
  if (/^https?:/i.test(link)) {
    try {
      const url = new URL(link);
      return url.hostname.includes(".") || url.hostname === "localhost" ? null : "not a URL with a host name";
    } catch {
      return "not a URL";
    }
  }
  if (/^(mailto|data):/i.test(link)) return null;
  if (/^[a-z][a-z0-9+.-]*:/i.test(link)) return "an unexpected scheme";
  const hash = link.indexOf("#");
  const path = decodeURIComponent(hash < 0 ? link : link.slice(0, hash));
  const anchor = hash < 0 ? "" : decodeURIComponent(link.slice(hash + 1));
  const file = path === "" ? join(ROOT, page.name) : resolve(dirname(join(ROOT, page.name)), path);
  if (relative(ROOT, file).startsWith("..")) return "points outside the project";
  if (!existsSync(file)) return "no such file";
  if (!anchor) return null;
  if (statSync(file).isDirectory() || !/\.(md|ipynb)$/.test(file)) return `#${anchor} in a file with no headings`;
  return anchorsByFile(file).has(anchor) ? null : `no heading #${anchor}`;
}

describe("doc and notebook links", () => {
  const cache = new Map<string, Set<string>>();
  const anchorsByFile = (file: string): Set<string> => {
    let a = cache.get(file);
    if (!a) cache.set(file, (a = anchorsOf(pageAt(relative(ROOT, file)).text)));
    return a;
  };

  it("every link in the docs and the notebooks resolves to a file and heading", () => {
    const bad: string[] = [];
    let relativeLinks = 0, external = 0;
    for (const page of pages) {
      for (const link of linksOf(page.text)) {
        if (/^https?:/i.test(link)) external++;
        else relativeLinks++;
        const why = brokenLink(page, link, anchorsByFile);
        if (why) bad.push(`${page.name}: ${link} (${why})`);
      }
    }
    console.log(`# ${relativeLinks} relative links and ${external} http(s) links on ${pages.length} pages`);
    assert.ok(relativeLinks >= 100, `only ${relativeLinks} relative links found: is the link parser broken?`);
    assert.deepEqual(bad, []);
  });

  it("the anchor rule matches GitHub's", () => {
    assert.equal(anchorOf("Tools: `tools.opensnoop()`, in the shell"), "tools-toolsopensnoop-in-the-shell");
    assert.equal(anchorOf("Pairs — start and end, joined in the kernel"), "pairs--start-and-end-joined-in-the-kernel");
    assert.equal(anchorOf("Links like [this](x.md) keep their text"), "links-like-this-keep-their-text");
    assert.deepEqual([...anchorsOf("# Options\ntext\n## Options\n```sh\n# not a heading\n```\n")], ["options", "options-1"]);
  });

  it("wrong links are caught", () => {
    const page: Page = { name: "docs/tables.md", text: "" };
    assert.deepEqual(["nope.md", "tables.md#no-such-heading", "#saving-and-replaying", "../README.md#docs", "../../etc/passwd", "https://exa mple.com", "ftp://x", "https://github.com/x"]
      .map((l) => brokenLink(page, l, anchorsByFile)),
    ["no such file", "no heading #no-such-heading", null, null, "points outside the project", "not a URL", "an unexpected scheme", null]);
    assert.deepEqual(linksOf("[a](x.md) `[b](y.md)` ![c](img.png \"t\")\n```\n[d](z.md)\n```\n[e]: ref.md"), ["x.md", "img.png", "ref.md"]);
  });

  it("README.md lists every shipped notebook, one line each", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8").split("\n");
    const missing: string[] = [];
    for (const nb of notebooks) {
      const lines = readme.filter((l) => /^\s*[-*] /.test(l) && l.includes(`(notebooks/${nb})`));
      if (lines.length !== 1) missing.push(`${nb}: ${lines.length} list lines link it`);
    }
    assert.deepEqual(missing, []);
  });
});
