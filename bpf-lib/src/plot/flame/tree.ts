/* Stacks merged into a tree of call paths: one Map lookup per frame, so tens of
 * thousands of stacks are quick. A tree can hold several profiles on the same paths
 * (a "before" and an "after"), which is what a differential flame graph compares. */
import { label } from "../columns.js";

export const ROOT = "all";

/** One profile's view of the tree: node i's name, parent (−1 for the root), depth and self samples. */
export interface FlameTree {
  names: string[];
  parents: number[];
  depth: number[];
  self: number[];
}

export class FlameTreeBuilder {
  readonly names: string[] = [ROOT];
  readonly parents: number[] = [-1];
  readonly depth: number[] = [0];
  /** Self samples per node, one array per profile. */
  readonly selfs: number[][];
  readonly #children: (Map<string, number> | undefined)[] = [undefined];

  constructor(profiles = 1) {
    this.selfs = Array.from({ length: profiles }, () => [0]);
  }

  /** Adds every row's stack (folded string or array of frames) with its samples to one profile. */
  addStacks(stacks: readonly unknown[], amounts: readonly number[], leafFirst: boolean, profile = 0): void {
    for (let r = 0; r < stacks.length; r++) {
      const v = amounts[r];
      if (!(v > 0)) continue; // an icicle cannot draw negative widths
      const frames = framesOf(stacks[r]);
      let node = 0;
      for (let k = 0; k < frames.length; k++) {
        const f = frames[leafFirst ? frames.length - 1 - k : k];
        if (f === "") continue;
        node = this.#child(node, f);
      }
      this.selfs[profile][node] += v;
    }
  }

  tree(profile = 0): FlameTree {
    return { names: this.names, parents: this.parents, depth: this.depth, self: this.selfs[profile] };
  }

  #child(node: number, name: string): number {
    let kids = this.#children[node];
    if (!kids) this.#children[node] = kids = new Map();
    let next = kids.get(name);
    if (next === undefined) {
      next = this.names.length;
      kids.set(name, next);
      this.names.push(name);
      this.parents.push(node);
      this.depth.push(this.depth[node] + 1);
      this.#children.push(undefined);
      for (const s of this.selfs) s.push(0);
    }
    return next;
  }
}

export function buildTree(stacks: readonly unknown[], amounts: readonly number[], leafFirst: boolean): FlameTree {
  const b = new FlameTreeBuilder();
  b.addStacks(stacks, amounts, leafFirst);
  return b.tree();
}

/** Inclusive samples: children come after their parents, so one backward pass sums them up. */
export function inclusiveOf(tree: FlameTree): number[] {
  const inc = tree.self.slice();
  for (let i = tree.names.length - 1; i > 0; i--) inc[tree.parents[i]] += inc[i];
  return inc;
}

/**
 * The nodes `keep` accepts (the root always), renumbered in order. `keep` must accept a
 * node's parent whenever it accepts the node, so the result is a connected tree.
 */
export function subset(tree: FlameTree, keep: (i: number) => boolean): { tree: FlameTree; kept: number[] } {
  const n = tree.names.length;
  const newId = new Int32Array(n).fill(-1);
  const out: FlameTree = { names: [], parents: [], depth: [], self: [] };
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && !keep(i)) continue;
    newId[i] = out.names.length;
    out.names.push(tree.names[i]);
    out.parents.push(i === 0 ? -1 : newId[tree.parents[i]]);
    out.self.push(tree.self[i]);
    out.depth.push(tree.depth[i]);
    kept.push(i);
  }
  return { tree: out, kept };
}

/**
 * The `maxNodes` widest boxes (by `inclusive`). A caller is at least as wide as its
 * callees, so keeping every node wider than a threshold keeps a connected tree.
 */
export function widest(tree: FlameTree, inclusive: readonly number[], maxNodes: number): { tree: FlameTree; kept: number[] } {
  if (tree.names.length <= maxNodes) return { tree, kept: tree.names.map((_, i) => i) };
  const threshold = inclusive.slice().sort((a, b) => b - a)[maxNodes];
  return subset(tree, (i) => inclusive[i] > threshold);
}

export function framesOf(cell: unknown): string[] {
  if (typeof cell === "string") return cell.split(";");
  if (cell === null || cell === undefined) return [];
  if (typeof cell === "object" && Symbol.iterator in cell) return Array.from(cell as Iterable<unknown>, label);
  return [label(cell)];
}
