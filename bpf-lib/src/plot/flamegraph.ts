/* Flame graph as a Plotly icicle: stacks merged into a tree of call paths, each box as
 * wide as the samples that passed through it; root at the top (icicle) or at the bottom
 * (the classic flame graph). Optionally a search that colours the frames it matches. */
import type { ColumnTable } from "arquero";
import { InvalidArgumentError } from "../errors.js";
import { amountsOrOnes, values } from "./columns.js";
import { emptyFigure, type PlotFigure } from "./figure.js";
import { escapeText } from "./escape.js";
import { formatCount } from "./numbers.js";
import { checkTop } from "./top.js";
import { HIGHLIGHT_COLOR, ROOT_COLOR, frameColor } from "./flame/colors.js";
import { DEFAULT_MAX_DEPTH, DEFAULT_WIDTH, checkOrientation, checkPositiveInt, type Orientation } from "./flame/geometry.js";
import { highlightOf, highlighted, highlightTitle, type FrameMatch } from "./flame/highlight.js";
import { icicleFigure } from "./flame/icicle.js";
import { buildTree, inclusiveOf, widest } from "./flame/tree.js";

export interface FlamegraphOptions {
  /** Folded stacks ("root;child;leaf") or arrays of frames, root first. Default "stack". */
  stack?: string;
  /** Samples per stack, summed. Default "count"; a table without one counts rows. */
  value?: string;
  title?: string;
  /** Stacks list the leaf first, as the kernel's stack walkers return them. Default false. */
  leafFirst?: boolean;
  /** Most boxes drawn; the narrowest call paths beyond are left out (their samples still count in their callers). Default 5,000. */
  maxNodes?: number;
  /** "icicle" (root at the top, the default) or "flame" (root at the bottom, the classic flame graph). */
  orientation?: Orientation;
  /** Frames to colour magenta: a frame name, or a RegExp. The title gives their share of samples. */
  highlight?: FrameMatch;
  /** Levels drawn at once; click a box to see deeper ones. Default 40. */
  maxDepth?: number;
  /** Chart width in px, which labels are fitted to. Default: the output's width (labels fitted to 900). */
  width?: number;
}

/** plotly.js draws 5,000 boxes in about a second and 15,000 in ten; the ones left out are specks. */
export const DEFAULT_MAX_NODES = 5_000;

export function flamegraph(table: ColumnTable, opts: FlamegraphOptions = {}): PlotFigure {
  const valueName = opts.value ?? "count";
  const title = opts.title ?? "flame graph";
  const orientation = checkOrientation(opts.orientation, "flamegraph");
  const highlight = highlightOf(opts.highlight, "flamegraph");
  const maxDepth = checkPositiveInt(opts.maxDepth ?? DEFAULT_MAX_DEPTH, "maxDepth", "flamegraph");
  const width = checkWidth(opts.width, "flamegraph");
  const maxNodes = checkTop(opts.maxNodes ?? DEFAULT_MAX_NODES, "flamegraph");
  const stacks = values(table, opts.stack ?? "stack", "flamegraph");
  const amounts = amountsOrOnes(table, opts.value, "count", "flamegraph");
  if (stacks.length === 0) return emptyFigure(title);

  const full = buildTree(stacks, amounts, opts.leafFirst ?? false);
  const fullInclusive = inclusiveOf(full);
  const { tree, kept } = widest(full, fullInclusive, maxNodes);
  const inclusive = kept.map((i) => fullInclusive[i]);
  const subtitles: string[] = [];
  if (kept.length < full.names.length) subtitles.push(`the widest ${formatCount(kept.length)} of ${formatCount(full.names.length)} call paths (raise maxNodes to draw more)`);

  let colors = tree.names.map((s, i) => (i === 0 ? ROOT_COLOR : frameColor(s)));
  if (highlight) {
    // the share is counted on every call path, drawn or not
    const { matched, samples } = highlighted(full, fullInclusive, highlight);
    colors = colors.map((c, i) => (matched[kept[i]] ? HIGHLIGHT_COLOR : c));
    subtitles.unshift(highlightTitle(highlight, samples, fullInclusive[0]));
  }
  return icicleFigure({
    title,
    subtitles,
    tree,
    values: inclusive,
    orientation,
    maxDepth,
    width: width ?? DEFAULT_WIDTH,
    fixedWidth: width !== undefined,
    marker: { colors },
    hovertext: tree.names,
    customdata: tree.self,
    hovertemplate: `<b>%{hovertext}</b><br>${escapeText(valueName)}: %{value:,} (%{percentRoot:.1%} of all)<br>self: %{customdata:,}<extra></extra>`,
  });
}

export function checkWidth(w: number | undefined, chart: string): number | undefined {
  if (w === undefined) return undefined;
  if (!Number.isFinite(w) || w < 100) throw new InvalidArgumentError(`plot.${chart}: width is the chart's width in pixels (100 or more), not ${w}`);
  return Math.round(w);
}
