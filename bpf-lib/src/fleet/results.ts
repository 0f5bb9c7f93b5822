/* What a fleet's run gives back: one table, each host's part of it, and each host's
 * live counters. Kept apart from the probe typing (types.ts) so the run (run.ts) and
 * the API can both name them. */
import type { ColumnTable } from "arquero";
import type { TraceTable } from "../engine/table.js";

/** A host's error, as its agent (or the transport) reported it. */
export interface HostError { name: string; code?: string; message: string }

/** One host's part of a result. */
export interface HostResult {
  host: string;
  /** Its data are in the table. */
  ok: boolean;
  error?: HostError;
  /** The host's own stats (received, lost, dropped, … as on one machine). */
  stats?: Record<string, unknown>;
  /** Rows it contributed (before merging). */
  rows?: number;
  hostname?: string;
  kernel?: string;
  cpus?: number;
  bpfbook?: string;
  /** Add to the host's monotonic ns to get its wall clock. */
  epochOffsetNs?: number;
}

export interface FleetInfo {
  hosts: HostResult[];
  /** Hosts whose data are absent (unreachable, refused, died). */
  missing: string[];
}

/** A host's live counters, from its agent's progress frames (about once a second). */
export interface HostProgress {
  state: "connecting" | "starting" | "running" | "done" | "failed";
  received: number;
  lost: number;
  /** Events per second over the agent's last period. */
  rate: number;
  seconds: number;
}

/** A table of a stream gains a `host` column (first); `ts` is wall-clock epoch ns. */
type WithHost<T> = T extends TraceTable<infer R> ? TraceTable<R & { host: string }> : T;

/** The fleet's result: one table (merged aggregations, or every host's rows with a `host` column), the hosts' parts, and per host tables. */
export type FleetTable<T = ColumnTable> = WithHost<T> & {
  readonly fleet: FleetInfo;
  /** Aggregations: the hosts' own tables in one, with a `host` column first (streams: null, the table already has it). */
  readonly perHost: ColumnTable | null;
};

