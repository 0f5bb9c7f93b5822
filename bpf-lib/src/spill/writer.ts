/* The trace's side of the writer thread: posts each batch of rows as it is drained
 * (its buffers moved, so the trace's memory is released at once), keeps the list of
 * files written, and tracks how far the writer lags (rows posted, not yet in a file). */
import { Worker } from "node:worker_threads";
import type { Columns } from "../engine/decoder.js";
import { BpfbookError } from "../errors.js";
import { toWire, type FromWriter, type ToWriter, type WriterConfig, type WrittenFile } from "./messages.js";

export class SpillWriter {
  readonly #worker: Worker;
  readonly files: WrittenFile[] = [];
  #posted = 0;
  #written = 0;
  #peakBacklog = 0;
  #writeMs = 0;
  #error: Error | null = null;
  #closing = false;
  #flushed: (() => void) | null = null;
  #failed: ((e: Error) => void) | null = null;
  readonly #onError: (e: Error) => void;

  /** onError: called once, with the first error of the writer (the trace is stopped by it). */
  constructor(config: WriterConfig, onError: (e: Error) => void) {
    this.#onError = onError;
    this.#worker = new Worker(new URL("./writer-worker.js", import.meta.url), { workerData: config });
    this.#worker.on("message", (m: FromWriter) => {
      if (m.kind === "file") {
        this.files.push(m.file);
        this.#written += m.file.rows;
        this.#writeMs += m.file.ms;
      } else if (m.kind === "flushed") this.#flushed?.();
      else this.#fail(new BpfbookError(m.code ?? "ESPILLWRITE", `spill(): writing a Parquet file failed: ${m.message}`));
    });
    this.#worker.on("error", (e) => this.#fail(e));
    this.#worker.on("exit", (code) => {
      if (!this.#closing) this.#fail(new BpfbookError("ESPILLWRITE", `spill(): the writer thread exited (code ${code}) before writing every row`));
    });
  }

  #fail(e: Error): void {
    if (this.#error) return;
    this.#error = e;
    this.#onError(e);
    this.#failed?.(e);
  }

  get error(): Error | null {
    return this.#error;
  }

  /** Rows posted that are not in a file yet. */
  get backlog(): number {
    return this.#posted - this.#written;
  }

  /** Rows handed to the writer so far. */
  get posted(): number {
    return this.#posted;
  }

  get peakBacklog(): number {
    return this.#peakBacklog;
  }

  /** ms the writer thread spent joining, encoding and writing. */
  get writeMs(): number {
    return this.#writeMs;
  }

  /** Hands a batch to the writer; the caller gives its buffers up. A batch of no rows is posted only when `empty` (the columns of a trace that saw nothing). */
  post(cols: Columns, rows: number, empty = false): void {
    if ((rows === 0 && !empty) || this.#error) return;
    const { cols: wire, transfer } = toWire(cols);
    this.#worker.postMessage({ kind: "rows", cols: wire, rows } satisfies ToWriter, transfer);
    this.#posted += rows;
    this.#peakBacklog = Math.max(this.#peakBacklog, this.backlog);
  }

  /** Writes what waits into a last file and resolves once every posted row is in a file (rejects with the writer's error). */
  flush(): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise<void>((resolve, reject) => {
      this.#flushed = resolve;
      this.#failed = reject;
      this.#worker.postMessage({ kind: "flush" } satisfies ToWriter);
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#worker.terminate();
  }
}
