/* The display layer: values → Jupyter MIME bundles, rule by rule, then the HTML drawn
 * in headless Chromium (and in a real classic Notebook 6 when one is installed), with
 * screenshots in test/output/ to look at. */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inspect } from "node:util";
import * as aq from "arquero";
import type { AggStats } from "../bpf-lib/src/engine/aggregation-run.js";
import { syscalls, tracepoint } from "../bpf-lib/src/index.js";
import { DictColumn } from "../bpf-lib/src/engine/columns.js";
import { traceFromArrow, traceToArrow } from "../bpf-lib/src/engine/persist.js";
import type { TraceStats } from "../bpf-lib/src/engine/stats.js";
import { toTraceTable } from "../bpf-lib/src/engine/table.js";
import {
  JUPYTER_DISPLAY,
  PLOTLY_MIME,
  html,
  isPlotlyFigure,
  markdown,
  plotlyFigure,
  png,
  resetPlotlyInjection,
  shouldDisplay,
  svg,
  toDisplayData,
  toExecuteResult,
  type DisplayData,
} from "../kernel/display/index.js";
import { renamedWorkload, workload } from "./helpers/workload.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outputDir = join(root, "test", "output");
const CHROMIUM = "/usr/bin/chromium";

function text(d: DisplayData, mime = "text/plain"): string {
  const v = d.data[mime];
  assert.equal(typeof v, "string", `${mime} should be a string`);
  return v as string;
}

function stats(over: Partial<TraceStats> = {}): TraceStats {
  return {
    received: 1234, lost: 0, produced: 1234, filtered: 0, truncated: 0, seconds: 2,
    startNs: 0, stopNs: 2e9, epochOffsetNs: 0, bufferBytes: 1 << 20, stoppedBy: "seconds",
    source: "syscalls:sys_enter_openat", ...over,
  };
}

/** A TraceTable like collect() returns: typed columns, a dictionary comm, kernel addresses. */
function traceTable(rows: number, over: Partial<TraceStats> = {}) {
  const dict = ["bash", "sshd", "<script>window.__xss = 1</script>"];
  const codes = Uint32Array.from({ length: rows }, (_, i) => i % dict.length);
  return toTraceTable(
    {
      pid: Int32Array.from({ length: rows }, (_, i) => 1000 + i),
      comm: new DictColumn(codes, dict),
      addr: BigUint64Array.from({ length: rows }, (_, i) => (i % 2 ? 0xffffffff81000000n + BigInt(i) * 0x10n : BigInt(i))),
      latency_ms: Float64Array.from({ length: rows }, (_, i) => i / 3),
      filename: Array.from({ length: rows }, (_, i) => (i % 4 === 3 ? null : `/etc/file-${i}.conf`)),
    },
    stats({ received: rows, produced: rows + (over.lost ?? 0), ...over }),
  );
}

function twoTraceFigure() {
  return { data: [{ type: "bar", x: ["a", "b", "c"], y: [3, 1, 2] }, { x: [0, 1, 2], y: Float64Array.from([1, 4, 9]) }], layout: { title: { text: "two traces" } } };
}

describe("rule 1: [Symbol.for('Jupyter.display')]()", () => {
  it("uses the bundle the object returns and adds a text/plain fallback", () => {
    const d = toDisplayData({ [Symbol.for("Jupyter.display")]: () => ({ "text/html": "<b>bold &amp; brave</b>" }) });
    assert.equal(d.data["text/html"], "<b>bold &amp; brave</b>");
    assert.equal(d.data["text/plain"], "bold & brave");
  });

  it("accepts {data, metadata} and keeps an explicit text/plain", () => {
    const v = { [JUPYTER_DISPLAY]: () => ({ data: { "text/markdown": "# hi", "text/plain": "hi" }, metadata: { foo: 1 } }) };
    const d = toDisplayData(v);
    assert.deepEqual(d, { data: { "text/markdown": "# hi", "text/plain": "hi" }, metadata: { foo: 1 } });
  });

  it("works for class instances (method on the prototype) and base64-encodes image bytes", () => {
    class Dot {
      [JUPYTER_DISPLAY]() {
        return { "image/png": new Uint8Array([1, 2, 3]) };
      }
    }
    const d = toDisplayData(new Dot());
    assert.equal(d.data["image/png"], "AQID");
    assert.equal(d.data["text/plain"], "[image/png]");
  });

  it("a display method that throws falls back to text, with the reason", () => {
    const d = toDisplayData({ [JUPYTER_DISPLAY]: () => { throw new Error("boom"); } });
    assert.match(text(d), /display failed: boom/);
    assert.equal(d.metadata["bpfbook.display_error"], "boom");
  });

  it("html/markdown/svg/png helpers", () => {
    assert.deepEqual(toDisplayData(html("<i>x</i>")).data, { "text/html": "<i>x</i>", "text/plain": "x" });
    assert.deepEqual(toDisplayData(markdown("**m**")).data, { "text/markdown": "**m**", "text/plain": "**m**" });
    assert.deepEqual(toDisplayData(svg("<svg/>")).data, { "image/svg+xml": "<svg/>", "text/plain": "[SVG image]" });
    // An 8-byte signature, then IHDR: length, "IHDR", width 3, height 2.
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 3, 0, 0, 0, 2]);
    const d = toDisplayData(png(bytes));
    assert.equal(d.data["image/png"], Buffer.from(bytes).toString("base64"));
    assert.equal(d.data["text/plain"], "[PNG image 3×2]");
    assert.deepEqual(d.metadata, { "image/png": { width: 3, height: 2 } });
  });
});

