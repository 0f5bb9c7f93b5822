/* Charts from Arquero tables: each helper returns a Plotly figure (plain data) that the
 * notebook draws, and save()/toHTML() write it as a standalone page. */
import { bar } from "./bar.js";
import { flamegraph } from "./flamegraph.js";
import { flamegraphDiff } from "./flamegraph-diff.js";
import { heatmap } from "./heatmap.js";
import { histogram } from "./histogram.js";
import { save, toHTML } from "./html.js";
import { percentileFromBuckets } from "./percentile.js";
import { timeseries } from "./timeseries.js";
import { formatDuration, pickUnit } from "./units.js";

export const plot = { bar, timeseries, histogram, heatmap, flamegraph, flamegraphDiff, save, toHTML, percentileFromBuckets, formatDuration, pickUnit };

export { percentileFromBuckets, formatDuration, pickUnit };
export { PLOTLY_MARKER } from "./figure.js";
export type { PlotFigure, PlotTrace, FigureLike } from "./figure.js";
export type { BarOptions } from "./bar.js";
export type { TimeseriesOptions } from "./timeseries.js";
export type { HistogramOptions, PercentileMarks } from "./histogram.js";
export type { HeatmapOptions } from "./heatmap.js";
export type { FlamegraphOptions } from "./flamegraph.js";
export type { FlamegraphDiffOptions } from "./flamegraph-diff.js";
export type { FrameMatch } from "./flame/highlight.js";
export type { HTMLOptions } from "./html.js";
export type { DurationUnit, InputUnit } from "./units.js";
export type { BucketUnit } from "./bucket-format.js";
