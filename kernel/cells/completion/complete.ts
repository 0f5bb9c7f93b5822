/*
 * A completion reply from the cell's syntax plus a list of names: the range is the word (or the string's
 * name) the cursor is in, computed here whatever range the converter reports, and the candidates are those
 * matching what was typed before the cursor, at most MAX_MATCHES of them (the reply's metadata says how many
 * matched in all). Inside a string that names a kernel function, a binary's symbol or an interface, the
 * names come from the machine (domains.ts) and the converter is not asked; elsewhere from the converter.
 */
import { domainOf } from "./domains.js";
import { codePointsToUtf16, utf16ToCodePoints } from "./positions.js";
import { MAX_MATCHES, rank } from "./rank.js";
import { siteAt } from "./site.js";

export interface Completion {
  matches: string[];
  /** Code points, as Jupyter counts them. */
  cursorStart: number;
  cursorEnd: number;
  /** The reply's metadata: how many names matched (`bpfbook.total`) and, for machine names, their kind. */
  metadata?: Record<string, unknown>;
}

/** The converter's candidates at a UTF-16 position of the cell (its range is not used). */
export type Candidates = (position: number) => readonly string[];

/** Completion of `code` at `cursor` (code points). */
export function completeCell(code: string, cursor: number, candidates: Candidates, limit = MAX_MATCHES): Completion {
  const pos = codePointsToUtf16(code, cursor);
  const site = siteAt(code, pos);
  const domain = site.kind === "string" ? domainOf(site) : undefined;
  const ranked = rank(domain ? domain.names : candidates(pos), site.prefix, limit);
  const cursorStart = utf16ToCodePoints(code, site.start);
  const cursorEnd = utf16ToCodePoints(code, site.end);
  const metadata: Record<string, unknown> = { "bpfbook.total": ranked.total };
  if (domain) {
    metadata._jupyter_types_experimental = ranked.matches.map((text) => ({ start: cursorStart, end: cursorEnd, text, type: domain.kind }));
  }
  return { matches: ranked.matches, cursorStart, cursorEnd, metadata };
}
