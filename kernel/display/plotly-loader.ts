/* The one piece of session state in the display layer: whether this kernel session
 * has already sent plotly.js to the page. Machines running bpfbook have no internet,
 * so plotly.js cannot come from a CDN; it rides inline in the first figure (4.7 MB,
 * once) and later figures reuse the page's window.Plotly. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { scriptSafeSource } from "./escape.js";

let injected = false;
let cachedSource: string | undefined;

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
 * The <script> that defines window.Plotly, the first time it is asked for in a session;
 * "" afterwards.
 *
 * Classic Notebook 6 has RequireJS loaded: a UMD bundle that sees an AMD `define` registers
 * itself as an anonymous module (RequireJS then throws "Mismatched anonymous define()")
 * and never sets window.Plotly. So `define` is hidden from the window for the duration
 * and shadowed, with `module`, `exports` and `require`, by the wrapper's parameters.
 */
export function takePlotlyLoader(): string {
  if (injected) return "";
  const src = plotlySource();
  if (src === undefined) return "";
  injected = true;
  return `<script type="text/javascript">
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
