/* The kernel's static-image queue without a kernel or a browser (a stand-in renderer that
 * records the figures it is given): nothing is drawn while the session is busy; a live
 * chart is drawn once, in its final state; a display that shows something else meanwhile
 * keeps it; at most MAX_PENDING charts wait; a failure warns once and fails nothing;
 * closing closes the renderer and draws nothing more. The real thing end to end, with
 * Chromium: test/kernel/test_images.py. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { KernelImages, MAX_PENDING, type Renderer } from "../kernel/display/kernel-images.js";
import { setImagesMode, takeImagesMagic, imagesMode, ImagesModeError } from "../kernel/display/image-mode.js";
import { plotlyFigure, toDisplayData, PLOTLY_MIME, type DisplayData } from "../kernel/display/index.js";
import type { ChartFigure, StaticImage } from "../kernel/display/static-image.js";

const chart = (title: string) => toDisplayData(plotlyFigure([{ type: "bar", x: ["a"], y: [1] }], { title: { text: title } }));
const titleOf = (f: ChartFigure) => (f.layout?.title as { text: string }).text;
/** Waits (polling) until `cond` holds; the machine may be loaded, so no fixed sleep stands for "done". */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await sleep(5)) if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
}

const IMAGE: Omit<StaticImage, "ms"> = { png: "iVBORw0KGgo=", svg: "<svg/>", svgBytes: 6, width: 900, height: 450 };

function setup(opts: { fail?: boolean; hold?: Promise<void> } = {}) {
  const drawn: string[] = [];
  const updates: { id: string; bundle: DisplayData; parent: string }[] = [];
  const warnings: string[] = [];
  let busy = false, launches = 0, closed = 0, drawing = 0;
  const renderer: Renderer = {
    startMs: 5,
    async render(fig) {
      drawing++;
      await opts.hold;
      if (opts.fail) throw new Error("plotly.js said no");
      drawn.push(titleOf(fig));
      return { ...IMAGE, ms: 1 };
    },
    async close() {
      closed++;
    },
  };
  setImagesMode("on");
  const images = new KernelImages<string>(
    { update: (id, bundle, parent) => updates.push({ id, bundle, parent }), warn: (t) => warnings.push(t), busy: () => busy },
    { launch: async () => (launches++, renderer), idleMs: 10 },
  );
  return {
    images, drawn, updates, warnings,
    setBusy(b: boolean, kick = true) {
      busy = b;
      if (!b && kick) images.kick();
    },
    launches: () => launches,
    drawing: () => drawing,
    closed: () => closed,
  };
}

