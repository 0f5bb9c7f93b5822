/* Static images for the live notebook kernel's charts (issue 13). A chart shows at once,
 * interactive, with a display id; its PNG (and SVG) is drawn later by the same renderer
 * `bpfbook run` uses (static-image.ts) and the output is replaced in place
 * (update_display_data with the whole bundle plus the images), so a notebook saved from
 * the browser keeps them.
 *  - Drawing waits until the session is quiet: no cell running and no collection
 *    (trace, aggregation, profile) running, for IDLE_MS. Chromium costs seconds of CPU to
 *    start and some per chart, and the tracer must not disturb what it measures; it also
 *    runs under SCHED_IDLE (static-image.ts) in case a collection starts meanwhile.
 *  - One renderer per session, started at the first chart there is to draw, reused,
 *    closed at shutdown (or when images are switched off).
 *  - Pending charts are keyed by display id, so a live chart is drawn once, in its final
 *    state; at most MAX_PENDING wait (the oldest are left without an image).
 *  - A failure never fails a cell: one warning per session, the chart stays interactive. */
import { attachImage, figureTitle, type OutputJson } from "./publish.js";
import { PLOTLY_MIME } from "./plotly.js";
import { ChartRenderer, chromiumPath, type ChartFigure, type StaticImage } from "./static-image.js";
import { imagesMode, imagesModeEnvError, onImagesMode, setImagesStatus, type ImagesMode } from "./image-mode.js";
import type { DisplayData } from "./types.js";

/** Quiet time before drawing: a Run All starts its next cell within milliseconds. */
export const IDLE_MS = 1000;
/** Charts waiting for an image at most; older ones are left without. */
export const MAX_PENDING = 32;

export interface Renderer {
  render(fig: ChartFigure): Promise<StaticImage>;
  close(): Promise<void>;
  readonly startMs: number;
}

/** What the kernel does for this module; P is its message header type. */
export interface ImagesHost<P> {
  /** Replaces display `id` by `bundle` (update_display_data), as output of the request `parent`. */
  update(id: string, bundle: DisplayData, parent: P): void;
  /** Says something once per session, as output of the request `parent`. */
  warn(text: string, parent: P): void;
  /** Whether a cell or a collection is running now (no drawing then). */
  busy(): boolean;
}

export interface KernelImagesOptions {
  /** Starts the renderer (default: Chromium under SCHED_IDLE, signals left to the kernel). */
  launch?: () => Promise<Renderer>;
  /** The Chromium "auto" looks for (default chromiumPath()). */
  chromium?: () => string | undefined;
  idleMs?: number;
}

interface Pending<P> {
  bundle: DisplayData;
  parent: P;
}

function figureOf(d: DisplayData): ChartFigure | undefined {
  const f = d.data[PLOTLY_MIME];
  if (typeof f !== "object" || f === null || !Array.isArray((f as { data?: unknown }).data)) return undefined;
  return f as ChartFigure;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0]!;

export class KernelImages<P> {
  readonly #host: ImagesHost<P>;
  readonly #launch: () => Promise<Renderer>;
  readonly #chromium: () => string | undefined;
  readonly #idleMs: number;
  /** Charts to draw, by display id, oldest first. */
  readonly #pending = new Map<string, Pending<P>>();
  #renderer: Renderer | undefined;
  #starting: Promise<Renderer> | undefined;
  /** Why no renderer could start this session (then no more tries until the mode is set again). */
  #broken: string | undefined;
  #working = false;
  /** The display being drawn, and whether it has shown something else since (then its image is dropped). */
  #drawing: { id: string; superseded: boolean } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #warned = false;
  #closed = false;
  #found: string | undefined | null = null;
  readonly #stopListening: () => void;
  /** What was drawn, for `%bpfbook images` and the report. */
  readonly stats = { rendered: 0, failed: 0, dropped: 0, startMs: undefined as number | undefined, perChartMs: [] as number[] };

  constructor(host: ImagesHost<P>, opts: KernelImagesOptions = {}) {
    this.#host = host;
    this.#launch = opts.launch ?? (() => ChartRenderer.launch(chromiumPath(), { lowPriority: true, playwrightSignals: false }));
    this.#chromium = opts.chromium ?? chromiumPath;
    this.#idleMs = opts.idleMs ?? IDLE_MS;
    this.#stopListening = onImagesMode((m) => this.#modeChanged(m));
    setImagesStatus(() => this.describe());
  }

  #chromiumFound(): string | undefined {
    if (this.#found === null) this.#found = this.#chromium();
    return this.#found;
  }

  /** Whether charts get images now: "on", or "auto" with a Chromium found. */
  get enabled(): boolean {
    const m = imagesMode();
    return !this.#closed && (m === "on" || (m === "auto" && this.#chromiumFound() !== undefined));
  }

