/* A published postmortem, end to end: `bpfbook run --record` as root against the kernel,
 * then `bpfbook run --replay` as `nobody` on what stands for a laptop without BPF: a
 * private mount namespace where libbpf.so.1 is an empty file, so it cannot be loaded.
 * Every output of every cell is the same, except the runs' live status lines (there are
 * no runs in a replay) and the banner that says which mode it was; a live probe call
 * there fails with a named error (libbpf's NotSupportedError as root). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, WORKLOAD } from "./helpers/workload.js";

const CLI = join(ROOT, "dist", "bpf-lib", "src", "cli", "main.js");

/** The workload's name here: other tests on the machine may run `workload` at the same time, and the cells filter by comm. */
const COMM = "rplworkload";

/** The notebook's cells, driving a copy of the workload at `w` (named COMM, where nobody can run it too). */
const cells = (w: string): string[] => [
  `import { tracepoint, tools, plot, profile, syscalls } from "bpfbook";\nimport { execFileSync } from "node:child_process";\nconst W = ${JSON.stringify(w)};`,
  `const trace = tracepoint("syscalls:sys_enter_getppid", { where: { comm: ${JSON.stringify(COMM)} } }).start();\nexecFileSync(W, ["--now", "getppid", "100"]);\nawait trace.stop();\nconst t = await trace.table();\nt.numRows()`,
  `const run = tracepoint("syscalls:sys_enter_getppid", { where: { comm: ${JSON.stringify(COMM)} } }).count({ by: ["comm"] }).start();\nexecFileSync(W, ["--now", "getppid", "321"]);\nawait run.stop();\nconst counts = await run.finished();\ncounts`,
  `plot.bar(counts, { x: "comm", y: "count", title: "getppid by comm" })`,
  `const lat = syscalls.latency({ where: { comm: ${JSON.stringify(COMM)} } }).start();\nexecFileSync(W, ["--now", "getppid", "50"]);\nawait lat.stop();\nconst hist = await lat.finished();\nplot.histogram(hist.filter((d: { syscall: string }) => d.syscall === "getppid"), { title: "getppid latency" })`,
  `const p = await profile({ seconds: 0.3 });\np.numRows() > 0`,
  `const execs = tools.execsnoop().start();\nexecFileSync("/bin/true");\nawait execs.stop();\ntools.execsnoop().shape(await execs.finished()).filter((d: { comm: string }) => d.comm === "true").select("comm").objects()`,
  `%%bpf counter\n#include "bpfbook.h"\nHASH(calls, char[16], u64, 64);\nSEC("tracepoint/syscalls/sys_enter_getppid")\nint f(void *ctx) { char c[16]; bpf_get_current_comm(c, sizeof(c)); ADD(calls, &c, 1); return 0; }`,
  `counter.start();\nexecFileSync(W, ["--now", "getppid", "77"]);\ncounter.stop();\ncounter.map("calls").table().filter((d: { key: string }) => d.key === ${JSON.stringify(COMM)})`,
  `console.log("analysis on the results:", t.numRows() * 2, counts.get("count", 0));\nt.select("comm").slice(0, 2)`,
];

