/* Plotly figures → the Plotly MIME type (JupyterLab/VS Code renderers) plus HTML that
 * draws offline in classic Notebook 6 and VS Code's HTML renderer. Where the HTML's
 * scripts do not run (an untrusted notebook, GitHub) its fallback shows instead: a
 * hint, or the chart's static image once `bpfbook run` has rendered one (publish.ts). */
import { randomUUID } from "node:crypto";
import { escapeHtml, scriptSafeJson } from "./escape.js";
import { toJsonSafe, type Json } from "./json-safe.js";
import { takePlotlyLoader } from "./plotly-loader.js";
import { PLOTLY_MARKER, type DisplayData } from "./types.js";

export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** One trace; Plotly's own typings are far larger than what we need to check. */
export type PlotlyTrace = { type?: string; [key: string]: unknown };

export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
  frames?: unknown[];
  readonly [PLOTLY_MARKER]?: true;
}

/**
 * A figure that is displayed as a chart even when it carries extra fields. The marker
 * is enumerable so `{ ...fig, extra }` keeps it.
 */
export function plotlyFigure(data: PlotlyTrace[], layout: Record<string, unknown> = {}, config: Record<string, unknown> = {}): PlotlyFigure & { readonly [PLOTLY_MARKER]: true } {
  return { data, layout, config, [PLOTLY_MARKER]: true };
}

const FIGURE_KEYS = new Set(["data", "layout", "config", "frames"]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isTrace(v: unknown): boolean {
  return typeof v === "object" && v !== null && ("type" in v || "x" in v || "y" in v);
}

/**
 * Marked figures, or plain objects that are nothing but a figure: { data: [traces],
 * layout?, config?, frames? }. Any other key means some other object that happens
 * to have a `data` array, and it is shown as itself.
 */
export function isPlotlyFigure(v: unknown): v is PlotlyFigure {
  if (typeof v !== "object" || v === null) return false;
  const f = v as Record<string | symbol, unknown>;
  if (!Array.isArray(f.data)) return false;
  if (f[PLOTLY_MARKER] === true) return true;
  if (!isPlainObject(v) || !Object.keys(v).every((k) => FIGURE_KEYS.has(k))) return false;
  if (f.layout !== undefined && !isPlainObject(f.layout)) return false;
  if (f.config !== undefined && !isPlainObject(f.config)) return false;
  return f.data.length > 0 && f.data.every(isTrace);
}

export function traceTypes(data: readonly unknown[]): string[] {
  const types = data.map((t) => {
    const type = (t as { type?: unknown } | null)?.type;
    return typeof type === "string" ? type : "scatter"; // Plotly's default
  });
  return [...new Set(types)];
}

function titleOf(layout: Json): string | undefined {
  if (typeof layout !== "object" || layout === null || Array.isArray(layout)) return undefined;
  const t = layout.title;
  if (typeof t === "string") return t;
  if (typeof t === "object" && t !== null && !Array.isArray(t) && typeof t.text === "string") return t.text;
  return undefined;
}

export function plotlyPlain(data: readonly unknown[], title?: string): string {
  const n = data.length;
  const base = `Plotly figure: ${n} trace${n === 1 ? "" : "s"} (${traceTypes(data).join(", ")})`;
  return title ? `${base}: ${title}` : base;
}

/** Default height when the layout has none: Plotly's own default. */
const DEFAULT_HEIGHT = 450;
/** How long a figure waits for window.Plotly before saying why it is blank. */
const WAIT_MS = 3000;

/** How the fallback element starts; it holds no other <div>, so its end is the first "</div>" after this. */
export const FALLBACK_OPEN = `<div class="bpfbook-plot-fallback">`;
const FALLBACK_RE = /<div class="bpfbook-plot-fallback">[\s\S]*?<\/div>/;
const NO_SCRIPT_HINT =
  "Chart not drawn: it is drawn by a script, which runs only in a trusted notebook " +
  "(Notebook 6: File ▸ Trust Notebook, or python3 -m nbformat.sign FILE). " +
  "bpfbook run saves a static image with every chart.";

/**
 * What the chart's div shows until Plotly draws, and for good where scripts do not run.
 * Notebook 6 shows an untrusted notebook's HTML sanitized (no scripts, no styles, images
 * and text kept), GitHub likewise: so plain elements only, and a data: PNG.
 */
export function chartFallback(image?: { png: string; width: number; height: number; title?: string }): string {
  if (!image) return `${FALLBACK_OPEN}<p class="bpfbook-plot-hint">${escapeHtml(NO_SCRIPT_HINT)}</p></div>`;
  const alt = escapeHtml(image.title ? `chart: ${image.title}` : "chart");
  return `${FALLBACK_OPEN}<img src="data:image/png;base64,${image.png}" width="${image.width}" height="${image.height}" alt="${alt}" style="max-width: 100%; height: auto;">` +
    `<p class="bpfbook-plot-hint">Static image of the chart; the interactive chart needs a trusted notebook.</p></div>`;
}

/** The chart's HTML with `fallback` in place of its fallback element (or added to a div made before there was one); undefined if it is not our chart HTML. */
export function replaceChartFallback(html: string, fallback: string): string | undefined {
  if (FALLBACK_RE.test(html)) return html.replace(FALLBACK_RE, () => fallback);
  const m = /<div id="bpfbook-plot-[^"]*" class="bpfbook-plot"[^>]*>/.exec(html);
  return m ? html.slice(0, m.index + m[0].length) + fallback + html.slice(m.index + m[0].length) : undefined;
}

