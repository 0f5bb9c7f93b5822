/* Colours of a flame graph: warm and fixed per frame name (as in flamegraph.pl), so one
 * function looks the same wherever it appears; magenta for frames a search matched; and
 * blue-white-red for a differential graph's change in share. */

/** flamegraph.pl's search colour: it never occurs among the warm frame colours. */
export const HIGHLIGHT_COLOR = "#e600e6";
export const ROOT_COLOR = "#d9d9d9";

export function frameColor(name: string): string {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  h >>>= 0;
  const hue = h % 50; // red to orange-yellow
  const light = 55 + ((h >>> 8) % 20);
  return `hsl(${hue}, 85%, ${light}%)`;
}

/** Blue where a frame's share shrank, white where it held, red where it grew (ColorBrewer RdBu). */
export const DIFF_COLORSCALE: readonly [number, string][] = [
  [0, "#2166ac"],
  [0.25, "#92c5de"],
  [0.5, "#f7f7f7"],
  [0.75, "#f4a582"],
  [1, "#b2182b"],
];
