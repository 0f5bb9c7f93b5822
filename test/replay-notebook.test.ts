/* A published postmortem, end to end: `bpfbook run --record` as root against the kernel,
 * then `bpfbook run --replay` as `nobody` (no BPF, no root): every output of every cell
 * is the same, except the runs' live status lines (there are no runs in a replay) and
 * the banner that says which mode it was. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, WORKLOAD } from "./helpers/workload.js";

const CLI = join(ROOT, "dist", "bpf-lib", "src", "cli", "main.js");

const CELLS = [
  `import { tracepoint, tools, plot, profile, syscalls } from "bpfbook";\nimport { execFileSync } from "node:child_process";\nconst W = ${JSON.stringify(WORKLOAD)};`,
  `const trace = tracepoint("syscalls:sys_enter_getppid", { where: { comm: "workload" } }).start();\nexecFileSync(W, ["--now", "getppid", "100"]);\nawait trace.stop();\nconst t = await trace.table();\nt.numRows()`,
  `const run = tracepoint("syscalls:sys_enter_getppid", { where: { comm: "workload" } }).count({ by: ["comm"] }).start();\nexecFileSync(W, ["--now", "getppid", "321"]);\nawait run.stop();\nconst counts = await run.finished();\ncounts`,
  `plot.bar(counts, { x: "comm", y: "count", title: "getppid by comm" })`,
  `const lat = syscalls.latency({ where: { comm: "workload" } }).start();\nexecFileSync(W, ["--now", "getppid", "50"]);\nawait lat.stop();\nconst hist = await lat.finished();\nplot.histogram(hist.filter((d: { syscall: string }) => d.syscall === "getppid"), { title: "getppid latency" })`,
  `const p = await profile({ seconds: 0.3 });\np.numRows() > 0`,
  `const execs = tools.execsnoop().start();\nexecFileSync("/bin/true");\nawait execs.stop();\ntools.execsnoop().shape(await execs.finished()).filter((d: { comm: string }) => d.comm === "true").select("comm").objects()`,
  `%%bpf counter\n#include "bpfbook.h"\nHASH(calls, char[16], u64, 64);\nSEC("tracepoint/syscalls/sys_enter_getppid")\nint f(void *ctx) { char c[16]; bpf_get_current_comm(c, sizeof(c)); ADD(calls, &c, 1); return 0; }`,
  `counter.start();\nexecFileSync(W, ["--now", "getppid", "77"]);\ncounter.stop();\ncounter.map("calls").table().filter((d: { key: string }) => d.key === "workload")`,
  `console.log("analysis on the results:", t.numRows() * 2, counts.get("count", 0));\nt.select("comm").slice(0, 2)`,
];

function notebook(): string {
  return JSON.stringify({
    nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: "bpfbook", display_name: "bpfbook (TypeScript)", language: "typescript" } },
    cells: CELLS.map((source, i) => ({ id: `c${i}`, cell_type: "code", metadata: {}, execution_count: null, outputs: [], source })),
  });
}

interface Output { output_type: string; data?: Record<string, unknown>; metadata?: { bpfbook?: { progress?: boolean; banner?: boolean } }; text?: string | string[]; ename?: string; evalue?: string }

/** Each cell's outputs that are its results: not the status lines of runs, not the banner; charts compared by their figure. */
function results(file: string): unknown[][] {
  const nb = JSON.parse(readFileSync(file, "utf8")) as { cells: { outputs?: Output[] }[] };
  return nb.cells.map((c) => (c.outputs ?? [])
    .filter((o) => !o.metadata?.bpfbook?.progress && !o.metadata?.bpfbook?.banner)
    .map((o) => o.output_type === "stream" ? { stream: o.text } : o.output_type === "error" ? { error: `${o.ename}: ${o.evalue}` }
      : { plain: o.data?.["text/plain"], plotly: o.data?.["application/vnd.plotly.v1+json"] ?? null }));
}

function banners(file: string): string[] {
  const nb = JSON.parse(readFileSync(file, "utf8")) as { cells: { outputs?: Output[] }[] };
  return nb.cells.flatMap((c) => (c.outputs ?? []).filter((o) => o.metadata?.bpfbook?.banner).map((o) => String(o.data?.["text/plain"])));
}

const why = spawnSync("runuser", ["--version"]).status === 0 ? null : "runuser is not installed";

describe("a notebook recorded as root replays as nobody", { skip: why ?? false }, () => {
  it("gives the same outputs in every cell, with no BPF and no root", { timeout: 240_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-replay-nb-"));
    try {
      chmodSync(dir, 0o777);
      const nb = join(dir, "postmortem.ipynb");
      writeFileSync(nb, notebook());
      const t0 = performance.now();
      execFileSync(process.execPath, [CLI, "run", nb, "-o", join(dir, "recorded.ipynb"), "--record", "--no-images", "--timeout", "120"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
      const t1 = performance.now();
      assert.ok(existsSync(join(dir, "postmortem.recording", "index.json")), "the recording is next to the notebook");
      execFileSync("chmod", ["-R", "a+rwX", dir]);
      execFileSync("runuser", ["-u", "nobody", "--", "env", `HOME=${dir}`, process.execPath, CLI, "run", nb, "-o", join(dir, "replayed.ipynb"), "--replay", "--no-images", "--timeout", "120"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
      const t2 = performance.now();
      console.log(`# record ${((t1 - t0) / 1000).toFixed(1)} s as root, replay ${((t2 - t1) / 1000).toFixed(1)} s as nobody`);
      const rec = results(join(dir, "recorded.ipynb")), play = results(join(dir, "replayed.ipynb"));
      assert.equal(JSON.stringify(rec).includes("error"), false, JSON.stringify(rec).slice(0, 2000));
      assert.deepEqual(play, rec);
      assert.match(JSON.stringify(rec[1]), /"plain":\["100"\]/);
      assert.match(JSON.stringify(rec[2]), /workload.*321/);
      assert.match(JSON.stringify(rec[7]), /BPF program counter/, "a program shows its summary, recorded and replayed");
      assert.match(JSON.stringify(rec[8]), /workload.*77/);
      assert.match(banners(join(dir, "recorded.ipynb"))[0] ?? "", /^RECORDING/);
      assert.match(banners(join(dir, "replayed.ipynb"))[0] ?? "", /^REPLAY — not live data/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