function notebook(w: string): string {
  return JSON.stringify({
    nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: "bpfbook", display_name: "bpfbook (TypeScript)", language: "typescript" } },
    cells: cells(w).map((source, i) => ({ id: `c${i}`, cell_type: "code", metadata: {}, execution_count: null, outputs: [], source })),
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

/** Where the dynamic linker finds libbpf.so.1 (`ldconfig -p`), the file itself rather than its symlink; null when it does not. */
function libbpfPath(): string | null {
  const m = /^\s*libbpf\.so\.1 \(libc6,x86-64\) => (\S+)$/m.exec(spawnSync("ldconfig", ["-p"], { encoding: "utf8" }).stdout ?? "");
  return m ? realpathSync(m[1]!) : null;
}

/** A live probe call (not replayed): what it throws, as JSON on stdout. */
const LIVE = `
const b = await import(${JSON.stringify(pathToFileURL(join(ROOT, "dist", "bpf-lib", "src", "index.js")).href)});
try {
  await b.tracepoint("syscalls:sys_enter_getppid").collect({ seconds: 0.1 });
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message }));
}
`;

const LIBBPF = libbpfPath();
const why = spawnSync("runuser", ["--version"]).status !== 0 ? "runuser is not installed"
  : spawnSync("unshare", ["--version"]).status !== 0 ? "unshare is not installed"
    : LIBBPF === null ? "ldconfig does not list libbpf.so.1" : null;

/**
 * In a private mount namespace with an empty file bound over libbpf.so.1 (the machine's
 * own stays as it is): the replay as nobody, then a live probe call as nobody and as root.
 */
const NO_LIBBPF = `
mount --bind "$EMPTY" "$LIBBPF"
runuser -u nobody -- env HOME="$DIR" "$NODE" "$CLI" run "$NB" -o "$DIR/replayed.ipynb" --replay --no-images --timeout 120 >/dev/null
runuser -u nobody -- "$NODE" "$DIR/live.mjs" > "$DIR/live-nobody.json"
"$NODE" "$DIR/live.mjs" > "$DIR/live-root.json"
`;

describe("a notebook recorded as root replays as nobody", { skip: why ?? false }, () => {
  it("gives the same outputs in every cell, with no BPF and no root", { timeout: 240_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-replay-nb-"));
    try {
      chmodSync(dir, 0o777);
      const nb = join(dir, "postmortem.ipynb");
      const w = join(dir, COMM);
      copyFileSync(WORKLOAD, w);
      chmodSync(w, 0o755);
      writeFileSync(nb, notebook(w));
      const t0 = performance.now();
      execFileSync(process.execPath, [CLI, "run", nb, "-o", join(dir, "recorded.ipynb"), "--record", "--no-images", "--timeout", "120"], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
      const t1 = performance.now();
      assert.ok(existsSync(join(dir, "postmortem.recording", "index.json")), "the recording is next to the notebook");
      writeFileSync(join(dir, "empty"), "");
      writeFileSync(join(dir, "live.mjs"), LIVE);
      execFileSync("chmod", ["-R", "a+rwX", dir]);
      execFileSync("unshare", ["-m", "--", "sh", "-e", "-c", NO_LIBBPF], {
        cwd: dir, stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, EMPTY: join(dir, "empty"), LIBBPF: LIBBPF!, DIR: dir, NB: nb, NODE: process.execPath, CLI },
      });
      const t2 = performance.now();
      console.log(`# record ${((t1 - t0) / 1000).toFixed(1)} s as root, replay ${((t2 - t1) / 1000).toFixed(1)} s as nobody without libbpf (and two live calls)`);
      const rec = results(join(dir, "recorded.ipynb")), play = results(join(dir, "replayed.ipynb"));
      assert.equal(JSON.stringify(rec).includes("error"), false, JSON.stringify(rec).slice(0, 2000));
      assert.deepEqual(play, rec);
      assert.match(JSON.stringify(rec[1]), /"plain":\["100"\]/);
      assert.match(JSON.stringify(rec[2]), /rplworkload.*321/);
      assert.match(JSON.stringify(rec[7]), /BPF program counter/, "a program shows its summary, recorded and replayed");
      assert.match(JSON.stringify(rec[8]), /rplworkload.*77/);
      assert.match(banners(join(dir, "recorded.ipynb"))[0] ?? "", /^RECORDING/);
      assert.match(banners(join(dir, "replayed.ipynb"))[0] ?? "", /^REPLAY — not live data/);
      // a live call there: nobody is refused for its privileges (checked before anything loads), root for the missing libbpf
      const asNobody = JSON.parse(readFileSync(join(dir, "live-nobody.json"), "utf8")) as { name?: string; code?: string; message?: string };
      assert.equal(asNobody.name, "PermissionError", JSON.stringify(asNobody));
      const asRoot = JSON.parse(readFileSync(join(dir, "live-root.json"), "utf8")) as { name?: string; code?: string; message?: string };
      assert.equal(asRoot.name, "NotSupportedError", JSON.stringify(asRoot));
      assert.equal(asRoot.code, "ENOTSUP");
      assert.match(asRoot.message ?? "", /^BPF through libbpf is not supported here: libbpf\.so\.1 cannot be loaded \(.*\); install libbpf 1\.x \(Debian, Ubuntu: `apt-get install libbpf1`/);
      assert.ok(existsSync(LIBBPF!) && readFileSync(LIBBPF!).length > 0, "outside the namespace libbpf.so.1 is untouched");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
