/* The Plotly icicle both flame graphs draw: ids, parents and widths from a tree, labels
 * cut to their boxes, the orientation (root at the top, or at the bottom as in the
 * classic flame graph), as many levels as stay legible, and a height to match. */
import { escapeText } from "../escape.js";
import { baseLayout, makeFigure, type PlotFigure, type PlotTrace } from "../figure.js";
import { FONT_PX, PATHBAR_PX, fitLabel, flameHeight, flameMargins, plotWidth, type Orientation } from "./geometry.js";
import type { FlameTree } from "./tree.js";

export interface IcicleSpec {
  title: string;
  /** Lines under the title (what was left out, what a search matched, what colours mean). */
  subtitles: string[];
  tree: FlameTree;
  /** Width of each node (inclusive samples of the profile drawn). */
  values: number[];
  orientation: Orientation;
  /** Levels drawn at once. */
  maxDepth: number;
  /** Chart width the labels are fitted to; set in the layout only when the caller gave one. */
  width: number;
  fixedWidth: boolean;
  /** CSS colours per node, or numbers for `colorscale` (with a colour bar). */
  marker: { colors: string[] } | { colors: number[]; colorscale: readonly [number, string][]; cmin: number; cmax: number; colorbar: Record<string, unknown> };
  /** Hover names, unescaped. */
  hovertext: string[];
  customdata: unknown[];
  hovertemplate: string;
}

/** The number of levels drawn: the tree's depth (root included), at most maxDepth. */
export function levelsShown(tree: FlameTree, maxDepth: number): number {
  let deepest = 0;
  for (const d of tree.depth) if (d > deepest) deepest = d;
  return Math.min(deepest + 1, maxDepth);
}

/** Labels fitted to each box's width when the whole graph is shown. */
export function fittedLabels(tree: FlameTree, values: readonly number[], width: number, colorbar: boolean): string[] {
  const total = values[0];
  const w = plotWidth(width, colorbar);
  return tree.names.map((name, i) => escapeText(fitLabel(name, total > 0 ? (values[i] / total) * w : 0)));
}

export function icicleFigure(s: IcicleSpec): PlotFigure {
  const colorbar = "colorbar" in s.marker;
  const levels = levelsShown(s.tree, s.maxDepth);
  const deeper = levels < levelsShown(s.tree, Infinity);
  const subtitles = deeper ? [...s.subtitles, `${levels} of ${levelsShown(s.tree, Infinity)} levels drawn: click a box to see the levels below it`] : s.subtitles;
  const flame = s.orientation === "flame";
  const trace: PlotTrace = {
    type: "icicle",
    ids: s.tree.names.map((_, i) => `n${i}`),
    parents: s.tree.parents.map((p) => (p < 0 ? "" : `n${p}`)),
    labels: fittedLabels(s.tree, s.values, s.width, colorbar),
    values: s.values,
    branchvalues: "total",
    hovertext: s.hovertext.map(escapeText),
    customdata: s.customdata,
    hovertemplate: s.hovertemplate,
    textinfo: "label",
    insidetextfont: { size: FONT_PX },
    // root at the top; flipped, the classic flame graph with the root at the bottom
    tiling: flame ? { orientation: "v", flip: "y" } : { orientation: "v" },
    maxdepth: deeper ? levels : -1,
    marker: { ...s.marker, line: { width: 1, color: "#ffffff" } },
    pathbar: { visible: true, side: flame ? "bottom" : "top", thickness: PATHBAR_PX, textfont: { size: FONT_PX } },
  };
  const layout = baseLayout(s.title);
  if (subtitles.length > 0) (layout.title as Record<string, unknown>).subtitle = { text: subtitles.map(escapeText).join("<br>") };
  const margin = flameMargins(subtitles.length > 0, colorbar);
  if (subtitles.length > 1) margin.t += 16 * (subtitles.length - 1);
  return makeFigure([trace], {
    ...layout,
    margin,
    height: flameHeight(levels, subtitles.length > 0) + (subtitles.length > 1 ? 16 * (subtitles.length - 1) : 0),
    ...(s.fixedWidth ? { width: s.width } : {}),
    // Labels that still do not fit are hidden rather than shrunk to specks.
    uniformtext: { minsize: FONT_PX - 1, mode: "hide" },
  });
}
