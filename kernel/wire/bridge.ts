/* What the wire thread and the main thread say to each other. The wire thread
 * owns the sockets (so heartbeats and interrupts work while a cell is busy);
 * the main thread runs cells and decides what to send. */
import type { Header } from "./message.js";

export type Channel = "shell" | "control" | "stdin" | "iopub";

/** A decoded request, as it crosses threads (Buffers arrive as Uint8Arrays). */
export interface WireRequest {
  channel: Channel;
  idents: Uint8Array[];
  header: Header;
  parent_header: Partial<Header>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  buffers: Uint8Array[];
}

export type ToMain =
  | { type: "request"; request: WireRequest }
  | { type: "ready" }
  | { type: "shutdown"; restart: boolean }
  | { type: "log"; text: string };

export interface OutMessage {
  channel: Channel;
  msgType: string;
  content: unknown;
  /** The request this answers (its header), or null for unsolicited iopub messages. */
  parent: Partial<Header> | null;
  /** ROUTER identities to reply to (shell/control/stdin). */
  idents?: Uint8Array[];
  metadata?: Record<string, unknown>;
  buffers?: Uint8Array[];
}

export type ToWire = { type: "send"; message: OutMessage } | { type: "close" };

/**
 * Shared between the threads (an Int32Array over a SharedArrayBuffer), readable while the
 * main thread is blocked. EXECUTING: an execute request is being handled. CHECKING: the cell
 * is being type-checked (slow, and never to be cut short). SYNC_PART: inside the cell's
 * synchronous part, where breakOnSigint listens for SIGINT. TICK: counted up by a timer on
 * the main thread's event loop; when it stops moving, the loop is blocked. SYNC_SEQ counts
 * synchronous parts started, so a new one gets its own grace period; EXEC_SEQ counts execute
 * requests, so the wire thread sees that the interrupted one ended even when the next follows at once.
 * CLEANUP: the kernel's own code runs (stopping traces after an interrupt, finishing a request), not
 * the cell's: terminating it would skip its finally blocks and leave programs, mmaps and fds behind.
 */
export const FLAG = { EXECUTING: 0, CHECKING: 1, SYNC_PART: 2, TICK: 3, SYNC_SEQ: 4, EXEC_SEQ: 5, CLEANUP: 6 } as const;
export const FLAG_COUNT = 7;
export const TICK_MS = 50;
