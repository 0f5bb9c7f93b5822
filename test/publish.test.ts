/* Charts that render everywhere (`bpfbook run -o/--html`): a notebook with every chart kind
 * (bar, time series, histogram, heatmap, flame graph, and a live chart over a real trace)
 * runs headless; then
 *  - every chart output carries a PNG and an SVG rendered from its own figure, and its
 *    HTML falls back to that PNG where scripts do not run;
 *  - the live chart ends as one chart, and plotly.js is in the notebook exactly once;
 *  - the notebook is signed (trusted by Jupyter's notary);
 *  - the HTML export draws every chart in Chromium with the network off, from one copy
 *    of plotly.js in its <head>;
 *  - screenshots of the static SVGs are not blank (test/output/publish-svg-*.png);
 *  - an untrusted copy opened in classic Notebook 6 shows the static images, not blanks.
 * One Chromium for the file (besides the one `bpfbook run` starts to render). */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { installKernelspec } from "../kernel/install.js";
import { chartOutputs, plotlyCopies, textOf, type NotebookJson, type OutputJson } from "../kernel/display/publish.js";
import { LOADER_OPEN } from "../kernel/display/plotly-loader.js";
import { notebook6Missing, startNotebookServer, type NotebookServer } from "./helpers/notebook-server.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outputDir = join(root, "test", "output");
const CHROMIUM = "/usr/bin/chromium";
const CLI = join(root, "dist", "bpf-lib", "src", "cli", "main.js");
const PLOTLY = "application/vnd.plotly.v1+json";

/* The page callbacks run in the browser; the project compiles without the DOM lib. */
type Loose = any;
type Browser = Awaited<ReturnType<(typeof import("playwright-core"))["chromium"]["launch"]>>;
type Page = Awaited<ReturnType<Browser["newPage"]>>;

const CELLS = [
  `import * as aq from "arquero";
import { plot, tracepoint } from "bpfbook";
let seed = 7;
const rnd = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const comms = ["bash", "nginx", "postgres", "node", "sshd", "cron"];`,
  // A live chart over a real trace, then the final chart of the same kind: one chart stays.
  `const sys = await tracepoint("raw_syscalls:sys_enter").count({ by: ["comm"] }).collect({ seconds: 1, interval: 0.25,
  live: (t) => plot.bar(t, { x: "comm", top: 8, title: "syscalls by comm (live)" }) });
plot.bar(sys, { x: "comm", top: 8, title: "syscalls by comm" })`,
  `plot.bar(aq.table({ comm: comms, count: comms.map(() => Math.round(rnd() * 1000)) }), { x: "comm", title: "bar" })`,
  `plot.timeseries(aq.from(Array.from({ length: 20 }, (_, t) => comms.slice(0, 3).map((comm) => ({ time: t, comm, count: Math.round(rnd() * 100) }))).flat()), { by: "comm", title: "timeseries" })`,
  `const buckets = (extra: object) => Array.from({ length: 14 }, (_, i) => ({ ...extra, low: 2 ** (i + 8), high: 2 ** (i + 9), count: Math.round(rnd() * 500) }));
plot.histogram(aq.from([...buckets({ syscall: "read" }), ...buckets({ syscall: "write" })]), { by: "syscall", percentiles: true, title: "histogram" })`,
  `plot.heatmap(aq.from(Array.from({ length: 30 }, (_, interval) => buckets({ interval })).flat()), { title: "heatmap" })`,
  `const fns = ["main", "run", "loop", "read", "write", "parse", "alloc", "hash"];
const stacks = Array.from({ length: 150 }, () => ["all_root", ...Array.from({ length: 2 + Math.floor(rnd() * 6) }, (_, k) => fns[Math.floor(rnd() * fns.length)] + k)].join(";"));
plot.flamegraph(aq.table({ stack: stacks, count: stacks.map(() => 1 + Math.floor(rnd() * 9)) }), { title: "flamegraph" })`,
  `sys.numRows() > 0`,
];
/** Cell (1-based) → the trace type its chart draws. */
const KINDS: Record<number, string> = { 2: "bar", 3: "bar", 4: "scatter", 5: "bar", 6: "heatmap", 7: "icicle" };
const TITLES: Record<number, string> = { 2: "syscalls by comm", 3: "bar", 4: "timeseries", 5: "histogram", 6: "heatmap", 7: "flamegraph" };

