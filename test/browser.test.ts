/* The whole path a user takes: Debian's classic Notebook 6 server starts the bpfbook
 * kernel, headless Chromium opens a notebook and runs all its cells, and the outputs
 * (an Arquero table, an offline Plotly chart, a live eBPF trace with its progress line)
 * are checked in the page. Screenshot: test/output/browser-notebook.png.
 * Afterwards no kernel process and no BPF program the kernel loaded may be left. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { installKernelspec } from "../kernel/install.js";
import { bpfProgIdsOf, notebook6Missing, startNotebookServer, type NotebookServer } from "./helpers/notebook-server.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outputDir = join(root, "test", "output");
const CHROMIUM = "/usr/bin/chromium";
const KERNEL_MAIN = join(root, "dist", "kernel", "main.js");
const NOTEBOOK = "browser.ipynb";
const TRACEPOINT = "syscalls:sys_enter_getppid";
/** Names of the programs bpf-lib loads (as in test/run.mjs). */
const OUR_PROGRAMS = ["on_tracepoint", "on_tracepoint_d", "burst", "emit"];

const CELLS = [
  `import * as aq from "arquero";`,
  `aq.table({ name: ["a", "b", "c"], value: [3, 1, 2] })`,
  `plotlyFigure([{ type: "bar", x: ["a", "b", "c"], y: [3, 1, 2] }], { title: { text: "bars" } })`,
  `import { tracepoint } from "bpfbook";\nconst g = await tracepoint("${TRACEPOINT}").collect({ seconds: 1.5 });\ng.numRows() >= 0`,
];

function notebookJson(): string {
  const split = (s: string) => s.split(/(?<=\n)/);
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "bpfbook", display_name: "TypeScript (eBPF)", language: "typescript" },
      language_info: { name: "typescript", file_extension: ".ts" },
    },
    cells: CELLS.map((src, i) => ({ cell_type: "code", id: `cell-${i + 1}`, execution_count: null, metadata: {}, source: split(src), outputs: [] })),
  }, null, 1);
}

type Browser = Awaited<ReturnType<(typeof import("playwright-core"))["chromium"]["launch"]>>;
type Page = Awaited<ReturnType<Browser["newPage"]>>;

/* The page callbacks run in the browser (serialized: they can use nothing from this
 * module); the project compiles without the DOM lib. */
type Loose = any;

/** What the notebook's own model says about every code cell (outputs without their bulky data). */
interface CellSummary {
  prompt: unknown;
  outputs: { type: string; mimes: string[]; plain?: string; ename?: string; evalue?: string; text?: string }[];
}

function programIds(): Map<number, string> | undefined {
  try {
    const list = JSON.parse(execFileSync("bpftool", ["prog", "show", "--json"], { encoding: "utf8", timeout: 10_000 })) as { id: number; name?: string }[];
    return new Map(list.map((p) => [p.id, p.name ?? ""]));
  } catch {
    return undefined;
  }
}

