/* Publishing an executed notebook (`bpfbook run -o/--html`): charts that show everywhere.
 *  - Every chart output also gets static images rendered from its figure: image/png, and
 *    image/svg+xml unless it is large (GitHub, nbviewer, PDF, VS Code without extensions).
 *  - Its HTML fallback shows that PNG where the HTML's scripts do not run (an untrusted
 *    notebook in Notebook 6 shows HTML sanitized, not the image outputs).
 *  - plotly.js rides exactly once: in the first chart, in document order, whatever the
 *    session did (a kernel restart, a re-run cell, a live chart's updates).
 *  - The HTML export carries plotly.js once, in its <head>, and none in the outputs. */
import { PLOTLY_MIME, chartFallback, replaceChartFallback } from "./plotly.js";
import { plotlyLoaderScript, withPlotlyLoader, withoutPlotlyLoader, LOADER_OPEN } from "./plotly-loader.js";
import { ChartRenderer, type ChartFigure, type StaticImage } from "./static-image.js";

/** The parts of nbformat v4 this touches. Multi-line strings may be stored as lists of lines. */
export interface NotebookJson {
  cells: { cell_type: string; outputs?: OutputJson[] }[];
  [key: string]: unknown;
}
export interface OutputJson {
  output_type: string;
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ChartRef {
  /** 1-based, as `bpfbook run` numbers cells. */
  cell: number;
  output: OutputJson;
  figure: ChartFigure;
}

export interface PublishOptions {
  /** Render static images (default true). */
  images?: boolean;
  /** Starts the renderer; a test may pass its own. */
  launch?: () => Promise<Pick<ChartRenderer, "render" | "close" | "startMs">>;
}

export interface PublishSummary {
  charts: number;
  /** Charts that got a PNG (and their SVGs, where kept). */
  images: number;
  svgs: number;
  /** Why there are no images at all (no Chromium, --no-images), if so. */
  skipped?: string;
  failed: { cell: number; reason: string }[];
  /** Chromium + plotly.js start, ms. */
  startMs?: number;
  /** Per chart rendered: cell and ms. */
  perChart: { cell: number; ms: number }[];
  /** The cell whose chart carries plotly.js. */
  loaderCell?: number;
}

/** nbformat stores multi-line strings as string or list of lines. */
export function textOf(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.join("");
  return undefined;
}

function figureOf(o: OutputJson): ChartFigure | undefined {
  const f = o.data?.[PLOTLY_MIME];
  if (typeof f !== "object" || f === null || !Array.isArray((f as { data?: unknown }).data)) return undefined;
  return f as ChartFigure;
}

/** The figure's title text, if it has one (the static image's alt text). */
export function figureTitle(fig: ChartFigure): string | undefined {
  const t = fig.layout?.title;
  if (typeof t === "string") return t;
  if (typeof t === "object" && t !== null && typeof (t as { text?: unknown }).text === "string") return (t as { text: string }).text;
  return undefined;
}

/** Chart outputs (those with the Plotly MIME type) in document order. */
export function chartOutputs(nb: NotebookJson): ChartRef[] {
  const out: ChartRef[] = [];
  nb.cells.forEach((cell, i) => {
    for (const o of cell.outputs ?? []) {
      if (o.output_type !== "display_data" && o.output_type !== "execute_result") continue;
      const figure = figureOf(o);
      if (figure) out.push({ cell: i + 1, output: o, figure });
    }
  });
  return out;
}

/** Puts a rendered image into a chart output: PNG (+ SVG) MIME entries and the HTML fallback. */
export function attachImage(o: OutputJson, img: StaticImage, title?: string): void {
  const data = (o.data ??= {});
  data["image/png"] = img.png;
  if (img.svg !== undefined) data["image/svg+xml"] = img.svg;
  else delete data["image/svg+xml"];
  const meta = (o.metadata ??= {});
  meta["image/png"] = { width: img.width, height: img.height };
  const html = textOf(data["text/html"]);
  if (html !== undefined) {
    const next = replaceChartFallback(html, chartFallback({ png: img.png, width: img.width, height: img.height, title }));
    if (next !== undefined) data["text/html"] = next;
  }
}

/** plotly.js out of every chart, then into the first one (the one a page runs first). */
function placeLoader(charts: ChartRef[]): number | undefined {
  let first: ChartRef | undefined;
  for (const c of charts) {
    const html = textOf(c.output.data?.["text/html"]);
    if (html === undefined) continue;
    c.output.data!["text/html"] = withoutPlotlyLoader(html);
    first ??= c;
  }
  if (!first || !plotlyLoaderScript()) return undefined;
  first.output.data!["text/html"] = withPlotlyLoader(textOf(first.output.data!["text/html"])!);
  return first.cell;
}

/** Rewrites `nb` in place for publishing (see the top of this file). */
export async function publishNotebook(nb: NotebookJson, opts: PublishOptions = {}): Promise<PublishSummary> {
  const charts = chartOutputs(nb);
  const summary: PublishSummary = { charts: charts.length, images: 0, svgs: 0, failed: [], perChart: [] };
  if (charts.length > 0 && opts.images === false) summary.skipped = "--no-images";
  else if (charts.length > 0) {
    let renderer: Awaited<ReturnType<NonNullable<PublishOptions["launch"]>>> | undefined;
    try {
      renderer = await (opts.launch ?? (() => ChartRenderer.launch()))();
      summary.startMs = renderer.startMs;
    } catch (e) {
      summary.skipped = e instanceof Error ? e.message.split("\n")[0] : String(e);
    }
    if (renderer) {
      try {
        for (const c of charts) {
          try {
            const img = await renderer.render(c.figure);
            attachImage(c.output, img, figureTitle(c.figure));
            summary.images++;
            if (img.svg !== undefined) summary.svgs++;
            summary.perChart.push({ cell: c.cell, ms: img.ms });
          } catch (e) {
            summary.failed.push({ cell: c.cell, reason: e instanceof Error ? e.message.split("\n")[0] : String(e) });
          }
        }
      } finally {
        await renderer.close();
      }
    }
  }
  summary.loaderCell = placeLoader(charts);
  return summary;
}

/** The nbconvert HTML with plotly.js once, in its <head> (before any chart's draw script), and in no output. */
export function publishHtml(html: string): string {
  const body = withoutPlotlyLoader(html);
  if (!body.includes('class="bpfbook-plot"')) return body;
  const loader = plotlyLoaderScript();
  const head = body.search(/<\/head>/i);
  return head >= 0 ? body.slice(0, head) + loader + body.slice(head) : loader + body;
}

/** How many copies of plotly.js a document carries. */
export function plotlyCopies(text: string): number {
  return text.split(LOADER_OPEN).length - 1;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/** The lines `bpfbook run` prints about the charts. */
export function formatSummary(s: PublishSummary): string[] {
  if (s.charts === 0) return [];
  const lines: string[] = [];
  if (s.skipped) lines.push(`charts: ${s.charts}, no static images: ${s.skipped}`);
  else {
    const per = s.perChart.map((p) => p.ms).sort((a, b) => a - b);
    const total = per.reduce((a, b) => a + b, 0);
    const slowest = s.perChart.reduce((a, b) => (b.ms > a.ms ? b : a), s.perChart[0] ?? { cell: 0, ms: 0 });
    const kinds = `${s.images} PNG${s.svgs ? ` + ${s.svgs} SVG` : ""}`;
    const timing = per.length
      ? `${secs((s.startMs ?? 0) + total)} added: Chromium + plotly.js start ${secs(s.startMs ?? 0)}, then ${secs(total / per.length)} per chart (median ${secs(per[Math.floor(per.length / 2)]!)}, slowest ${secs(slowest.ms)} in cell ${slowest.cell})`
      : `Chromium + plotly.js start ${secs(s.startMs ?? 0)}`;
    lines.push(`charts: ${s.charts}, static images ${kinds}; ${timing}`);
  }
  for (const f of s.failed) lines.push(`  no static image for the chart in cell ${f.cell}: ${f.reason}`);
  if (s.loaderCell !== undefined) lines.push(`plotly.js: one copy, in the chart of cell ${s.loaderCell}`);
  return lines;
}
