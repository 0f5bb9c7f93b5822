/* The fleet's wire protocol, between a notebook and `bpfbook agent --stdio` over any
 * byte pipe (a child's stdio, ssh, kubectl exec). A frame is
 *   u32 LE length of a JSON header | the header (UTF-8) | u32 LE length of a body | the body
 * so a reader never guesses where a message ends, and tables travel as Arrow IPC
 * bytes (the types saveTrace() keeps: dictionary strings, bigints) without JSON's cost.
 * Sizes are bounded so a corrupt or hostile stream is a named error, not an
 * allocation of gigabytes. PROTOCOL changes whenever a message changes meaning. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { tableToIPC } from "@uwdata/flechette";
import { arrowTypes, STATS_KEY, toArrowTable, VERSION_KEY } from "../engine/arrow-types.js";
import { traceFromArrow } from "../engine/persist.js";
import { FrameError } from "./errors.js";
import type { Plan } from "./plan.js";

export const PROTOCOL = 1;
/** A header is small JSON (stats, a plan): 1 MiB is far past any real one. */
export const MAX_HEADER_BYTES = 1 << 20;
/** A body is one table's Arrow bytes: Node's buffers stop at 2 GiB anyway. */
export const MAX_BODY_BYTES = 2 ** 31 - 1;

/** Agent → client, first and always. `epochOffsetNs`: add it to the host's monotonic ns to get its wall clock. */
export interface HelloMessage { type: "hello"; protocol: number; bpfbook: string; hostname: string; kernel: string; cpus: number; epochOffsetNs: number; cgroup?: string }
export interface StartedMessage { type: "started"; id: number }
/** About once a second while a run runs: events so far, lost so far, events per second over the last period. */
export interface ProgressMessage { type: "progress"; id: number; received: number; lost: number; rate: number; seconds: number }
/** The run's result; the body is the table as an Arrow IPC stream. */
export interface TableMessage { type: "table"; id: number; kind: "events" | "aggregation"; stats: Record<string, unknown> }
export interface ErrorMessage { type: "error"; id?: number; name: string; code?: string; message: string }
export interface DoneMessage { type: "done"; id: number }
export type AgentMessage = HelloMessage | StartedMessage | ProgressMessage | TableMessage | ErrorMessage | DoneMessage;

/** Client → agent. */
export interface RunMessage { type: "run"; id: number; plan: Plan }
/** `by`: why (an interrupt of the notebook's cell is "interrupt"; default "stop"), as the host's stats will say. */
export interface StopMessage { type: "stop"; id: number; by?: "stop" | "interrupt" }
/**
 * Every few seconds while the connection is open: the agent takes a silence of
 * AGENT_IDLE_MS as a notebook it lost (a dropped network gives no end of input for
 * hours) and releases everything.
 */
export interface PingMessage { type: "ping" }
export type ClientMessage = RunMessage | StopMessage | PingMessage;

/** How often the client pings its agents. */
export const PING_MS = 5_000;
/** An agent that hears nothing for this long releases everything and exits (`--idle-timeout`). */
export const AGENT_IDLE_MS = 30_000;
/** A client that hears nothing from a running agent for this long (progress comes every second) gives the host up. */
export const CLIENT_SILENCE_MS = 30_000;

export interface Frame<H = { type: string }> { header: H; body: Uint8Array }

/** One frame's bytes. */
export function encodeFrame<H extends { type: string }>(header: H, body: Uint8Array = new Uint8Array(0)): Buffer {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  if (json.length > MAX_HEADER_BYTES) throw new FrameError(`a ${header.type} header of ${json.length} bytes is past the ${MAX_HEADER_BYTES}-byte limit`);
  if (body.length > MAX_BODY_BYTES) throw new FrameError(`a ${header.type} body of ${body.length} bytes is past the ${MAX_BODY_BYTES}-byte limit`);
  const out = Buffer.allocUnsafe(8 + json.length + body.length);
  out.writeUInt32LE(json.length, 0);
  json.copy(out, 4);
  out.writeUInt32LE(body.length, 4 + json.length);
  out.set(body, 8 + json.length);
  return out;
}

/**
 * Frames out of a byte stream, however it is cut: push() every chunk as it arrives and
 * get the frames it completed. Chunks are kept as they came and copied once, into the
 * piece that needs them, so a body of many chunks costs one copy. A bad frame throws
 * FrameError, and every later push throws it again (the stream cannot be resynchronized).
 */
export class FrameDecoder {
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #header: { type: string } | null = null;
  #bodyLength = -1;
  /** Bytes of the frame under way already consumed (its header, its body length). */
  #partial = 0;
  #error: FrameError | null = null;
  readonly #maxBody: number;

