/* writeParquet: any table as Parquet, which DuckDB, pandas, Polars and Spark read.
 * The columns become Arrow columns typed as saveTrace() types them (so bigint,
 * dictionary-string and 0-row columns keep their types, and the stats ride along as
 * metadata), then parquet-wasm (arrow-rs's Parquet writer, compiled to WebAssembly)
 * writes the Parquet. */
import { createRequire } from "node:module";
import type { ColumnTable } from "arquero";
import { tableToIPC } from "@uwdata/flechette";
import { InvalidOptionError } from "../errors.js";
import { optionsObject } from "../options/shapes.js";
import { toArrowTable } from "../engine/arrow-types.js";
import { tableArgument } from "./columns.js";
import { writePrivate, type WriteOptions } from "../engine/write-private.js";

type ParquetWasm = typeof import("parquet-wasm");
let wasm: ParquetWasm | null = null;
/** parquet-wasm compiles 5 MB of WebAssembly when loaded: only when a Parquet file is first written or read. */
export function parquetWasm(): ParquetWasm {
  wasm ??= createRequire(import.meta.url)("parquet-wasm") as ParquetWasm;
  return wasm;
}

export type ParquetCompression = "snappy" | "zstd" | "gzip" | "lz4" | "none";

export interface ParquetOptions extends WriteOptions {
  /** Page compression (default "snappy": what every Parquet reader reads). */
  compression?: ParquetCompression;
  /**
   * Which columns get Parquet's dictionary encoding: "all" (default) or "strings" (numbers
   * are written plain: about half the encoding time, and smaller for values that rarely
   * repeat, such as timestamps; spill() uses it).
   */
  dictionary?: "all" | "strings";
}

const WHAT = "writeParquet()";

/**
 * The table as Parquet bytes: every column with its type (numbers of each width,
 * bigints as INT64/UINT64, strings (dictionary-encoded), string lists, byte buffers
 * as BINARY), and the table's stats as key-value metadata (`bpfbook.stats`, JSON).
 */
export function parquetBytes(table: ColumnTable, options: ParquetOptions = {}): Uint8Array {
  const t = tableArgument(table, WHAT);
  const opts = optionsObject(options, WHAT, '{ compression: "zstd" }');
  const pw = parquetWasm();
  const codecs: Record<ParquetCompression, number> = {
    snappy: pw.Compression.SNAPPY, zstd: pw.Compression.ZSTD, gzip: pw.Compression.GZIP, lz4: pw.Compression.LZ4_RAW, none: pw.Compression.UNCOMPRESSED,
  };
  const compression = opts.compression ?? "snappy";
  if (!Object.hasOwn(codecs, compression)) throw new InvalidOptionError(WHAT, "compression", opts.compression, `one of ${Object.keys(codecs).map((c) => JSON.stringify(c)).join(", ")}`);
  const dictionary = opts.dictionary ?? "all";
  if (dictionary !== "all" && dictionary !== "strings") throw new InvalidOptionError(WHAT, "dictionary", opts.dictionary, '"all" or "strings"');
  const arrow = toArrowTable(t);
  // also as key-value metadata, which readers show without decoding the Arrow schema (DuckDB's parquet_kv_metadata, pyarrow's schema.metadata)
  const kv = new Map<string, string>(arrow.schema.metadata ?? []);
  let builder = new pw.WriterPropertiesBuilder().setCompression(codecs[compression]).setKeyValueMetadata(kv);
  if (dictionary === "strings") {
    builder = builder.setDictionaryEnabled(false);
    // utf8 (5) and dictionary (-1) columns keep it (flechette's type ids)
    for (const f of arrow.schema.fields) if (f.type.typeId === 5 || f.type.typeId === -1) builder = builder.setColumnDictionaryEnabled(f.name, true);
  }
  const props = builder.build();
  const input = pw.Table.fromIPCStream(tableToIPC(arrow, { format: "stream" })!);
  return pw.writeParquet(input, props);
}

/**
 * Writes the table to a Parquet file (owner-only, mode 0600, unless `mode` says
 * otherwise; see parquetBytes() for what it holds). Returns the bytes written.
 */
export function writeParquet(table: ColumnTable, path: string, options: ParquetOptions = {}): Uint8Array {
  if (typeof path !== "string" || path === "") throw new InvalidOptionError(WHAT, "path", path, 'a file name, e.g. "opens.parquet"');
  const bytes = parquetBytes(table, options);
  writePrivate(path, bytes, options);
  return bytes;
}
