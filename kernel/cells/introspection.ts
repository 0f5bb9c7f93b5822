/* Completion and hover text for the notebook, through tslab's converter (which sees earlier cells' names). */
import type { Converter, DisplayPart, QuickInfo } from "./tslab.js";

/** Jupyter counts cursor positions in Unicode code points; TypeScript in UTF-16 units. */
export function codePointsToUtf16(text: string, cursor: number): number {
  let units = 0;
  let points = 0;
  for (const ch of text) {
    if (points >= cursor) break;
    units += ch.length;
    points++;
  }
  return units;
}

export function utf16ToCodePoints(text: string, offset: number): number {
  return [...text.slice(0, offset)].length;
}

export interface Completion {
  matches: string[];
  cursorStart: number;
  cursorEnd: number;
}

export function complete(converter: Converter, prevDecl: string, code: string, cursorPos: number): Completion {
  const position = codePointsToUtf16(code, cursorPos);
  const result = converter.complete(prevDecl, code, position);
  return {
    matches: result.candidates,
    cursorStart: utf16ToCodePoints(code, result.start),
    cursorEnd: utf16ToCodePoints(code, result.end),
  };
}

function text(parts: readonly DisplayPart[] | undefined): string {
  return (parts ?? []).map((p) => p.text).join("");
}

function describe(info: QuickInfo, detailLevel: 0 | 1): string {
  const sections = [text(info.displayParts)];
  const docs = text(info.documentation);
  if (docs) sections.push(docs);
  if (detailLevel === 1 && info.tags?.length) {
    sections.push(info.tags.map((t) => `@${t.name}${t.text?.length ? ` ${text(t.text)}` : ""}`).join("\n"));
  }
  return sections.join("\n\n");
}

export function inspect(converter: Converter, prevDecl: string, code: string, cursorPos: number, detailLevel: 0 | 1): { found: boolean; text: string } {
  const position = codePointsToUtf16(code, cursorPos);
  // The cursor usually sits just after the name asked about.
  for (const at of position > 0 ? [position, position - 1] : [position]) {
    const info = converter.inspect(prevDecl, code, at);
    if (info?.displayParts?.length) return { found: true, text: describe(info, detailLevel) };
  }
  return { found: false, text: "" };
}