describe("rule 2: Arquero tables", () => {
  it("header with row and column counts; text/plain is an aligned table", () => {
    const d = toDisplayData(aq.table({ x: [1, 22, 333], name: ["a", "bb", "ccc"] }));
    const h = text(d, "text/html");
    assert.match(h, /3 rows × 2 columns/);
    assert.doesNotMatch(h, /showing first/);
    assert.equal(
      text(d),
      ["3 rows × 2 columns", "     x  name", "number  string", "------  ------", "     1  a", "    22  bb", "   333  ccc"].join("\n"),
    );
  });

  it("truncates to 20 rows by default, or to the limit option, and says so", () => {
    const t = aq.table({ i: Array.from({ length: 50 }, (_, i) => i) });
    const d = toDisplayData(t);
    assert.match(text(d, "text/html"), /50 rows × 1 column · showing first 20/);
    assert.equal((text(d, "text/html").match(/<tr>/g) ?? []).length, 1 + 20);
    assert.match(text(d), /^50 rows × 1 column · showing first 20\n/);
    assert.match(text(toDisplayData(t, { limit: 5 }), "text/html"), /showing first 5/);
  });

  it("escapes HTML in cell values and column names", () => {
    const d = toDisplayData(aq.table({ "<b>col</b>": ["<script>alert(1)</script>", "a & b"] }));
    const h = text(d, "text/html");
    assert.doesNotMatch(h, /<script>alert/);
    assert.match(h, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(h, /&lt;b&gt;col&lt;\/b&gt;/);
    assert.match(h, /a &amp; b/);
  });

  it("is self-contained: scoped inline CSS, nothing fetched", () => {
    const h = text(toDisplayData(aq.table({ a: [1] })), "text/html");
    assert.match(h, /^<div class="bpfbook-table">/);
    assert.match(h, /<style>/);
    for (const rule of h.match(/^[^\n{]*\{/gm) ?? []) assert.match(rule, /^\.bpfbook-table/, rule);
    assert.doesNotMatch(h, /https?:|<link|@import|src=/);
  });

  it("types under column names, numbers right-aligned, addresses in hex", () => {
    const t = traceTable(6);
    const d = toDisplayData(t);
    const h = text(d, "text/html");
    const types = [...h.matchAll(/<th[^>]*>([^<]*)<span class="bt-type">([\w ()]+)<\/span><\/th>/g)].map((m) => `${m[1]}:${m[2]}`);
    assert.deepEqual(types, ["pid:number", "comm:dict", "addr:bigint", "latency_ms:number (ms)", "filename:string"]);
    assert.match(h, /<td class="bt-num">1000<\/td>/);
    assert.match(h, /<td class="bt-num">0xffffffff81000010<\/td>/);
    assert.match(h, /<td class="bt-num">2<\/td>/); // a small bigint stays decimal
    assert.match(h, /<td class="bt-num" title="0.3333333 ms">333 µs<\/td>/);
    assert.match(h, /<td class="bt-null">null<\/td>/);
    const plain = text(d).split("\n");
    assert.equal(plain[1].trim().split(/\s+/).join(","), "pid,comm,addr,latency_ms,filename");
    assert.equal(plain[2].trim().split(/\s{2,}/).join(","), "number,dict,bigint,number (ms),string");
  });

  it("strings are left-aligned and numbers right-aligned, by each value (a kind is named from a sample)", () => {
    // 100 numbers name the column "number"; the string after them stays text-aligned.
    const late = [...Array.from({ length: 100 }, (_, i) => i), "n/a"];
    const t = aq.table({ late, mixed: late.map((v, i) => (i % 2 ? String(v) : v)) });
    const d = toDisplayData(t, { limit: 101 });
    const h = text(d, "text/html");
    assert.match(h, /<tr><td class="bt-num">99<\/td><td>99<\/td><\/tr>/);
    assert.match(h, /<tr><td class="bt-num">98<\/td><td class="bt-num">98<\/td><\/tr>/);
    assert.match(h, /<tr><td>n\/a<\/td><td>n\/a<\/td><\/tr>/);
    assert.match(h, /<th class="bt-num">late<span class="bt-type">number<\/span><\/th><th>mixed<span class="bt-type">mixed<\/span><\/th>/);
    // Notebooks right-align every td (".rendered_html td"); ours is one element more specific.
    assert.match(h, /\.bpfbook-table table th, \.bpfbook-table table td \{[^}]*text-align: left;/);
    assert.match(h, /\.bpfbook-table table \.bt-num \{ text-align: right;/);
    const plain = text(d).split("\n");
    assert.deepEqual(plain.slice(1, 4), ["  late  mixed", "number  mixed", "------  -----"]);
    assert.deepEqual(plain.slice(-3), ["    98     98", "    99  99", "n/a     n/a"]);
  });

  it("durations read with units; the exact value is the cell's title and the unit is in the header", () => {
    const t = aq.table({ comm: ["postgres", "cat"], count: [1000, 3], p50: [812345, 4037269000], "p99.9": [999.7, 0], age_ms: [1500, 2], latency: [null, 12], size: [4096, 1] });
    const d = toDisplayData(t);
    const h = text(d, "text/html");
    assert.match(h, /<tr><td>postgres<\/td><td class="bt-num">1000<\/td><td class="bt-num" title="812345 ns">812 µs<\/td><td class="bt-num" title="999.7 ns">1 µs<\/td><td class="bt-num" title="1500 ms">1.5 s<\/td><td class="bt-num bt-null">null<\/td><td class="bt-num">4096<\/td><\/tr>/);
    assert.match(h, /<tr><td>cat<\/td><td class="bt-num">3<\/td><td class="bt-num" title="4037269000 ns">4.04 s<\/td><td class="bt-num" title="0 ns">0 ns<\/td><td class="bt-num" title="2 ms">2 ms<\/td><td class="bt-num" title="12 ns">12 ns<\/td><td class="bt-num">1<\/td><\/tr>/);
    assert.match(h, /<th class="bt-num" title="durations in ns, shown in the unit that suits each value; hover a cell for the exact value">p50<span class="bt-type">number \(ns\)<\/span><\/th>/);
    assert.match(h, /<th class="bt-num">count<span class="bt-type">number<\/span><\/th>/);
    assert.deepEqual(text(d).split("\n"), [
      "2 rows × 7 columns",
      "comm       count          p50        p99.9       age_ms      latency    size",
      "string    number  number (ns)  number (ns)  number (ms)  number (ns)  number",
      "--------  ------  -----------  -----------  -----------  -----------  ------",
      "postgres    1000       812 µs         1 µs        1.5 s         null    4096",
      "cat            3       4.04 s         0 ns         2 ms        12 ns       1",
    ]);
    assert.equal(t.get("p50", 1), 4037269000, "the table's values are unchanged");
  });

  it("a latency aggregation's buckets and values are durations; other aggregations' are not", () => {
    const agg = (unit: "ns" | undefined) => {
      const t = aq.table({ comm: ["cat"], low: [1024], high: [2048], count: [7], sum: [9000], max: [1999] });
      Object.defineProperty(t, "stats", { value: { events: 7, dropped: 0, ...(unit ? { unit } : {}) }, enumerable: false });
      return text(toDisplayData(t)).split("\n")[4];
    };
    assert.equal(agg("ns"), "cat         1.02 µs      2.05 µs       7         9 µs         2 µs");
    assert.equal(agg(undefined), "cat       1024    2048       7    9000    1999");
  });

  it("infers kinds from values: date, boolean, object, mixed, empty", () => {
    const t = aq.table({ d: [null, new Date(0)], b: [true, false], o: [{ a: 1 }, [1]], m: [1, "x"], e: [null, null] });
    const h = text(toDisplayData(t), "text/html");
    const kinds = [...h.matchAll(/<span class="bt-type">(\w+)<\/span>/g)].map((m) => m[1]);
    assert.deepEqual(kinds, ["date", "boolean", "object", "mixed", "empty"]);
    assert.match(h, /1970-01-01T00:00:00.000Z/);
  });

  it("dictionary columns are 'dict', also after an Arrow round trip (loadTrace)", () => {
    const back = traceFromArrow(traceToArrow(traceTable(4)));
    const h = text(toDisplayData(back), "text/html");
    assert.match(h, /comm<span class="bt-type">dict<\/span>/);
    assert.match(h, /<td>sshd<\/td>/);
    assert.match(h, /syscalls:sys_enter_openat · 4 received/);
  });

  it("stats footer; lost > 0 is red", () => {
    const quiet = toDisplayData(traceTable(3));
    assert.match(text(quiet, "text/html"), /<div class="bt-stats">syscalls:sys_enter_openat · 3 received · 0 lost · 2.00 s<\/div>/);
    assert.match(text(quiet), /\nsyscalls:sys_enter_openat · 3 received · 0 lost · 2.00 s$/);

    const loud = toDisplayData(traceTable(3, { lost: 1500, filtered: 7 }));
    const h = text(loud, "text/html");
    assert.match(h, /bt-has-lost/);
    assert.match(h, /<span class="bt-lost">⚠ 1,500 lost<\/span> · 7 filtered in kernel · 2.00 s/);
    assert.match(h, /\.bpfbook-table \.bt-lost \{ color: #d32f2f/);
    assert.match(text(loud), /⚠ 1,500 lost/);
  });

  it("verbs return plain tables (no footer) and order/filter are honoured", () => {
    const t = traceTable(10).filter((r: { pid: number }) => r.pid >= 1005).orderby(aq.desc("pid"));
    const d = toDisplayData(t);
    assert.doesNotMatch(text(d, "text/html"), /class="bt-stats/);
    assert.match(text(d), /^5 rows × 5 columns\n/);
    assert.equal(text(d).split("\n")[4].trim().split(/\s+/)[0], "1009");
  });

  it("duck-typed tables are recognised", () => {
    const col = ["x", "y"];
    const duck = { numRows: () => 2, numCols: () => 1, columnNames: () => ["s"], column: () => col };
    assert.match(text(toDisplayData(duck), "text/html"), /2 rows × 1 column/);
  });

  it("empty tables say so", () => {
    const d = toDisplayData(aq.table({ a: [] as number[] }));
    assert.match(text(d, "text/html"), /\(no rows\)/);
    assert.match(text(d), /^0 rows × 1 column\n/);
  });
});

describe("rule 2: aggregation tables show their own stats (real runs)", () => {
  /** The footer of both renderings: the last line of text/plain, the bt-stats div of text/html. */
  function footers(t: unknown): { plain: string; html: string } {
    const d = toDisplayData(t);
    const html = /<div class="bt-stats[^"]*">.*<\/div>/.exec(text(d, "text/html"));
    assert.ok(html, "an HTML stats footer");
    return { plain: text(d).split("\n").at(-1)!, html: html[0] };
  }
  const tail = (s: AggStats) => `${s.filtered ? ` · ${s.filtered.toLocaleString("en-US")} filtered in kernel` : ""}`;
  const secs = (s: AggStats) => ` · ${s.seconds.toFixed(2)} s`;

  it("a clean count: events and 0 dropped, nothing red", async () => {
    const w = workload(["getppid", "100"]);
    const run = tracepoint("syscalls:sys_enter_getppid", { where: { pid: w.pid } }).count({ by: ["pid"] }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const t = await run.finished();
    const { plain, html } = footers(t);
    assert.equal(plain, `syscalls:sys_enter_getppid · 100 events · 0 dropped${tail(t.stats)}${secs(t.stats)}`);
    assert.equal(html, `<div class="bt-stats">syscalls:sys_enter_getppid · 100 events · 0 dropped${tail(t.stats)}${secs(t.stats)}</div>`);
  });

  it("the tracer's own events left out are said, not silent", async () => {
    const w = workload(["getppid", "10"]);
    const run = tracepoint("syscalls:sys_enter_getppid").count({ by: ["pid"] }).start();
    let ppid = 0;
    for (let i = 0; i < 5; i++) ppid += process.ppid; // each read is a getppid() of this process: left out, counted
    assert.ok(ppid > 0);
    assert.equal(await w.go(), 0);
    await run.stop();
    const t = await run.finished();
    const rows = t.objects() as { pid: number; count: number }[];
    assert.equal(rows.find((r) => r.pid === w.pid)?.count, 10);
    assert.equal(rows.find((r) => r.pid === process.pid), undefined);
    assert.equal(t.stats.excludedSelf, 5);
    const { plain } = footers(t);
    assert.match(plain, / · 5 of the tracer's own left out \(includeSelf: true keeps them\)/);
  });

  it("a full map: dropped events in red", async () => {
    // one comm of our own so nothing else on the machine lands in the one-key map
    const binary = renamedWorkload("bpfbook-dfull");
    const run = tracepoint("syscalls:sys_enter_getppid", { where: { comm: "bpfbook-dfull" } }).count({ by: ["pid"], maxKeys: 1 }).start();
    for (let i = 0; i < 3; i++) assert.equal(await workload(["getppid", "10"], { binary }).go(), 0);
    await run.stop();
    const t = await run.finished();
    const { plain, html } = footers(t);
    assert.equal(plain, `syscalls:sys_enter_getppid · 30 events · ⚠ 20 dropped (map full; raise maxKeys)${tail(t.stats)}${secs(t.stats)}`);
    assert.equal(
      html,
      `<div class="bt-stats bt-has-lost">syscalls:sys_enter_getppid · 30 events · <span class="bt-lost">⚠ 20 dropped (map full; raise maxKeys)</span>${tail(t.stats)}${secs(t.stats)}</div>`,
    );
  });

  it("string keys cut at their slot: truncated keys in red", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-disp-"));
    try {
      const w = workload(["paths", dir, "10", "100"]);
      const run = tracepoint("syscalls:sys_enter_openat", { where: { pid: w.pid } }).count({ by: ["filename"] }).start();
      assert.equal(await w.go(), 0);
      await run.stop();
      const t = await run.finished();
      const { plain, html } = footers(t);
      const loud = "1 truncated string key (… marks them; raise stringBytes)";
      assert.equal(plain, `syscalls:sys_enter_openat · 10 events · 0 dropped · ⚠ ${loud}${tail(t.stats)}${secs(t.stats)}`);
      assert.equal(html, `<div class="bt-stats bt-has-lost">syscalls:sys_enter_openat · 10 events · 0 dropped · <span class="bt-lost">⚠ ${loud}</span>${tail(t.stats)}${secs(t.stats)}</div>`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("values beyond 2^53: the bigint columns are named (exact, so not red)", async () => {
    const w = workload(["seek", "5", String(2n ** 53n + 1n), "3"]);
    const run = tracepoint("syscalls:sys_enter_lseek", { where: { pid: w.pid } }).stats("offset").start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const t = await run.finished();
    const { plain, html } = footers(t);
    assert.equal(plain, `syscalls:sys_enter_lseek · 5 events · 0 dropped${tail(t.stats)} · bigint (exact 64-bit): sum, min, max${secs(t.stats)}`);
    assert.equal(html, `<div class="bt-stats">syscalls:sys_enter_lseek · 5 events · 0 dropped${tail(t.stats)} · bigint (exact 64-bit): sum, min, max${secs(t.stats)}</div>`);
  });

  it("latency ends without a start: unmatched in red", async () => {
    const w = workload(["sleep", "1", "3"]);
    // attach only once the child sits in its gate readv(2): that call's end has no start
    const SYS_READV = 19;
    for (let i = 0; i < 500 && !readFileSync(`/proc/${w.pid}/syscall`, "utf8").startsWith(`${SYS_READV} `); i++) await new Promise((r) => setTimeout(r, 10));
    const run = syscalls.latency({ where: { pid: w.pid } }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const t = await run.finished();
    const { plain, html } = footers(t);
    const loud = "1 unmatched latency end (no start seen)";
    assert.equal(plain, `${t.stats.source} · 3 events · 0 dropped · ⚠ ${loud}${tail(t.stats)}${secs(t.stats)}`);
    assert.equal(html, `<div class="bt-stats bt-has-lost">${t.stats.source} · 3 events · 0 dropped · <span class="bt-lost">⚠ ${loud}</span>${tail(t.stats)}${secs(t.stats)}</div>`);
  });
});

describe("rule 3: Plotly figures", () => {
  before(() => resetPlotlyInjection());

  it("plain figure objects are recognised; other objects with a data array are not", () => {
    assert.ok(isPlotlyFigure(twoTraceFigure()));
    assert.ok(isPlotlyFigure({ data: [{ type: "pie", values: [1] }] }));
    assert.ok(!isPlotlyFigure({ data: [] }));
    assert.ok(!isPlotlyFigure({ data: [1, 2, 3] }));
    assert.ok(!isPlotlyFigure({ data: [{ x: 1 }], total: 3 }));
    assert.ok(isPlotlyFigure({ ...plotlyFigure([]), table: "extra fields keep the marker" }));
  });

  it("the Plotly MIME payload is a JSON object, with typed arrays and bigints converted", () => {
    resetPlotlyInjection();
    const fig = plotlyFigure([{ type: "bar", x: new DictColumn(Uint32Array.from([0, 1]), ["a", "b"]), y: BigUint64Array.from([5n, 0xffffffff81000000n]) }], { height: 300 }, { staticPlot: true });
    const d = toDisplayData({ ...fig, source: "extra" });
    const json = d.data[PLOTLY_MIME];
    assert.equal(typeof json, "object");
    assert.deepEqual(json, { data: [{ type: "bar", x: ["a", "b"], y: [5, "0xffffffff81000000"] }], layout: { height: 300 }, config: { staticPlot: true } });
    assert.deepEqual(JSON.parse(JSON.stringify(d.data)), d.data, "the whole bundle survives JSON");
    assert.equal(d.data["text/plain"], "Plotly figure: 1 trace (bar)");
    assert.deepEqual(d.metadata, { "text/html": { isolated: false } });
    assert.match(text(d, "text/html"), /height: 300px/);
  });

  it("text/plain lists the trace types and the title", () => {
    assert.equal(text(toDisplayData(twoTraceFigure())), "Plotly figure: 2 traces (bar, scatter): two traces");
  });

  it("plotly.js is inlined in the first figure after resetPlotlyInjection() only", () => {
    resetPlotlyInjection();
    const first = text(toDisplayData(twoTraceFigure()), "text/html");
    const second = text(toDisplayData(twoTraceFigure()), "text/html");
    assert.ok(first.length > 1_000_000, "the first figure carries plotly.min.js");
    assert.ok(second.length < 5_000, `later figures are small (${second.length} chars)`);
    assert.match(first, /if \(!window\.Plotly\)/);
    assert.doesNotMatch(second, /if \(!window\.Plotly\)/);
    assert.match(second, /re-run the cell to load plotly\.js/);
    resetPlotlyInjection();
    assert.ok(text(toDisplayData(twoTraceFigure()), "text/html").length > 1_000_000, "after a restart plotly.js is sent again");
  });

  it("the inlined loader hides RequireJS's define while plotly.js runs", () => {
    resetPlotlyInjection();
    const h = text(toDisplayData(twoTraceFigure()), "text/html");
    assert.match(h, /var hiddenDefine = window\.define;\s*window\.define = undefined;/);
    assert.match(h, /finally \{\s*window\.define = hiddenDefine;/);
    assert.match(h, /\(function \(define, module, exports, require\) \{/);
  });

  it("the HTML fetches nothing and cannot be cut short by '</script>' in the data", () => {
    resetPlotlyInjection();
    const first = text(toDisplayData({ data: [{ type: "bar", x: ["</script><b>x</b>"], y: [1] }] }), "text/html");
    // (plotly.min.js itself mentions CDN URLs, e.g. for map tiles; the browser test checks nothing is fetched)
    assert.doesNotMatch(first, /<script[^>]*\ssrc=/);
    const later = text(toDisplayData({ data: [{ type: "bar", x: ["a"], y: [1] }] }), "text/html");
    assert.doesNotMatch(later, /https?:|src=|require\(|fetch\(/);
    assert.equal((first.match(/<\/script>/gi) ?? []).length, 2, "only the loader's and the draw script's end tags");
    assert.equal((first.match(/<!--/g) ?? []).length, 0);
  });
});

describe("rules 4 and 5: errors and everything else", () => {
  it("errors show name, code, message and cause", () => {
    assert.equal(text(toDisplayData(new RangeError("too far"))), "RangeError: too far");
    const e = Object.assign(new Error("no such tracepoint", { cause: new TypeError("bad name") }), { name: "UnknownTracepointError", code: "ENOENT" });
    assert.equal(text(toDisplayData(e)), "UnknownTracepointError [ENOENT]: no such tracepoint\nCaused by: TypeError: bad name");
  });

  it("other values are util.inspect'ed like the REPL", () => {
    assert.equal(text(toDisplayData("hi")), "'hi'");
    assert.equal(text(toDisplayData(42n)), "42n");
    assert.equal(text(toDisplayData(null)), "null");
    const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
    assert.equal(text(toDisplayData(deep)), inspect(deep, { depth: 4, colors: false, maxArrayLength: 100 }));
    assert.match(text(toDisplayData(deep)), /e: \[Object\]/);
    assert.match(text(toDisplayData(Array.from({ length: 150 }, (_, i) => i))), /\.\.\. 50 more items/);
    assert.deepEqual(Object.keys(toDisplayData({ data: [1, 2] }).data), ["text/plain"]);
  });

  it("undefined is not displayed", () => {
    assert.equal(shouldDisplay(undefined), false);
    assert.equal(toExecuteResult(undefined), null);
    assert.equal(shouldDisplay(null), true);
    assert.equal(shouldDisplay(0), true);
    assert.deepEqual(toExecuteResult(0)?.data, { "text/plain": "0" });
  });
});

// ---- Rendering in a browser -------------------------------------------------------

/** The browser globals the page callbacks use (the project compiles without the DOM lib). */
interface PageGlobals {
  document: { querySelectorAll(sel: string): { length: number }; querySelector(sel: string): { textContent: string | null } | null };
  getComputedStyle(el: unknown): { color: string; textAlign: string };
  define?: { amd?: object };
  requirejs?: unknown;
}

type Browser = Awaited<ReturnType<(typeof import("playwright-core"))["chromium"]["launch"]>>;

async function launch(): Promise<Browser | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing`;
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-background-networking", "--disable-gpu"] });
}

function page(body: string, head = ""): string {
  return `<!doctype html><html><head><meta charset="utf-8">${head}</head><body style="margin: 16px; font-family: sans-serif; width: 900px">${body}</body></html>`;
}

describe("rendering in headless Chromium", () => {
  let browser: Browser | undefined;
  let skip: string | undefined;
  let dir: string;

  before(async () => {
    const b = await launch();
    if (typeof b === "string") {
      skip = b;
      console.log(`# skipping browser rendering: ${b}`);
    } else browser = b;
    dir = mkdtempSync(join(tmpdir(), "bpfbook-display-"));
    mkdirSync(outputDir, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("two figures on a page with RequireJS's define: both draw, define is restored", async (t) => {
    if (!browser) return t.skip(skip);
    resetPlotlyInjection();
    const figs = [
      toDisplayData(plotlyFigure([{ type: "bar", x: ["openat", "read", "write"], y: [120, 80, 45] }], { title: { text: "syscalls" }, height: 320 })),
      toDisplayData({ data: [{ x: [0, 1, 2, 3], y: Float64Array.from([1, 3, 2, 4]), mode: "lines+markers", name: "lat" }, { type: "bar", x: [0, 1, 2, 3], y: [2, 1, 2, 1] }], layout: { height: 320 } }),
    ];
    // What classic Notebook 6 has: an AMD define that would capture plotly.js as a module.
    const requireJs = `<script>window.define = function () { window.__amdCaptured = true; }; window.define.amd = {};</script>`;
    const file = join(dir, "plotly.html");
    writeFileSync(file, page(figs.map((f) => `<div class="output">${text(f, "text/html")}</div>`).join("\n"), requireJs));
    const p = await browser.newPage({ viewport: { width: 960, height: 760 } });
    const errors: string[] = [];
    p.on("pageerror", (e) => errors.push(e.message));
    p.on("request", (r) => { if (!r.url().startsWith("file:")) errors.push(`fetched ${r.url()}`); });
    await p.goto(pathToFileURL(file).href);
    await p.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelectorAll(".bpfbook-plot svg.main-svg").length >= 2, undefined, { timeout: 20_000 });
    const perDiv = await p.$$eval(".bpfbook-plot", (divs) => divs.map((d) => d.querySelectorAll("svg.main-svg").length));
    assert.equal(perDiv.length, 2);
    assert.ok(perDiv.every((n) => n > 0), `svg.main-svg in each div: ${perDiv}`);
    const amd = await p.evaluate(() => ({ restored: typeof (globalThis as unknown as PageGlobals).define?.amd === "object", captured: "__amdCaptured" in globalThis }));
    assert.deepEqual(amd, { restored: true, captured: false });
    assert.deepEqual(errors, []);
    await p.screenshot({ path: join(outputDir, "display-plotly.png"), fullPage: true });
    await p.close();
  });

  it("a later figure on a page without plotly.js says to re-run, and fetches nothing", async (t) => {
    if (!browser) return t.skip(skip);
    resetPlotlyInjection();
    toDisplayData(twoTraceFigure()); // the one that carried plotly.js, now gone (page reloaded)
    const later = text(toDisplayData(twoTraceFigure()), "text/html");
    const file = join(dir, "reloaded.html");
    writeFileSync(file, page(later));
    const p = await browser.newPage();
    const fetched: string[] = [];
    p.on("request", (r) => { if (!r.url().startsWith("file:")) fetched.push(r.url()); });
    await p.goto(pathToFileURL(file).href);
    await p.waitForFunction(() => /re-run the cell/.test((globalThis as unknown as PageGlobals).document.querySelector(".bpfbook-plot")?.textContent ?? ""), undefined, { timeout: 10_000 });
    assert.deepEqual(fetched, []);
    await p.close();
  });

  it("a table renders readably (screenshot) and its cells run no scripts", async (t) => {
    if (!browser) return t.skip(skip);
    const normal = text(toDisplayData(traceTable(40), { limit: 8 }), "text/html");
    const lossy = text(toDisplayData(traceTable(5, { lost: 312, filtered: 20 })), "text/html");
    const p = await browser.newPage({ viewport: { width: 900, height: 600 } });
    await p.setContent(page(`${normal}<br>${lossy}`));
    assert.equal(await p.evaluate(() => "__xss" in globalThis), false);
    assert.equal(await p.locator(".bpfbook-table tbody tr").count(), 8 + 5);
    const lostColor = await p.locator(".bt-lost").evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).color);
    assert.equal(lostColor, "rgb(211, 47, 47)");
    const align = await p.locator(".bpfbook-table td.bt-num").first().evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).textAlign);
    assert.equal(align, "right");
    await p.screenshot({ path: join(outputDir, "display-table.png"), fullPage: true });
    await p.close();
  });
});

// ---- A real classic Notebook 6 -------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`no answer from ${url} in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("classic Notebook 6 (RequireJS loaded, saved outputs of a trusted notebook)", () => {
  const jupyter = "/usr/bin/jupyter";
  const hasNotebook6 = existsSync(jupyter) && spawnSync(jupyter, ["notebook", "--version"], { encoding: "utf8" }).stdout?.startsWith("6.");

  it("draws both figures and the table", async (t) => {
    if (!hasNotebook6) return t.skip("jupyter notebook 6 is not installed");
    const b = await launch();
    if (typeof b === "string") return t.skip(b);
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-nb6-"));
    // Our own config, data (trust database) and runtime dirs: nothing of the user's is touched.
    const env = { ...process.env, JUPYTER_CONFIG_DIR: join(dir, "config"), JUPYTER_DATA_DIR: join(dir, "data"), JUPYTER_RUNTIME_DIR: join(dir, "runtime") };
    let server: ChildProcess | undefined;
    try {
      resetPlotlyInjection();
      const outputs = [
        toDisplayData(traceTable(30, { lost: 3 }), { limit: 5 }),
        toDisplayData(plotlyFigure([{ type: "bar", x: ["bash", "sshd", "cron"], y: [12, 7, 3] }], { title: { text: "events per comm" }, height: 300 })),
        toDisplayData({ data: [{ x: [1, 2, 3], y: [2, 5, 3], mode: "lines" }], layout: { height: 300 } }),
      ].map((d) => ({ output_type: "display_data", data: d.data, metadata: d.metadata }));
      const nb = {
        nbformat: 4, nbformat_minor: 5,
        metadata: { kernelspec: { name: "python3", display_name: "Python 3", language: "python" } },
        cells: [{ cell_type: "code", id: "c1", execution_count: 1, metadata: {}, source: ["display(...)"], outputs }],
      };
      writeFileSync(join(dir, "plots.ipynb"), JSON.stringify(nb));
      assert.equal(spawnSync("/usr/bin/python3", ["-m", "nbformat.sign", join(dir, "plots.ipynb")], { env }).status, 0, "signing (trusting) the notebook");
      const port = await freePort();
      server = spawn(jupyter, ["notebook", "--no-browser", "--allow-root", "--ip=127.0.0.1", `--port=${port}`, "--NotebookApp.token=bpfbook-test", `--notebook-dir=${dir}`], { env, stdio: "ignore" });
      await waitForHttp(`http://127.0.0.1:${port}/api/status?token=bpfbook-test`, 30_000);
      const p = await b.newPage({ viewport: { width: 1100, height: 1100 } });
      const errors: string[] = [];
      p.on("pageerror", (e) => errors.push(e.message));
      await p.goto(`http://127.0.0.1:${port}/notebooks/plots.ipynb?token=bpfbook-test`);
      await p.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelectorAll(".output_area .bpfbook-plot svg.main-svg").length >= 2, undefined, { timeout: 30_000 });
      assert.equal(await p.locator(".output_area .bpfbook-table").count(), 1);
      // Notebook 6 right-aligns every cell (".rendered_html td"); text in ours stays left, numbers right.
      const align = (sel: string) => p.locator(`.output_area .bpfbook-table ${sel}`).first().evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).textAlign);
      assert.deepEqual([await align("td:not(.bt-num)"), await align("td.bt-num"), await align("th:not(.bt-num)")], ["left", "right", "left"]);
      const env2 = await p.evaluate(() => {
        const w = globalThis as unknown as PageGlobals;
        return { requirejs: typeof w.requirejs, amd: typeof w.define?.amd };
      });
      assert.deepEqual(env2, { requirejs: "function", amd: "object" }, "RequireJS is still intact");
      assert.deepEqual(errors.filter((e) => /plotly|define|bpfbook/i.test(e)), []);
      await p.screenshot({ path: join(outputDir, "display-notebook6.png"), fullPage: true });
      await p.close();
    } finally {
      await b.close();
      if (server && server.exitCode === null) {
        const exited = new Promise((r) => server!.once("exit", r));
        server.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