function drawScript(id: string, figure: Json): string {
  // The div may not be in the document yet when the script runs (classic Notebook runs
  // scripts before attaching the output), hence the polling for both the div and Plotly.
  return `<script type="text/javascript">
(function () {
  var id = ${JSON.stringify(id)};
  var fig = ${scriptSafeJson(figure)};
  var waited = 0;
  function draw() {
    var el = document.getElementById(id);
    if (el && window.Plotly) {
      var fallback = el.querySelector(".bpfbook-plot-fallback");
      if (fallback) el.removeChild(fallback);
      window.Plotly.newPlot(el, fig.data, fig.layout, Object.assign({ responsive: true, displaylogo: false }, fig.config));
      return;
    }
    if (waited < ${WAIT_MS}) { waited += 50; setTimeout(draw, 50); return; }
    if (el) {
      el.style.height = "auto";
      el.className += " bpfbook-plot-missing";
      var hint = el.querySelector(".bpfbook-plot-hint");
      var why = "plotly.js is not loaded on this page: re-run the cell to load plotly.js";
      if (hint) hint.textContent = why; else el.appendChild(document.createTextNode(why));
    }
  }
  draw();
})();
</script>`;
}

export function plotlyDisplay(fig: PlotlyFigure): DisplayData {
  const figure: { [key: string]: Json } = {
    data: toJsonSafe(fig.data),
    layout: toJsonSafe(fig.layout ?? {}),
    config: toJsonSafe(fig.config ?? {}),
  };
  if (fig.frames !== undefined) figure.frames = toJsonSafe(fig.frames);
  const layout = figure.layout as { height?: Json };
  const height = typeof layout.height === "number" && layout.height > 0 ? layout.height : DEFAULT_HEIGHT;
  const id = `bpfbook-plot-${randomUUID()}`;
  const html =
    `<div id="${id}" class="bpfbook-plot" style="width: 100%; height: ${height}px;">${chartFallback()}</div>\n` + takePlotlyLoader() + drawScript(id, figure);
  return {
    data: {
      [PLOTLY_MIME]: figure,
      "text/html": html,
      "text/plain": plotlyPlain(fig.data, titleOf(figure.layout)),
    },
    // Plain HTML in the page, not a sandboxed iframe: the figures share window.Plotly.
    metadata: { "text/html": { isolated: false } },
  };
}
