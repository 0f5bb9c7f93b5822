/* The chart gallery (docs/charts.md): every chart kind drawn by plotly.js in headless
 * Chromium from fixed data, one browser and one page, a PNG of each written to
 * docs/images/charts/. What must be true of the drawn charts is checked in the page:
 * flame graph labels are text in the SVG, the classic flame graph has its root at the
 * bottom, a level is tall enough for its label, the differential graph has a colour bar,
 * interval series are drawn against seconds; and the progress line's glyphs exist in
 * the fonts Chromium has (⏺ did not). */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as aq from "arquero";
import { plot, type PlotFigure } from "../bpf-lib/src/plot/index.js";
import { plotlyJsPath } from "../kernel/display/plotly-loader.js";
import { ICON_DONE, ICON_INTERRUPTED, ICON_RUNNING } from "../kernel/progress.js";
import { KERNEL_PATHS } from "./helpers/sample-stacks.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const imageDir = join(root, "docs", "images", "charts");
const outputDir = join(root, "test", "output");
const CHROMIUM = "/usr/bin/chromium";
const WIDTH = 900;
const MAX_PNG_BYTES = 150 * 1024;

type Browser = Awaited<ReturnType<(typeof import("playwright-core"))["chromium"]["launch"]>>;
type Page = Awaited<ReturnType<Browser["newPage"]>>;
/* Page callbacks run in the browser; the project compiles without the DOM lib. */
type Loose = any;

/** A fixed sequence in [0, 1): the gallery looks the same on every run. */
function wave(i: number): number {
  const x = Math.sin(i * 12.9898) * 43758.5453;
  return x - Math.floor(x);
}

const COMMS = ["postgres", "nginx", "node", "<idle>", "kworker/0:1", "systemd-journal", "sshd", "cron", "dbus-daemon", "containerd"];

function barTable() {
  return aq.table({ comm: COMMS, count: COMMS.map((_, i) => Math.round(40_000 / (i + 1) ** 1.3)) });
}

/** As `collect({ seconds: 30, interval: 1 })` returns it: interval numbers and the seconds each ended at. */
function intervalTable() {
  const t = { interval: [] as number[], time: [] as number[], comm: [] as string[], count: [] as number[] };
  for (let s = 0; s < 30; s++) {
    COMMS.slice(0, 5).forEach((c, k) => {
      t.interval.push(s);
      t.time.push(Number((s + 1 + 0.0004 * ((s * 7) % 5)).toFixed(4))); // a flip runs a little late
      t.comm.push(c);
      t.count.push(Math.round((1000 / (k + 1)) * (1 + 0.5 * Math.sin(s / (3 + k))) + 80 * wave(s * 10 + k)));
    });
  }
  return aq.table(t);
}

/** log2 latency buckets (ns): a fast mode around 4 µs and a slow one around 2 ms. */
function latencyRows(n: number, seed: number, slow = 0.08): [number, number][] {
  const rows: [number, number][] = [];
  for (let k = 8; k < 24; k++) {
    const lo = 2 ** k;
    const fast = Math.exp(-((k - 12) ** 2) / 2);
    const slowMode = Math.exp(-((k - 21) ** 2) / 1.5) * slow * 4;
    const c = Math.round(n * (fast + slowMode) * (0.8 + 0.4 * wave(seed * 31 + k)));
    if (c > 0) rows.push([lo, c]);
  }
  return rows;
}

function histogramTable() {
  const rows = latencyRows(5000, 1);
  return aq.table({ low: rows.map((r) => r[0]), high: rows.map((r) => 2 * r[0]), count: rows.map((r) => r[1]) });
}

function heatmapTable() {
  const t = { interval: [] as number[], time: [] as number[], low: [] as number[], high: [] as number[], count: [] as number[] };
  for (let s = 0; s < 40; s++) {
    for (const [lo, c] of latencyRows(300, s, s > 15 && s < 24 ? 0.6 : 0.03)) {
      t.interval.push(s);
      t.time.push(s + 1);
      t.low.push(lo);
      t.high.push(2 * lo);
      t.count.push(c);
    }
  }
  return aq.table(t);
}

