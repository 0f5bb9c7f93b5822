/* Plotly reads hover text, labels and titles as its own small HTML: a comm such as
 * "<idle>" or a frame such as "std::vector<int>" would lose its angle brackets. */

export function escapeText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
