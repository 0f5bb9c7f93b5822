/* The functions a cell can call to talk to the notebook, installed as globals:
 * display() (with handles that update in place), clearOutput(), input(), help(),
 * and comms. Their declarations for the type checker are in PRELUDE. */
import type { Comm, CommTarget } from "./comms.js";
import { randomUUID } from "node:crypto";
import { helpPage } from "./help-page.js";
import { html, markdown, svg, png, plotlyFigure } from "./display/index.js";

export interface NotebookHost {
  display(value: unknown, id: string | undefined, update: boolean): void;
  clearOutput(wait: boolean): void;
  input(prompt: string, password: boolean): Promise<string>;
  page(text: string): void;
  comm(target: string, data: unknown): Comm;
  registerCommTarget(name: string, fn: CommTarget): void;
}

export interface DisplayHandle {
  readonly id: string;
  /** Replaces what this display shows, in place (update_display_data). */
  update(value: unknown): void;
}

export function installNotebookApi(host: NotebookHost): void {
  const g = globalThis as Record<string, unknown>;
  g.display = (value: unknown, opts: { id?: string } = {}): DisplayHandle => {
    const id = opts.id ?? randomUUID();
    host.display(value, id, false);
    return { id, update: (v: unknown) => host.display(v, id, true) };
  };
  g.updateDisplay = (id: string, value: unknown) => host.display(value, id, true);
  g.clearOutput = (wait = false) => host.clearOutput(wait);
  g.input = (prompt = "", opts: { password?: boolean } = {}) => host.input(prompt, Boolean(opts.password));
  // the kernel passes `about` (the type checker's signature and docs of the argument) when it knows them
  g.help = (value: unknown, about?: string) => host.page(helpPage(value, about));
  g.openComm = (target: string, data?: unknown) => host.comm(target, data);
  Object.assign(g, { html, markdown, svg, png, plotlyFigure });
  g.registerCommTarget = (name: string, fn: CommTarget) => host.registerCommTarget(name, fn);
}

/** Declarations of the globals above, for the cell type checker. */
export const PRELUDE = `
interface DisplayHandle { readonly id: string; update(value: unknown): void }
/** Shows a value (table, chart, anything) now; the handle updates it in place. */
declare function display(value: unknown, opts?: { id?: string }): DisplayHandle;
/** Replaces what the display with this id shows. */
declare function updateDisplay(id: string, value: unknown): void;
/** Clears this cell's output (wait: when the next output arrives). */
declare function clearOutput(wait?: boolean): void;
/** Asks the user for a line of input in the notebook. */
declare function input(prompt?: string, opts?: { password?: boolean }): Promise<string>;
/**
 * Shows documentation of a value in the pager: its signature or type, its doc comment and its members.
 * @param about filled in by the kernel for a name or property path (what Shift+Tab shows); leave it out.
 */
declare function help(value: unknown, about?: string): void;
interface NotebookComm { readonly id: string; readonly target: string; send(data: unknown): void; close(data?: unknown): void; onMessage: ((data: unknown) => void) | null; onClose: ((data: unknown) => void) | null }
/** Opens a comm to the frontend. */
declare function openComm(target: string, data?: unknown): NotebookComm;
/** Rich values: each displays as its MIME type when it is a cell's value or passed to display(). */
declare function html(source: string): unknown;
declare function markdown(source: string): unknown;
declare function svg(source: string): unknown;
declare function png(bytes: Uint8Array): unknown;
/** A Plotly figure (shown as an interactive chart, offline). */
declare function plotlyFigure(data: Record<string, unknown>[], layout?: Record<string, unknown>, config?: Record<string, unknown>): { data: Record<string, unknown>[]; layout: Record<string, unknown>; config: Record<string, unknown> };
/** Handles comms the frontend opens with this target name. */
declare function registerCommTarget(name: string, fn: (comm: NotebookComm, data: unknown) => void): void;
`;
