/* Chart helpers: figure structure from small hand-made tables (top-N arithmetic, zero
 * fill, icicle sums, percentile interpolation, units), then every chart drawn by
 * plotly.js in headless Chromium from its standalone HTML, with screenshots in
 * test/output/plot-*.png to look at. */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as aq from "arquero";
import { InvalidArgumentError } from "../bpf-lib/src/errors.js";
import { plot, percentileFromBuckets, formatDuration, pickUnit, PLOTLY_MARKER, type PlotFigure } from "../bpf-lib/src/plot/index.js";
import { DictColumn } from "../bpf-lib/src/engine/columns.js";
import { PLOTLY_MIME, isPlotlyFigure, toDisplayData } from "../kernel/display/index.js";
import { fitLabel, flameHeight } from "../bpf-lib/src/plot/flame/geometry.js";
import { diffTrees } from "../bpf-lib/src/plot/flamegraph-diff.js";
import { KERNEL_PATHS } from "./helpers/sample-stacks.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outputDir = join(root, "test", "output");
const CHROMIUM = "/usr/bin/chromium";

type Obj = Record<string, unknown>;

function arr(v: unknown): unknown[] {
  assert.ok(Array.isArray(v), `expected an array, got ${typeof v}`);
  return v;
}
function nums(v: unknown): number[] {
  return arr(v).map((x) => {
    assert.equal(typeof x, "number");
    return x as number;
  });
}
function obj(v: unknown): Obj {
  assert.ok(typeof v === "object" && v !== null && !Array.isArray(v), "expected an object");
  return v as Obj;
}
function titleText(v: unknown): string {
  return String(obj(obj(v).title).text);
}
function close(a: number, b: number, eps = 1e-9): void {
  assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);
}
function checkCommon(fig: PlotFigure): void {
  assert.equal(fig[PLOTLY_MARKER], true);
  assert.equal((fig as unknown as Record<symbol, unknown>)[Symbol.for("bpfbook.plotly")], true, "the global symbol the kernel looks for");
  assert.deepEqual(fig.config, { responsive: true, displaylogo: false });
  assert.ok(titleText(fig.layout).length > 0, "has a title");
  for (const t of fig.data) assert.ok(typeof t.hovertemplate === "string" && t.hovertemplate.length > 0, "hover shows our text");
  // The figure is plain data: JSON round trip loses nothing.
  assert.deepEqual(JSON.parse(JSON.stringify(fig)), JSON.parse(JSON.stringify({ data: fig.data, layout: fig.layout, config: fig.config })));
}