  constructor(opts: { maxBodyBytes?: number } = {}) {
    this.#maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  }

  /** Bytes received that are not yet part of a whole frame. */
  get pending(): number {
    return this.#buffered + this.#partial;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.#error) throw this.#error;
    if (chunk.length) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const out: Frame[] = [];
    try {
      for (;;) {
        if (this.#header === null) {
          if (this.#buffered < 4) break;
          const n = this.#peekU32();
          if (n === 0 || n > MAX_HEADER_BYTES) throw new FrameError(`a header length of ${n} bytes (a header is 1 to ${MAX_HEADER_BYTES} bytes of JSON): the stream is corrupt or is not bpfbook's${this.#preview()}`);
          if (this.#buffered < 4 + n) break;
          this.#take(4);
          this.#header = parseHeader(this.#take(n));
          this.#partial = 4 + n;
        }
        if (this.#bodyLength < 0) {
          if (this.#buffered < 4) break;
          const n = this.#peekU32();
          if (n > this.#maxBody) throw new FrameError(`a ${this.#header.type} body of ${n} bytes is past the ${this.#maxBody}-byte limit`);
          this.#take(4);
          this.#bodyLength = n;
          this.#partial += 4;
        }
        if (this.#buffered < this.#bodyLength) break;
        out.push({ header: this.#header, body: this.#take(this.#bodyLength) });
        this.#header = null;
        this.#bodyLength = -1;
        this.#partial = 0;
      }
    } catch (e) {
      this.#error = e instanceof FrameError ? e : new FrameError(String(e));
      throw this.#error;
    }
    return out;
  }

  /** What the stream starts with, when it reads as text: a shell's greeting on stdout (a .bashrc that echoes) shows here. */
  #preview(): string {
    const head = Buffer.from(this.#gather(Math.min(this.#buffered, 60), false));
    const text = head.toString("latin1");
    return /^[\x20-\x7e\t\r\n]{4,}$/.test(text) ? ` (it starts with ${JSON.stringify(text)}: does the host's shell print something on stdout at login?)` : "";
  }

  #peekU32(): number {
    const head = this.#chunks[0]!.length >= 4 ? this.#chunks[0]! : this.#gather(4, false);
    return (head[0]! | (head[1]! << 8) | (head[2]! << 16)) + head[3]! * 0x1000000;
  }

  #take(n: number): Uint8Array {
    return this.#gather(n, true);
  }

  /** The next n bytes (a view when one chunk holds them), consumed when `consume`. */
  #gather(n: number, consume: boolean): Uint8Array {
    const first = this.#chunks[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (consume) {
        if (first.length === n) this.#chunks.shift();
        else this.#chunks[0] = first.subarray(n);
        this.#buffered -= n;
      }
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0, i = 0;
    while (filled < n) {
      const c = this.#chunks[i]!;
      const k = Math.min(c.length, n - filled);
      out.set(c.subarray(0, k), filled);
      filled += k;
      if (consume) {
        if (k === c.length) {
          this.#chunks.shift();
        } else {
          this.#chunks[0] = c.subarray(k);
        }
      } else i++;
    }
    if (consume) this.#buffered -= n;
    return out;
  }
}

function parseHeader(bytes: Uint8Array): { type: string } {
  let h: unknown;
  try {
    h = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch {
    throw new FrameError(`a header that is not JSON (${bytes.length} bytes): the stream is corrupt or is not bpfbook's`);
  }
  if (!h || typeof h !== "object" || Array.isArray(h) || typeof (h as { type?: unknown }).type !== "string") {
    throw new FrameError(`a header without a "type": ${JSON.stringify(h).slice(0, 120)}`);
  }
  return h as { type: string };
}

/** A table (with its stats) as the body of a table frame: an Arrow IPC stream. */
export function tableToBytes(table: ColumnTable): Uint8Array {
  const bytes = tableToIPC(table.numRows() === 0 ? emptyArrow(table) : toArrowTable(table), { format: "stream" });
  if (!bytes) throw new FrameError("could not encode a table as Arrow");
  return bytes;
}

/** A table with no rows, every column's type given (an empty typed array tells Arrow no type). */
function emptyArrow(table: ColumnTable): ReturnType<typeof toArrowTable> {
  const arrow = aq.toArrow(table, { types: arrowTypes(table) });
  const stats = (table as unknown as { stats?: unknown }).stats;
  arrow.schema.metadata = new Map<string, string>([[VERSION_KEY, "1"], ...(stats ? [[STATS_KEY, JSON.stringify(stats)] as [string, string]] : [])]);
  return arrow;
}

/** The table of a table frame's body. */
export function tableFromBytes(bytes: Uint8Array): ColumnTable {
  if (bytes.length === 0) return aq.table({});
  // Arrow's columns are typed-array views of the body: they need it 8-byte aligned, which a frame's place in a chunk is not
  return traceFromArrow(bytes.byteOffset % 8 === 0 ? bytes : Uint8Array.prototype.slice.call(bytes));
}
