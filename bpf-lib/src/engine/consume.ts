/* The two ways to consume a trace: collect() into one table, stream() as batches.
 * Both report progress and always stop (detach) the trace, whatever happens. */
import { Trace, type CollectOptions, type StopOptions } from "./trace.js";
import { toTraceTable, type TraceTable } from "./table.js";
import type { Columns } from "./decoder.js";
import { concatColumns } from "./concat.js";
import { collectOptions, millis, stopOptions } from "../options/durations.js";

export interface StreamOptions extends StopOptions {
  /** Minimum time between batches, in ms (default 250). */
  batchMs?: number;
}

/** Checks the options (before anything loads), starts the trace and collects until a stop condition. */
export async function collect<Row extends object>(start: (opts: CollectOptions) => Trace, options: CollectOptions | undefined): Promise<TraceTable<Row>> {
  const opts = collectOptions(options, "collect()");
  const trace = start(opts);
  const stopReporting = reportProgress(trace, opts);
  try {
    return await trace.finished<Row>();
  } finally {
    stopReporting();
    await trace.stop();
  }
}

/**
 * Calls onProgress every progressMs while the trace runs. A throwing callback ends
 * the trace (detached, released) and finished() rejects with the callback's error:
 * an exception thrown from a timer would otherwise take the whole process down.
 * Returns the function that stops reporting.
 */
export function reportProgress(trace: Trace, opts: Pick<CollectOptions, "onProgress" | "progressMs" | "seconds" | "events">): () => void {
  const onProgress = opts.onProgress;
  if (!onProgress) return () => {};
  const timer = setInterval(() => {
    try {
      const fraction = opts.seconds !== undefined ? Math.min(1, trace.elapsed() / opts.seconds)
        : opts.events !== undefined ? Math.min(1, trace.received / opts.events) : undefined;
      onProgress(trace.progress(fraction), trace);
    } catch (e) {
      clearInterval(timer);
      trace.fail(e);
    }
  }, opts.progressMs ?? 500);
  return () => clearInterval(timer);
}

/** Checks the options when called (not at the first next()), then yields batches as tables. */
export function stream<Row extends object>(start: (opts: StopOptions) => Trace, options: StreamOptions | undefined): AsyncGenerator<TraceTable<Row>> {
  const opts = stopOptions(options, "stream()");
  millis(opts.batchMs, "batchMs", "stream()", 0);
  return batches<Row>(start, opts);
}

async function* batches<Row extends object>(start: (opts: StopOptions) => Trace, opts: StreamOptions): AsyncGenerator<TraceTable<Row>> {
  const trace = start(opts);
  const minGap = opts.batchMs ?? 250;
  let last = 0;
  let pending: Columns[] = [];
  try {
    for await (const cols of trace.batches()) {
      pending.push(cols);
      const now = Date.now();
      if (now - last < minGap && trace.running) continue;
      last = now;
      yield toTraceTable<Row>(concatColumns(pending), trace.stats(), trace.decorate);
      pending = [];
    }
    if (pending.length) yield toTraceTable<Row>(concatColumns(pending), trace.stats(), trace.decorate);
  } finally {
    await trace.stop();
  }
}
