/* The one piece of session state in the display layer: whether this kernel session
 * has already sent plotly.js to the page. Machines running bpfbook have no internet,
 * so plotly.js cannot come from a CDN; it rides inline in the first figure (4.7 MB,
 * once) and later figures reuse the page's window.Plotly.
 *
 * The loader <script> is marked (LOADER_OPEN), so it can be found again in a saved
 * output: the kernel puts it back into a live chart whose updates dropped it
 * (live.ts), and publishing moves it to one place per document (publish.ts). */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { scriptSafeSource } from "./escape.js";

let injected = false;
let cachedSource: string | undefined;

/** How every loader script starts: the mark that finds it in saved HTML. */
export const LOADER_OPEN = `<script type="text/javascript" data-bpfbook="plotly.js">`;
/**
 * A loader from its mark to its end tag. plotly.js is inlined with scriptSafeSource, so
 * "</script" occurs in it only as the element's own end tag.
 */
const LOADER_RE = /<script type="text\/javascript" data-bpfbook="plotly\.js">[\s\S]*?<\/script>\n?/g;

/** Forget that plotly.js was sent: the kernel restarted, so the next figure may be on a fresh page. */
export function resetPlotlyInjection(): void {
  injected = false;
}

/** Whether the next figure will carry plotly.js. */
export function plotlyPending(): boolean {
  return !injected;
}

export function plotlyJsPath(): string {
  return createRequire(import.meta.url).resolve("plotly.js-dist-min/plotly.min.js");
}

/** undefined when the package is missing: figures then still carry their JSON, and the HTML says why it is blank. */
function plotlySource(): string | undefined {
  try {
    cachedSource ??= scriptSafeSource(readFileSync(plotlyJsPath(), "utf8"));
  } catch {
    return undefined;
  }
  return cachedSource;
}

/**
 * The <script> that defines window.Plotly (unless the page has it already), whatever was
 * sent before; "" when plotly.js is not installed.
 *
 * Classic Notebook 6 has RequireJS loaded: a UMD bundle that sees an AMD `define` registers
 * itself as an anonymous module (RequireJS then throws "Mismatched anonymous define()")
 * and never sets window.Plotly. So `define` is hidden from the window for the duration
 * and shadowed, with `module`, `exports` and `require`, by the wrapper's parameters.
 */
export function plotlyLoaderScript(): string {
  const src = plotlySource();
  if (src === undefined) return "";
  return `${LOADER_OPEN}
if (!window.Plotly) {
  (function () {
    var hiddenDefine = window.define;
    window.define = undefined;
    try {
      (function (define, module, exports, require) {
${src}
      }).call(window);
    } finally {
      window.define = hiddenDefine;
    }
  })();
}
</script>
`;
}

/** The loader script the first time it is asked for in a session; "" afterwards. */
export function takePlotlyLoader(): string {
  if (injected) return "";
  const script = plotlyLoaderScript();
  if (script) injected = true;
  return script;
}

/** Whether this HTML carries plotly.js. */
export function hasPlotlyLoader(html: string): boolean {
  return html.includes(LOADER_OPEN);
}

/** The HTML without any plotly.js loader in it. */
export function withoutPlotlyLoader(html: string): string {
  return html.replace(LOADER_RE, "");
}

/** The HTML with exactly one loader, at its start (before the draw script that needs it). */
export function withPlotlyLoader(html: string): string {
  const script = plotlyLoaderScript();
  return script ? script + withoutPlotlyLoader(html) : html;
}
