/* exportOtlp: aggregation tables as OpenTelemetry metrics in OTLP JSON, the file any
 * OTel collector ingests (otlpjsonfile receiver, or POST to /v1/metrics): count/sum
 * per key as Sums, min/max as Gauges, histogram tables as explicit-bucket
 * histograms, key columns as attributes. The data model is @opentelemetry/sdk-metrics'
 * and the JSON encoding @opentelemetry/otlp-transformer's, loaded on first use. */
import { createRequire } from "node:module";
import { hostname, release } from "node:os";
import type { ColumnTable } from "arquero";
import type { Attributes, AttributeValue, HrTime } from "@opentelemetry/api";
import type { DataPoint, Histogram, MetricData, ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { InvalidOptionError } from "../errors.js";
import { objectOption, optionsObject } from "../options/shapes.js";
import { exactNumber, requireColumns, statsOf, tableArgument } from "./columns.js";
import { writePrivate, type WriteOptions } from "../engine/write-private.js";

interface OTel {
  api: typeof import("@opentelemetry/api");
  metrics: typeof import("@opentelemetry/sdk-metrics");
  resources: typeof import("@opentelemetry/resources");
  transformer: typeof import("@opentelemetry/otlp-transformer");
}
let otel: OTel | null = null;
/** The OpenTelemetry packages take a third of a second to load: only when metrics are first exported. */
function load(): OTel {
  if (otel) return otel;
  const require = createRequire(import.meta.url);
  otel = {
    api: require("@opentelemetry/api") as OTel["api"],
    metrics: require("@opentelemetry/sdk-metrics") as OTel["metrics"],
    resources: require("@opentelemetry/resources") as OTel["resources"],
    transformer: require("@opentelemetry/otlp-transformer") as OTel["transformer"],
  };
  return otel;
}

export interface OtlpOptions extends WriteOptions {
  /** Also write the JSON to this file (mode 0600 unless `mode` says otherwise). */
  path?: string;
  /** The metric name: a histogram is called this; count/sum/min/max are `<name>.count`, `<name>.sum`, ... Default "bpfbook". */
  name?: string;
  /** The values' unit (UCUM, e.g. "ns", "By"). Default: the table's `stats.unit` ("ns" for latency), else none. Counts are "1". */
  unit?: string;
  /** The metrics' description. Default: the table's `stats.source`. */
  description?: string;
  /** Resource attributes, added to (or replacing) service.name "bpfbook", host.name, os.type and os.version. */
  resource?: Record<string, string | number | boolean>;
  /** The time the table covers, for tables without stats (made by Arquero verbs). Default: the stats' run, else now. */
  time?: { start: Date; end: Date };
}

const WHAT = "exportOtlp()";
/** Columns that hold values (or bucket and interval positions), not keys. */
const VALUE_COLUMNS = new Set(["count", "sum", "min", "max", "avg", "bucket", "low", "high", "interval", "time"]);

interface AggRunStats {
  source: string;
  unit: string;
  seconds: number;
  startNs: number;
  epochOffsetNs: number;
}

const hrTime = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
/** A count or sum as the OTLP JSON encoding holds it: a number, or (beyond 2^53) its exact decimal string, as protobuf's JSON mapping writes 64-bit integers. */
const metricValue = (v: unknown) => exactNumber(typeof v === "bigint" ? v : Number(v)) as number;
const attributeValue = (v: unknown): AttributeValue => (typeof v === "bigint" ? exactNumber(v) : typeof v === "number" || typeof v === "boolean" || typeof v === "string" ? v : String(v));

/**
 * The explicit bucket bounds of a histogram table (columns low, high, count; bucket
 * when bpfbook made it). bpfbook's buckets are [low, high); OTLP's are (bound[i-1],
 * bound[i]]. Values are integers (ns, bytes, counts), so [low, high) holds exactly
 * the values of (low − 1, high − 1]: the bounds are high − 1, and a value at a
 * power of two (a 4096-byte read) stays in its bucket. Bucket 0 of a bpfbook table
 * holds everything below its high (log2: values below 1, negative ones included).
 * Empty buckets between the ones present are filled in (log2 or equal-width ladders),
 * so every key of a table shares one set of bounds.
 */
export function histogramBounds(lows: ArrayLike<number>, highs: ArrayLike<number>, buckets: ArrayLike<number> | null): number[] {
  const edges = new Set<number>();
  let width: number | null | undefined;
  for (let i = 0; i < highs.length; i++) {
    const low = Number(lows[i]), high = Number(highs[i]);
    const catchAll = buckets !== null && Number(buckets[i]) === 0;
    if (!catchAll && Number.isFinite(low)) edges.add(low);
    if (Number.isFinite(high)) edges.add(high);
    if (!catchAll && Number.isFinite(low) && Number.isFinite(high)) width = width === undefined || width === high - low ? high - low : null;
  }
  const sorted = [...edges].sort((a, b) => a - b);
  if (sorted.length >= 2) {
    const [lo, hi] = [sorted[0]!, sorted.at(-1)!];
    const pow2 = sorted.every((e) => e >= 1 && Number.isInteger(Math.log2(e)));
    if (pow2) for (let e = lo; e < hi; e *= 2) edges.add(e);
    else if (width) for (let e = lo; e < hi; e += width) edges.add(e);
  }
  const all = [...edges].sort((a, b) => a - b);
  const integers = all.every(Number.isInteger);
  return all.map((e) => (integers ? e - 1 : e));
}

/**
 * The window of each interval of an interval series, in seconds since the run began,
 * from each interval's end (its `time`: when its counts were read). Interval k began
 * when interval k − 1 ended; an interval without events has no rows, and then the
 * boundary is taken where the schedule put it: k × the interval length (estimated
 * from the intervals present, which end at (k + 1) × the length), between the ends
 * around it. The first interval begins with the run.
 */
export function intervalWindows(ends: ReadonlyMap<number, number>): Map<number, [number, number]> {
  const ks = [...ends.keys()].sort((a, b) => a - b);
  const last = ks.at(-1);
  // the final interval ends when the run stops, not on schedule: estimate from the others when there are any
  const scheduled = ks.filter((k) => k !== last);
  const estimates = (scheduled.length ? scheduled : ks).map((k) => ends.get(k)! / (k + 1)).sort((a, b) => a - b);
  const length = estimates[Math.floor(estimates.length / 2)] ?? 0;
  const out = new Map<number, [number, number]>();
  let prevEnd = 0;
  for (const k of ks) {
    const end = ends.get(k)!;
    const start = k === 0 ? 0 : ends.has(k - 1) ? ends.get(k - 1)! : Math.min(Math.max(k * length, prevEnd), end);
    out.set(k, [start, end]);
    prevEnd = end;
  }
  return out;
}

/**
 * An aggregation table as OpenTelemetry metrics in OTLP JSON (an
 * ExportMetricsServiceRequest): what an OTel collector's otlpjsonfile receiver reads,
 * or its OTLP/HTTP endpoint takes at /v1/metrics. Histogram tables (low, high, count)
 * become one explicit-bucket histogram, one data point per key; count/sum per key
 * become monotonic Sums (`<name>.count`, `<name>.sum`) and min/max Gauges; key columns
 * are the attributes. Tables with `interval` give one data point per key and interval
 * (delta temporality); totals are cumulative over the run. Returns the JSON text, one
 * line (a JSON Lines file, as OTel's file exporter writes them; the same body can be
 * POSTed to a collector's /v1/metrics), and writes it to `path`.
 */
export function exportOtlp(table: ColumnTable, options: OtlpOptions = {}): string {
  const t = tableArgument(table, WHAT);
  const opts = optionsObject(options, WHAT, '{ name: "syscall.latency", path: "metrics.json" }');
  const name = opts.name ?? "bpfbook";
  if (typeof name !== "string" || !/^[A-Za-z][A-Za-z0-9_.\-/]{0,254}$/.test(name)) throw new InvalidOptionError(WHAT, "name", opts.name, 'an OpenTelemetry instrument name: a letter, then letters, digits, "_", ".", "-" or "/" (e.g. "syscall.latency")');
  const resourceAttrs = opts.resource === undefined ? {} : objectOption(opts.resource, "resource", WHAT, '{ "service.name": "web-1" }');
  const cols = t.columnNames();
  const hist = cols.includes("low") && cols.includes("high");
  requireColumns(t, WHAT, hist ? ["low", "high", "count"] : ["count"], "an aggregation table: count (count/sum/min/max per key), or low, high, count (a histogram)");
  const stats = statsOf<AggRunStats>(t);
  const { api, metrics, resources, transformer } = load();

  // The run's wall-clock window; intervals are windows inside it.
  let runStart: bigint, runEnd: bigint;
  if (opts.time !== undefined) {
    const tm = objectOption(opts.time, "time", WHAT, "{ start: Date, end: Date }") as { start: unknown; end: unknown };
    if (!(tm.start instanceof Date) || !(tm.end instanceof Date)) throw new InvalidOptionError(WHAT, "time", opts.time, "{ start: Date, end: Date }");
    [runStart, runEnd] = [BigInt(tm.start.getTime()) * 1_000_000n, BigInt(tm.end.getTime()) * 1_000_000n];
  } else if (stats?.startNs !== undefined && stats.epochOffsetNs !== undefined) {
    runStart = BigInt(Math.round(stats.startNs)) + BigInt(Math.round(stats.epochOffsetNs));
    runEnd = runStart + BigInt(Math.round((stats.seconds ?? 0) * 1e9));
  } else {
    runStart = runEnd = BigInt(Date.now()) * 1_000_000n;
  }
  const intervals = cols.includes("interval") && cols.includes("time");
  const n = t.numRows();
  const keyCols = cols.filter((c) => !VALUE_COLUMNS.has(c));
  const keyArrays = keyCols.map((c) => [c, t.array(c) as ArrayLike<unknown>] as const);
  const intervalIdx = intervals ? (t.array("interval") as ArrayLike<number>) : null;
  const intervalTime = intervals ? (t.array("time") as ArrayLike<number>) : null;
  const windows = new Map<number, [HrTime, HrTime]>();
  if (intervalIdx && intervalTime) {
    const ends = new Map<number, number>();
    for (let i = 0; i < n; i++) ends.set(Number(intervalIdx[i]), Number(intervalTime[i]));
    for (const [k, [start, end]] of intervalWindows(ends)) windows.set(k, [hrTime(runStart + BigInt(Math.round(start * 1e9))), hrTime(runStart + BigInt(Math.round(end * 1e9)))]);
  }
  const whole: [HrTime, HrTime] = [hrTime(runStart), hrTime(runEnd)];
  const windowOf = (i: number) => (intervalIdx ? windows.get(Number(intervalIdx[i]))! : whole);
  const attributesOf = (i: number): Attributes => {
    const a: Attributes = {};
    for (const [c, arr] of keyArrays) if (arr[i] !== null && arr[i] !== undefined) a[c] = attributeValue(arr[i]);
    return a;
  };
  /** Rows grouped by key (and interval): one data point each, in first-seen order. */
  const groups = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const k = JSON.stringify([intervalIdx ? Number(intervalIdx[i]) : 0, ...keyArrays.map(([, arr]) => String(arr[i]))]);
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  }

  const temporality = intervals ? metrics.AggregationTemporality.DELTA : metrics.AggregationTemporality.CUMULATIVE;
  const unit = opts.unit ?? stats?.unit ?? "";
  const description = opts.description ?? stats?.source ?? "";
  const out: MetricData[] = [];
  const counts = t.array("count") as ArrayLike<number | bigint>;
  if (hist) {
    const buckets = cols.includes("bucket") ? (t.array("bucket") as ArrayLike<number>) : null;
    const highs = t.array("high") as ArrayLike<number>;
    const bounds = histogramBounds(t.array("low") as ArrayLike<number>, highs, buckets);
    const integers = bounds.every(Number.isInteger);
    const position = new Map(bounds.map((b, i) => [b, i]));
    const dataPoints: DataPoint<Histogram>[] = [];
    for (const rows of groups.values()) {
      const bucketCounts: (number | bigint)[] = new Array<number | bigint>(bounds.length + 1).fill(0);
      let total: number | bigint = 0;
      for (const i of rows) {
        const high = Number(highs[i]);
        const at = high === Infinity ? bounds.length : position.get(integers ? high - 1 : high)!;
        const c = counts[i]!;
        bucketCounts[at] = typeof c === "bigint" || typeof bucketCounts[at] === "bigint" ? BigInt(bucketCounts[at]!) + BigInt(c) : (bucketCounts[at] as number) + c;
        total = typeof c === "bigint" || typeof total === "bigint" ? BigInt(total) + BigInt(c) : total + c;
      }
      const [startTime, endTime] = windowOf(rows[0]!);
      dataPoints.push({
        startTime, endTime, attributes: attributesOf(rows[0]!),
        value: { buckets: { boundaries: bounds, counts: bucketCounts.map(metricValue) }, count: metricValue(total) },
      });
    }
    out.push({ descriptor: { name, description, unit, valueType: api.ValueType.INT }, aggregationTemporality: temporality, dataPointType: metrics.DataPointType.HISTOGRAM, dataPoints });
  } else {
    for (const col of ["count", "sum", "min", "max"].filter((c) => cols.includes(c))) {
      const vals = t.array(col) as ArrayLike<number | bigint>;
      const dataPoints: DataPoint<number>[] = [];
      let integer = true, nonNegative = true;
      for (const rows of groups.values()) {
        const i = rows[0]!;
        const v = vals[i]!;
        if (typeof v === "number" && !Number.isInteger(v)) integer = false;
        if (v < 0) nonNegative = false;
        const [startTime, endTime] = windowOf(i);
        dataPoints.push({ startTime, endTime, attributes: attributesOf(i), value: metricValue(v) });
      }
      const descriptor = { name: `${name}.${col}`, description, unit: col === "count" ? "1" : unit, valueType: integer ? api.ValueType.INT : api.ValueType.DOUBLE };
      out.push(col === "count" || col === "sum"
        ? { descriptor, aggregationTemporality: temporality, dataPointType: metrics.DataPointType.SUM, dataPoints, isMonotonic: col === "count" || nonNegative }
        : { descriptor, aggregationTemporality: temporality, dataPointType: metrics.DataPointType.GAUGE, dataPoints });
    }
  }

  const request: ResourceMetrics = {
    resource: resources.resourceFromAttributes({ "service.name": "bpfbook", "host.name": hostname(), "os.type": "linux", "os.version": release(), ...(resourceAttrs as Attributes) }),
    scopeMetrics: [{ scope: { name: "bpfbook" }, metrics: out }],
  };
  // one line: a JSON Lines file of one MetricsData, as OTel's file exporter writes and the otlpjsonfile receiver reads
  const text = `${new TextDecoder().decode(transformer.JsonMetricsSerializer.serializeRequest(request))}\n`;
  if (opts.path !== undefined) writePrivate(opts.path, text, opts);
  return text;
}
