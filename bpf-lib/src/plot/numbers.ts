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

/** 3 significant digits with k/M/G, for tick labels of plain numbers: 1024 → "1.02K". */
export function formatCompact(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? "∞" : n < 0 ? "−∞" : "NaN";
  return n.toLocaleString("en-US", { notation: "compact", maximumSignificantDigits: 3 });
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Binary units, as log2 buckets of sizes fall on them exactly: 4096 → "4 KiB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? "∞" : n < 0 ? "−∞" : "NaN";
  let i = 0;
  let v = Math.abs(n);
  while (v >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${n < 0 ? "-" : ""}${Number(v.toPrecision(3))} ${BYTE_UNITS[i]}`;
}
