/* Differential flame graph (Brendan Gregg's difffolded, normalised): the boxes are the
 * "after" profile, and each is coloured by how its share of all samples changed since
 * "before": red grew, blue shrank, white held. Shares rather than counts, so two
 * profiles of different lengths compare. */
import type { ColumnTable } from "arquero";
import { amountsOrOnes, values } from "./columns.js";
import { emptyFigure, type PlotFigure } from "./figure.js";
import { escapeText } from "./escape.js";
import { checkWidth } from "./flamegraph.js";
import { formatCount, formatShare } from "./numbers.js";
import { checkTop } from "./top.js";
import { DIFF_COLORSCALE } from "./flame/colors.js";
import { DEFAULT_MAX_DEPTH, DEFAULT_WIDTH, checkOrientation, checkPositiveInt, type Orientation } from "./flame/geometry.js";
import { icicleFigure } from "./flame/icicle.js";
import type { FlamegraphOptions } from "./flamegraph.js";
import { FlameTreeBuilder, inclusiveOf, subset, widest, type FlameTree } from "./flame/tree.js";

/** The flame graph's options, for both tables (`stack`, `value` name their columns in each); colour shows the change, so no highlight. */
export type FlamegraphDiffOptions = Omit<FlamegraphOptions, "highlight">;

export interface FlameDiff {
  /** The tree of every call path in either profile. */
  tree: FlameTree;
  before: number[];
  after: number[];
  beforeTotal: number;
  afterTotal: number;
  /** Change of each node's share of all samples, in percentage points (after − before). */
  delta: number[];
}

/** Both profiles on one tree, with each call path's change in share. */
export function diffTrees(before: ColumnTable, after: ColumnTable, opts: FlamegraphDiffOptions = {}): FlameDiff {
  const stackName = opts.stack ?? "stack";
  const b = new FlameTreeBuilder(2);
  const leafFirst = opts.leafFirst ?? false;
  b.addStacks(values(before, stackName, "flamegraphDiff"), amountsOrOnes(before, opts.value, "count", "flamegraphDiff"), leafFirst, 0);
  b.addStacks(values(after, stackName, "flamegraphDiff"), amountsOrOnes(after, opts.value, "count", "flamegraphDiff"), leafFirst, 1);
  const inB = inclusiveOf(b.tree(0));
  const inA = inclusiveOf(b.tree(1));
  const [tb, ta] = [inB[0], inA[0]];
  const share = (v: number, total: number) => (total > 0 ? (100 * v) / total : 0);
  const delta = inA.map((a, i) => share(a, ta) - share(inB[i], tb));
  return { tree: b.tree(1), before: inB, after: inA, beforeTotal: tb, afterTotal: ta, delta };
}

export function flamegraphDiff(before: ColumnTable, after: ColumnTable, opts: FlamegraphDiffOptions = {}): PlotFigure {
  const title = opts.title ?? "differential flame graph";
  const orientation = checkOrientation(opts.orientation, "flamegraphDiff");
  const maxDepth = checkPositiveInt(opts.maxDepth ?? DEFAULT_MAX_DEPTH, "maxDepth", "flamegraphDiff");
  const width = checkWidth(opts.width, "flamegraphDiff");
  const maxNodes = checkTop(opts.maxNodes ?? 5_000, "flamegraphDiff");
  const d = diffTrees(before, after, opts);
  if (d.afterTotal === 0) return emptyFigure(title, d.beforeTotal === 0 ? "no rows to plot" : "no samples in the \"after\" profile");

  // Boxes are the after profile's: paths only in before have no width to draw.
  const present = subset(d.tree, (i) => d.after[i] > 0);
  const drawnAfter = present.kept.map((i) => d.after[i]);
  const wide = widest(present.tree, drawnAfter, maxNodes);
  const kept = wide.kept.map((i) => present.kept[i]);
  const tree = wide.tree;

  let gone = 0;
  let gonePaths = 0;
  for (let i = 1; i < d.tree.names.length; i++) {
    if (d.after[i] === 0 && d.after[d.tree.parents[i]] > 0) {
      gone += d.before[i];
      gonePaths++;
    }
  }
  const subtitles = [`width: after (${formatCount(d.afterTotal)} samples) · colour: change in share since before (${formatCount(d.beforeTotal)} samples): red grew, blue shrank`];
  if (gonePaths > 0) subtitles.push(`${formatCount(gonePaths)} call paths only in before (${formatShare(gone, d.beforeTotal)} of its samples) are not drawn`);
  if (kept.length < present.kept.length) subtitles.push(`the widest ${formatCount(kept.length)} of ${formatCount(present.kept.length)} call paths (raise maxNodes to draw more)`);

  const delta = kept.map((i) => d.delta[i]);
  let span = 0;
  for (const v of delta) span = Math.max(span, Math.abs(v));
  if (!(span > 0)) span = 1; // identical profiles: everything white
  const signed = (v: number) => `${v > 0 ? "+" : v < 0 ? "−" : "±"}${Math.abs(v).toFixed(2)} pp`;
  return icicleFigure({
    title,
    subtitles,
    tree,
    values: kept.map((i) => d.after[i]),
    orientation,
    maxDepth,
    width: width ?? DEFAULT_WIDTH,
    fixedWidth: width !== undefined,
    marker: {
      colors: delta,
      colorscale: DIFF_COLORSCALE,
      cmin: -span,
      cmax: span,
      colorbar: { title: { text: "change in<br>share (pp)" }, ticksuffix: " pp", thickness: 14, len: 0.8 },
    },
    hovertext: tree.names,
    customdata: kept.map((i, k) => [
      formatShare(d.after[i], d.afterTotal),
      formatCount(d.before[i]),
      formatShare(d.before[i], d.beforeTotal),
      signed(delta[k]),
    ]),
    hovertemplate: `<b>%{hovertext}</b><br>after: %{value:,} (%{customdata[0]})<br>before: %{customdata[1]} (%{customdata[2]})<br>change in share: %{customdata[3]}<extra></extra>`,
  });
}
