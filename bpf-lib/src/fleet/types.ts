/* The fleet's typed API: the same probe functions as the package, typed from the package's
 * own (`typeof tracepoint`, …, generics kept), where start() resolves to a FleetRun once
 * every host has attached and collect() to one FleetTable. Only calls that describe a
 * probe chain (methods returning something that can start); stream() and the engine's
 * hooks do not travel. */
import type { ColumnTable } from "arquero";
import type { FleetTable } from "./results.js";
import type { tracepoint } from "../probes/tracepoint/probe.js";
import type { TracepointProbe } from "../probes/tracepoint/probe.js";
import type { tracepoints } from "../probes/tracepoint/group.js";
import type { uprobe, uretprobe } from "../probes/uprobe/probe.js";
import type { kprobe, kretprobe } from "../probes/fentry/index.js";
import type { syscalls, sched, block } from "../probes/presets.js";
import type { LatencyOptions } from "../probes/latency.js";
import type { PairOptions, StartTaskColumn } from "../probes/pair.js";
import type { ProfileOptions, ProfileTable } from "../probes/profile/types.js";
import type { FleetRun } from "./run.js";

/** The table collect() would give on one machine. */
type TableOf<T> = T extends { collect(...a: never[]): Promise<infer X> } ? X : ColumnTable;

/** A probe description in a fleet: its describing methods chain, start()/collect() run it on every host. */
export type FleetProbe<T> = {
  [K in keyof T as T[K] extends (...a: never[]) => infer R ? (K extends "start" | "collect" ? K : R extends { start: unknown } ? K : never) : never]:
    K extends "start" ? (T[K] extends (...a: infer A) => unknown ? (...a: A) => Promise<FleetRun<TableOf<T>>> : never)
    : K extends "collect" ? (T[K] extends (...a: infer A) => Promise<infer X> ? (...a: A) => Promise<FleetTable<X>> : never)
    : T[K] extends (...a: infer A) => infer R ? (...a: A) => FleetProbe<R> : never;
};

/** The package's probe constructors, lifted: same arguments, fleet probes back (generics kept, see `Lifted` below). */
declare function lift<A extends unknown[], R>(f: (...a: A) => R): (...a: A) => FleetProbe<R>;
// Never called: these only let TypeScript lift each generic signature (higher-order inference keeps its type parameters).
/* c8 ignore start */
function lifted() {
  return {
    tracepoint: lift(null as unknown as typeof tracepoint),
    tracepoints: lift(null as unknown as typeof tracepoints),
    uprobe: lift(null as unknown as typeof uprobe),
    uretprobe: lift(null as unknown as typeof uretprobe),
    kprobe: lift(null as unknown as typeof kprobe),
    kretprobe: lift(null as unknown as typeof kretprobe),
  };
}
/* c8 ignore stop */
type Lifted = ReturnType<typeof lifted>;

/** A namespace of the package (syscalls, sched, block) in a fleet. */
type FleetNamespace<N> = { [K in keyof N]: N[K] extends (...a: infer A) => infer R ? (...a: A) => FleetProbe<R> : never };

/** latency()'s options with fleet probes where the package takes probes. */
export type FleetLatencyOptions = Omit<LatencyOptions, "start" | "end"> & {
  start: FleetProbe<TracepointProbe<string, string>> | readonly FleetProbe<TracepointProbe<string, string>>[];
  end: FleetProbe<TracepointProbe<string, string>>;
};

export interface FleetProbes extends Lifted {
  syscalls: FleetNamespace<typeof syscalls>;
  sched: FleetNamespace<typeof sched>;
  block: FleetNamespace<typeof block>;
  /** latency() with this fleet's probes as start and end. */
  latency(options: FleetLatencyOptions): FleetProbe<import("../engine/aggregation.js").Aggregation>;
  /** pair() of two of this fleet's tracepoints. */
  pair<T extends StartTaskColumn = never>(start: FleetProbe<TracepointProbe<string, string>>, end: FleetProbe<TracepointProbe<string, string>>, options?: PairOptions<T>): FleetProbe<import("../probes/pair.js").Pair<TracepointProbe<string, string>, TracepointProbe<string, string>, T>>;
  /** CPU samples per stack on every host for `seconds`: the merged folded stacks (a `host` column in perHost). */
  profile(options: ProfileOptions): Promise<FleetTable<ProfileTable>>;
  /** Starts sampling on every host; stop() the run, then finished(). */
  startProfile(options?: ProfileOptions): Promise<FleetRun<ProfileTable>>;
}