const PATHS = [
  ...KERNEL_PATHS,
  ["ret_from_fork_asm", "ret_from_fork", "kthread", "worker_thread", "process_one_work", "std::vector<int>::_M_realloc_insert<int const&>(__gnu_cxx::__normal_iterator<int*, std::vector<int>>, int const&)"],
];

/** Folded stacks: every prefix of every path, the leaves heaviest; `weights` scale each path. */
function stacksTable(weights: readonly number[]) {
  const stack: string[] = [];
  const count: number[] = [];
  PATHS.forEach((p, i) => {
    for (let d = 3; d <= p.length; d++) {
      stack.push(p.slice(0, d).join(";"));
      count.push(Math.round((d === p.length ? 400 : 40) * weights[i] * (0.6 + 0.8 * wave(i * 17 + d))));
    }
  });
  return aq.table({ stack, count });
}
const BEFORE = [3, 2, 1.2, 0.8, 1.5, 0.6, 2.2];
const AFTER = [1.2, 2, 2.6, 0.8, 1.5, 0.6, 2.6];

interface Shot {
  name: string;
  /** The call shown in docs/charts.md beside the image. */
  call: string;
  fig: PlotFigure;
}

function gallery(): Shot[] {
  const stacks = stacksTable(BEFORE);
  return [
    { name: "bar", call: `plot.bar(calls, { x: "comm" })`, fig: plot.bar(barTable(), { x: "comm", title: "syscalls by process" }) },
    { name: "bar-horizontal", call: `plot.bar(calls, { x: "comm", top: 6, horizontal: true })`, fig: plot.bar(barTable(), { x: "comm", top: 6, horizontal: true, title: "syscalls by process" }) },
    { name: "timeseries", call: `plot.timeseries(perSecond, { by: "comm" })`, fig: plot.timeseries(intervalTable(), { by: "comm", title: "syscalls per second by process" }) },
    { name: "timeseries-stacked", call: `plot.timeseries(perSecond, { by: "comm", stacked: true })`, fig: plot.timeseries(intervalTable(), { by: "comm", stacked: true, title: "syscalls per second, stacked" }) },
    { name: "histogram", call: `plot.histogram(lat, { percentiles: true })`, fig: plot.histogram(histogramTable(), { percentiles: true, title: "read latency" }) },
    { name: "heatmap", call: `plot.heatmap(latPerSecond)`, fig: plot.heatmap(heatmapTable(), { title: "read latency over time" }) },
    { name: "flamegraph-icicle", call: `plot.flamegraph(stacks)`, fig: plot.flamegraph(stacks, { title: "on-CPU kernel stacks" }) },
    { name: "flamegraph-classic", call: `plot.flamegraph(stacks, { orientation: "flame" })`, fig: plot.flamegraph(stacks, { orientation: "flame", title: "on-CPU kernel stacks" }) },
    { name: "flamegraph-highlight", call: `plot.flamegraph(stacks, { highlight: "vfs_read" })`, fig: plot.flamegraph(stacks, { highlight: "vfs_read", title: "on-CPU kernel stacks" }) },
    { name: "flamegraph-diff", call: `plot.flamegraphDiff(before, after)`, fig: plot.flamegraphDiff(stacks, stacksTable(AFTER), { title: "on-CPU kernel stacks: after vs before" }) },
  ];
}

/** What the page reports about a drawn chart. */
interface Drawn {
  texts: string[];
  xTitle: string;
  subtitle: string;
  colorbars: number;
  /** Icicle boxes: label and screen rectangle. */
  boxes: { text: string; y: number; height: number; width: number }[];
}

