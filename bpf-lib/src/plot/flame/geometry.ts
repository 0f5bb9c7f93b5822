/* Sizes of a flame graph: how tall a level is, how many levels are drawn at once, and
 * how much of a frame's name fits in its box. plotly.js draws a box's label only when
 * the whole label fits, so a long C++ or JavaScript name in a 300 px box would show
 * nothing at all: names are cut to the box's width here, as flamegraph.pl does. */
import { InvalidArgumentError } from "../../errors.js";

/** A level this tall holds an 11 px label with room to spare. */
export const LEVEL_PX = 20;
export const FONT_PX = 11;
/** Average advance of DejaVu Sans / Liberation Sans at FONT_PX (about 6.1 px for function names, mostly lower case and '_'), with room to spare. */
export const CHAR_PX = 6.5;
/** Padding plotly.js keeps inside a box around its label. */
export const PAD_PX = 8;
/** Levels drawn at once unless maxDepth says otherwise; clicking a box shows the levels below it. */
export const DEFAULT_MAX_DEPTH = 40;
/** The width a chart without one in its layout gets in a notebook's output column. */
export const DEFAULT_WIDTH = 900;
/** Rows of the path bar (the breadcrumbs to zoom out). */
export const PATHBAR_PX = 20;
const MIN_HEIGHT = 300;

/** The chart's margins: room for a title (and a subtitle line), the path bar, a colour bar. */
export function flameMargins(subtitle: boolean, colorbar: boolean): { t: number; r: number; b: number; l: number } {
  return { t: subtitle ? 78 : 52, r: colorbar ? 110 : 8, b: 8, l: 8 };
}

/** Height for `levels` levels of LEVEL_PX under the title and path bar; at least MIN_HEIGHT. */
export function flameHeight(levels: number, subtitle: boolean): number {
  const m = flameMargins(subtitle, false);
  return Math.max(MIN_HEIGHT, m.t + m.b + PATHBAR_PX + levels * LEVEL_PX);
}

/**
 * The label for a box `widthPx` wide: the whole name when it fits, else its start and
 * "…", else nothing (three letters and "…" say nothing; hover has the whole name).
 */
export function fitLabel(name: string, widthPx: number): string {
  const room = Math.floor((widthPx - PAD_PX) / CHAR_PX);
  if (name.length <= room) return name;
  if (room < 5) return "";
  return `${name.slice(0, room - 1)}…`;
}

/** Width of the area the boxes are drawn in, for a chart `width` wide. */
export function plotWidth(width: number, colorbar: boolean): number {
  const m = flameMargins(false, colorbar);
  return Math.max(1, width - m.l - m.r);
}

export function checkPositiveInt(v: number, name: string, chart: string): number {
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`plot.${chart}: ${name} must be a positive integer, not ${v}`);
  return v;
}

export type Orientation = "icicle" | "flame";

export function checkOrientation(v: unknown, chart: string): Orientation {
  if (v === undefined) return "icicle";
  if (v === "icicle" || v === "flame") return v;
  throw new InvalidArgumentError(`plot.${chart}: orientation must be "icicle" (root at the top) or "flame" (root at the bottom, the classic flame graph), not ${JSON.stringify(v)}`);
}
