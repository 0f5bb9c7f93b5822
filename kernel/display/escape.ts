/* Escaping for the two places we write into: HTML text/attributes, and script bodies. */

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * JSON that can sit inside <script>: "<" could start "</script>" or "<!--", and
 * U+2028/9 break older JS parsers. The escapes are valid JSON and JS alike.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/**
 * Makes JavaScript source safe to inline in a <script> element. "</script" would end
 * the element and "<!--" followed by "<script" would stop a later "</script>" from
 * ending it. Outside comments these only occur in string, template or regex literals,
 * where "\x3C" means "<" too, so the code behaves the same.
 */
export function scriptSafeSource(src: string): string {
  return src.replace(/(?<!\\)<(?=!--|\/?script)/gi, "\\x3C");
}