/** BPF program id → pids of the living processes holding it open. */
function programHolders(): Map<number, number[]> {
  const held = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    for (const id of bpfProgIdsOf(Number(name))) held.set(id, [...(held.get(id) ?? []), Number(name)]);
  }
  return held;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the bpfbook kernel in classic Notebook 6, driven by headless Chromium", () => {
  let skip: string | undefined;
  let server: NotebookServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let progsBefore: Map<number, string> | undefined;
  const kernelPids = new Set<number>();
  /** BPF programs seen held open by the kernel process while the cells ran. */
  const kernelProgs = new Set<number>();
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];
  let cleanedUp: Promise<void> | undefined;

  const cleanup = () =>
    (cleanedUp ??= (async () => {
      try {
        await page?.close().catch(() => undefined);
        await browser?.close().catch(() => undefined);
      } finally {
        await server?.stop();
        const log = server?.log();
        if (log) writeFileSync(join(outputDir, "browser-notebook-server.log"), log);
      }
    })());

  before(async () => {
    const missing = !existsSync(CHROMIUM) ? `${CHROMIUM} is missing` : notebook6Missing();
    if (missing) {
      skip = missing;
      console.log(`# skipping the browser notebook test: ${missing}`);
      return;
    }
    mkdirSync(outputDir, { recursive: true });
    progsBefore = programIds();
    server = await startNotebookServer();
    // The system kernelspec (JUPYTER_PATH keeps /usr/local/share/jupyter) is used when it runs
    // this checkout's kernel; otherwise a private one in the temp data dir shadows it.
    const specs = await server.api<{ kernelspecs: Record<string, { spec: { argv: string[] } }> }>("/api/kernelspecs");
    const argv = specs.kernelspecs.bpfbook?.spec.argv ?? [];
    if (argv[1] !== KERNEL_MAIN) {
      console.log(`# the system bpfbook kernelspec runs ${argv[1] ?? "(none installed)"}, not ${KERNEL_MAIN}: using a private kernelspec`);
      installKernelspec({ prefix: join(server.dataDir, "kernels") });
    }
    writeFileSync(join(server.notebookDir, NOTEBOOK), notebookJson());
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
  });

  after(cleanup);

  it("runs all cells: a table, an offline Plotly chart and a live trace with its progress line", { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const s = server!;
    const p = (page = await browser!.newPage({ viewport: { width: 1100, height: 1500 } }));
    p.on("pageerror", (e) => pageErrors.push(e.message));
    p.on("request", (r) => {
      const u = r.url();
      if (!u.startsWith(s.baseUrl + "/") && !/^(data|blob|about):/.test(u)) foreignRequests.push(u);
    });
    await p.goto(s.url(`/notebooks/${NOTEBOOK}`));

    // The kernel is up: a websocket connected and the indicator idle.
    try {
      await p.waitForFunction(
        () => {
          const { Jupyter, document } = globalThis as Loose;
          return Boolean(Jupyter?.notebook?.kernel?.is_connected?.() && document.querySelector("#kernel_indicator_icon.kernel_idle_icon") && !Jupyter.notebook.kernel_busy);
        },
        undefined,
        { timeout: 45_000, polling: 100 },
      );
    } catch (e) {
      throw new Error(`the kernel did not become idle: ${(e as Error).message}\nserver log:\n${s.log().slice(-3000)}`);
    }
    assert.equal(await p.evaluate(() => (globalThis as Loose).Jupyter.notebook.kernel.name), "bpfbook");
    for (const pid of s.kernelPids()) kernelPids.add(pid);
    assert.equal(kernelPids.size, 1, `one kernel process (${[...kernelPids]})`);

    // While the cells run: which BPF programs the kernel holds, and some getppid() calls
    // for the trace to see (process.ppid is a getppid(2) each time it is read).
    let sampling = true;
    let ppidCalls = 0;
    const sampler = (async () => {
      while (sampling) {
        for (const pid of kernelPids) for (const id of bpfProgIdsOf(pid)) kernelProgs.add(id);
        for (let i = 0; i < 5; i++, ppidCalls++) void process.ppid;
        await sleep(50);
      }
    })();

    const started = Date.now();
    try {
      await p.evaluate(() => (globalThis as Loose).Jupyter.notebook.execute_all_cells());
      await p.waitForFunction(
        () => {
          const { Jupyter, document } = globalThis as Loose;
          const cells = Jupyter.notebook.get_cells().filter((c: Loose) => c.cell_type === "code");
          return cells.every((c: Loose) => typeof c.input_prompt_number === "number") && !Jupyter.notebook.kernel_busy && document.querySelector("#kernel_indicator_icon.kernel_idle_icon");
        },
        undefined,
        { timeout: 60_000, polling: 100 },
      );
    } finally {
      sampling = false;
      await sampler;
    }
    const runMs = Date.now() - started;
    // Before any assertion, so that a failure leaves a picture of it.
    await p.screenshot({ path: join(outputDir, "browser-notebook.png"), fullPage: true });

    const summary: CellSummary[] = await p.evaluate(() =>
      (globalThis as Loose).Jupyter.notebook.get_cells().filter((c: Loose) => c.cell_type === "code").map((c: Loose) => ({
        prompt: c.input_prompt_number,
        outputs: c.output_area.outputs.map((o: Loose) => ({
          type: o.output_type,
          mimes: Object.keys(o.data ?? {}),
          plain: o.data?.["text/plain"],
          ename: o.ename,
          evalue: o.evalue,
          text: o.text,
        })),
      })),
    );
    const show = JSON.stringify(summary, null, 1);
    console.log(`# ran ${CELLS.length} cells in ${runMs} ms; kernel pid ${[...kernelPids]}; BPF programs it held: ${[...kernelProgs].join(", ") || "none"}`);

    // Every cell ran, in order, and nothing failed.
    assert.deepEqual(summary.map((c) => c.prompt), [1, 2, 3, 4], show);
    assert.deepEqual(summary.flatMap((c) => c.outputs.filter((o) => o.type === "error").map((o) => `${o.ename}: ${o.evalue}`)), [], show);
    assert.equal(await p.locator(".output_error").count(), 0, "no .output_error in the page");
    assert.deepEqual(summary[0].outputs, [], "an import prints nothing");

    const cell = (i: number) => p.locator("#notebook-container .cell.code_cell").nth(i);

    // (2) The Arquero table as HTML: three rows, in order.
    assert.equal(summary[1].outputs.length, 1, show);
    assert.equal(summary[1].outputs[0].type, "execute_result");
    assert.ok(summary[1].outputs[0].mimes.includes("text/html"), show);
    const table = cell(1).locator(".output_area .bpfbook-table table");
    assert.equal(await table.count(), 1);
    const rows = await table.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...(tr as Loose).querySelectorAll("td")].map((td: Loose) => td.textContent.trim())));
    assert.deepEqual(rows, [["a", "3"], ["b", "1"], ["c", "2"]]);
    assert.match(await cell(1).locator(".output_area").innerText(), /3 rows × 2 columns/);

    // (3) Plotly drew the chart from the inlined plotly.js: SVG, three bars, the title.
    assert.equal(summary[2].outputs[0]?.type, "execute_result", show);
    assert.ok(summary[2].outputs[0].mimes.includes("application/vnd.plotly.v1+json"), show);
    const plot = cell(2).locator(".output_area .bpfbook-plot");
    await plot.locator("svg.main-svg").first().waitFor({ timeout: 20_000 });
    assert.ok((await plot.locator("svg.main-svg").count()) > 0);
    assert.equal(await plot.locator(".trace.bars .point").count(), 3, "three bars");
    assert.equal((await plot.locator(".gtitle").textContent())?.trim(), "bars");

    // (4) The live trace: a progress line naming the tracepoint, finished, then `true`.
    const results = summary[3].outputs.filter((o) => o.type === "execute_result");
    assert.deepEqual(results.map((o) => o.plain), ["true"], show);
    assert.equal((await cell(3).locator(".output_result").innerText()).trim(), "true");
    const progress = summary[3].outputs.filter((o) => o.type === "display_data");
    assert.equal(progress.length, 1, `one progress line, updated in place: ${show}`);
    assert.ok(progress[0].plain?.includes(TRACEPOINT), show);
    const line = (await cell(3).locator(".output_area").first().innerText()).trim();
    const m = new RegExp(`^✔ ${TRACEPOINT} · ([\\d,]+) events · [\\d,]+ lost · \\d+\\.\\d s · stopped by seconds$`).exec(line);
    assert.ok(m, `final progress line: ${JSON.stringify(line)}`);
    assert.ok(Number(m[1].replace(/,/g, "")) > 0, `the trace saw our getppid() calls (${ppidCalls} made): ${line}`);
    assert.ok(kernelProgs.size > 0, "the kernel held a BPF program while the trace ran");

    // Offline and quiet: nothing fetched from elsewhere, no script errors.
    assert.deepEqual(foreignRequests, []);
    assert.deepEqual(pageErrors, []);
  });

  it("shutting down leaves no kernel process and no BPF program behind", { timeout: 60_000 }, async (t) => {
    if (skip) return t.skip(skip);
    await cleanup();
    assert.equal(existsSync(server!.root), false, "temp dirs removed");
    const living = [...kernelPids].filter((pid) => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
      } catch {
        return false;
      }
    });
    assert.deepEqual(living, [], "kernel processes still running");
    const now = programIds();
    if (!now || !progsBefore) return t.skip("bpftool prog show --json failed: cannot compare BPF programs");
    // Programs are freed asynchronously after their last fd closes.
    let left: string[] = [];
    for (const end = Date.now() + 5_000; ; await sleep(200)) {
      const progs = programIds() ?? new Map();
      // Ours for sure: seen in the kernel's fds. Probably ours: new since the start, one of
      // bpf-lib's names, and held by no living process (a test running next to us holds its own).
      const held = programHolders();
      left = [...progs]
        .filter(([id, name]) => kernelProgs.has(id) || (!progsBefore!.has(id) && OUR_PROGRAMS.includes(name) && !held.has(id)))
        .map(([id, name]) => `${id}:${name}${held.has(id) ? ` (held by pid ${held.get(id)!.join(", ")})` : ""}`);
      if (left.length === 0 || Date.now() > end) break;
    }
    assert.deepEqual(left, [], "BPF programs the notebook's kernel loaded are still loaded");
  });
});
