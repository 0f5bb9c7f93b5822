/* Exact numbers for hover text: grouped digits are easier to read and lose nothing. */

export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toLocaleString("en-US", { maximumFractionDigits: 0 });
  return n.toLocaleString("en-US", { maximumSignificantDigits: 15 });
}

/** A share of a total, for hover text: "12.3%"; "<0.1%" so a small share never reads as none. */
export function formatShare(part: number, total: number): string {
  if (!(total > 0)) return "–";
  const pct = (100 * part) / total;
  if (pct > 0 && pct < 0.1) return "<0.1%";
  return `${Number(pct.toFixed(1))}%`;
}

/** Plotly escapes nothing in hover text and titles; table values are arbitrary strings. */
export function escapeText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
