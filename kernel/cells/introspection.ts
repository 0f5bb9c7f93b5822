/* Completion and hover text for the notebook, through the converter (which sees earlier cells' names). */
import { completeCell, type Completion } from "./completion/complete.js";
import { codePointsToUtf16 } from "./completion/positions.js";
import type { Converter, DisplayPart, QuickInfo } from "./compiler/index.js";

export { codePointsToUtf16, utf16ToCodePoints } from "./completion/positions.js";
export type { Completion } from "./completion/complete.js";

/** Names at the cursor (code points): the range and filtering are the cell's (completion/), the names the converter's or the machine's. */
export function complete(converter: Converter, prevDecl: string, code: string, cursorPos: number): Completion {
  return completeCell(code, cursorPos, (position) => converter.complete(prevDecl, code, position).candidates);
}

export function partsText(parts: readonly DisplayPart[] | undefined): string {
  return (parts ?? []).map((p) => p.text).join("");
}

/**
 * Quick info's first line without what only the compiler cares about: earlier cells' names reach a cell as
 * imports, so they read "(alias) const p: T\nimport p"; the user wrote `const p`.
 */
export function displayText(info: QuickInfo | undefined): string {
  return partsText(info?.displayParts).replace(/^\(alias\) /, "").replace(/\n(?:import|export) [\w$.]+$/, "");
}

/** Signature or type, then the doc comment, then (detail level 1) its tags: what Shift+Tab and help() show. */
export function describe(info: QuickInfo, detailLevel: 0 | 1): string {
  const sections = [displayText(info)];
  const docs = partsText(info.documentation);
  if (docs) sections.push(docs);
  if (detailLevel === 1 && info.tags?.length) {
    sections.push(info.tags.map((t) => `@${t.name}${t.text?.length ? ` ${partsText(t.text)}` : ""}`).join("\n"));
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
