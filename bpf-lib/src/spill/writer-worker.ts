/* The writer thread of a spilling trace: gathers the column sets the trace posts until
 * a file's worth of rows waits, then joins them, encodes them as Parquet (the same
 * Arrow types and writer as writeParquet()) and writes the file owner-only. Encoding
 * half a million rows takes 130-190 ms: here it runs beside the trace's drains instead of
 * between them. The rows of a file are let go once it is written. */
import { parentPort, workerData } from "node:worker_threads";
import { join } from "node:path";
import * as aq from "arquero";
import { concatColumns } from "../engine/concat.js";
import type { Columns } from "../engine/decoder.js";
import { parquetBytes } from "../export/parquet.js";
import { writePrivate } from "../engine/write-private.js";
import { fileName, fromWire, type FromWriter, type ToWriter, type WriterConfig } from "./messages.js";

const config = workerData as WriterConfig;
const port = parentPort!;
let waiting: Columns[] = [];
let waitingRows = 0;
let firstRow = 0;
let index = 0;

const say = (m: FromWriter) => port.postMessage(m);

function writeWaiting(): void {
  // (a file of no rows is written only when asked: a trace that saw nothing still has its columns' types)
  if (waiting.length === 0) return;
  const t0 = performance.now();
  const parts = waiting;
  waiting = [];
  const rows = waitingRows;
  waitingRows = 0;
  const path = join(config.dir, fileName(config.prefix, index++));
  const bytes = parquetBytes(aq.table(concatColumns(parts) as Record<string, ArrayLike<unknown>>), { compression: config.compression, dictionary: "strings" });
  writePrivate(path, bytes, { mode: config.mode });
  say({ kind: "file", file: { path, firstRow, rows, bytes: bytes.length, ms: performance.now() - t0 } });
  firstRow += rows;
}

port.on("message", (m: ToWriter) => {
  try {
    if (m.kind === "rows") {
      waiting.push(fromWire(m.cols));
      waitingRows += m.rows;
      if (waitingRows >= config.fileRows) writeWaiting();
    } else {
      writeWaiting();
      say({ kind: "flushed" });
    }
  } catch (e) {
    // a failed write (disk full, a file removed under us) ends the spill: the trace stops and spill() rejects with it
    const err = e as { message?: string; code?: string };
    say({ kind: "error", message: String(err.message ?? e), code: typeof err.code === "string" ? err.code : undefined });
    waiting = [];
    waitingRows = 0;
  }
});
