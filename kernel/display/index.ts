/* The display layer: any value → the MIME bundle Jupyter shows. Rules, first match wins:
 * 1. [Symbol.for("Jupyter.display")]()  2. Arquero tables  3. Plotly figures
 * 4. Error objects  5. util.inspect text. */
import { displayableData, isDisplayable } from "./mime.js";
import { errorPlain, inspectPlain, isError } from "./plain.js";
import { isPlotlyFigure, plotlyDisplay } from "./plotly.js";
import { tableHtml } from "./table-html.js";
import { isTableLike, tableModel } from "./table-model.js";
import { tablePlain } from "./table-plain.js";
import type { DisplayData, DisplayOptions } from "./types.js";

export { JUPYTER_DISPLAY, PLOTLY_MARKER, type MimeBundle, type DisplayData, type DisplayOptions, type Displayable } from "./types.js";
export { html, markdown, svg, png, isDisplayable } from "./mime.js";
export { plotlyFigure, isPlotlyFigure, PLOTLY_MIME, type PlotlyFigure, type PlotlyTrace } from "./plotly.js";
export { resetPlotlyInjection, plotlyPending } from "./plotly-loader.js";
export { LiveCharts } from "./live.js";
export { isTableLike, type TableLike } from "./table-model.js";

const DEFAULT_LIMIT = 20;
const DEFAULT_CELL_CHARS = 120;
/** Plain-text cells stay narrower: a terminal row has little room. */
const PLAIN_CELL_CHARS = 40;

/** Whether a cell's value becomes an execute_result: `undefined` (statements, void calls) does not. */
export function shouldDisplay(value: unknown): boolean {
  return value !== undefined;
}

/** toDisplayData for a cell's value, or null when nothing should be published. */
export function toExecuteResult(value: unknown, opts?: DisplayOptions): DisplayData | null {
  return shouldDisplay(value) ? toDisplayData(value, opts) : null;
}

/**
 * What Jupyter shows for `value`. Never throws: if a rich form fails (a display method
 * that throws, a table-like object that is not quite one), the value is shown as text
 * with the reason, since a display bug should not look like the cell failing.
 */
export function toDisplayData(value: unknown, opts: DisplayOptions = {}): DisplayData {
  try {
    return richDisplay(value, opts) ?? plainDisplay(value);
  } catch (e) {
    const d = plainDisplay(value);
    const reason = isError(e) ? e.message : String(e);
    d.data["text/plain"] = `${String(d.data["text/plain"])}\n(display failed: ${reason})`;
    d.metadata["bpfbook.display_error"] = reason;
    return d;
  }
}

function richDisplay(value: unknown, opts: DisplayOptions): DisplayData | undefined {
  if (isDisplayable(value)) return displayableData(value);
  if (isTableLike(value)) {
    const limit = opts.limit ?? DEFAULT_LIMIT;
    const cellChars = opts.maxCellChars ?? DEFAULT_CELL_CHARS;
    return {
      data: {
        "text/html": tableHtml(tableModel(value, limit, cellChars)),
        "text/plain": tablePlain(tableModel(value, limit, Math.min(cellChars, PLAIN_CELL_CHARS))),
      },
      metadata: {},
    };
  }
  if (isPlotlyFigure(value)) return plotlyDisplay(value);
  return undefined;
}

function plainDisplay(value: unknown): DisplayData {
  return { data: { "text/plain": isError(value) ? errorPlain(value) : inspectPlain(value) }, metadata: {} };
}
