/* exportOtlp: real aggregations (write sizes of two processes: 5 writes of 100
 * bytes, 3 of 4096; nanosleeps per 100 ms interval) and hand-made histogram tables
 * as OTLP JSON, read back as the OpenTelemetry package's request type and,
 * independently, by Google's protobuf JSON parser against the OTLP .proto files
 * (test/fixtures/otlp): exact counts, bucket counts, bounds and time windows. */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, relative } from "node:path";
import * as aq from "arquero";
import type { IExportMetricsServiceRequest, IHistogramDataPoint, INumberDataPoint } from "@opentelemetry/otlp-transformer/build/src/metrics/internal-types.js";
import type { IKeyValue } from "@opentelemetry/otlp-transformer/build/src/common/internal-types.js";
import { exportOtlp, InvalidArgumentError, InvalidOptionError, liveCount, tracepoint } from "../bpf-lib/src/index.js";
import type { AggTable } from "../bpf-lib/src/index.js";
import { histogramBounds, intervalWindows } from "../bpf-lib/src/export/otlp.js";
import { renamedWorkload, ROOT, workload } from "./helpers/workload.js";

const PROTOS = join(ROOT, "test", "fixtures", "otlp");
let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "bpfbook-otlp-"));
  // the OTLP messages as Python classes, for google.protobuf.json_format
  const files = (function walk(d: string): string[] {
    return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith(".proto") ? [relative(PROTOS, join(d, e.name))] : []));
  })(PROTOS);
  const r = spawnSync("protoc", ["-I", PROTOS, `--python_out=${dir}`, ...files], { encoding: "utf8" });
  assert.equal(r.status, 0, `protoc: ${r.stderr}${r.error ?? ""}`);
  writeFileSync(join(dir, "parse.py"), [
    "import sys",
    "sys.path.insert(0, sys.argv[1])",
    "from google.protobuf import json_format",
    "from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2",
    "msg = json_format.Parse(sys.stdin.read(), metrics_service_pb2.ExportMetricsServiceRequest())",
    "print(json_format.MessageToJson(msg))",
  ].join("\n"));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  assert.equal(liveCount(), 0);
});

/** The JSON as Google's protobuf parser reads it (strict: an unknown field or a mistyped value fails), printed back in protobuf's canonical JSON. */
function protobufRead(json: string): IExportMetricsServiceRequest {
  const r = spawnSync("/usr/bin/python3", [join(dir, "parse.py"), dir], { input: json, encoding: "utf8" });
  assert.equal(r.status, 0, `google.protobuf.json_format rejected the OTLP JSON:\n${r.stderr}`);
  return JSON.parse(r.stdout) as IExportMetricsServiceRequest;
}

const attrs = (kv: IKeyValue[] | undefined) => Object.fromEntries((kv ?? []).map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.doubleValue ?? a.value.boolValue]));
const runWindow = (s: AggTable["stats"]) => {
  const start = BigInt(Math.round(s.startNs)) + BigInt(Math.round(s.epochOffsetNs));
  return { start: String(start), end: String(start + BigInt(Math.round(s.seconds * 1e9))) };
};

/** Two copies of the workload under one name, writing 5 × 100 bytes and 3 × 4096 bytes. */
async function twoWriters<T>(agg: (comm: string) => { start(): { stop(): Promise<void>; finished(): Promise<T> } }): Promise<{ t: T; small: number; big: number }> {
  const comm = "bpfbook-wr";
  const small = workload(["write", "100", "5"], { binary: renamedWorkload(comm) });
  const big = workload(["write", "4096", "3"], { binary: renamedWorkload(comm) });
  const run = agg(comm).start();
  assert.deepEqual(await Promise.all([small.go(), big.go()]), [0, 0]);
  await run.stop();
  return { t: await run.finished(), small: small.pid, big: big.pid };
}

