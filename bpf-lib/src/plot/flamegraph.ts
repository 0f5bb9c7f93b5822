/* Flame graph as a Plotly icicle: stacks are merged into a tree of call paths (one Map
 * lookup per frame, so tens of thousands of stacks are quick), root at the top, each box
 * as wide as the samples that passed through it. */
import type { ColumnTable } from "arquero";
import { amountsOrOnes, label, values } from "./columns.js";
import { baseLayout, emptyFigure, makeFigure, type PlotFigure } from "./figure.js";
import { escapeText } from "./escape.js";
import { formatCount } from "./numbers.js";
import { checkTop } from "./top.js";

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
}

const ROOT = "all";
/** Frame names longer than this are cut in the boxes; hover shows the whole name. */
const MAX_LABEL_CHARS = 60;
/** plotly.js draws 5,000 boxes in about a second and 15,000 in ten; the ones left out are specks. */
const DEFAULT_MAX_NODES = 5_000;

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

  const full = buildTree(stacks, amounts, opts.leafFirst ?? false);
  // Children come after their parents, so one backward pass turns self into inclusive sums.
  const fullInclusive = full.self.slice();
  for (let i = full.names.length - 1; i > 0; i--) fullInclusive[full.parents[i]] += fullInclusive[i];
  const maxNodes = checkTop(opts.maxNodes ?? DEFAULT_MAX_NODES, "flamegraph");
  const { tree, inclusive } = prune(full, fullInclusive, maxNodes);
  const hidden = full.names.length - tree.names.length;
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
  const layout = baseLayout(title);
  if (hidden > 0) {
    const t = layout.title as Record<string, unknown>;
    t.subtitle = { text: `the widest ${formatCount(tree.names.length)} of ${formatCount(full.names.length)} call paths (raise maxNodes to draw more)` };
  }
  return makeFigure([trace], {
    ...layout,
    margin: { t: hidden > 0 ? 76 : 56, r: 8, b: 8, l: 8 },
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

/**
 * The `maxNodes` widest boxes. A caller is at least as wide as its callees, so keeping
 * every node wider than a threshold keeps a connected tree; ids are renumbered in order.
 */
function prune(tree: Tree, inclusive: number[], maxNodes: number): { tree: Tree; inclusive: number[] } {
  const n = tree.names.length;
  if (n <= maxNodes) return { tree, inclusive };
  const threshold = inclusive.slice().sort((a, b) => b - a)[maxNodes];
  const newId = new Int32Array(n).fill(-1);
  const out: Tree = { names: [], parents: [], self: [], depth: [] };
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && !(inclusive[i] > threshold)) continue;
    newId[i] = out.names.length;
    out.names.push(tree.names[i]);
    out.parents.push(i === 0 ? -1 : newId[tree.parents[i]]);
    out.self.push(tree.self[i]);
    out.depth.push(tree.depth[i]);
    kept.push(inclusive[i]);
  }
  return { tree: out, inclusive: kept };
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
