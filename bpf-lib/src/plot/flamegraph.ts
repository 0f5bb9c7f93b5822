/* Flame graph as a Plotly icicle: stacks are merged into a tree of call paths (one Map
 * lookup per frame, so tens of thousands of stacks are quick), root at the top, each box
 * as wide as the samples that passed through it. */
import type { ColumnTable } from "arquero";
import { amountsOrOnes, label, values } from "./columns.js";
import { baseLayout, emptyFigure, makeFigure, type PlotFigure } from "./figure.js";
import { escapeText } from "./escape.js";

export interface FlamegraphOptions {
  /** Folded stacks ("root;child;leaf") or arrays of frames, root first. Default "stack". */
  stack?: string;
  /** Samples per stack, summed. Default "count"; a table without one counts rows. */
  value?: string;
  title?: string;
  /** Stacks list the leaf first, as the kernel's stack walkers return them. Default false. */
  leafFirst?: boolean;
}

const ROOT = "all";
/** Frame names longer than this are cut in the boxes; hover shows the whole name. */
const MAX_LABEL_CHARS = 60;

interface Tree {
  names: string[];
  parents: number[];
  self: number[];
  depth: number[];
}

export function flamegraph(table: ColumnTable, opts: FlamegraphOptions = {}): PlotFigure {
  const stackName = opts.stack ?? "stack";
  const valueName = opts.value ?? "count";
  const title = opts.title ?? "flame graph";
  const stacks = values(table, stackName, "flamegraph");
  const amounts = amountsOrOnes(table, opts.value, "count", "flamegraph");
  if (stacks.length === 0) return emptyFigure(title);

  const tree = buildTree(stacks, amounts, opts.leafFirst ?? false);
  const n = tree.names.length;
  // Children come after their parents, so one backward pass turns self into inclusive sums.
  const inclusive = tree.self.slice();
  for (let i = n - 1; i > 0; i--) inclusive[tree.parents[i]] += inclusive[i];
  const maxDepth = tree.depth.reduce((m, d) => Math.max(m, d), 0);

  const trace = {
    type: "icicle",
    ids: tree.names.map((_, i) => `n${i}`),
    parents: tree.parents.map((p) => (p < 0 ? "" : `n${p}`)),
    labels: tree.names.map((s) => escapeText(s.length > MAX_LABEL_CHARS ? `${s.slice(0, MAX_LABEL_CHARS - 1)}…` : s)),
    values: inclusive,
    branchvalues: "total",
    hovertext: tree.names.map(escapeText),
    customdata: tree.self,
    hovertemplate: `<b>%{hovertext}</b><br>${escapeText(valueName)}: %{value:,} (%{percentRoot:.1%} of all)<br>self: %{customdata:,}<extra></extra>`,
    textinfo: "label",
    tiling: { orientation: "v" },
    marker: { colors: tree.names.map((s, i) => (i === 0 ? "#d9d9d9" : frameColor(s))), line: { width: 1, color: "#ffffff" } },
    pathbar: { visible: true, side: "top" },
  };
  return makeFigure([trace], {
    ...baseLayout(title),
    margin: { t: 56, r: 8, b: 8, l: 8 },
    height: Math.min(1400, Math.max(450, 120 + 24 * (maxDepth + 1))),
    // Labels too small to read are hidden rather than shrunk to specks.
    uniformtext: { minsize: 10, mode: "hide" },
  });
}

function buildTree(stacks: readonly unknown[], amounts: readonly number[], leafFirst: boolean): Tree {
  const tree: Tree = { names: [ROOT], parents: [-1], self: [0], depth: [0] };
  const children: (Map<string, number> | undefined)[] = [undefined];
  for (let r = 0; r < stacks.length; r++) {
    const v = amounts[r];
    if (!(v > 0)) continue; // an icicle cannot draw negative widths
    const frames = framesOf(stacks[r]);
    let node = 0;
    for (let k = 0; k < frames.length; k++) {
      const f = frames[leafFirst ? frames.length - 1 - k : k];
      if (f === "") continue;
      let kids = children[node];
      if (!kids) children[node] = kids = new Map();
      let next = kids.get(f);
      if (next === undefined) {
        next = tree.names.length;
        kids.set(f, next);
        tree.names.push(f);
        tree.parents.push(node);
        tree.self.push(0);
        tree.depth.push(tree.depth[node] + 1);
        children.push(undefined);
      }
      node = next;
    }
    tree.self[node] += v;
  }
  return tree;
}

function framesOf(cell: unknown): string[] {
  if (typeof cell === "string") return cell.split(";");
  if (cell === null || cell === undefined) return [];
  if (typeof cell === "object" && Symbol.iterator in cell) return Array.from(cell as Iterable<unknown>, label);
  return [label(cell)];
}

/** Warm colours as in flamegraph.pl, fixed per frame name so a function looks the same everywhere. */
function frameColor(name: string): string {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  h >>>= 0;
  const hue = h % 50; // red to orange-yellow
  const light = 55 + ((h >>> 8) % 20);
  return `hsl(${hue}, 85%, ${light}%)`;
}