/** Deterministic pseudo-random numbers, so screenshots are the same run to run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("units", () => {
  it("formatDuration picks the unit per value, 3 significant digits", () => {
    assert.equal(formatDuration(0), "0 ns");
    assert.equal(formatDuration(512), "512 ns");
    assert.equal(formatDuration(1000), "1 µs");
    assert.equal(formatDuration(1024), "1.02 µs");
    assert.equal(formatDuration(2000), "2 µs");
    assert.equal(formatDuration(1_024_000), "1.02 ms");
    assert.equal(formatDuration(999.7), "1 µs", "rounding up moves to the next unit");
    assert.equal(formatDuration(1.5e9), "1.5 s");
    assert.equal(formatDuration(-2500), "-2.5 µs");
  });
  it("pickUnit: the largest unit in which the value is at least 1", () => {
    assert.equal(pickUnit(0), "ns");
    assert.equal(pickUnit(999), "ns");
    assert.equal(pickUnit(1000), "µs");
    assert.equal(pickUnit(5e6), "ms");
    assert.equal(pickUnit(2e9), "s");
  });
});

describe("percentileFromBuckets", () => {
  it("interpolates linearly inside the bucket", () => {
    assert.equal(percentileFromBuckets([0, 10], [10, 20], [10, 10], 50), 10);
    assert.equal(percentileFromBuckets([0, 10], [10, 20], [10, 10], 25), 5);
    assert.equal(percentileFromBuckets([0, 10], [10, 20], [10, 10], 75), 15);
    assert.equal(percentileFromBuckets([0, 10], [10, 20], [10, 10], 0), 0);
    assert.equal(percentileFromBuckets([0, 10], [10, 20], [10, 10], 100), 20);
    // log2 buckets: 4 events in [1,2), 4 in [2,4): p75 is halfway through [2,4).
    assert.equal(percentileFromBuckets([1, 2], [2, 4], [4, 4], 75), 3);
  });
  it("accepts buckets in any order and skips empty ones", () => {
    assert.equal(percentileFromBuckets([10, 0, 100], [20, 10, 200], [10, 10, 0], 75), 15);
    assert.equal(percentileFromBuckets([0, 10, 20], [10, 20, 40], [0, 4, 0], 0), 10, "p0 is the lowest non-empty bucket's low");
    assert.equal(percentileFromBuckets([0, 10, 20], [10, 20, 40], [0, 4, 0], 100), 20);
  });
  it("typed arrays work; NaN without events; p outside 0..100 is refused", () => {
    assert.equal(percentileFromBuckets([-Infinity, 0], [0, 10], [1, 1], 25), 0, "an underflow bucket is known only by its finite bound");
    assert.equal(percentileFromBuckets(Float64Array.of(0, 10), Float64Array.of(10, 20), Uint32Array.of(1, 3), 50), 10 + (2 - 1) / 3 * 10);
    assert.ok(Number.isNaN(percentileFromBuckets([0], [1], [0], 50)));
    assert.throws(() => percentileFromBuckets([0], [1], [1], 101), InvalidArgumentError);
    assert.throws(() => percentileFromBuckets([0], [1, 2], [1], 50), InvalidArgumentError);
  });
});

describe("bar", () => {
  const t = aq.table({ comm: ["a", "b", "c", "d", "e", "f"], count: [5, 40, 3, 20, 1, 2] });

  it("top N sorted descending, the rest summed into other", () => {
    const fig = plot.bar(t, { x: "comm", top: 3 });
    checkCommon(fig);
    assert.equal(fig.data.length, 1);
    const tr = fig.data[0];
    assert.equal(tr.type, "bar");
    assert.deepEqual(tr.x, ["b", "d", "a", "other (3)"]);
    assert.deepEqual(tr.y, [40, 20, 5, 3 + 1 + 2]);
    const colors = arr(obj(tr.marker).color);
    assert.notEqual(colors[3], colors[0], "other is drawn differently");
    assert.equal(titleText(obj(fig.layout.xaxis)), "comm");
    assert.equal(titleText(obj(fig.layout.yaxis)), "count");
    assert.match(String(arr(tr.hovertext)[0]), /count: 40.*\n?.*56\.3% of total/s);
  });
  it("no other bar when everything fits; duplicates are summed", () => {
    const fig = plot.bar(aq.table({ k: ["x", "y", "x"], n: [1, 2, 3] }), { x: "k", y: "n" });
    assert.deepEqual(fig.data[0].x, ["x", "y"]);
    assert.deepEqual(fig.data[0].y, [4, 2]);
    assert.equal(plot.bar(t, { x: "comm", top: 6 }).data[0].x instanceof Array && nums(plot.bar(t, { x: "comm", top: 6 }).data[0].y).length, 6);
  });
  it("horizontal: values across, largest at the top", () => {
    const fig = plot.bar(t, { x: "comm", top: 2, horizontal: true });
    const tr = fig.data[0];
    assert.equal(tr.orientation, "h");
    assert.deepEqual(tr.y, ["b", "d", "other (4)"]);
    assert.deepEqual(tr.x, [40, 20, 11]);
    assert.equal(obj(fig.layout.yaxis).autorange, "reversed");
    assert.equal(titleText(obj(fig.layout.xaxis)), "count");
  });
  it("dictionary columns and typed arrays; a table without count counts rows", () => {
    const comm = new DictColumn(Uint32Array.from([0, 1, 0, 0, 2]), ["bash", "sshd", "cron"]);
    const raw = aq.table({ comm, pid: Int32Array.from([1, 2, 3, 4, 5]) });
    const fig = plot.bar(raw, { x: "comm" });
    assert.deepEqual(fig.data[0].x, ["bash", "cron", "sshd"]);
    assert.deepEqual(fig.data[0].y, [3, 1, 1]);
  });
  it("durations: shown in the unit that suits them, axis titled with it", () => {
    const fig = plot.bar(aq.table({ sc: ["read", "write"], total: Float64Array.of(2_500_000, 800_000) }), { x: "sc", y: "total", unit: "ns" });
    assert.equal(titleText(obj(fig.layout.yaxis)), "total (ms)");
    assert.deepEqual(fig.data[0].y, [2.5, 0.8]);
    assert.match(String(arr(fig.data[0].hovertext)[0]), /2,500,000 ns \(2\.5 ms\)/);
  });
  it("names no column that is missing; text is escaped for Plotly", () => {
    assert.throws(() => plot.bar(t, { x: "nope" }), (e: unknown) => e instanceof InvalidArgumentError && /no column "nope".*comm, count/.test(e.message));
    assert.throws(() => plot.bar(t, { x: "comm", y: "bytes" }), InvalidArgumentError);
    assert.throws(() => plot.bar(t, { x: "comm", top: 0 }), InvalidArgumentError);
    const fig = plot.bar(aq.table({ f: ["std::vector<int>"], count: [1] }), { x: "f" });
    assert.deepEqual(fig.data[0].x, ["std::vector&lt;int&gt;"]);
  });
  it("long names are cut on the axis only, and two that cut alike stay two bars", () => {
    const long = "x".repeat(50);
    const fig = plot.bar(aq.table({ f: [`${long}1`, `${long}2`], count: [2, 1] }), { x: "f" });
    const xa = obj(fig.layout.xaxis);
    assert.deepEqual(fig.data[0].x, [`${long}1`, `${long}2`]);
    assert.deepEqual(xa.tickvals, fig.data[0].x);
    assert.deepEqual(xa.ticktext, [`${"x".repeat(39)}…`, `${"x".repeat(39)}…`]);
  });
  it("an empty table is an empty chart that says so", () => {
    const fig = plot.bar(aq.table({ comm: [] as string[], count: [] as number[] }), { x: "comm" });
    assert.equal(fig.data.length, 0);
    assert.match(String(obj(arr(fig.layout.annotations)[0]).text), /no rows/);
  });
});

describe("timeseries", () => {
  // 3 seconds × 4 keys; key d is missing at t=1 and t=2 has no rows at all.
  const t = aq.table({
    time: [0, 0, 0, 0, 1, 1, 1, 3, 3, 3, 3],
    comm: ["a", "b", "c", "d", "a", "b", "c", "a", "b", "c", "d"],
    count: [10, 5, 1, 2, 20, 6, 2, 30, 7, 3, 1],
  });

  it("top keys by total plus other, zeros where a key has no row, missing seconds put back", () => {
    const fig = plot.timeseries(t, { by: "comm", top: 2 });
    checkCommon(fig);
    assert.deepEqual(fig.data.map((d) => d.name), ["a", "b", "other (2)"]);
    assert.ok(fig.data.every((d) => d.type === "scatter" && d.mode === "lines" && d.stackgroup === undefined));
    assert.deepEqual(fig.data[0].x, [0, 1, 2, 3]);
    assert.deepEqual(fig.data[0].y, [10, 20, 0, 30]);
    assert.deepEqual(fig.data[2].y, [1 + 2, 2, 0, 3 + 1]);
    assert.equal(titleText(obj(fig.layout.xaxis)), "time (s)");
    assert.equal(titleText(obj(fig.layout.yaxis)), "count");
    assert.equal(fig.layout.hovermode, "x unified");
  });
  it("stacked: every trace in one stack group", () => {
    const fig = plot.timeseries(t, { by: "comm", top: 2, stacked: true });
    assert.ok(fig.data.every((d) => d.stackgroup === "one"));
    // Per time point the stack adds up to the whole table.
    const sum = [0, 1, 2, 3].map((i) => fig.data.reduce((s, d) => s + nums(d.y)[i], 0));
    assert.deepEqual(sum, [18, 28, 0, 41]);
  });
  it("several key columns are joined with ' · '; no by → one line of y", () => {
    const two = plot.timeseries(aq.table({ time: [0, 0], comm: ["a", "a"], sc: ["read", "write"], n: [1, 2] }), { by: ["comm", "sc"], y: "n" });
    assert.deepEqual(two.data.map((d) => d.name).sort(), ["a · read", "a · write"]);
    const one = plot.timeseries(t);
    assert.equal(one.data.length, 1);
    assert.deepEqual(one.data[0].y, [18, 28, 0, 41]);
  });
  it("Dates and epoch milliseconds give a date axis in local time", () => {
    const base = new Date(2024, 4, 1, 12, 0, 0).getTime();
    for (const time of [[new Date(base), new Date(base + 1000)], [base, base + 1000]]) {
      const fig = plot.timeseries(aq.table({ time, count: [1, 2] }));
      assert.equal(obj(fig.layout.xaxis).type, "date");
      assert.deepEqual(fig.data[0].x, ["2024-05-01 12:00:00.000", "2024-05-01 12:00:01.000"]);
      assert.equal(titleText(obj(fig.layout.xaxis)), "time");
    }
  });
});

describe("histogram", () => {
  // log2 µs buckets; [4,8) is missing from the data.
  const h = aq.table({ low: [1, 2, 8, 1024], high: [2, 4, 16, 2048], count: [10, 20, 5, 1] });

  it("bars per log2 bucket with empty buckets put back, edges labelled with durations", () => {
    const fig = plot.histogram(h, { unit: "us" });
    checkCommon(fig);
    assert.equal(fig.data.length, 1);
    assert.equal(fig.data[0].type, "bar");
    // 1,2,4,…,1024: 11 buckets.
    assert.equal(nums(fig.data[0].y).length, 11);
    assert.deepEqual(nums(fig.data[0].y).slice(0, 4), [10, 20, 0, 5]);
    const xa = obj(fig.layout.xaxis);
    const labels = arr(xa.ticktext);
    assert.equal(labels[0], "1 µs");
    assert.ok(labels.includes("2 µs") || labels.includes("4 µs"));
    assert.equal(labels.at(-1), "2.05 ms", "the last edge is the last bucket's end (2048 µs)");
    assert.equal(titleText(xa), "latency (log2 buckets)");
    assert.equal(titleText(obj(fig.layout.yaxis)), "count");
    assert.match(String(arr(fig.data[0].hovertext)[10]), /1\.02 ms – 2\.05 ms<br>\[1,024, 2,048\) µs<br>count: 1/);
  });
  it("ns buckets read as ns, µs and ms as they grow", () => {
    const fig = plot.histogram(aq.table({ low: [512, 1024, 1 << 20], high: [1024, 2048, 1 << 21], count: [1, 1, 1] }));
    const labels = arr(obj(fig.layout.xaxis).ticktext);
    assert.equal(labels[0], "512 ns");
    assert.ok(labels.some((l) => String(l).endsWith("µs")));
    assert.ok(labels.some((l) => String(l).endsWith("ms")));
  });
  it("lhist tables: evenly spaced buckets filled in, under- and overflow at the ends; sizes in bytes", () => {
    const t = aq.table({ low: [-Infinity, 0, 1024, 4096], high: [0, 512, 1536, Infinity], count: [1, 2, 3, 4] });
    const fig = plot.histogram(t, { unit: "bytes" });
    assert.deepEqual(fig.data[0].y, [1, 2, 0, 3, 0, 0, 0, 0, 0, 4], "(-∞,0), 0…3584 by 512, [4096,∞)");
    const xa = obj(fig.layout.xaxis);
    assert.equal(titleText(xa), "size (buckets)");
    assert.equal(arr(xa.ticktext)[0], "−∞");
    assert.equal(arr(xa.ticktext).at(-1), "∞");
    assert.ok(arr(xa.ticktext).includes("1 KiB"));
    assert.match(String(arr(fig.data[0].hovertext)[0]), /^below 0 B<br>\(-∞, 0\) bytes/);
    assert.match(String(arr(fig.data[0].hovertext)[9]), /^4 KiB and above<br>\[4,096, ∞\) bytes<br>count: 4/);
    assert.equal(titleText(fig.layout), "size");
    const plain = plot.histogram(aq.table({ low: [1, 1024], high: [2, 2048], count: [1, 1] }), { unit: "none", axisTitle: "queue depth" });
    assert.equal(arr(obj(plain.layout.xaxis).ticktext)[0], "1");
    assert.equal(titleText(obj(plain.layout.xaxis)), "queue depth");
    assert.throws(() => plot.histogram(t, { unit: "parsecs" as "ns" }), InvalidArgumentError);
  });
  it("percentile marks: lines where the interpolated percentile falls", () => {
    const fig = plot.histogram(aq.table({ low: [0, 10], high: [10, 20], count: [10, 10] }), { percentiles: { marks: [50, 75] } });
    const shapes = arr(fig.layout.shapes).map(obj);
    assert.equal(shapes.length, 2);
    // p50 = 10 is the end of bucket 0 (x = 1); p75 = 15 is halfway through bucket 1 (x = 1.5).
    close(Number(shapes[0].x0), 1);
    close(Number(shapes[1].x0), 1.5);
    const texts = arr(fig.layout.annotations).map((a) => String(obj(a).text));
    assert.deepEqual(texts, ["p50 10 ns", "p75 15 ns"]);
    assert.match(String(obj(obj(fig.layout.title).subtitle).text), /20 events · p50 10 ns · p75 15 ns/);
    assert.throws(() => plot.histogram(h, { percentiles: { marks: [120] } }), InvalidArgumentError);
  });
  it("by: one chart per key, top N by count plus other", () => {
    const rows = { comm: [] as string[], low: [] as number[], high: [] as number[], count: [] as number[] };
    const keys = ["a", "b", "c", "d"];
    keys.forEach((k, i) => {
      for (const lo of [1, 2, 4]) {
        rows.comm.push(k);
        rows.low.push(lo);
        rows.high.push(lo * 2);
        rows.count.push((4 - i) * 10 + lo);
      }
    });
    const fig = plot.histogram(aq.table(rows), { by: "comm", top: 2, percentiles: true });
    checkCommon(fig);
    assert.deepEqual(fig.data.map((d) => d.name), ["a", "b", "other (2)"]);
    assert.deepEqual(fig.data[2].y, [20 + 1 + 10 + 1, 20 + 2 + 10 + 2, 20 + 4 + 10 + 4]);
    assert.deepEqual(fig.data.map((d) => d.yaxis), ["y", "y2", "y3"]);
    assert.ok(typeof fig.layout.height === "number" && fig.layout.height > 450);
    assert.equal(arr(fig.layout.shapes).length, 9, "p50, p90, p99 on each of 3 charts");
    const headings = arr(fig.layout.annotations).map((a) => String(obj(a).text)).filter((s) => s.startsWith("<b>"));
    assert.equal(headings.length, 3);
    assert.match(headings[0], /<b>a<\/b>\s+127 events · p50/);
  });
});

describe("heatmap", () => {
  // Intervals 0, 1 and 3 (2 has no rows); buckets [1,2) and [4,8) ns ([2,4) has no rows).
  const t = aq.table({ interval: [0, 0, 1, 3], low: [1, 4, 1, 4], high: [2, 8, 2, 8], count: [5, 2, 7, 9] });

  it("z is buckets × intervals with zeros where there is no data", () => {
    const fig = plot.heatmap(t);
    checkCommon(fig);
    const tr = fig.data[0];
    assert.equal(tr.type, "heatmap");
    assert.deepEqual(tr.x, [0, 1, 2, 3]);
    assert.deepEqual(tr.y, [0, 1, 2, 3], "edges of 3 bucket rows");
    assert.deepEqual(tr.z, [
      [5, 7, 0, 0],
      [0, 0, 0, 0],
      [2, 0, 0, 9],
    ]);
    assert.equal(titleText(obj(tr.colorbar)), "count");
    assert.equal(titleText(obj(fig.layout.xaxis)), "interval");
    assert.deepEqual(obj(fig.layout.yaxis).ticktext, ["1 ns", "2 ns", "4 ns", "8 ns"]);
    assert.equal(arr(arr(tr.hovertext)[2])[3], "interval 3<br>4 ns – 8 ns<br>[4, 8) ns<br>count: 9");
  });
  it("log colour: log10(count + 1) with ticks naming counts", () => {
    const fig = plot.heatmap(aq.table({ interval: [0, 1], low: [1, 1], high: [2, 2], count: [9, 999] }), { logColor: true });
    const tr = fig.data[0];
    close(nums(arr(tr.z)[0])[0], 1);
    close(nums(arr(tr.z)[0])[1], 3);
    assert.deepEqual(obj(tr.colorbar).ticktext, ["0", "1", "10", "100"]);
    assert.match(String(arr(arr(tr.hovertext)[0])[1]), /count: 999$/, "hover keeps the real count");
  });
  it("seconds and Dates on the time axis", () => {
    const secs = plot.heatmap(aq.table({ time: [0.5, 1.5, 2.5], low: [1, 1, 1], high: [2, 2, 2], count: [1, 1, 1] }), { time: "time" });
    assert.equal(titleText(obj(secs.layout.xaxis)), "time (s)");
    const d = new Date(2024, 0, 2, 3, 4, 5);
    const dates = plot.heatmap(aq.table({ time: [d], low: [1], high: [2], count: [1] }), { time: "time", unit: "ms" });
    assert.equal(obj(dates.layout.xaxis).type, "date");
    assert.deepEqual(dates.data[0].x, ["2024-01-02 03:04:05.000"]);
    assert.deepEqual(obj(dates.layout.yaxis).ticktext, ["1 ms", "2 ms"]);
  });
});

describe("flamegraph", () => {
  function parentsAndValues(fig: PlotFigure) {
    const tr = fig.data[0];
    const ids = arr(tr.ids).map(String);
    const parents = arr(tr.parents).map(String);
    const labels = arr(tr.labels).map(String);
    const values = nums(tr.values);
    const at = new Map(ids.map((id, i) => [id, i]));
    const path = (i: number): string => (parents[i] === "" ? labels[i] : `${path(at.get(parents[i]) ?? -1)};${labels[i]}`);
    return { ids, parents, labels, values, at, byPath: new Map(ids.map((_, i) => [path(i), values[i]])) };
  }

  it("folded stacks → icicle with inclusive sums under one root", () => {
    const t = aq.table({ stack: ["main;read;vfs_read", "main;read", "main;write", "idle", "main;read;vfs_read"], count: [3, 2, 1, 4, 1] });
    const fig = plot.flamegraph(t);
    checkCommon(fig);
    const tr = fig.data[0];
    assert.equal(tr.type, "icicle");
    assert.equal(tr.branchvalues, "total");
    assert.equal(obj(tr.tiling).orientation, "v", "root at the top");
    const g = parentsAndValues(fig);
    assert.deepEqual(Object.fromEntries(g.byPath), {
      all: 11,
      "all;main": 7,
      "all;main;read": 6,
      "all;main;read;vfs_read": 4,
      "all;main;write": 1,
      "all;idle": 4,
    });
    // total branch values: every parent holds at least the sum of its children.
    g.ids.forEach((_, i) => {
      const kids = g.values.filter((_, j) => g.parents[j] === g.ids[i]).reduce((s, v) => s + v, 0);
      assert.ok(g.values[i] >= kids);
    });
  });
  it("array stacks give the same tree; leafFirst reverses them", () => {
    const folded = plot.flamegraph(aq.table({ stack: ["a;b;c", "a;d"], count: [2, 3] }));
    const arrays = plot.flamegraph(aq.table({ stack: [["a", "b", "c"], ["a", "d"]], count: [2, 3] }));
    const leaf = plot.flamegraph(aq.table({ frames: [["c", "b", "a"], ["d", "a"]], n: [2, 3] }), { stack: "frames", value: "n", leafFirst: true });
    const want = Object.fromEntries(parentsAndValues(folded).byPath);
    assert.deepEqual(Object.fromEntries(parentsAndValues(arrays).byPath), want);
    assert.deepEqual(Object.fromEntries(parentsAndValues(leaf).byPath), want);
  });
  it("without a count column each row is one sample; kernel addresses read as hex", () => {
    const fig = plot.flamegraph(aq.table({ stack: [[0xffffffff81000010n, 0xffffffff81000020n], [0xffffffff81000010n]] }));
    assert.deepEqual(Object.fromEntries(parentsAndValues(fig).byPath), { all: 2, "all;0xffffffff81000010": 2, "all;0xffffffff81000010;0xffffffff81000020": 1 });
  });
  it("tens of thousands of stacks are merged quickly", () => {
    const r = rng(7);
    const fns = Array.from({ length: 200 }, (_, i) => `fn_${i}`);
    const stacks = Array.from({ length: 20_000 }, () => Array.from({ length: 5 + Math.floor(r() * 25) }, (_, d) => fns[Math.floor(r() * (d < 3 ? 3 : 200))]).join(";"));
    const t = aq.table({ stack: stacks, count: stacks.map(() => 1 + Math.floor(r() * 5)) });
    // CPU time, not wall time: npm test runs another lane beside this one on a 2-core machine
    const c0 = process.cpuUsage();
    const fig = plot.flamegraph(t);
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000;
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms of CPU`);
    const g = parentsAndValues(fig);
    assert.equal(g.values[0], nums(t.array("count")).reduce((s, v) => s + v, 0));
    assert.ok(g.ids.length <= 5000, "the browser is given at most maxNodes boxes");
    assert.match(String(obj(obj(fig.layout.title).subtitle).text), /^the widest [\d,]+ of [\d,]+ call paths/);
  });
  it("maxNodes keeps the widest call paths as a connected tree", () => {
    const t = aq.table({ stack: ["a;b;c", "a;b;d", "a;e", "f"], count: [5, 1, 2, 1] });
    const fig = plot.flamegraph(t, { maxNodes: 4 });
    const g = parentsAndValues(fig);
    // widths: all 9, a 8, b 6, c 5, e 2, d 1, f 1: the 4 widest are all, a, b, c.
    assert.deepEqual(Object.fromEntries(g.byPath), { all: 9, "all;a": 8, "all;a;b": 6, "all;a;b;c": 5 });
    assert.ok(g.parents.every((p) => p === "" || g.at.has(p)));
    assert.equal(obj(plot.flamegraph(t).layout.title).subtitle, undefined, "nothing left out, nothing said");
  });
});

describe("flame graphs: orientation, search, labels, depth", () => {
  const stacks = aq.table({
    stack: ["main;read;vfs_read", "main;read", "main;write;vfs_read_[k]", "idle", "main;vfs_read;x;vfs_read"],
    count: [3, 2, 1, 4, 2],
  });
  const colorsByLabel = (fig: PlotFigure) => {
    const tr = fig.data[0];
    return arr(tr.hovertext).map((l, i) => [String(l), String(arr(obj(tr.marker).colors)[i])]);
  };

  it("orientation: the icicle has its root at the top, the classic flame graph at the bottom", () => {
    const icicle = plot.flamegraph(stacks);
    assert.deepEqual(icicle.data[0].tiling, { orientation: "v" });
    assert.equal(obj(icicle.data[0].pathbar).side, "top");
    const flame = plot.flamegraph(stacks, { orientation: "flame" });
    assert.deepEqual(flame.data[0].tiling, { orientation: "v", flip: "y" });
    assert.equal(obj(flame.data[0].pathbar).side, "bottom");
    assert.deepEqual(flame.data[0].values, icicle.data[0].values, "the same boxes");
    assert.throws(() => plot.flamegraph(stacks, { orientation: "down" as "flame" }), (e: unknown) => e instanceof InvalidArgumentError && /orientation must be "icicle" .* or "flame"/.test(e.message));
  });

  it("highlight: matching frames magenta, their share of samples in the subtitle, recursion counted once", () => {
    // through vfs_read: 3 (main;read;vfs_read) + 1 (vfs_read_[k], a kernel frame) + 2 (twice in one stack, once counted) = 6 of 12
    const fig = plot.flamegraph(stacks, { highlight: "vfs_read" });
    assert.equal(String(obj(obj(fig.layout.title).subtitle).text), "vfs_read: 50.0% of samples");
    const magenta = colorsByLabel(fig).filter(([, c]) => c === "#e600e6").map(([l]) => l);
    assert.deepEqual(magenta, ["vfs_read", "vfs_read_[k]", "vfs_read", "vfs_read"]);
    const re = plot.flamegraph(stacks, { highlight: /^(idle|x)$/g }); // a global RegExp: no lastIndex left over between frames
    assert.equal(String(obj(obj(re.layout.title).subtitle).text), "/^(idle|x)$/g: 50.0% of samples");
    assert.deepEqual(colorsByLabel(re).filter(([, c]) => c === "#e600e6").map(([l]) => l), ["idle", "x"]);
    assert.equal(String(obj(obj(plot.flamegraph(stacks, { highlight: "nope" }).layout.title).subtitle).text), "nope: no frame matches");
    assert.throws(() => plot.flamegraph(stacks, { highlight: "" }), /highlight must be a frame name \("vfs_read"\) or a RegExp/);
  });

  it("labels are cut to their box's width, or left out when under five characters fit", () => {
    assert.equal(fitLabel("vfs_read", 100), "vfs_read");
    assert.equal(fitLabel("ext4_buffered_write_iter", 100), "ext4_buffered…", "(100 − 8) / 6.5 = 14 characters");
    assert.equal(fitLabel("ext4_buffered_write_iter", 44), "ext4…");
    assert.equal(fitLabel("ext4_buffered_write_iter", 40), "");
    // in a figure: a box of 1/12 of 884 px (900 less margins) holds 10 characters
    const fig = plot.flamegraph(aq.table({ stack: ["a_long_function_name", "b"], count: [1, 11] }));
    assert.deepEqual(fig.data[0].labels, ["all", "a_long_fu…", "b"]);
    const wide = plot.flamegraph(aq.table({ stack: ["a_long_function_name", "b"], count: [1, 11] }), { width: 2000 });
    assert.equal(wide.layout.width, 2000);
    assert.deepEqual(wide.data[0].labels, ["all", "a_long_function_name", "b"]);
    assert.equal(arr(plot.flamegraph(aq.table({ stack: ["<x>;y"], count: [1] })).data[0].labels)[1], "&lt;x&gt;", "cut, then escaped");
  });

  it("20 px per level, at least 300 px; deep stacks draw 40 levels at once", () => {
    assert.equal(flameHeight(9, false), 300);
    assert.equal(flameHeight(40, false), 52 + 8 + 20 + 800);
    assert.equal(flameHeight(20, true), 78 + 8 + 20 + 400);
    const deep = aq.table({ stack: [Array.from({ length: 60 }, (_, i) => `f${i}`).join(";")], count: [1] });
    const fig = plot.flamegraph(deep);
    assert.equal(fig.data[0].maxdepth, 40);
    assert.equal(fig.layout.height, flameHeight(40, true));
    assert.equal(String(obj(obj(fig.layout.title).subtitle).text), "40 of 61 levels drawn: click a box to see the levels below it");
    assert.equal(plot.flamegraph(deep, { maxDepth: 10 }).data[0].maxdepth, 10);
    assert.equal(plot.flamegraph(stacks).data[0].maxdepth, -1, "shallow: every level");
    assert.throws(() => plot.flamegraph(stacks, { maxDepth: 0 }), /maxDepth must be a positive integer, not 0/);
  });

  it("differential: after's boxes, coloured by the change in share, exact", () => {
    const before = aq.table({ stack: ["a;b", "a;c", "a", "a;e"], count: [6, 2, 1, 1] }); // 10 samples
    const after = aq.table({ stack: ["a;b", "a;c", "d"], count: [10, 5, 5] }); // 20 samples
    const d = diffTrees(before, after);
    assert.deepEqual(d.tree.names, ["all", "a", "b", "c", "e", "d"]);
    assert.deepEqual([d.beforeTotal, d.afterTotal], [10, 20]);
    // shares before: a 100%, b 60%, c 20%, e 10%; after: a 75%, b 50%, c 25%, d 25%
    d.delta.forEach((v, i) => close(v, [0, -25, -10, 5, -10, 25][i], 1e-12));
    const fig = plot.flamegraphDiff(before, after);
    checkCommon(fig);
    const tr = fig.data[0];
    assert.deepEqual(tr.labels, ["all", "a", "b", "c", "d"], "e is gone in after: no box");
    assert.deepEqual(tr.values, [20, 15, 10, 5, 5]);
    const m = obj(tr.marker);
    nums(m.colors).forEach((v, i) => close(v, [0, -25, -10, 5, 25][i], 1e-12));
    assert.deepEqual([m.cmin, m.cmax], [-25, 25]);
    assert.ok(obj(m.colorbar).title, "a colour bar says what the colours mean");
    assert.deepEqual(arr(tr.customdata)[2], ["50%", "6", "60%", "−10.00 pp"]);
    assert.equal(String(obj(obj(fig.layout.title).subtitle).text),
      "width: after (20 samples) · colour: change in share since before (10 samples): red grew, blue shrank<br>1 call paths only in before (10% of its samples) are not drawn");
    assert.match(String(obj(arr(plot.flamegraphDiff(before, aq.table({ stack: [], count: [] })).layout.annotations)[0]).text), /no samples in the "after" profile/);
  });
});

describe("interval tables are drawn against seconds", () => {
  // as collect({ interval: 1 }) returns them: each flip a little late; interval 2 had no events
  const t = aq.table({ interval: [0, 1, 3, 4], time: [1.0004, 2.0011, 4.0007, 5.0002], count: [5, 6, 7, 8] });
  it("timeseries and heatmap use the time column by default; a missing interval is a zero at its place", () => {
    const ts = plot.timeseries(t);
    assert.equal(titleText(obj(ts.layout.xaxis)), "time (s)");
    assert.deepEqual(ts.data[0].x, [1.0004, 2.0011, 3.0003, 4.0007, 5.0002]);
    assert.deepEqual(ts.data[0].y, [5, 6, 0, 7, 8]);
    const heat = plot.heatmap(aq.table({ interval: [0, 1], time: [0.5, 1], low: [1, 1], high: [2, 2], count: [1, 2] }));
    assert.equal(titleText(obj(heat.layout.xaxis)), "time (s)");
    assert.deepEqual(heat.data[0].x, [0.5, 1]);
    assert.match(String(arr(arr(heat.data[0].hovertext)[0])[0]), /^time 0.5 s<br>/);
    const bare = plot.timeseries(aq.table({ interval: [0, 1, 2], count: [1, 2, 3] }));
    assert.equal(titleText(obj(bare.layout.xaxis)), "interval", "a table with only interval numbers says so");
  });
});

describe("in the notebook", () => {
  it("the kernel's display layer shows every helper's figure as a chart, even with extra fields", () => {
    const figs = [
      plot.bar(aq.table({ k: ["a"], count: [1] }), { x: "k" }),
      plot.timeseries(aq.table({ time: [0, 1], count: [1, 2] })),
      plot.histogram(aq.table({ low: [1], high: [2], count: [1] })),
      plot.heatmap(aq.table({ interval: [0], low: [1], high: [2], count: [1] })),
      plot.flamegraph(aq.table({ stack: ["a;b"], count: [1] })),
    ];
    for (const fig of figs) {
      const withExtra = { ...fig, table: aq.table({ k: ["a"] }) };
      assert.ok(isPlotlyFigure(withExtra), "the marker survives a spread");
      const d = toDisplayData(withExtra);
      assert.ok(PLOTLY_MIME in d.data, `shown as a chart: ${Object.keys(d.data).join(", ")}`);
    }
  });
  it("the library does not import the kernel", () => {
    const dir = join(root, "bpf-lib", "src", "plot");
    const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
    assert.ok(files.length > 5);
    for (const f of files) assert.doesNotMatch(readFileSync(join(dir, f), "utf8"), /from "[^"]*kernel\//, f);
  });
});

describe("save and toHTML", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "bpfbook-plot-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("save() writes one HTML file with plotly.js inlined and the figure", () => {
    const fig = plot.bar(aq.table({ comm: ["a", "b"], count: [1, 2] }), { x: "comm", title: "saved chart" });
    const file = plot.save(fig, join(dir, "bar.html"));
    const html = readFileSync(file, "utf8");
    assert.ok(statSync(file).size > 1_000_000, "plotly.js is inside");
    assert.match(html, /plotly\.js v\d/);
    assert.match(html, /<title>saved chart<\/title>/);
    assert.ok(html.includes('"type":"bar"'));
    assert.ok(!/<script[^>]+src=/.test(html), "loads nothing from outside");
  });
  it("toHTML: values cannot close the script; typed arrays and bigints become JSON", () => {
    const html = plot.toHTML({ data: [{ type: "bar", x: ["</script><b>x"], y: Float64Array.of(1.5), customdata: [3n] }] });
    const script = html.slice(html.lastIndexOf("<script"));
    assert.equal(script.match(/<\/script>/g)?.length, 1);
    assert.ok(script.includes('"y":[1.5]'));
    assert.ok(script.includes('"customdata":[3]'));
  });
});

/** The browser globals the page callbacks use (the project compiles without the DOM lib). */
interface PageGlobals {
  document: { querySelectorAll(sel: string): { length: number }; body: { getAttribute(name: string): string | null } };
}

