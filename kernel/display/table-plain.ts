/* A table as aligned text, for consoles, history and frontends without HTML. */
import type { TableModel, ColumnKind } from "./table-model.js";
import { statsParts } from "./table-stats.js";

const GAP = "  ";

function pad(s: string, width: number, right: boolean): string {
  return right ? s.padStart(width) : s.padEnd(width);
}

export function tablePlain(m: TableModel): string {
  const right = (k: ColumnKind) => k === "number" || k === "bigint";
  const text = m.cells.map((row) => row.map((c) => c.text ?? "null"));
  const widths = m.names.map((name, c) => text.reduce((w, row) => Math.max(w, row[c].length), Math.max(name.length, m.kinds[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((s, c) => pad(s, widths[c], right(m.kinds[c])))
      .join(GAP)
      .trimEnd();
  const out = [m.header];
  if (m.cols > 0) {
    out.push(line(m.names), line(m.kinds), widths.map((w) => "-".repeat(w)).join(GAP));
    for (const row of text) out.push(line(row));
  }
  if (m.shown === 0) out.push("(no rows)");
  if (m.stats) out.push(statsParts(m.stats).map((p) => (p.loud ? `⚠ ${p.text}` : p.text)).join(" · "));
  return out.join("\n");
}
