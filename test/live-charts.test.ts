/* The chart bookkeeping without a kernel or a browser: which live chart the final chart
 * replaces, when plotly.js is put back, and what publishing does to a notebook's chart
 * outputs and to an HTML export (with a stand-in renderer). The real thing end to end:
 * test/publish.test.ts and test/kernel/test_live_charts.py. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LiveCharts, chartSignature } from "../kernel/display/live.js";
import { plotlyFigure, resetPlotlyInjection, toDisplayData, plotlyPending, type DisplayData } from "../kernel/display/index.js";
import { LOADER_OPEN, hasPlotlyLoader } from "../kernel/display/plotly-loader.js";
import { formatSummary, plotlyCopies, publishHtml, publishNotebook, textOf, type NotebookJson } from "../kernel/display/publish.js";

const bar = (y: number, title: string, yTitle = "count") => toDisplayData(plotlyFigure([{ type: "bar", x: ["a"], y: [y] }], { title: { text: title }, yaxis: { title: { text: yTitle } } }));
const html = (d: DisplayData) => String(d.data["text/html"]);

describe("LiveCharts", () => {
  it("the final chart of the same kind takes the live chart's place, carrying plotly.js when the live chart brought it", () => {
    resetPlotlyInjection();
    const live = new LiveCharts();
    live.startCell();
    const first = bar(1, "live");
    assert.ok(hasPlotlyLoader(html(first)));
    live.published("L", first, false);
    live.published("L", bar(2, "live"), true);
    const end = live.finishCell(bar(3, "final"));
    assert.equal(end.result, null, "no execute_result: it went into the live display");
    assert.equal(end.updates.length, 1);
    assert.equal(end.updates[0]!.id, "L");
    assert.ok(html(end.updates[0]!.bundle).includes(LOADER_OPEN));
    assert.equal(plotlyCopies(html(end.updates[0]!.bundle)), 1);
  });

  it("the final chart replaces a live one whose axes are the same quantities in other units", () => {
    resetPlotlyInjection();
    const live = new LiveCharts();
    live.startCell();
    live.published("L", bar(1, "live", "sum (µs)"), false);
    live.published("L", bar(900, "live", "sum (µs)"), true);
    assert.equal(chartSignature(bar(1, "x", "sum (µs)")), chartSignature(bar(1, "y", "sum (ms)")));
    const end = live.finishCell(bar(2, "final", "sum (ms)"));
    assert.equal(end.result, null);
    assert.deepEqual(end.updates.map((u) => u.id), ["L"]);
    assert.notEqual(chartSignature(bar(1, "x", "sum (ms)")), chartSignature(bar(1, "x", "bytes (KiB)")), "other quantities stay apart");
  });

  it("a chart of another kind, a chart never updated, and a non-chart result leave the live chart alone", () => {
    resetPlotlyInjection();
    const live = new LiveCharts();
    live.startCell();
    live.published("C", bar(0, "carrier"), false); // takes plotly.js; never updated
    live.published("L", bar(1, "live"), false);
    live.published("L", bar(2, "live"), true);
    const other = bar(5, "bytes", "bytes");
    assert.notEqual(chartSignature(other), chartSignature(bar(1, "x")));
    assert.deepEqual(live.finishCell(other), { updates: [], result: other });
    live.startCell();
    live.published("S", bar(1, "shown once"), false);
    const same = bar(2, "result");
    assert.deepEqual(live.finishCell(same), { updates: [], result: same });
    live.startCell();
    live.published("L2", bar(1, "live"), false);
    live.published("L2", bar(2, "live"), true);
    const table = { data: { "text/plain": "a table" }, metadata: {} };
    assert.deepEqual(live.finishCell(table), { updates: [], result: table });
  });

  it("a carrier updated in a later cell gets plotly.js back at that cell's end; one that stops showing a chart hands it on", () => {
    resetPlotlyInjection();
    const live = new LiveCharts();
    live.startCell();
    live.published("C", bar(1, "carrier"), false);
    live.finishCell(null);
    live.startCell();
    live.published("C", bar(2, "carrier"), true);
    const end = live.finishCell(null);
    assert.deepEqual(end.updates.map((u) => [u.id, hasPlotlyLoader(html(u.bundle))]), [["C", true]]);
    assert.deepEqual(live.finishCell(null).updates, [], "once is enough");
    live.startCell();
    assert.equal(plotlyPending(), false);
    live.published("C", { data: { "text/plain": "now text" }, metadata: {} }, true);
    assert.equal(plotlyPending(), true, "the next chart carries plotly.js again");
    assert.deepEqual(live.finishCell(null).updates, []);
  });
});

describe("publishing", () => {
  const notebook = (): NotebookJson => {
    resetPlotlyInjection();
    const out = (d: DisplayData, type = "execute_result") => ({ output_type: type, data: { ...d.data, "text/html": html(d).split(/(?<=\n)/) }, metadata: d.metadata });
    const a = bar(1, "first");
    const b = bar(2, "second");
    // plotly.js in both charts (say, two kernel sessions), HTML split into lines as nbformat stores it
    const withLoader = { ...b, data: { ...b.data, "text/html": LOADER_OPEN + "/* plotly */</script>\n" + html(b) } };
    return { cells: [{ cell_type: "markdown" }, { cell_type: "code", outputs: [out(a), { output_type: "stream", text: "x" }] }, { cell_type: "code", outputs: [out(withLoader, "display_data")] }] };
  };

  it("every chart gets its images and the PNG as its HTML fallback; plotly.js moves to the first chart", async () => {
    const nb = notebook();
    const rendered: string[] = [];
    const summary = await publishNotebook(nb, {
      launch: async () => ({
        startMs: 5,
        render: async (fig) => {
          rendered.push((fig.layout as { title: { text: string } }).title.text);
          return { png: "iVBORw0KGgo=", svg: "<svg/>", svgBytes: 6, width: 900, height: 450, ms: 2 };
        },
        close: async () => undefined,
      }),
    });
    assert.deepEqual(rendered, ["first", "second"]);
    assert.deepEqual({ ...summary, perChart: summary.perChart.length }, { charts: 2, images: 2, svgs: 2, failed: [], startMs: 5, perChart: 2, loaderCell: 2 });
    const [first, second] = [nb.cells[1]!.outputs![0]!, nb.cells[2]!.outputs![0]!];
    for (const o of [first, second]) {
      assert.equal(o.data!["image/png"], "iVBORw0KGgo=");
      assert.equal(o.data!["image/svg+xml"], "<svg/>");
      assert.deepEqual(o.metadata!["image/png"], { width: 900, height: 450 });
      assert.match(textOf(o.data!["text/html"])!, /<img src="data:image\/png;base64,iVBORw0KGgo=" width="900" height="450" alt="chart: (first|second)"/);
    }
    assert.equal(plotlyCopies(textOf(first.data!["text/html"])!), 1, "the real plotly.js, in the first chart");
    assert.equal(plotlyCopies(textOf(second.data!["text/html"])!), 0);
    assert.match(formatSummary(summary).join("\n"), /^charts: 2, static images 2 PNG \+ 2 SVG; 0\.01 s added: Chromium \+ plotly\.js start 0\.01 s, then 0\.00 s per chart/);
  });

  it("without a renderer the charts keep their hint, and the summary says why", async () => {
    const nb = notebook();
    const summary = await publishNotebook(nb, { launch: async () => { throw new Error("no Chromium found (/usr/bin/chromium)"); } });
    assert.equal(summary.skipped, "no Chromium found (/usr/bin/chromium)");
    assert.deepEqual(formatSummary(summary), ["charts: 2, no static images: no Chromium found (/usr/bin/chromium)", "plotly.js: one copy, in the chart of cell 2"]);
    assert.match(textOf(nb.cells[1]!.outputs![0]!.data!["text/html"])!, /Chart not drawn/);
  });

  it("the HTML export: every loader out of the outputs, one in <head>", () => {
    resetPlotlyInjection();
    const page = `<html><head><meta charset="utf-8"><title>t</title></head><body>${html(bar(1, "a"))}${html(bar(2, "b"))}</body></html>`;
    assert.equal(plotlyCopies(page), 1);
    const out = publishHtml(page);
    assert.equal(plotlyCopies(out), 1);
    assert.ok(out.indexOf(LOADER_OPEN) < out.indexOf("</head>") && out.indexOf(LOADER_OPEN) > out.indexOf("<title>"));
    assert.equal(publishHtml("<html><head></head><body>no charts</body></html>"), "<html><head></head><body>no charts</body></html>");
  });
});
