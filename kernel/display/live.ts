/* Live charts: displays shown with an id and updated in place (`collect({ live })`,
 * `display()` handles). Two things the kernel fixes at the end of every cell:
 *  - the output that carried plotly.js (the session's first chart) must still carry it
 *    once updates have replaced it, or a saved notebook has no plotly.js at all;
 *  - a cell that ends with the same chart as its live chart shows one chart, not two:
 *    the final chart takes the live chart's place. */
import { PLOTLY_MIME, traceTypes } from "./plotly.js";
import { hasPlotlyLoader, resetPlotlyInjection, withPlotlyLoader } from "./plotly-loader.js";
import type { DisplayData } from "./types.js";

interface Shown {
  bundle: DisplayData;
  /** What makes two charts "the same chart" (see chartSignature). */
  signature: string;
  updates: number;
}

export interface CellEnd {
  /** update_display_data messages to send, in order. */
  updates: { id: string; bundle: DisplayData }[];
  /** The execute_result to send, or null when it took a live chart's place. */
  result: DisplayData | null;
}

function htmlOf(d: DisplayData): string | undefined {
  const h = d.data["text/html"];
  return typeof h === "string" ? h : undefined;
}

function isChart(d: DisplayData): boolean {
  const fig = d.data[PLOTLY_MIME];
  return typeof fig === "object" && fig !== null && Array.isArray((fig as { data?: unknown }).data);
}

function titleText(t: unknown): string {
  if (typeof t === "string") return t;
  if (typeof t === "object" && t !== null && typeof (t as { text?: unknown }).text === "string") return (t as { text: string }).text;
  return "";
}

/** An axis title without its unit: "sum (ms)" → "sum". */
function quantity(title: string): string {
  return title.replace(/\s*\([^()]*\)$/, "");
}

/**
 * The kind of chart: its trace types and axis titles (without units). A live chart and
 * the cell's final chart of the same data share it (their titles may differ: "(live)";
 * their units too: a sum in µs while live can end in ms); a bar chart of counts and one
 * of bytes do not (their value axes differ).
 */
export function chartSignature(d: DisplayData): string {
  const fig = d.data[PLOTLY_MIME] as { data: unknown[]; layout?: Record<string, unknown> };
  const layout = fig.layout ?? {};
  const axes = Object.keys(layout)
    .filter((k) => /^[xy]axis\d*$/.test(k))
    .sort()
    .map((k) => `${k}=${quantity(titleText((layout[k] as { title?: unknown } | null)?.title))}`);
  return JSON.stringify([traceTypes(fig.data).sort(), axes]);
}

function withLoader(d: DisplayData): DisplayData {
  const html = htmlOf(d);
  return html === undefined || hasPlotlyLoader(html) ? d : { data: { ...d.data, "text/html": withPlotlyLoader(html) }, metadata: d.metadata };
}

export class LiveCharts {
  /** Chart displays of the current cell, in the order they were first shown. */
  #shown = new Map<string, Shown>();
  /** The display whose output carries plotly.js, with what it shows now. */
  #carrier: { id: string; bundle: DisplayData; intact: boolean } | undefined;

  /** A new cell starts: its live charts are the ones shown from now on. */
  startCell(): void {
    this.#shown.clear();
  }

  /** The kernel restarted (or plotly.js injection was reset): nothing on a page is known any more. */
  reset(): void {
    this.#shown.clear();
    this.#carrier = undefined;
  }

  /** Every display_data / update_display_data the kernel publishes. */
  published(id: string | undefined, bundle: DisplayData, update: boolean): void {
    if (id === undefined) return;
    const html = htmlOf(bundle) ?? "";
    if (this.#carrier?.id === id) {
      if (isChart(bundle)) {
        this.#carrier.bundle = bundle;
        this.#carrier.intact = hasPlotlyLoader(html);
      } else {
        // It shows something else now: the next chart brings plotly.js again.
        this.#carrier = undefined;
        resetPlotlyInjection();
      }
    } else if (hasPlotlyLoader(html)) {
      this.#carrier = { id, bundle, intact: true };
    }
    if (!isChart(bundle)) {
      this.#shown.delete(id);
      return;
    }
    const prev = this.#shown.get(id);
    if (prev) {
      prev.bundle = bundle;
      prev.signature = chartSignature(bundle);
      if (update) prev.updates++;
    } else if (!update) {
      this.#shown.set(id, { bundle, signature: chartSignature(bundle), updates: 0 });
    }
  }

  /**
   * The cell ended with `result` (null: no value, or an error). The last live chart
   * (updated at least once) of the same kind as a chart result is replaced by it; the
   * plotly.js carrier gets plotly.js back if updates dropped it.
   */
  finishCell(result: DisplayData | null): CellEnd {
    const updates: CellEnd["updates"] = [];
    let out = result;
    if (result && isChart(result)) {
      const signature = chartSignature(result);
      const live = [...this.#shown].reverse().find(([, s]) => s.updates > 0 && s.signature === signature);
      if (live) {
        const [id] = live;
        const carrier = this.#carrier?.id === id || (htmlOf(result) !== undefined && hasPlotlyLoader(htmlOf(result)!));
        const bundle = carrier ? withLoader(result) : result;
        updates.push({ id, bundle });
        this.published(id, bundle, true);
        out = null;
      }
    }
    const c = this.#carrier;
    if (c && !c.intact) {
      const bundle = withLoader(c.bundle);
      updates.push({ id: c.id, bundle });
      this.published(c.id, bundle, true);
    }
    this.#shown.clear();
    return { updates, result: out };
  }
}
