/* `bpfbook run`: executes a notebook headless through Jupyter's own client (nbclient,
 * Debian's python3-nbclient) with this kernel, then publishes what it writes: static
 * images for every chart (headless Chromium), plotly.js once per document, the notebook
 * signed (trusted), the HTML export working offline. See docs/publishing.md. */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { recordingPathOf } from "../bpf-lib/src/replay/format.js";
import { fileURLToPath } from "node:url";
import { parseFlags } from "../bpf-lib/src/cli/commands.js";
import { formatSummary, publishHtml, publishNotebook, type NotebookJson } from "./display/publish.js";
import { RUN_USAGE } from "./usage.js";

const PYTHON = "/usr/bin/python3"; // Debian's: the one that sees python3-nbclient


function python(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, args, { stdio: "inherit" });
    child.on("error", () => resolve(1));
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

export async function runNotebook(args: string[]): Promise<number> {
  const { flags, positional } = parseFlags(args, { string: ["o", "output", "html", "timeout", "kernel", "recording"], boolean: ["no-execute", "no-images", "no-sign", "record", "replay"] });
  const notebook = positional[0];
  if (!notebook || positional.length > 1 || !notebook.endsWith(".ipynb")) {
    process.stderr.write(RUN_USAGE + "\n");
    return 2;
  }
  const str = (name: string) => (typeof flags.get(name) === "string" ? (flags.get(name) as string) : undefined);
  const output = str("o") ?? str("output");
  const html = str("html");
  const script = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "kernel", "run_notebook.py");
  if (!existsSync(PYTHON)) {
    process.stderr.write(`bpfbook run needs ${PYTHON} with nbclient (apt-get install python3-nbclient, or ./install.sh)\n`);
    return 1;
  }
  if (!existsSync(notebook)) {
    process.stderr.write(`bpfbook run: no such notebook: ${notebook}\n`);
    return 1;
  }
  const mode = recordMode(notebook, flags.has("record"), flags.has("replay"), str("recording"));
  if (typeof mode === "string") {
    process.stderr.write(`bpfbook run: ${mode}\n`);
    return 2;
  }
  // the kernel nbclient starts inherits the environment: it records or replays every bpfbook call
  if (mode) {
    delete process.env.BPFBOOK_RECORD;
    delete process.env.BPFBOOK_REPLAY;
    process.env[mode.replay ? "BPFBOOK_REPLAY" : "BPFBOOK_RECORD"] = mode.dir;
    process.stderr.write(`${mode.replay ? "replaying" : "recording to"} ${mode.dir}\n`);
  }
  // the kernel draws no static images of its own: nbclient does not wait for them after a cell, and they are drawn below
  process.env.BPFBOOK_IMAGES = "off";
  const work = mkdtempSync(join(tmpdir(), "bpfbook-run-"));
  try {
    let status = 0;
    const executed = join(work, "executed.ipynb");
    if (flags.has("no-execute")) copyFileSync(notebook, executed);
    else {
      const timeout = str("timeout");
      status = await python([script, "execute", notebook, "--output", executed, ...(timeout ? ["--timeout", timeout] : []), "--kernel", str("kernel") ?? "bpfbook"]);
      if (!existsSync(executed)) return status || 1;
    }
    if (!output && !html) return status;

    const nb = JSON.parse(readFileSync(executed, "utf8")) as NotebookJson;
    const summary = await publishNotebook(nb, { images: !flags.has("no-images") });
    const published = join(work, "published.ipynb");
    writeFileSync(published, JSON.stringify(nb));
    const htmlRaw = html ? join(work, "export.html") : undefined;
    const finish = await python([script, "finish", published, ...(output ? ["--output", output] : []), ...(output && !flags.has("no-sign") ? ["--sign"] : []), ...(htmlRaw ? ["--html", htmlRaw] : [])]);
    if (htmlRaw && html && existsSync(htmlRaw)) {
      writeFileSync(html, publishHtml(readFileSync(htmlRaw, "utf8")));
      process.stderr.write(`wrote ${html}\n`);
    }
    for (const line of formatSummary(summary)) process.stderr.write(line + "\n");
    return status || finish;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** --record / --replay, else the notebook's own metadata (`"bpfbook": { "mode": "replay" }`); an error message for both. */
function recordMode(notebook: string, record: boolean, replay: boolean, folder: string | undefined): { replay: boolean; dir: string } | null | string {
  if (record && replay) return "--record and --replay exclude each other";
  let mode: string | undefined = record ? "record" : replay ? "replay" : undefined;
  let dir = folder;
  if (!mode) {
    try {
      const meta = (JSON.parse(readFileSync(notebook, "utf8")) as { metadata?: { bpfbook?: { mode?: string; recording?: string } } }).metadata?.bpfbook;
      mode = meta?.mode;
      dir ??= meta?.recording && resolve(dirname(notebook), meta.recording);
    } catch {
      // not JSON: nbclient says so
    }
  }
  if (mode === undefined || mode === "live") return null;
  if (mode !== "record" && mode !== "replay") return `the notebook's metadata bpfbook.mode is ${JSON.stringify(mode)}: use "record", "replay" or "live"`;
  return { replay: mode === "replay", dir: resolve(dir ?? recordingPathOf(notebook)) };
}
