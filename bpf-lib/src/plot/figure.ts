/* The figure shape every chart helper returns. The marker is the same global symbol
 * the notebook's display layer looks for, so a figure is drawn even after someone adds
 * fields to it; the library cannot import the kernel's copy (it runs outside notebooks). */

/** Marks a figure built by the chart helpers; `Symbol.for` makes it the kernel's symbol too. */
export const PLOTLY_MARKER: unique symbol = Symbol.for("bpfbook.plotly");

/** One Plotly trace. Plotly's own typings are far larger than what these helpers produce. */
export type PlotTrace = { type: string } & Record<string, unknown>;

/** What the chart helpers return: a Plotly figure as plain data (JSON-ready). */
export interface PlotFigure {
  data: PlotTrace[];
  layout: Record<string, unknown>;
  config: Record<string, unknown>;
  readonly [PLOTLY_MARKER]: true;
}

/** Any Plotly figure, ours or hand-written, as accepted by `save()` and `toHTML()`. */
export interface FigureLike {
  data: readonly object[];
  layout?: object;
  config?: object;
  frames?: readonly unknown[];
}

export const CONFIG: Readonly<Record<string, unknown>> = { responsive: true, displaylogo: false };

/** Left-aligned title and room for it; axes use automargin so long labels are not cut. */
export function baseLayout(title: string): Record<string, unknown> {
  return {
    title: { text: title, x: 0.01, xanchor: "left" },
    margin: { t: 56, r: 24, b: 48, l: 64 },
    hoverlabel: { align: "left" },
    hovermode: "closest",
  };
}

export function makeFigure(data: PlotTrace[], layout: Record<string, unknown>): PlotFigure {
  return { data, layout, config: { ...CONFIG }, [PLOTLY_MARKER]: true };
}

/** An empty chart that says why, rather than a blank frame or an exception for an empty table. */
export function emptyFigure(title: string, why = "no rows to plot"): PlotFigure {
  return makeFigure([], {
    ...baseLayout(title),
    xaxis: { visible: false },
    yaxis: { visible: false },
    annotations: [{ text: why, showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { size: 16, color: "#888" } }],
  });
}
