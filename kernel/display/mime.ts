/* Objects that choose their own display (Symbol.for("Jupyter.display"), as in Deno's
 * kernel) and the html/markdown/svg/png constructors built on it. */
import { JUPYTER_DISPLAY, type Displayable, type DisplayData, type MimeBundle } from "./types.js";

export function isDisplayable(v: unknown): v is Displayable {
  return (typeof v === "object" || typeof v === "function") && v !== null && typeof (v as Partial<Displayable>)[JUPYTER_DISPLAY] === "function";
}

/** MIME types always contain "/", so a result whose keys have none is {data, metadata}. */
function isDisplayData(v: Record<string, unknown>): boolean {
  const keys = Object.keys(v);
  return keys.includes("data") && keys.every((k) => !k.includes("/")) && typeof v.data === "object" && v.data !== null;
}

export function displayableData(v: Displayable): DisplayData {
  const out: unknown = v[JUPYTER_DISPLAY]();
  if (typeof out !== "object" || out === null) throw new TypeError(`[Symbol.for("Jupyter.display")]() returned ${out === null ? "null" : typeof out}, not a MIME bundle`);
  if (typeof (out as { then?: unknown }).then === "function") throw new TypeError(`[Symbol.for("Jupyter.display")]() returned a Promise; display methods must be synchronous here`);
  const raw = out as Record<string, unknown>;
  const d = isDisplayData(raw)
    ? { data: { ...(raw.data as MimeBundle) }, metadata: { ...((raw.metadata as Record<string, unknown> | undefined) ?? {}) } }
    : { data: { ...raw }, metadata: {} };
  encodeBinaryImages(d.data);
  if (typeof d.data["text/plain"] !== "string") d.data["text/plain"] = plainFallback(d.data);
  return d;
}

/** Jupyter carries binary images base64-encoded; accept bytes for convenience. */
function encodeBinaryImages(data: MimeBundle): void {
  for (const [mime, v] of Object.entries(data)) {
    if (mime.startsWith("image/") && v instanceof Uint8Array) data[mime] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
  }
}

/** Something readable where only text/plain can be shown (consoles, history, `%history -o`). */
function plainFallback(data: MimeBundle): string {
  const md = data["text/markdown"];
  if (typeof md === "string") return md;
  const html = data["text/html"];
  if (typeof html === "string") {
    const text = htmlToText(html);
    if (text) return text.length > 200 ? `${text.slice(0, 199)}…` : text;
  }
  const mimes = Object.keys(data);
  return mimes.length ? `[${mimes.join(", ")}]` : "[empty display]";
}

function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

/** A displayable whose bundle is fixed when made. */
function fixed(data: MimeBundle, metadata: Record<string, unknown> = {}): Displayable {
  return { [JUPYTER_DISPLAY]: () => ({ data: { ...data }, metadata: { ...metadata } }) };
}

/** Shows `source` as HTML (rendered as-is: it is yours, so it is not escaped). */
export function html(source: string): Displayable {
  return fixed({ "text/html": source, "text/plain": htmlToText(source) || "[HTML]" });
}

export function markdown(source: string): Displayable {
  return fixed({ "text/markdown": source, "text/plain": source });
}

export function svg(source: string): Displayable {
  return fixed({ "image/svg+xml": source, "text/plain": "[SVG image]" });
}

/** Shows PNG bytes; width and height come from the PNG header. */
export function png(bytes: Uint8Array): Displayable {
  const size = pngSize(bytes);
  const data = {
    "image/png": Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
    "text/plain": size ? `[PNG image ${size.width}×${size.height}]` : "[PNG image]",
  };
  return fixed(data, size ? { "image/png": size } : {});
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The IHDR chunk comes first, so width and height sit at fixed offsets 16 and 20. */
function pngSize(b: Uint8Array): { width: number; height: number } | undefined {
  if (b.length < 24 || PNG_SIGNATURE.some((x, i) => b[i] !== x)) return undefined;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