type Browser = Awaited<ReturnType<(typeof import("playwright-core"))["chromium"]["launch"]>>;

/** Tables shaped like real traces, for charts worth looking at. */
/** A chart to draw; `hover` is where to point (fractions of the chart's box) for a second screenshot showing the hover text. */
interface Sample {
  name: string;
  fig: PlotFigure;
  selector: string;
  hover?: [number, number];
}

function sampleFigures(): Sample[] {
  const r = rng(42);
  const comms = ["postgres", "<idle>", "node", "systemd-journald", "sshd", "containerd", "kworker/u16:3", "python3", "chrome", "Xorg", "pipewire", "gnome-shell", "bash", "cron", "snapd", "dockerd", "rsyslogd", "irqbalance", "dbus-daemon", "NetworkManager", "udisksd", "polkitd", "thermald", "avahi-daemon", "cupsd", "a-process-with-a-really-quite-long-command-name"];
  const weight = comms.map((_, i) => 1 / (i + 1) ** 1.3);
  const bars = aq.table({ comm: comms, count: comms.map((_, i) => Math.round(50_000 * weight[i] * (0.8 + 0.4 * r()))) });

  const time: number[] = [];
  const comm: string[] = [];
  const count: number[] = [];
  for (let s = 0; s < 60; s++) {
    comms.slice(0, 14).forEach((c, i) => {
      if (r() < 0.03) return;
      time.push(s);
      comm.push(c);
      const burst = i === 2 && s > 20 && s < 30 ? 4 : 1;
      count.push(Math.round(1000 * weight[i] * burst * (0.6 + 0.8 * r())));
    });
  }
  const series = aq.table({ time, comm, count });
  const base = new Date(2024, 4, 1, 9, 30, 0).getTime();
  const dated = aq.table({ time: time.map((s) => new Date(base + s * 1000)), comm, count });

  // Bimodal read latency: a fast cache-hit mode around 2 µs and a slow disk mode around 300 µs.
  const lat = (n: number, modes: [number, number, number][]) => {
    const out = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const x = r();
      let acc = 0;
      for (const [w, center, spread] of modes) {
        acc += w;
        if (x <= acc || w === modes.at(-1)?.[0]) {
          const ns = center * 2 ** ((r() + r() + r() - 1.5) * spread);
          const lo = 2 ** Math.floor(Math.log2(ns));
          out.set(lo, (out.get(lo) ?? 0) + 1);
          break;
        }
      }
    }
    return out;
  };
  const hist = lat(20_000, [[0.8, 2000, 2], [0.2, 300_000, 2.5]]);
  const histTable = aq.table({ low: [...hist.keys()], high: [...hist.keys()].map((l) => 2 * l), count: [...hist.values()] });
  const byRows = { comm: [] as string[], low: [] as number[], high: [] as number[], count: [] as number[] };
  comms.slice(0, 9).forEach((c, i) => {
    const m = lat(Math.round(8000 * weight[i]), [[0.7, 1000 * (i + 1), 1.5], [0.3, 50_000 * (i + 1), 2]]);
    for (const [lo, n] of m) {
      byRows.comm.push(c);
      byRows.low.push(lo);
      byRows.high.push(2 * lo);
      byRows.count.push(n);
    }
  });
  const heat = { interval: [] as number[], low: [] as number[], high: [] as number[], count: [] as number[] };
  for (let s = 0; s < 60; s++) {
    if (s === 40) continue; // an interval with no events at all
    const slow = s > 25 && s < 35 ? 0.5 : 0.05;
    for (const [lo, n] of lat(500 + Math.round(r() * 300), [[1 - slow, 4000, 2], [slow, 2_000_000, 1.5]])) {
      heat.interval.push(s);
      heat.low.push(lo);
      heat.high.push(2 * lo);
      heat.count.push(n);
    }
  }
  const heatTable = aq.table(heat);

  const paths = [
    ...KERNEL_PATHS,
    ["ret_from_fork_asm", "ret_from_fork", "kthread", "worker_thread", "process_one_work", "std::vector<int>::push_back(int const&)"],
  ];
  const folded: string[] = [];
  const samples: number[] = [];
  paths.forEach((p, i) => {
    for (let d = 3; d <= p.length; d++) {
      folded.push(p.slice(0, d).join(";"));
      samples.push(Math.round((d === p.length ? 400 : 40) * weight[i] * (0.5 + r())));
    }
  });
  const stacks = aq.table({ stack: folded, count: samples });

  const svg = "svg.main-svg";
  return [
    { name: "bar", fig: plot.bar(bars, { x: "comm", title: "syscalls by process (top 20)" }), selector: ".bars path", hover: [0.085, 0.5] },
    { name: "bar-horizontal", fig: plot.bar(bars, { x: "comm", top: 12, horizontal: true }), selector: ".bars path" },
    { name: "timeseries", fig: plot.timeseries(series, { by: "comm" }), selector: ".scatterlayer .trace", hover: [0.4, 0.5] },
    { name: "timeseries-stacked", fig: plot.timeseries(dated, { by: "comm", stacked: true, title: "syscalls per second, stacked" }), selector: ".scatterlayer .trace" },
    { name: "histogram", fig: plot.histogram(histTable, { percentiles: { marks: [50, 90, 99] }, title: "read latency" }), selector: ".bars path" },
    { name: "histogram-by", fig: plot.histogram(aq.table(byRows), { by: "comm", percentiles: { marks: [50, 99] }, title: "read latency by process" }), selector: ".bars path", hover: [0.222, 0.1] },
    { name: "heatmap", fig: plot.heatmap(heatTable, { title: "read latency over time" }), selector: "svg.main-svg .hm image", hover: [0.5, 0.75] },
    { name: "heatmap-log", fig: plot.heatmap(heatTable, { logColor: true, title: "read latency over time (log colour)" }), selector: "svg.main-svg .hm image" },
    { name: "flamegraph", fig: plot.flamegraph(stacks, { title: "on-CPU kernel stacks" }), selector: `${svg} .iciclelayer path`, hover: [0.3, 0.62] },
  ];
}

