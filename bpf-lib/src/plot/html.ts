/* A figure as one standalone HTML file with plotly.js inlined: it opens offline, from
 * a mail attachment or a CI artifact, years later. */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import type { FigureLike } from "./figure.js";
import { CONFIG } from "./figure.js";
import { escapeText } from "./escape.js";

export interface HTMLOptions {
  /** The page title. Default: the figure's title. */
  title?: string;
  /** A plotly.js bundle to inline instead of the one in node_modules/plotly.js-dist-min. */
  plotlyJs?: string;
}

const KERNEL_ADDRESS = 0xffff000000000000n;
const sources = new Map<string, string>();

function plotlySource(path?: string): string {
  const file = path ?? createRequire(import.meta.url).resolve("plotly.js-dist-min");
  let src = sources.get(file);
  if (src === undefined) {
    // "</script" would end the element early and "<!--" can stop a later "</script>" from
    // ending it; both occur only inside literals, where "\x3C" means the same "<".
    src = readFileSync(file, "utf8").replace(/(?<!\\)<(?=!--|\/?script)/gi, "\\x3C");
    sources.set(file, src);
  }
  return src;
}

/**
 * JSON for a <script>: typed arrays and dictionary columns become arrays, bigints numbers
 * (kernel addresses hex labels), and "<" is escaped so no value can close the element.
 */
function figureJson(fig: FigureLike): string {
  const json = JSON.stringify({ data: fig.data, layout: fig.layout ?? {}, config: { ...CONFIG, ...fig.config }, frames: fig.frames }, (_key, v: unknown) => {
    if (typeof v === "bigint") return v >= KERNEL_ADDRESS ? `0x${v.toString(16)}` : Number(v);
    if (typeof v === "object" && v !== null && !Array.isArray(v) && Symbol.iterator in v) return Array.from(v as Iterable<unknown>);
    return v;
  });
  return json.replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

function titleOf(fig: FigureLike): string {
  const t = (fig.layout as { title?: unknown } | undefined)?.title;
  if (typeof t === "string") return t;
  if (typeof t === "object" && t !== null && typeof (t as { text?: unknown }).text === "string") return (t as { text: string }).text;
  return "bpfbook chart";
}

/** A complete HTML page that draws `fig` with no network access. */
export function toHTML(fig: FigureLike, opts: HTMLOptions = {}): string {
  const height = (fig.layout as { height?: unknown } | undefined)?.height;
  // Without a height in the layout the chart fills the window.
  const size = typeof height === "number" && height > 0 ? `height: ${height}px` : "height: 100vh";
  const title = (opts.title ?? titleOf(fig)).replace(/<[^>]*>/g, "");
  return `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeText(title)}</title>
<style>html, body { margin: 0; padding: 0; background: #fff; } #plot { width: 100%; ${size}; }</style>
<script type="text/javascript">
${plotlySource(opts.plotlyJs)}
</script>
</head>
<body>
<div id="plot"></div>
<script type="text/javascript">
(function () {
  var fig = ${figureJson(fig)};
  Plotly.newPlot("plot", fig.data, fig.layout, fig.config).then(function () { document.body.setAttribute("data-plotted", "1"); });
})();
</script>
</body>
</html>
`;
}

/** Writes `toHTML(fig)` to `path` and returns the absolute path. */
export function save(fig: FigureLike, path: string, opts: HTMLOptions = {}): string {
  const file = resolve(path);
  writeFileSync(file, toHTML(fig, opts));
  return file;
}