describe("exportOtlp", () => {
  it("a log2 histogram of write sizes per pid: one explicit-bucket histogram, exact bucket counts, 4096 in (4095, 8191]", async () => {
    const { t, small, big } = await twoWriters((comm) => tracepoint("syscalls:sys_enter_write", { where: { comm } }).hist("count", { by: ["pid"] }));
    assert.deepEqual(t.objects(), [
      { pid: Math.min(small, big), bucket: small < big ? 7 : 13, low: small < big ? 64 : 4096, high: small < big ? 128 : 8192, count: small < big ? 5 : 3 },
      { pid: Math.max(small, big), bucket: small < big ? 13 : 7, low: small < big ? 4096 : 64, high: small < big ? 8192 : 128, count: small < big ? 3 : 5 },
    ]);
    const file = join(dir, "writes.json");
    const text = exportOtlp(t, { name: "write.size", unit: "By", path: file });
    assert.equal(readFileSync(file, "utf8"), text);
    assert.ok(text.endsWith("}\n") && text.indexOf("\n") === text.length - 1, "one line: a JSON Lines file");
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const bounds = [63, 127, 255, 511, 1023, 2047, 4095, 8191];
    const expected = new Map([[small, { count: 5, at: 1 }], [big, { count: 3, at: 7 }]]);
    const { start, end } = runWindow(t.stats);
    // as the OpenTelemetry package types it
    const req = JSON.parse(text) as IExportMetricsServiceRequest;
    const rm = req.resourceMetrics[0]!;
    assert.deepEqual(attrs(rm.resource?.attributes), { "service.name": "bpfbook", "host.name": hostname(), "os.type": "linux", "os.version": attrs(rm.resource?.attributes)["os.version"] });
    assert.equal(rm.scopeMetrics[0]!.scope?.name, "bpfbook");
    const [metric] = rm.scopeMetrics[0]!.metrics;
    assert.equal(rm.scopeMetrics[0]!.metrics.length, 1);
    assert.equal(metric!.name, "write.size");
    assert.equal(metric!.unit, "By");
    assert.equal(metric!.description, t.stats.source);
    assert.equal(metric!.histogram!.aggregationTemporality, 2, "cumulative over the run");
    const points = metric!.histogram!.dataPoints;
    assert.equal(points.length, 2);
    for (const p of points) {
      const pid = attrs(p.attributes).pid as number;
      const want = expected.get(pid)!;
      assert.deepEqual(p.explicitBounds, bounds, "high − 1: [64, 128) is (63, 127] for integer sizes");
      assert.deepEqual(p.bucketCounts, bounds.map((_, i) => (i === want.at ? want.count : 0)).concat(0));
      assert.equal(p.count, want.count);
      assert.deepEqual([p.startTimeUnixNano, p.timeUnixNano], [start, end]);
    }
    // and back: the table's rows from the buckets
    const rows = points.flatMap((p: IHistogramDataPoint) => p.bucketCounts!.flatMap((c, i) => (Number(c) ? [{ pid: attrs(p.attributes).pid, low: p.explicitBounds![i - 1]! + 1, high: p.explicitBounds![i]! + 1, count: Number(c) }] : [])));
    type HistRow = { pid: number; low: number; high: number; count: number };
    assert.deepEqual(rows, (t.objects() as HistRow[]).map((r) => ({ pid: r.pid, low: r.low, high: r.high, count: r.count })));

    // as protobuf reads it against metrics.proto
    const pb = protobufRead(text);
    const pbPoints = pb.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.histogram!.dataPoints;
    assert.deepEqual(pbPoints.map((p) => [String(attrs(p.attributes).pid), p.count, p.bucketCounts, p.explicitBounds, p.startTimeUnixNano, p.timeUnixNano]), points.map((p) => {
      const want = expected.get(attrs(p.attributes).pid as number)!;
      // protobuf's JSON writes 64-bit integers as strings
      return [String(attrs(p.attributes).pid), String(want.count), bounds.map((_, i) => String(i === want.at ? want.count : 0)).concat("0"), bounds, start, end];
    }));
    assert.equal(pb.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.histogram!.aggregationTemporality as unknown, "AGGREGATION_TEMPORALITY_CUMULATIVE");
  });

  it("count/sum/min/max per pid: Sums and Gauges with the exact values", async () => {
    const { t, small, big } = await twoWriters((comm) => tracepoint("syscalls:sys_enter_write", { where: { comm } }).stats("count", { by: ["pid"] }));
    const text = exportOtlp(t, { name: "write.size", unit: "By" });
    const { start, end } = runWindow(t.stats);
    const want = { [small]: { count: 5, sum: 500, min: 100, max: 100 }, [big]: { count: 3, sum: 12288, min: 4096, max: 4096 } };
    for (const req of [JSON.parse(text) as IExportMetricsServiceRequest, protobufRead(text)]) {
      const metrics = req.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
      assert.deepEqual(metrics.map((m) => [m.name, m.unit, m.sum ? "sum" : "gauge", m.sum?.isMonotonic]), [
        ["write.size.count", "1", "sum", true], ["write.size.sum", "By", "sum", true], ["write.size.min", "By", "gauge", undefined], ["write.size.max", "By", "gauge", undefined],
      ]);
      for (const m of metrics) {
        const col = m.name.split(".").at(-1) as "count" | "sum" | "min" | "max";
        const points: INumberDataPoint[] = (m.sum ?? m.gauge)!.dataPoints;
        assert.deepEqual(points.map((p) => [Number(attrs(p.attributes).pid), Number(p.asInt), p.startTimeUnixNano, p.timeUnixNano]).sort(), [small, big].map((pid) => [pid, want[pid]![col], start, end]).sort());
      }
    }
  });

  it("an interval series: one data point per interval (delta), windows that follow each other, counts that add up", async () => {
    const w = workload(["sleep", "60", "5"]);
    const run = tracepoint("syscalls:sys_enter_nanosleep", { where: { pid: w.pid } }).count({ by: ["pid"] }).start({ interval: 0.1 });
    await w.go();
    await run.stop();
    const t = await run.finished();
    assert.equal((t.array("count") as number[]).reduce((a, b) => a + b, 0), 5);
    for (const req of [JSON.parse(exportOtlp(t, { name: "sleeps" })) as IExportMetricsServiceRequest, protobufRead(exportOtlp(t, { name: "sleeps" }))]) {
      const m = req.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
      assert.equal(m.name, "sleeps.count");
      assert.ok([1, "AGGREGATION_TEMPORALITY_DELTA"].includes(m.sum!.aggregationTemporality as unknown as number), "delta: each interval on its own");
      const points = m.sum!.dataPoints;
      assert.equal(points.length, t.numRows());
      assert.equal(points.reduce((s, p) => s + Number(p.asInt), 0), 5);
      const windows = points.map((p) => [BigInt(p.startTimeUnixNano as string), BigInt(p.timeUnixNano as string)] as const);
      for (const [a, b] of windows) assert.ok(a < b, "each window has a length");
      const { start } = runWindow(t.stats);
      const intervals = t.array("interval") as number[], times = t.array("time") as number[];
      for (let i = 0; i < points.length; i++) {
        assert.equal(windows[i]![1], BigInt(start) + BigInt(Math.round(times[i]! * 1e9)), `interval ${intervals[i]} ends at its time`);
        if (i === 0) assert.equal(windows[0]![0], intervals[0] === 0 ? BigInt(start) : windows[0]![0]);
        // an interval begins where the one before it ended; after intervals without events, later than that
        else if (intervals[i] === intervals[i - 1]! + 1) assert.equal(windows[i]![0], windows[i - 1]![1], `interval ${intervals[i]} follows ${intervals[i - 1]}`);
        else assert.ok(windows[i]![0] > windows[i - 1]![1], `interval ${intervals[i]} began after ${intervals[i - 1]} ended`);
      }
    }
  });

  it("interval windows: each interval from the end of the one before; across intervals without rows, on the schedule", () => {
    assert.deepEqual([...intervalWindows(new Map([[0, 0.101], [1, 0.202], [2, 0.302]]))], [[0, [0, 0.101]], [1, [0.101, 0.202]], [2, [0.202, 0.302]]]);
    // intervals 1 and 2 saw nothing: interval 3 began at 3 × 0.1 (the length estimated from interval 0's end, 0.1 = 0.1 / 1)
    assert.deepEqual([...intervalWindows(new Map([[0, 0.1], [3, 0.4], [4, 0.43]]))], [[0, [0, 0.1]], [3, [0.30000000000000004, 0.4]], [4, [0.4, 0.43]]]);
    assert.deepEqual([...intervalWindows(new Map([[2, 0.25]]))], [[2, [0.16666666666666666, 0.25]]], "only the final interval: its own end says how long intervals were");
  });

  it("hand-made histograms: log2 with bucket 0 (values below 1), linear with under/overflow, a count past 2^53", () => {
    const log2 = aq.table({ comm: ["a", "a", "b"], bucket: [0, 3, 61], low: [0, 4, 2 ** 60], high: [1, 8, 2 ** 61], count: [2n, 1n, 2n ** 60n] });
    const bounds = histogramBounds(log2.array("low") as number[], log2.array("high") as number[], log2.array("bucket") as number[]);
    assert.deepEqual(bounds, Array.from({ length: 62 }, (_, i) => 2 ** i - 1), "every power of two from 1 to 2^61, minus one");
    const text = exportOtlp(log2, { time: { start: new Date(1000), end: new Date(2000) } });
    for (const req of [JSON.parse(text) as IExportMetricsServiceRequest, protobufRead(text)]) {
      const [a, b] = req.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.histogram!.dataPoints;
      assert.deepEqual([a!.startTimeUnixNano, a!.timeUnixNano], ["1000000000", "2000000000"]);
      assert.equal(Number(a!.count), 3);
      assert.deepEqual(a!.bucketCounts!.map(Number).slice(0, 5), [2, 0, 0, 1, 0], "bucket 0 is (−∞, 0]; [4, 8) is (3, 7]");
      assert.equal(String(b!.count), "1152921504606846976", "a count past 2^53 stays exact (a decimal string, as protobuf's JSON writes 64-bit integers)");
      assert.equal(String(b!.bucketCounts![61]), "1152921504606846976");
    }
    // lhist(0..100 step 10): under/overflow rows at ±Infinity
    const lin = aq.table({ bucket: [0, 1, 5, 11], low: [-Infinity, 0, 40, 100], high: [0, 10, 50, Infinity], count: [1, 2, 3, 4] });
    const req = JSON.parse(exportOtlp(lin)) as IExportMetricsServiceRequest;
    const [p] = req.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.histogram!.dataPoints;
    assert.deepEqual(p!.explicitBounds, [-1, 9, 19, 29, 39, 49, 59, 69, 79, 89, 99]);
    assert.deepEqual(p!.bucketCounts, [1, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 4]);
    protobufRead(exportOtlp(lin));
  });

  it("a table that is not an aggregation is a named error listing the columns it needs and has", () => {
    assert.throws(() => exportOtlp(aq.table({ ts: [1], latency: [2] })), (e: Error) => e instanceof InvalidArgumentError && /needs an aggregation table: count .*; this table lacks count \(it has ts, latency\)/.test(e.message));
    assert.throws(() => exportOtlp(aq.table({ low: [1], high: [2] })), /columns low, high, count; this table lacks count/);
    assert.throws(() => exportOtlp(aq.table({ count: [1] }), { name: "no spaces" }), (e: Error) => e instanceof InvalidOptionError && /name must be an OpenTelemetry instrument name/.test(e.message));
    assert.throws(() => exportOtlp(aq.table({ count: [1] }), { time: { start: 1, end: 2 } as unknown as { start: Date; end: Date } }), /time must be \{ start: Date, end: Date \}/);
  });
});