describe("charts in headless Chromium", () => {
  let browser: Browser | undefined;
  let skip: string | undefined;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "bpfbook-plot-html-"));
    mkdirSync(outputDir, { recursive: true });
    if (!existsSync(CHROMIUM)) {
      skip = `${CHROMIUM} is missing`;
      console.log(`# skipping chart rendering: ${skip}`);
      return;
    }
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-background-networking", "--disable-gpu"] });
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const { name, fig, selector, hover } of sampleFigures()) {
    it(`${name}: draws offline, screenshot in test/output/plot-${name}.png`, async (t) => {
      if (!browser) return t.skip(skip);
      const file = join(dir, `${name}.html`);
      writeFileSync(file, plot.toHTML(fig));
      const p = await browser.newPage({ viewport: { width: 1000, height: 560 } });
      const problems: string[] = [];
      p.on("pageerror", (e) => problems.push(e.message));
      p.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
      p.on("request", (r) => { if (!r.url().startsWith("file:")) problems.push(`fetched ${r.url()}`); });
      await p.goto(pathToFileURL(file).href);
      await p.waitForFunction(() => (globalThis as unknown as PageGlobals).document.body.getAttribute("data-plotted") === "1", undefined, { timeout: 20_000 });
      const counts = await p.evaluate((sel) => {
        const d = (globalThis as unknown as PageGlobals).document;
        return { svg: d.querySelectorAll("svg.main-svg").length, marks: d.querySelectorAll(sel).length, title: d.querySelectorAll(".gtitle").length };
      }, selector);
      assert.ok(counts.svg > 0, "svg.main-svg drawn");
      assert.ok(counts.marks > 0, `${selector} drawn`);
      assert.equal(counts.title, 1, "the title is drawn");
      assert.deepEqual(problems, []);
      if (name === "bar") {
        const ticks = await p.$$eval(".xtick text", (els) => els.map((e) => e.textContent));
        assert.ok(ticks.includes("<idle>"), `angle brackets survive: ${ticks.join(", ")}`);
      }
      await p.screenshot({ path: join(outputDir, `plot-${name}.png`), fullPage: true });
      const box = hover && (await p.locator("#plot").boundingBox());
      if (hover && box) {
        await p.mouse.move(box.x + box.width * hover[0], box.y + box.height * hover[1]);
        await p.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelectorAll(".hoverlayer .hovertext, .hoverlayer .legend").length > 0, undefined, { timeout: 5_000 });
        await p.screenshot({ path: join(outputDir, `plot-${name}-hover.png`), fullPage: true });
      }
      await p.close();
    });
  }
});
