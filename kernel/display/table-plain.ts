/* A table as aligned text, for consoles, history and frontends without HTML. */
import { kindLabel, numericKind, rightAligned, type TableModel } from "./table-model.js";
import { statsParts } from "./table-stats.js";

const GAP = "  ";

function pad(s: string, width: number, right: boolean): string {
  return right ? s.padStart(width) : s.padEnd(width);
}

export function tablePlain(m: TableModel): string {
  const text = m.cells.map((row) => row.map((c) => c.text ?? "null"));
  const labels = m.kinds.map((k, c) => kindLabel(k, m.units[c]));
  const widths = m.names.map((name, c) => text.reduce((w, row) => Math.max(w, row[c].length), Math.max(name.length, labels[c].length)));
  // Names and type labels align as their column's kind; each value as itself (numbers right, text left).
  const line = (cells: string[], right: (c: number) => boolean) =>
    cells
      .map((s, c) => pad(s, widths[c], right(c)))
      .join(GAP)
      .trimEnd();
  const byKind = (c: number) => numericKind(m.kinds[c]);
  const out = [m.header];
  if (m.cols > 0) {
    out.push(line(m.names, byKind), line(labels, byKind), widths.map((w) => "-".repeat(w)).join(GAP));
    m.cells.forEach((row, r) => out.push(line(text[r], (c) => rightAligned(m.kinds[c], row[c]))));
  }
  if (m.shown === 0) out.push("(no rows)");
  if (m.stats) out.push(statsParts(m.stats).map((p) => (p.loud ? `⚠ ${p.text}` : p.text)).join(" · "));
  return out.join("\n");
}