  /** Every display the kernel publishes with an id (charts or not: a non-chart replaces a pending chart). */
  published(id: string | undefined, bundle: DisplayData, parent: P): void {
    if (id === undefined) return;
    this.#pending.delete(id); // re-inserted last: the newest state of a display waits as the newest
    if (this.#drawing?.id === id) this.#drawing.superseded = true;
    if (!figureOf(bundle)) return;
    const envError = imagesModeEnvError();
    if (envError) this.#warnOnce(`static images: off, since ${envError.message}`, parent);
    if (!this.enabled || this.#broken !== undefined) return;
    this.#pending.set(id, { bundle, parent });
    while (this.#pending.size > MAX_PENDING) {
      this.#pending.delete(this.#pending.keys().next().value!);
      this.stats.dropped++;
    }
    this.kick();
  }

  /**
   * Something that made the session busy may have ended (a cell, a collection): draw once
   * it has been quiet for idleMs. While charts wait and the session is busy, it looks
   * again every idleMs (not every end of being busy calls this: a completion request).
   */
  kick(): void {
    if (this.#working || this.#closed || this.#pending.size === 0) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#host.busy()) this.kick();
      else void this.#work();
    }, this.#idleMs);
    this.#timer.unref();
  }

  async #work(): Promise<void> {
    if (this.#working) return;
    this.#working = true;
    try {
      while (!this.#closed && this.#pending.size > 0 && !this.#host.busy() && this.enabled) {
        const [id, item] = this.#pending.entries().next().value!;
        this.#pending.delete(id);
        const drawing = (this.#drawing = { id, superseded: false });
        const renderer = await this.#rendererFor(item.parent);
        if (!renderer || this.#closed) return;
        // a collection may have started while Chromium started: wait for quiet again
        if (this.#host.busy()) {
          if (!drawing.superseded) this.#pending.set(id, item);
          this.#drawing = undefined;
          return;
        }
        if (drawing.superseded) continue; // its newer state waits
        let img: StaticImage;
        try {
          img = await renderer.render(figureOf(item.bundle)!);
        } catch (e) {
          if (this.#closed || !this.enabled) return; // closed under it: switched off, or shutting down
          this.stats.failed++;
          this.#warnOnce(`static images: the chart's image could not be drawn (${firstLine(e)}); it stays interactive, without an image`, item.parent);
          continue;
        } finally {
          this.#drawing = undefined;
        }
        // shown again or replaced meanwhile: that newer state is pending, or no chart any more
        if (this.#closed || drawing.superseded) continue;
        const out: OutputJson = { output_type: "display_data", data: { ...item.bundle.data }, metadata: { ...item.bundle.metadata } };
        const fig = figureOf(item.bundle)!;
        attachImage(out, img, figureTitle(fig));
        this.stats.rendered++;
        this.stats.perChartMs.push(img.ms);
        this.#host.update(id, { data: out.data!, metadata: out.metadata! }, item.parent);
      }
    } finally {
      this.#working = false;
      this.#drawing = undefined;
      // more may have arrived (or a busy spell ended) while drawing
      if (!this.#closed && this.#pending.size > 0) this.kick();
    }
  }

  /** The session's renderer, started on first use; undefined (warned once) when it cannot start. */
  async #rendererFor(parent: P): Promise<Renderer | undefined> {
    if (this.#renderer) return this.#renderer;
    if (this.#broken !== undefined) return undefined;
    this.#starting ??= this.#launch();
    try {
      const r = await this.#starting;
      if (this.#closed) {
        await r.close().catch(() => undefined);
        return undefined;
      }
      this.#renderer = r;
      this.stats.startMs = r.startMs;
      return r;
    } catch (e) {
      this.#broken = firstLine(e);
      this.#pending.clear();
      this.#warnOnce(`static images: no renderer (${this.#broken}); charts stay interactive, without images. %bpfbook images off stops trying.`, parent);
      return undefined;
    } finally {
      this.#starting = undefined;
    }
  }

  #warnOnce(text: string, parent: P): void {
    if (this.#warned) return;
    this.#warned = true;
    this.#host.warn(text, parent);
  }

  #modeChanged(m: ImagesMode): void {
    this.#broken = undefined; // set again: try again
    this.#found = null;
    if (m === "off" || !this.enabled) {
      this.#pending.clear();
      void this.#closeRenderer();
    }
  }

  async #closeRenderer(): Promise<void> {
    const r = this.#renderer ?? (this.#starting ? await this.#starting.catch(() => undefined) : undefined);
    this.#renderer = undefined;
    await r?.close().catch(() => undefined);
  }

  /** One line: the mode, the renderer and what it drew. */
  describe(): string {
    const m = imagesMode();
    const found = this.#chromiumFound();
    const state = this.enabled ? "on" : "off";
    const why = m === "auto" ? (found ? ` (auto: Chromium ${found})` : " (auto: no Chromium found; set BPFBOOK_CHROMIUM or apt-get install chromium)") : "";
    const parts = [`static images: ${state}${why}`];
    if (this.#broken) parts.push(`no renderer: ${this.#broken}`);
    const s = this.stats;
    if (s.rendered || s.failed) {
      const per = [...s.perChartMs].sort((a, b) => a - b);
      parts.push(`${s.rendered} chart${s.rendered === 1 ? "" : "s"} drawn${per.length ? ` (median ${secs(per[Math.floor(per.length / 2)]!)} each, after a ${secs(s.startMs ?? 0)} start)` : ""}${s.failed ? `, ${s.failed} failed` : ""}`);
    }
    if (s.dropped) parts.push(`${s.dropped} left without an image (more than ${MAX_PENDING} waiting)`);
    if (this.#pending.size) parts.push(`${this.#pending.size} waiting for the session to be quiet`);
    return parts.join("; ");
  }

  /** Shutdown: nothing more is drawn and Chromium is closed (no process outlives the kernel). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopListening();
    if (this.#timer) clearTimeout(this.#timer);
    this.#pending.clear();
    await this.#closeRenderer();
  }
}
