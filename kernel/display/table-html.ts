/* A table as self-contained HTML: inline CSS scoped to one class (notebook pages
 * carry their own styles), colours that work on light and dark themes, nothing fetched. */
import { escapeHtml } from "./escape.js";
import { kindLabel, numericKind, rightAligned, type TableModel, type TableCell, type ColumnKind } from "./table-model.js";
import { statsParts } from "./table-stats.js";

const CLASS = "bpfbook-table";

// Cells are aligned by these rules, one element more specific than the notebooks' own
// (".rendered_html td", ".jp-RenderedHTMLCommon td": text-align right), whatever their order.
// Translucent greys instead of fixed colours so the same CSS reads on JupyterLab's
// dark theme and VS Code's, which set the text colour we inherit.
const STYLE = `<style>
.${CLASS} { font-family: var(--jp-code-font-family, ui-monospace, SFMono-Regular, Menlo, Consolas, monospace); font-size: 12px; line-height: 1.4; max-width: 100%; overflow-x: auto; color: inherit; }
.${CLASS} .bt-caption { margin: 0 0 4px 0; opacity: 0.75; }
.${CLASS} table { border-collapse: collapse; border: none; margin: 0; table-layout: auto; width: auto; }
.${CLASS} table th, .${CLASS} table td { padding: 2px 10px; border: none; text-align: left; vertical-align: top; white-space: pre; max-width: none; }
.${CLASS} th { border-bottom: 1px solid rgba(127,127,127,0.5); font-weight: 600; }
.${CLASS} th .bt-type { display: block; font-weight: normal; font-size: 10px; opacity: 0.6; }
.${CLASS} tbody tr:nth-child(odd) { background: rgba(127,127,127,0.08); }
.${CLASS} tbody tr:hover { background: rgba(127,127,127,0.18); }
.${CLASS} table .bt-num { text-align: right; font-variant-numeric: tabular-nums; }
.${CLASS} .bt-null { opacity: 0.45; font-style: italic; }
.${CLASS} .bt-empty { opacity: 0.6; font-style: italic; }
.${CLASS} .bt-stats { margin: 4px 0 0 0; opacity: 0.8; }
.${CLASS} .bt-lost { color: #d32f2f; font-weight: 700; opacity: 1; }
.${CLASS} .bt-stats.bt-has-lost { opacity: 1; border-left: 3px solid #d32f2f; padding-left: 6px; }
</style>`;


function td(kind: ColumnKind, cell: TableCell): string {
  const cls = [rightAligned(kind, cell) ? "bt-num" : "", cell.text === null ? "bt-null" : ""].filter(Boolean).join(" ");
  const attr = (cls ? ` class="${cls}"` : "") + (cell.exact ? ` title="${escapeHtml(cell.exact)}"` : "");
  return `<td${attr}>${cell.text === null ? "null" : escapeHtml(cell.text)}</td>`;
}

export function tableHtml(m: TableModel): string {
  const head = m.names
    .map((name, c) => {
      const cls = numericKind(m.kinds[c]) ? ` class="bt-num"` : "";
      const unit = m.units[c];
      const title = unit ? ` title="durations in ${unit}, shown in the unit that suits each value; hover a cell for the exact value"` : "";
      return `<th${cls}${title}>${escapeHtml(name)}<span class="bt-type">${escapeHtml(kindLabel(m.kinds[c], unit))}</span></th>`;
    })
    .join("");
  const body =
    m.shown === 0
      ? `<tr><td class="bt-empty" colspan="${Math.max(1, m.cols)}">(no rows)</td></tr>`
      : m.cells.map((row) => `<tr>${row.map((cell, c) => td(m.kinds[c], cell)).join("")}</tr>`).join("\n");
  return [
    `<div class="${CLASS}">`,
    STYLE,
    `<div class="bt-caption">${escapeHtml(m.header)}</div>`,
    `<table>`,
    `<thead><tr>${head}</tr></thead>`,
    `<tbody>\n${body}\n</tbody>`,
    `</table>`,
    statsFooter(m),
    `</div>`,
  ].join("\n");
}

function statsFooter(m: TableModel): string {
  if (!m.stats) return "";
  const parts = statsParts(m.stats);
  const text = parts.map((p) => (p.loud ? `<span class="bt-lost">⚠ ${escapeHtml(p.text)}</span>` : escapeHtml(p.text)));
  return `<div class="bt-stats${parts.some((p) => p.loud) ? " bt-has-lost" : ""}">${text.join(" · ")}</div>`;
}
