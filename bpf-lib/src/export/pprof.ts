/* exportPprof: a profile() or offcpu() table as a gzipped pprof protobuf
 * (profile.pb.gz), the format of go tool pprof, Grafana Pyroscope and Parca. Encoded
 * with pprof-format; kernel frames keep their side of the split in a mapping of
 * their own, [kernel.kallsyms]. */
import { gzipSync } from "node:zlib";
import type { ColumnTable } from "arquero";
import { Function as PprofFunction, Label, Line, Location, Mapping, Profile, Sample, StringTable, ValueType } from "pprof-format";
import { InvalidOptionError } from "../errors.js";
import { optionsObject } from "../options/shapes.js";
import { requireColumns, statsOf, tableArgument } from "./columns.js";
import { writePrivate, type WriteOptions } from "../engine/write-private.js";

/** The mapping kernel frames are placed in (the name perf and Parca give the kernel image). */
export const KERNEL_MAPPING = "[kernel.kallsyms]";
/** How folded stacks mark a kernel frame (flamegraph.pl's convention, as profile() writes them). */
const KERNEL_SUFFIX = "_[k]";

export interface PprofOptions extends WriteOptions {
  /** Also write the gzipped profile to this file (mode 0600 unless `mode` says otherwise). */
  path?: string;
  /**
   * "cpu": sampled stacks (profile()), values `samples/count` and `cpu/nanoseconds` (count × 1e9/hz);
   * "offcpu": time off the CPU (offcpu()), values `samples/count` and `off_cpu/nanoseconds` (the `ns` column).
   * Default: the table's `stats.kind`, else "offcpu" when the table has an `ns` column.
   */
  kind?: "cpu" | "offcpu";
  /** CPU profiles: the sampling rate, for the time each sample stands for. Default: the table's `stats.hz`, else 99. */
  hz?: number;
}

/** What the table's stats say about the run, when it still has them (profile()/offcpu() tables do; tables made by verbs do not). */
interface RunStats {
  source: string;
  kind: "cpu" | "offcpu";
  hz: number;
  seconds: number;
  startNs: number;
  epochOffsetNs: number;
}

const WHAT = "exportPprof()";

/**
 * A profile() or offcpu() table (columns pid, comm, stack, count, and ns for off-CPU)
 * as a gzipped pprof profile: one sample per row, labelled with its pid and comm (string labels);
 * one function and location per distinct frame; kernel frames (`_[k]` in the folded
 * stack) in the `[kernel.kallsyms]` mapping, named without the suffix, user frames in a
 * mapping without a file name (folded stacks keep names only). Returns the
 * bytes (what `go tool pprof`, Pyroscope and Parca read) and writes them to `path`.
 */
export function exportPprof(table: ColumnTable, options: PprofOptions = {}): Uint8Array {
  const t = tableArgument(table, WHAT);
  const opts = optionsObject(options, WHAT, '{ path: "profile.pb.gz" }');
  const stats = statsOf<RunStats>(t);
  const kind = opts.kind ?? stats?.kind ?? (t.columnNames().includes("ns") ? "offcpu" : "cpu");
  if (kind !== "cpu" && kind !== "offcpu") throw new InvalidOptionError(WHAT, "kind", opts.kind, '"cpu" or "offcpu"');
  requireColumns(t, WHAT, kind === "cpu" ? ["stack", "count"] : ["stack", "count", "ns"], kind === "cpu" ? "a profile() table" : "an offcpu() table");
  const hz = opts.hz ?? (stats?.hz || 99);
  if (kind === "cpu" && !(Number.isFinite(hz) && hz > 0)) throw new InvalidOptionError(WHAT, "hz", opts.hz, "a sampling rate in Hz above 0, e.g. 99");

  const strings = new StringTable();
  const s = (x: string) => strings.dedup(x);
  // User frames first: tools take the first mapping for the main binary. Frames are named already (hasFunctions), so nothing re-symbolizes them.
  const userMapping = new Mapping({ id: 1, hasFunctions: true });
  const kernelMapping = new Mapping({ id: 2, filename: s(KERNEL_MAPPING), hasFunctions: true });
  const functions: PprofFunction[] = [];
  const locations: Location[] = [];
  const locationIds = new Map<string, number>();
  /** One location (and function) per distinct frame: kernel and user frames of the same name stay apart. */
  const locationOf = (frame: string): number => {
    let id = locationIds.get(frame);
    if (id !== undefined) return id;
    const kernel = frame.endsWith(KERNEL_SUFFIX);
    const name = kernel ? frame.slice(0, -KERNEL_SUFFIX.length) : frame;
    id = locations.length + 1;
    functions.push(new PprofFunction({ id, name: s(name), systemName: s(name) }));
    locations.push(new Location({ id, mappingId: kernel ? kernelMapping.id : userMapping.id, line: [new Line({ functionId: id })] }));
    locationIds.set(frame, id);
    return id;
  };

  const period = kind === "cpu" ? Math.round(1e9 / hz) : 0;
  const sampleType = kind === "cpu"
    ? [new ValueType({ type: s("samples"), unit: s("count") }), new ValueType({ type: s("cpu"), unit: s("nanoseconds") })]
    : [new ValueType({ type: s("samples"), unit: s("count") }), new ValueType({ type: s("off_cpu"), unit: s("nanoseconds") })];
  const cols = t.columnNames();
  const stacks = t.array("stack") as ArrayLike<string>;
  const counts = t.array("count") as ArrayLike<number | bigint>;
  const ns = kind === "offcpu" ? (t.array("ns") as ArrayLike<number | bigint>) : null;
  const pids = cols.includes("pid") ? (t.array("pid") as ArrayLike<number>) : null;
  const comms = cols.includes("comm") ? (t.array("comm") as ArrayLike<string>) : null;
  const pidKey = s("pid"), commKey = s("comm");
  const samples: Sample[] = [];
  for (let i = 0; i < stacks.length; i++) {
    const count = Number(counts[i]);
    // folded stacks run root first; pprof lists a sample's locations leaf first
    const frames = String(stacks[i]).split(";");
    const label: Label[] = [];
    // string labels: what Pyroscope and Parca filter and group by
    if (pids) label.push(new Label({ key: pidKey, str: s(String(pids[i])) }));
    if (comms) label.push(new Label({ key: commKey, str: s(String(comms[i])) }));
    samples.push(new Sample({
      locationId: frames.reverse().map(locationOf),
      value: [count, kind === "cpu" ? count * period : Number(ns![i])],
      label,
    }));
  }

  const profile = new Profile({
    sampleType,
    sample: samples,
    mapping: [userMapping, kernelMapping],
    location: locations,
    function: functions,
    stringTable: strings,
    ...(kind === "cpu" ? { periodType: new ValueType({ type: s("cpu"), unit: s("nanoseconds") }), period } : {}),
    ...(stats?.source ? { comment: [s(stats.source)] } : {}),
    defaultSampleType: s(kind === "cpu" ? "cpu" : "off_cpu"),
    ...(stats?.startNs !== undefined && stats.epochOffsetNs !== undefined ? { timeNanos: BigInt(Math.round(stats.startNs)) + BigInt(Math.round(stats.epochOffsetNs)) } : {}),
    ...(stats?.seconds !== undefined ? { durationNanos: Math.round(stats.seconds * 1e9) } : {}),
  });
  const bytes = gzipSync(profile.encode());
  if (opts.path !== undefined) writePrivate(opts.path, bytes, opts);
  return bytes;
}
