/* The shapes the display layer hands to the kernel, and the symbols values use to
 * ask for a display of their own. */

/** MIME type → payload, as Jupyter's display_data/execute_result `data` field. */
export type MimeBundle = Record<string, unknown>;

/** What the kernel publishes for one value. */
export interface DisplayData {
  data: MimeBundle;
  metadata: Record<string, unknown>;
}

export interface DisplayOptions {
  /** Table rows to show (default 20). */
  limit?: number;
  /** Longest table cell text before it is cut with "…" (default 120; text/plain uses at most 40). */
  maxCellChars?: number;
}

/**
 * Deno's protocol, shared so objects written for Deno's kernel show here too: an object
 * with this method is shown as the bundle it returns.
 */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display");

/** Marks a Plotly figure built by our chart helpers, so extra fields don't hide it. */
export const PLOTLY_MARKER: unique symbol = Symbol.for("bpfbook.plotly");

/** An object that chooses its own display. */
export interface Displayable {
  [JUPYTER_DISPLAY](): MimeBundle | DisplayData;
}
