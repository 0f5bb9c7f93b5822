/* Static images of Plotly figures, drawn by the local plotly.js in headless Chromium with
 * the network off: for the places no script runs (GitHub, PDF exports, an untrusted
 * notebook). One browser and one page render any number of charts: starting Chromium and
 * plotly.js is the fixed cost, each chart then takes one Plotly.toImage. */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { plotlyJsPath } from "./plotly-loader.js";

/** A chart without a width in its layout is drawn this wide (a notebook's output column). */
export const STATIC_WIDTH = 900;
/** Plotly's own default height, as the interactive chart uses. */
export const STATIC_HEIGHT = 450;
/** SVGs larger than this are left out (a flame graph of thousands of boxes); the PNG stays. */
export const SVG_LIMIT = 512 * 1024;
/** Longest a single chart may take (plotly.js draws 15,000 icicle boxes in about ten seconds). */
const CHART_TIMEOUT_MS = 120_000;

const CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The Chromium to use: $BPFBOOK_CHROMIUM, else Debian's. */
export function chromiumPath(): string | undefined {
  const env = process.env.BPFBOOK_CHROMIUM;
  if (env) return existsSync(env) ? env : undefined;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

export interface ChartFigure {
  data: unknown[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export interface StaticImage {
  /** Base64 PNG, as nbformat stores it. */
  png: string;
  /** The SVG text, unless it was larger than SVG_LIMIT. */
  svg?: string;
  /** Bytes of the SVG, kept or not. */
  svgBytes: number;
  width: number;
  height: number;
  /** Time this chart took, in milliseconds. */
  ms: number;
}

/** The size a figure is drawn at: its layout's, else the notebook defaults. */
export function staticSize(fig: ChartFigure): { width: number; height: number } {
  const l = fig.layout ?? {};
  const num = (v: unknown, d: number) => (typeof v === "number" && v > 0 ? Math.round(v) : d);
  return { width: num(l.width, STATIC_WIDTH), height: num(l.height, STATIC_HEIGHT) };
}

export interface LaunchOptions {
  /**
   * Run Chromium at the lowest CPU priority (SCHED_IDLE): the kernel renders while a
   * notebook sits idle, and a trace started meanwhile must not share its CPUs evenly
   * with a renderer.
   */
  lowPriority?: boolean;
  /**
   * Let Playwright handle SIGINT, SIGTERM and SIGHUP (default true). Its handlers close
   * the browser and exit the process on SIGINT, which in the notebook kernel is an
   * interrupt, not the end: the kernel passes false and closes the renderer at shutdown.
   */
  playwrightSignals?: boolean;
}

type Browser = Awaited<ReturnType<(typeof import("playwright-core"))["chromium"]["launch"]>>;
type Page = Awaited<ReturnType<Browser["newPage"]>>;

/* What runs in the page (serialized by Playwright, so it may use nothing from this module). */
type PageFn = (arg: { fig: ChartFigure; width: number; height: number }) => Promise<{ svg: string; png: string }>;
const renderInPage: PageFn = async ({ fig, width, height }) => {
  const g = globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string>; Snapshot: { svgToImg(o: unknown): Promise<string> } }; document: { createElement(tag: string): unknown } };
  const P = g.Plotly;
  const layout = { ...(fig.layout ?? {}), width, height };
  const url = await P.toImage({ data: fig.data, layout, config: fig.config ?? {} }, { format: "svg", width, height });
  const svg = decodeURIComponent(url.slice(url.indexOf(",") + 1));
  // The PNG from the same SVG, not from a second drawing of the figure.
  const png = await P.Snapshot.svgToImg({ svg, format: "png", width, height, scale: 1, canvas: g.document.createElement("canvas"), promise: true });
  return { svg, png: png.slice(png.indexOf(",") + 1) };
};

/**
 * A script that starts `executable` under SCHED_IDLE (Playwright spawns what it is given
 * with its own arguments). Not nice 19: Chromium sets its threads' nice values itself
 * (0, and -8 for display threads; seen as root here), while the scheduling policy is
 * inherited by every process and thread and Chromium leaves it alone. nice where chrt is
 * missing.
 */
function idleWrapper(dir: string, executable: string): string {
  const file = join(dir, "chromium-idle.sh");
  const quoted = `'${executable.replace(/'/g, `'\\''`)}'`;
  const lower = existsSync("/usr/bin/chrt") ? "/usr/bin/chrt --idle 0" : "nice -n 19";
  writeFileSync(file, `#!/bin/sh\nexec ${lower} ${quoted} "$@"\n`);
  chmodSync(file, 0o700);
  return file;
}

export class ChartRenderer {
  readonly #browser: Browser;
  readonly #page: Page;
  readonly #dir: string;
  /** Milliseconds from launch() to a page with plotly.js ready. */
  readonly startMs: number;
  /** Requests the page tried to make off this machine (none expected; all refused). */
  readonly refused: string[];

  private constructor(browser: Browser, page: Page, dir: string, startMs: number, refused: string[]) {
    this.#browser = browser;
    this.#page = page;
    this.#dir = dir;
    this.startMs = startMs;
    this.refused = refused;
  }

  /** Starts Chromium with a page that has plotly.js loaded from node_modules. Throws when Chromium or playwright-core is missing. */
  static async launch(executable = chromiumPath(), opts: LaunchOptions = {}): Promise<ChartRenderer> {
    const t0 = performance.now();
    if (!executable) throw new Error(`no Chromium found (${CHROMIUM_CANDIDATES[0]}; apt-get install chromium, or set BPFBOOK_CHROMIUM)`);
    const { chromium } = await import("playwright-core");
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-render-"));
    const signals = opts.playwrightSignals !== false;
    let browser: Browser;
    try {
      browser = await chromium.launch({
        executablePath: opts.lowPriority ? idleWrapper(dir, executable) : executable,
        headless: true,
        handleSIGINT: signals,
        handleSIGTERM: signals,
        handleSIGHUP: signals,
        args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
      });
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    const refused: string[] = [];
    try {
      const context = await browser.newContext({ offline: true });
      // Only this machine's files: plotly.min.js from node_modules and the page itself.
      await context.route(/^(?!file:)/, (route) => {
        refused.push(route.request().url());
        return route.abort();
      });
      const page = await context.newPage();
      const file = join(dir, "render.html");
      writeFileSync(file, `<!doctype html><html><head><meta charset="utf-8"><script src="${pathToFileURL(plotlyJsPath()).href}"></script></head><body></body></html>`);
      await page.goto(pathToFileURL(file).href, { timeout: CHART_TIMEOUT_MS });
      if (!(await page.evaluate(() => typeof (globalThis as { Plotly?: unknown }).Plotly === "object"))) throw new Error(`plotly.js did not load from ${plotlyJsPath()}`);
      return new ChartRenderer(browser, page, dir, performance.now() - t0, refused);
    } catch (e) {
      await browser.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** SVG and PNG of one figure, drawn at its layout's size (default 900 × 450). */
  async render(fig: ChartFigure): Promise<StaticImage> {
    const t0 = performance.now();
    const { width, height } = staticSize(fig);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no image after ${CHART_TIMEOUT_MS / 1000} s`)), CHART_TIMEOUT_MS);
    });
    try {
      const work = this.#page.evaluate(renderInPage, { fig, width, height });
      work.catch(() => undefined); // after a timeout it rejects when the browser closes: nobody waits for it then
      const out = await Promise.race([work, timeout]);
      const svgBytes = Buffer.byteLength(out.svg);
      return { png: out.png, svg: svgBytes <= SVG_LIMIT ? out.svg : undefined, svgBytes, width, height, ms: performance.now() - t0 };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    try {
      await this.#browser.close();
    } finally {
      rmSync(this.#dir, { recursive: true, force: true });
    }
  }
}