async function draw(page: Page, fig: PlotFigure): Promise<Drawn> {
  return page.evaluate(async ({ fig, width }) => {
    const g = globalThis as Loose;
    const d = g.document;
    const el = d.getElementById("chart");
    g.Plotly.purge(el);
    el.style.width = `${width}px`;
    await g.Plotly.newPlot(el, fig.data, { ...fig.layout, width }, { ...fig.config, responsive: false, staticPlot: false });
    const texts = Array.from(el.querySelectorAll(".iciclelayer text")).map((t: Loose) => t.textContent);
    const boxes = Array.from(el.querySelectorAll(".iciclelayer g.slice")).map((s: Loose) => {
      const r = s.querySelector("path").getBoundingClientRect();
      return { text: s.querySelector("text")?.textContent ?? "", y: r.y, height: r.height, width: r.width };
    });
    return {
      texts,
      boxes,
      xTitle: el.querySelector(".xtitle")?.textContent ?? "",
      subtitle: el.querySelector(".gtitle-subtitle")?.textContent ?? "",
      colorbars: el.querySelectorAll(".colorbar").length,
    };
  }, { fig: JSON.parse(JSON.stringify(fig)) as PlotFigure, width: WIDTH });
}

describe("chart gallery: every kind drawn in headless Chromium, PNGs in docs/images/charts/", () => {
  let browser: Browser | undefined;
  let page: Page | undefined;
  let skip: string | undefined;
  const problems: string[] = [];
  const drawn = new Map<string, Drawn>();
  const shots = gallery();

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      skip = `${CHROMIUM} is missing`;
      return;
    }
    mkdirSync(imageDir, { recursive: true });
    mkdirSync(outputDir, { recursive: true });
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-background-networking", "--disable-gpu"] });
    const context = await browser.newContext({ offline: true, viewport: { width: WIDTH + 40, height: 1200 }, deviceScaleFactor: 1 });
    page = await context.newPage();
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("request", (r) => { if (!r.url().startsWith("file:")) problems.push(`fetched ${r.url()}`); });
    const file = join(outputDir, "chart-gallery.html");
    writeFileSync(file, `<!doctype html><html><head><meta charset="utf-8"><script src="${pathToFileURL(plotlyJsPath()).href}"></script></head>` +
      `<body style="margin:0;background:#fff"><div id="chart"></div><div id="progress" style="font-family:monospace;font-size:12px;color:#444;padding:8px"></div></body></html>`);
    await page.goto(pathToFileURL(file).href);
  });
  after(async () => {
    await browser?.close();
  });

  it("draws each chart and writes its PNG (under 150 KB)", { timeout: 60_000 }, async (t) => {
    if (!page) return t.skip(skip);
    for (const s of shots) {
      drawn.set(s.name, await draw(page, s.fig));
      const png = join(imageDir, `${s.name}.png`);
      await page.locator("#chart").screenshot({ path: png });
      assert.ok(statSync(png).size < MAX_PNG_BYTES, `${s.name}.png is ${statSync(png).size} bytes`);
    }
    assert.deepEqual(problems, []);
    // the doc page shows every image with the call that made it
    const doc = readFileSync(join(root, "docs", "charts.md"), "utf8");
    for (const s of shots) {
      assert.ok(doc.includes(`images/charts/${s.name}.png`), `docs/charts.md shows ${s.name}.png`);
      assert.ok(doc.includes(s.call), `docs/charts.md shows ${s.call}`);
    }
  });

  it("flame graphs: function names are text in the boxes, cut to fit rather than dropped; levels tall enough", (t) => {
    if (!page) return t.skip(skip);
    const icicle = drawn.get("flamegraph-icicle")!;
    for (const name of ["do_syscall_64", "vfs_read", "ext4_file_read_iter", "filemap_read", "ksys_write", "do_epoll_wait"]) assert.ok(icicle.texts.includes(name), `"${name}" is drawn: ${icicle.texts.join(" | ")}`);
    const long = icicle.texts.find((x) => x.startsWith("std::vector<int>::"));
    assert.ok(long?.endsWith("…"), `the long C++ name is cut to its box, not hidden: ${long}`);
    // every label fitted to its box is drawn: none was too long for plotly.js, which hides those
    const unescape = (x: string) => x.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
    for (const name of ["flamegraph-icicle", "flamegraph-classic", "flamegraph-diff"]) {
      const fitted = (shots.find((x) => x.name === name)!.fig.data[0].labels as string[]).map(unescape).filter((x) => x !== "").sort();
      assert.deepEqual(drawn.get(name)!.texts.filter((x) => x.trim() !== "").sort(), fitted, name);
    }
    const leaf = icicle.boxes.find((b) => b.text === "copy_page_to_iter")!;
    // 9 levels in the 300 px minimum: 240 px of boxes (the path bar shows only when zoomed in)
    assert.ok(leaf && Math.abs(leaf.height - 240 / 9) <= 1, `a level is ${leaf?.height} px tall`);
  });

  it("the classic flame graph has the root at the bottom, the icicle at the top", (t) => {
    if (!page) return t.skip(skip);
    for (const [name, rootBelow] of [["flamegraph-classic", true], ["flamegraph-icicle", false]] as const) {
      const boxes = drawn.get(name)!.boxes;
      const rootBox = boxes.find((b) => b.text === "all")!;
      const leafBox = boxes.find((b) => b.text === "copy_page_to_iter")!;
      assert.equal(rootBox.y > leafBox.y, rootBelow, `${name}: root y ${rootBox.y}, leaf y ${leafBox.y}`);
    }
  });

  it("a search colours its frames and gives their share; the differential graph has a colour bar", (t) => {
    if (!page) return t.skip(skip);
    const stacks = stacksTable(BEFORE);
    const total = (stacks.array("count") as number[]).reduce((a, b) => a + b, 0);
    const through = stacks.filter(aq.escape((d: { stack: string }) => d.stack.split(";").includes("vfs_read"))).array("count") as number[];
    const pct = ((100 * through.reduce((a, b) => a + b, 0)) / total).toFixed(1);
    assert.equal(drawn.get("flamegraph-highlight")!.subtitle, `vfs_read: ${pct}% of samples`);
    assert.equal(drawn.get("flamegraph-diff")!.colorbars, 1);
    assert.equal(drawn.get("flamegraph-icicle")!.colorbars, 0);
  });

  it("interval series are drawn against seconds, not interval numbers", (t) => {
    if (!page) return t.skip(skip);
    assert.equal(drawn.get("timeseries")!.xTitle, "time (s)");
    assert.equal(drawn.get("heatmap")!.xTitle, "time (s)");
  });

  it("the progress line's glyphs are in the page's fonts (not the empty box of a missing glyph)", async (t) => {
    if (!page) return t.skip(skip);
    const result = await page.evaluate(({ icons }) => {
      const d = (globalThis as Loose).document;
      const canvas = d.createElement("canvas");
      canvas.width = 40;
      canvas.height = 40;
      const ctx = canvas.getContext("2d", { willReadFrequently: true });
      const pixels = (ch: string) => {
        ctx.clearRect(0, 0, 40, 40);
        ctx.font = "24px monospace";
        ctx.fillText(ch, 4, 30);
        return Array.from(ctx.getImageData(0, 0, 40, 40).data as ArrayLike<number>).join(",");
      };
      const missing = pixels("\u{10FFFD}");
      d.getElementById("chart").innerHTML = "";
      d.getElementById("progress").innerHTML = icons.map((i: string) => `<div>${i} <b>syscalls:sys_enter_read</b> · 1,234 events · 0 lost · 1.0 s</div>`).join("");
      const glyphs = icons.map((i: string) => { const s = d.createElement("span"); s.innerHTML = i; return s.textContent; });
      return { glyphs, tofu: glyphs.map((g: string) => pixels(g) === missing), oldTofu: pixels("⏺") === missing };
    }, { icons: [ICON_RUNNING, ICON_INTERRUPTED, ICON_DONE] });
    await page.locator("#progress").screenshot({ path: join(outputDir, "progress-glyphs.png") });
    assert.deepEqual(result.glyphs, ["●", "■", "✔"]);
    assert.deepEqual(result.tofu, [false, false, false], "each glyph is drawn by a font");
    if (!result.oldTofu) console.log("# note: ⏺ has a font on this machine now");
  });
});
