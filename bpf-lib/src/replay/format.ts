/* A recording: everything a notebook's calls into bpfbook returned, in call order, so
 * the notebook can run again where there is no BPF (another machine, no root) with the
 * same tables, charts and stats. A folder: index.json (this format, versioned) and one
 * Arrow IPC file per table.
 *
 *   <notebook>.recording/
 *     index.json     { format: "bpfbook-recording", version: 1, machine: {...}, calls: [...] }
 *     0003.arrow     the table call 3 returned (Arrow IPC file; its stats in the schema metadata)
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BpfbookError } from "../errors.js";
import type { Encoded } from "./values.js";

export const RECORDING_FORMAT = "bpfbook-recording";
export const RECORDING_VERSION = 1;

/** The machine a recording was made on: what a reader needs to know they are not looking at live data. */
export interface MachineFacts {
  hostname: string;
  kernel: string;
  cpus: number;
  recordedAt: string;
  /** Add to a `ts` (CLOCK_MONOTONIC ns) of the recording to get Unix epoch ns. */
  epochOffsetNs: number;
  bpfbookVersion: string;
  /** `bpfbook doctor --json` on that machine, when it could run. */
  doctor?: unknown;
}

/**
 * What one call returned: a value (plain data as JSON with markers: `{ "$table": file }`
 * for a table, `{ "$handle": id }` for an object bpfbook handed back, whose own calls are
 * recorded later as `$id.method(...)`), a promise and what it settled to, or an error.
 */
export type Outcome =
  | { kind: "value"; value: Encoded }
  | { kind: "promise"; resolved?: Encoded; rejected?: RecordedError }
  | { kind: "thrown"; error: RecordedError };

export interface RecordedError {
  name: string;
  message: string;
  code?: string;
}

export interface RecordedCall {
  /** Call number, from 0, in the order the notebook made them. */
  n: number;
  /** The notebook cell (execution count) that made it. */
  cell: number;
  /** What was called: `tracepoint`, `syscalls.latency`, `$3.count`, `$5.stop`, or `$5.received` (a property read). */
  call: string;
  /** Its arguments, for people (a replay matches calls by `call`, not by arguments: pids differ from run to run). */
  args?: string;
  outcome: Outcome;
}

export interface RecordingIndex {
  format: typeof RECORDING_FORMAT;
  version: number;
  machine: MachineFacts;
  calls: RecordedCall[];
}

/** A recording that cannot be read or written. */
export class RecordingError extends BpfbookError {
  constructor(message: string) {
    super("ERECORDING", message);
  }
}

export function readIndex(dir: string): RecordingIndex {
  const file = join(dir, "index.json");
  if (!existsSync(file)) throw new RecordingError(`there is no recording at ${dir} (no index.json): record one first with \`bpfbook run <notebook> --record\``);
  let index: RecordingIndex;
  try {
    index = JSON.parse(readFileSync(file, "utf8")) as RecordingIndex;
  } catch (e) {
    throw new RecordingError(`${file} is not a recording's index: ${(e as Error).message}`);
  }
  if (index.format !== RECORDING_FORMAT) throw new RecordingError(`${file} is not a bpfbook recording (format ${JSON.stringify(index.format)})`);
  if (index.version > RECORDING_VERSION) throw new RecordingError(`${file} is version ${index.version} of the recording format; this bpfbook reads up to version ${RECORDING_VERSION}: upgrade bpfbook`);
  return index;
}

/** Starts a fresh recording folder (what was there is replaced). */
export function resetRecording(dir: string): void {
  if (existsSync(dir)) {
    for (const f of readdirSync(dir)) if (f === "index.json" || f.endsWith(".arrow")) rmSync(join(dir, f));
  }
  mkdirSync(dir, { recursive: true });
}

export function writeIndex(dir: string, index: RecordingIndex): void {
  writeFileSync(join(dir, "index.json"), JSON.stringify(index, null, 1) + "\n");
}

/** The recording folder of a notebook: next to it, named after it. */
export function recordingPathOf(notebook: string): string {
  return notebook.replace(/\.ipynb$/, "") + ".recording";
}