function notebookJson(): string {
  const split = (s: string) => s.split(/(?<=\n)/);
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "bpfbook", display_name: "TypeScript (eBPF)", language: "typescript" }, language_info: { name: "typescript", file_extension: ".ts" } },
    cells: CELLS.map((src, i) => ({ cell_type: "code", id: `cell-${i + 1}`, execution_count: null, metadata: {}, source: split(src), outputs: [] })),
  }, null, 1);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stdout.on("data", (d) => (stderr += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code: code ?? 1, stderr, ms: Date.now() - t0 }));
  });
}

function pngSize(b64: string): { width: number; height: number } {
  const b = Buffer.from(b64, "base64");
  assert.deepEqual([...b.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG");
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** Pixels of a PNG that differ from its top-left (background) pixel, decoded by the browser. */
async function nonBackground(page: Page, png: Buffer): Promise<{ width: number; height: number; differing: number; colours: number }> {
  return page.evaluate(async (b64: string) => {
    const g = globalThis as Loose;
    const bytes = Uint8Array.from(g.atob(b64), (c: string) => c.charCodeAt(0));
    const bmp = await g.createImageBitmap(new g.Blob([bytes], { type: "image/png" }));
    const canvas = new g.OffscreenCanvas(bmp.width, bmp.height);
    const ctx = canvas.getContext("2d");
    ctx.drawImage(bmp, 0, 0);
    const px = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
    let differing = 0;
    const colours = new Set<number>();
    for (let i = 0; i < px.length; i += 4) {
      if (Math.abs(px[i] - px[0]) + Math.abs(px[i + 1] - px[1]) + Math.abs(px[i + 2] - px[2]) > 30) differing++;
      colours.add((px[i] >> 4) << 8 | (px[i + 1] >> 4) << 4 | px[i + 2] >> 4);
    }
    return { width: bmp.width, height: bmp.height, differing, colours: colours.size };
  }, png.toString("base64"));
}

describe("bpfbook run publishes charts that render everywhere", () => {
  let skip: string | undefined;
  let dir: string;
  let server: NotebookServer | undefined;
  let browser: Browser | undefined;
  let env: NodeJS.ProcessEnv;
  let published: NotebookJson;
  let publishedText: string;
  let runLog = "";
  const out = () => join(server ? server.notebookDir : dir, "published.ipynb");
  const html = () => join(dir, "report.html");

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      skip = `${CHROMIUM} is missing`;
      console.log(`# skipping: ${skip}`);
      return;
    }
    mkdirSync(outputDir, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), "bpfbook-publish-"));
    const nb6 = notebook6Missing();
    if (nb6) console.log(`# no Notebook 6 view of the untrusted copy: ${nb6}`);
    else server = await startNotebookServer();
    // Signatures and the kernelspec in a data dir of our own (the server's, when there is one).
    const dataDir = server?.dataDir ?? join(dir, "data");
    installKernelspec({ prefix: join(dataDir, "kernels") });
    env = { ...(server?.env ?? process.env), JUPYTER_DATA_DIR: dataDir, PYTHONPATH: "", PYTHONNOUSERSITE: "1" };
    writeFileSync(join(dir, "charts.ipynb"), notebookJson());
    const r = await run(process.execPath, [CLI, "run", join(dir, "charts.ipynb"), "-o", out(), "--html", html(), "--timeout", "120"], env);
    runLog = r.stderr;
    writeFileSync(join(outputDir, "publish-run.log"), runLog);
    console.log(`# bpfbook run took ${(r.ms / 1000).toFixed(1)} s:\n${runLog.split("\n").filter((l) => /^(charts|plotly|signed|wrote)/.test(l)).map((l) => `#   ${l}`).join("\n")}`);
    assert.equal(r.code, 0, runLog.slice(-4000));
    publishedText = readFileSync(out(), "utf8");
    published = JSON.parse(publishedText) as NotebookJson;
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"] });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("every chart kind carries a PNG and an SVG of its own figure, and its HTML falls back to the PNG", (t) => {
    if (skip) return t.skip(skip);
    const charts = chartOutputs(published);
    assert.deepEqual(charts.map((c) => c.cell), [2, 3, 4, 5, 6, 7], "one chart per chart cell, the live cell included");
    for (const c of charts) {
      const data = c.output.data!;
      const where = `cell ${c.cell}`;
      assert.ok((c.figure.data as { type: string }[]).some((tr) => tr.type === KINDS[c.cell]), `${where} draws ${KINDS[c.cell]}`);
      const png = textOf(data["image/png"])!;
      assert.deepEqual(pngSize(png), { width: 900, height: (c.figure.layout?.height as number | undefined) ?? 450 }, where);
      assert.deepEqual(c.output.metadata?.["image/png"], pngSize(png), `${where}: the PNG's size in its metadata`);
      const svg = textOf(data["image/svg+xml"]);
      assert.ok(svg?.startsWith("<svg") && svg.includes('class="main-svg"'), `${where}: an SVG drawn by plotly.js`);
      // the image is of this chart: its title is in the SVG
      assert.ok(svg!.includes(`>${TITLES[c.cell]}<`), `${where}: the SVG shows the title ${TITLES[c.cell]}`);
      const h = textOf(data["text/html"])!;
      assert.ok(h.includes(`<img src="data:image/png;base64,${png}"`), `${where}: the HTML's fallback is the PNG`);
      assert.ok(h.includes("the interactive chart needs a trusted notebook"), where);
    }
    assert.match(runLog, /^charts: 6, static images 6 PNG \+ 6 SVG; .* per chart/m);
  });

  it("the live chart ends as one complete chart, and plotly.js is in the notebook once, in the first chart", (t) => {
    if (skip) return t.skip(skip);
    const live = published.cells[1]!.outputs!.filter((o: OutputJson) => o.data?.[PLOTLY]);
    assert.equal(live.length, 1, "the final chart took the live chart's place");
    assert.equal(((live[0]!.data![PLOTLY] as { layout: { title: { text: string } } }).layout.title.text), "syscalls by comm");
    // every output's HTML, charts or not (the file itself is JSON: its quotes are escaped)
    const copies = published.cells.flatMap((c) => (c.outputs ?? []).map((o: OutputJson) => plotlyCopies(textOf(o.data?.["text/html"]) ?? "")));
    assert.equal(copies.reduce((a, b) => a + b, 0), 1);
    assert.equal(publishedText.split("data-bpfbook=\\\"plotly.js\\\"").length - 1, 1, "one in the file");
    assert.ok(textOf(live[0]!.data!["text/html"])!.includes(LOADER_OPEN), "in the first chart (cell 2)");
    assert.match(runLog, /^plotly\.js: one copy, in the chart of cell 2$/m);
  });

  it("the notebook written is signed: Jupyter trusts it", (t) => {
    if (skip) return t.skip(skip);
    const check = (path: string) =>
      spawnSync("/usr/bin/python3", ["-c", "import sys, nbformat; from nbformat.sign import NotebookNotary; print(NotebookNotary().check_signature(nbformat.read(sys.argv[1], 4)))", path], { env, encoding: "utf8" });
    const r = check(out());
    assert.equal(r.stdout.trim(), "True", r.stderr);
    // a changed copy is not
    const copy = join(dir, "changed.ipynb");
    writeFileSync(copy, JSON.stringify({ ...published, metadata: { ...(published.metadata as object), changed: true } }));
    assert.equal(check(copy).stdout.trim(), "False");
  });

  it("the HTML export draws every chart offline, from one plotly.js in its <head>", { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const text = readFileSync(html(), "utf8");
    assert.equal(plotlyCopies(text), 1);
    assert.ok(text.indexOf(LOADER_OPEN) < text.search(/<\/head>/i), "in <head>");
    const context = await browser!.newContext({ offline: true, viewport: { width: 1100, height: 900 } });
    const refused: string[] = [];
    await context.route(/^(?!file:)/, (route) => {
      refused.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(pathToFileURL(html()).href, { timeout: 60_000 });
      await page.waitForFunction((n: number) => (globalThis as Loose).document.querySelectorAll(".bpfbook-plot svg.main-svg").length >= n, 6, { timeout: 60_000, polling: 200 });
      const perChart = await page.$$eval(".bpfbook-plot", (divs) => divs.map((d: Loose) => ({ svgs: d.querySelectorAll("svg.main-svg").length, fallback: d.querySelectorAll(".bpfbook-plot-fallback").length })));
      assert.equal(perChart.length, 6, JSON.stringify(perChart));
      assert.ok(perChart.every((c) => c.svgs > 0 && c.fallback === 0), `every chart drew: ${JSON.stringify(perChart)}`);
      assert.equal(await page.locator(".bpfbook-plot-missing").count(), 0);
      assert.deepEqual(errors, []);
      // the nbconvert template's own CDN links (require.js, MathJax) are all it asked for, and were refused
      assert.ok(refused.every((u) => /cdnjs|mathjax|jsdelivr|unpkg/i.test(u)), `refused: ${refused.join(", ")}`);
      await page.screenshot({ path: join(outputDir, "publish-html-offline.png"), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it("screenshots of the static SVGs are not blank", { timeout: 60_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const page = await browser!.newPage({ viewport: { width: 960, height: 600 } });
    try {
      for (const c of chartOutputs(published)) {
        const svg = textOf(c.output.data!["image/svg+xml"])!;
        await page.setContent(`<!doctype html><body style="margin:0;background:#fff"><img id="s" src="data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}"></body>`);
        await page.waitForFunction(() => (globalThis as Loose).document.getElementById("s").complete);
        const shot = await page.locator("#s").screenshot({ path: join(outputDir, `publish-svg-${KINDS[c.cell]}-cell${c.cell}.png`) });
        const px = await nonBackground(page, shot);
        const share = px.differing / (px.width * px.height);
        assert.ok(px.width >= 890 && share > 0.01 && px.colours >= 4, `cell ${c.cell} (${KINDS[c.cell]}): ${px.differing} of ${px.width}×${px.height} pixels drawn, ${px.colours} colours`);
      }
    } finally {
      await page.close();
    }
  });

  it("an untrusted copy in classic Notebook 6 shows every chart's static image, not a blank output", { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    if (!server) return t.skip("no Notebook 6");
    writeFileSync(join(server.notebookDir, "untrusted.ipynb"), JSON.stringify({ ...published, metadata: { ...(published.metadata as object), copied: true } }));
    const page = await browser!.newPage({ viewport: { width: 1100, height: 1200 } });
    try {
      await page.goto(server.url("/notebooks/untrusted.ipynb"));
      await page.waitForFunction(() => (globalThis as Loose).Jupyter?.notebook?._fully_loaded === true, undefined, { timeout: 60_000, polling: 200 });
      assert.equal(await page.evaluate(() => (globalThis as Loose).Jupyter.notebook.trusted), false);
      const areas = page.locator(".output_subarea").filter({ has: page.locator("img") });
      await page.waitForFunction(() => [...(globalThis as Loose).document.querySelectorAll(".output_subarea img")].filter((i: Loose) => i.complete && i.naturalWidth > 0).length >= 6, undefined, { timeout: 30_000 });
      const shown = await areas.evaluateAll((els) => els.map((e: Loose) => ({ width: e.querySelector("img").naturalWidth, text: e.textContent.trim(), drawn: e.querySelectorAll("svg.main-svg").length })));
      assert.equal(shown.length, 6, JSON.stringify(shown));
      for (const s of shown) {
        assert.equal(s.width, 900);
        assert.equal(s.drawn, 0, "no script ran");
        assert.match(s.text, /interactive chart needs a trusted notebook/);
      }
      await page.screenshot({ path: join(outputDir, "publish-notebook6-untrusted.png"), fullPage: true });
    } finally {
      await page.close();
    }
  });
});