describe("static images in the kernel", () => {
  it("waits while busy, then draws the final state of a live chart once, with the whole bundle", async () => {
    const s = setup();
    s.setBusy(true);
    s.images.published("live", chart("live 1"), "cell 1");
    s.images.published("live", chart("live 2"), "cell 1");
    s.images.published("other", chart("other"), "cell 1");
    s.images.published("live", chart("live 3"), "cell 2");
    await sleep(50);
    assert.deepEqual(s.drawn, [], "nothing while busy");
    assert.equal(s.launches(), 0, "no renderer started while busy");
    s.setBusy(false);
    await until(() => s.updates.length === 2, "two images");
    assert.deepEqual(s.drawn, ["other", "live 3"], "in the order last shown; the live chart once");
    assert.deepEqual(s.updates.map((u) => [u.id, u.parent]), [["other", "cell 1"], ["live", "cell 2"]]);
    const u = s.updates[1]!.bundle;
    assert.deepEqual(u.data[PLOTLY_MIME], chart("live 3").data[PLOTLY_MIME]);
    assert.equal(u.data["image/png"], IMAGE.png);
    assert.equal(u.data["image/svg+xml"], IMAGE.svg);
    assert.deepEqual(u.metadata["image/png"], { width: 900, height: 450 });
    assert.match(String(u.data["text/html"]), /<img src="data:image\/png;base64,iVBORw0KGgo=" width="900" height="450" alt="chart: live 3"/);
    assert.equal(s.launches(), 1);
    await s.images.close();
    assert.equal(s.closed(), 1);
  });

  it("looks again while charts wait, so the end of a busy spell nobody reports still gets them drawn", async () => {
    const s = setup();
    s.setBusy(true);
    s.images.published("a", chart("a"), "c");
    await sleep(40);
    assert.equal(s.launches(), 0);
    s.setBusy(false, false);
    await until(() => s.updates.length === 1, "the image");
    await s.images.close();
  });

  it("drops the image of a display that showed something else while it was drawn", async () => {
    let release!: () => void;
    const s = setup({ hold: new Promise((r) => (release = r)) });
    s.images.published("d", chart("chart"), "c");
    await until(() => s.drawing() === 1, "drawing");
    s.images.published("d", { data: { "text/plain": "a table now" }, metadata: {} }, "c");
    release();
    await until(() => s.drawn.length === 1, "drawn");
    await sleep(20);
    assert.deepEqual(s.drawn, ["chart"]);
    assert.deepEqual(s.updates, [], "the table stays");
    await s.images.close();
  });

  it(`keeps at most ${MAX_PENDING} charts waiting, dropping the oldest`, async () => {
    const s = setup();
    s.setBusy(true);
    for (let i = 0; i < MAX_PENDING + 3; i++) s.images.published(`c${i}`, chart(`c${i}`), "c");
    assert.equal(s.images.stats.dropped, 3);
    s.setBusy(false);
    await until(() => s.updates.length === MAX_PENDING, "every waiting chart drawn");
    assert.equal(s.drawn.length, MAX_PENDING);
    assert.equal(s.drawn[0], "c3");
    await s.images.close();
  });

  it("a chart that cannot be drawn warns once per session and fails nothing", async () => {
    const s = setup({ fail: true });
    s.images.published("a", chart("a"), "c");
    s.images.published("b", chart("b"), "c");
    await until(() => s.images.stats.failed === 2, "both tried");
    assert.deepEqual(s.warnings, ["static images: the chart's image could not be drawn (plotly.js said no); it stays interactive, without an image"]);
    assert.equal(s.images.stats.failed, 2);
    assert.deepEqual(s.updates, []);
    await s.images.close();
  });

  it("a renderer that cannot start warns once and is not tried again until the mode is set", async () => {
    setImagesMode("on");
    const warnings: string[] = [];
    let launches = 0;
    const images = new KernelImages<string>(
      { update: () => assert.fail("no image"), warn: (t) => warnings.push(t), busy: () => false },
      { launch: async () => { launches++; throw new Error("no Chromium found (/usr/bin/chromium; apt-get install chromium, or set BPFBOOK_CHROMIUM)"); }, idleMs: 5 },
    );
    images.published("a", chart("a"), "c");
    await until(() => warnings.length === 1, "the warning");
    images.published("b", chart("b"), "c");
    await sleep(30);
    assert.equal(launches, 1);
    assert.deepEqual(warnings, ["static images: no renderer (no Chromium found (/usr/bin/chromium; apt-get install chromium, or set BPFBOOK_CHROMIUM)); charts stay interactive, without images. %bpfbook images off stops trying."]);
    assert.match(images.describe(), /^static images: on; no renderer: no Chromium found/);
    await images.close();
  });

  it("off: nothing waits, the renderer closes; auto follows whether a Chromium is found", async () => {
    const s = setup();
    s.images.published("a", chart("a"), "c");
    await until(() => s.updates.length === 1, "the image");
    assert.equal(s.launches(), 1);
    setImagesMode("off");
    await until(() => s.closed() === 1, "the renderer closed");
    assert.equal(s.images.enabled, false);
    s.images.published("b", chart("b"), "c");
    await sleep(30);
    assert.deepEqual(s.drawn, ["a"]);
    await s.images.close();
    setImagesMode("auto");
    const none = new KernelImages<string>({ update: () => undefined, warn: () => undefined, busy: () => false }, { chromium: () => undefined });
    assert.equal(none.enabled, false);
    assert.equal(none.describe(), "static images: off (auto: no Chromium found; set BPFBOOK_CHROMIUM or apt-get install chromium)");
    await none.close();
  });

  it("%bpfbook images lines: blanked in place, the mode set; anything else is an ImagesModeError", () => {
    assert.deepEqual(takeImagesMagic("%bpfbook images off\nconst x = 1"), { rest: "\nconst x = 1", said: ["off"] });
    assert.equal(imagesMode(), "off");
    assert.deepEqual(takeImagesMagic("%bpfbook replay rec\n%bpfbook images\nx"), { rest: "%bpfbook replay rec\n\nx", said: [""] });
    assert.equal(takeImagesMagic("const images = 1\n%bpfbook images on"), null, "only before the code");
    assert.throws(() => takeImagesMagic("%bpfbook images maybe"), ImagesModeError);
    assert.equal(imagesMode(), "off");
    setImagesMode("auto");
  });
});
