/* Search: frames whose name matches are coloured, and the share of samples that passed
 * through any of them is given in the title. A static option rather than a search box,
 * so it survives in exported HTML, PNG and SVG. */
import { InvalidArgumentError } from "../../errors.js";
import type { FlameTree } from "./tree.js";

export type FrameMatch = string | RegExp;

export interface Highlight {
  /** The search as written: `vfs_read` or `/^vfs_/`. */
  label: string;
  matches(name: string): boolean;
}

/** profile() marks kernel frames as flamegraph.pl does: "vfs_read_[k]". */
const KERNEL_SUFFIX = "_[k]";

/**
 * A string matches frames of exactly that name (a kernel frame with its "_[k]" mark
 * too); a RegExp, frames it matches anywhere in the name.
 */
export function highlightOf(h: unknown, chart: string): Highlight | undefined {
  if (h === undefined) return undefined;
  if (typeof h === "string" && h !== "") {
    const kernel = h + KERNEL_SUFFIX;
    return { label: h, matches: (name) => name === h || name === kernel };
  }
  if (h instanceof RegExp) {
    // a global or sticky RegExp keeps state between test() calls
    const re = new RegExp(h.source, h.flags.replace(/[gy]/g, ""));
    return { label: String(h), matches: (name) => re.test(name) };
  }
  throw new InvalidArgumentError(`plot.${chart}: highlight must be a frame name ("vfs_read") or a RegExp (/^vfs_/), not ${typeof h === "string" ? '""' : String(h)}`);
}

/**
 * Which nodes match, and the samples in stacks passing through at least one of them:
 * a match under another match (recursion) is not counted twice.
 */
export function highlighted(tree: FlameTree, inclusive: readonly number[], h: Highlight): { matched: boolean[]; samples: number } {
  const n = tree.names.length;
  const matched = new Array<boolean>(n).fill(false);
  const under = new Array<boolean>(n).fill(false);
  let samples = 0;
  for (let i = 1; i < n; i++) {
    const p = tree.parents[i];
    under[i] = under[p] || matched[p];
    matched[i] = h.matches(tree.names[i]);
    if (matched[i] && !under[i]) samples += inclusive[i];
  }
  return { matched, samples };
}

/** "vfs_read: 12.3% of samples", or that nothing matched. */
export function highlightTitle(h: Highlight, samples: number, total: number): string {
  if (samples === 0) return `${h.label}: no frame matches`;
  const pct = (100 * samples) / total;
  return `${h.label}: ${pct > 0 && pct < 0.1 ? "<0.1" : pct.toFixed(1)}% of samples`;
}
