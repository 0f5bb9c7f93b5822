/* Kernel function probes against a kernel that has them: Debian's 6.1 (kprobes,
 * fentry, BTF, no lockdown) booted under qemu by test/vm/vm.ts. One VM session runs
 * every check (a script written to the guest's /tmp) and then the main code of
 * notebooks/04-kernel-function-latency.ipynb, and prints the results as JSON; the
 * assertions run here. Everything in the guest is emulated (TCG), 20-50x slower,
 * so the checks count exactly rather than time anything. */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { runInVm, vmUnavailableReason } from "./vm/vm.js";
import { ROOT } from "./helpers/workload.js";

const N = 20;
const DATA = "hello bpfbook\n"; // the file read N times: each read returns its 14 bytes
const OPENED = "/tmp/bpfbook-kfunc-open";

/** The checks, as a guest-side ES module. Each check records its result or its error. */
const CHECKS = `
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
const k = await import(${JSON.stringify(join(ROOT, "dist", "bpf-lib", "src", "probes", "fentry", "index.js"))});
const WORKLOAD = ${JSON.stringify(join(ROOT, "test", "fixtures", "build", "workload"))};
const N = ${N};
writeFileSync("/tmp/kfunc-data.txt", ${JSON.stringify(DATA)});
// The child's start-up (exec, the dynamic loader's reads and opens) must be over before a probe
// attaches, or it is counted too: wait until it blocks in readv(2) (syscall 19) at its gate.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const gated = async (args) => {
  const c = spawn(WORKLOAD, args, { stdio: ["pipe", "inherit", "inherit"] });
  const done = new Promise((r) => c.once("exit", r));
  for (let i = 0; i < 600; i++) {
    let sc = "";
    try { sc = readFileSync("/proc/" + c.pid + "/syscall", "utf8"); } catch {}
    if (sc.startsWith("19 ")) break;
    await sleep(50);
  }
  return { pid: c.pid, go: () => (c.stdin.end("g"), done) };
};
const uniq = (t, c) => [...new Set(Array.from(t.array(c), (v) => (typeof v === "bigint" ? v.toString() : v)))];
const total = (t) => Array.from(t.array("count")).reduce((s, x) => s + x, 0);
const out = { support: {}, runs: {}, ms: {} };
const s = k.kernelFunctionSupport();
for (const kind of ["fentry", "fexit", "kprobe", "kretprobe"]) out.support[kind] = s[kind].ok || s[kind].reason;
async function check(name, fn) {
  const t0 = performance.now();
  try { out.runs[name] = await fn(); } catch (e) { out.runs[name] = { error: String(e && e.stack || e) }; }
  out.ms[name] = Math.round(performance.now() - t0);
}
async function events(probe, args) {
  const w = await gated(args);
  const tr = probe(w.pid).start();
  await w.go();
  const t = await tr.table();
  return { t, source: tr.source, pid: w.pid };
}
async function aggregate(agg, args) {
  const w = await gated(args);
  const run = agg(w.pid).start();
  await w.go();
  await run.stop();
  return { t: await run.finished(), pid: w.pid };
}
for (const via of ["fentry", "kprobe"]) {
  await check(via + " entry", async () => {
    const { t, source, pid } = await events((pid) => k.kprobe("vfs_read", { where: { pid }, via }), ["read", "/tmp/kfunc-data.txt", String(N)]);
    return { source, rows: t.numRows(), counts: uniq(t, "count"), pids: uniq(t, "pid"), pid, columns: t.columnNames() };
  });
  await check(via + " return", async () => {
    const { t, source } = await events((pid) => k.kretprobe("vfs_read", { where: { pid }, via, args: ["count"], latency: true }), ["read", "/tmp/kfunc-data.txt", String(N)]);
    return { source, rows: t.numRows(), rets: uniq(t, "ret"), counts: uniq(t, "count"), minLatency: Math.min(...t.array("latency")), columns: t.columnNames() };
  });
  await check(via + " latency", async () => {
    const { t } = await aggregate((pid) => k.kernelFunctionLatency("vfs_read", { where: { pid }, via, by: ["comm"] }), ["read", "/tmp/kfunc-data.txt", String(N)]);
    return { source: t.stats.source, total: total(t), comms: uniq(t, "comm"), unmatched: t.stats.unmatched, columns: t.columnNames() };
  });
  await check(via + " count by ret", async () => {
    const { t } = await aggregate((pid) => k.kretprobe("vfs_read", { where: { pid }, via }).count({ by: ["comm", "ret", "count"] }), ["read", "/tmp/kfunc-data.txt", String(N)]);
    return { rows: t.objects() };
  });
  await check(via + " filter", async () => {
    const { t } = await events((pid) => k.kprobe("vfs_read", { where: { pid, count: { ne: 64 } }, via }), ["read", "/tmp/kfunc-data.txt", String(N)]);
    return { rows: t.numRows(), filtered: t.stats.filtered };
  });
  await check(via + " strings", async () => {
    const { t } = await events((pid) => k.kprobe("do_sys_openat2", { where: { pid }, via, args: ["dfd"], strings: ["filename"] }), ["openat", ${JSON.stringify(OPENED)}, "5"]);
    return { rows: t.numRows(), filenames: uniq(t, "filename"), dfds: uniq(t, "dfd") };
  });
  await check(via + " kernel strings", async () => {
    const { t } = await events((pid) => k.kprobe("seq_puts", { where: { pid }, via, args: [], strings: ["s"] }), ["read", "/proc/self/status", "2"]);
    return { rows: t.numRows(), strings: uniq(t, "s").slice(0, 3) };
  });
}
console.log("@@KFUNC-CHECKS " + JSON.stringify(out));
process.exit(0);
`;

/** The notebook's code cells as one guest-side ES module (types stripped, imports made absolute). */
function notebookScript(): string {
  const nb = JSON.parse(readFileSync(join(ROOT, "notebooks", "04-kernel-function-latency.ipynb"), "utf8")) as { cells: { cell_type: string; source: string | string[] }[] };
  const code = nb.cells.filter((c) => c.cell_type === "code").map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source)).join("\n;\n");
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
    .replaceAll(`from "bpfbook"`, `from ${JSON.stringify(join(ROOT, "dist", "bpf-lib", "src", "index.js"))}`)
    .replaceAll(`from "../dist/`, `from "${ROOT}/dist/`);
  return `${js}\nconsole.log("@@KFUNC-NOTEBOOK " + JSON.stringify({ source, refusal, events: lat.stats.events, unmatched: lat.stats.unmatched, streamed: calls.numRows(), streamedColumns: calls.columnNames() }));\nprocess.exit(0);\n`;
}

interface Checks {
  support: Record<string, true | string>;
  runs: Record<string, Record<string, unknown> & { error?: string }>;
  ms: Record<string, number>;
}

const why = vmUnavailableReason();

describe("kernel function probes in the Debian-kernel VM", { skip: why ?? false }, () => {
  let checks: Checks;
  let notebook: { source: string; refusal: string | null; events: number; unmatched: number; streamed: number; streamedColumns: string[] };
  let output = "";

  before(async () => {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    // The guest's /tmp is its own tmpfs; node_modules there points at the project's, for the notebook's bare imports.
    const command = [
      "mkdir -p /tmp/kfunc && cd /tmp/kfunc",
      `ln -s ${ROOT}/node_modules node_modules`,
      `echo ${b64(CHECKS)} | base64 -d > checks.mjs`,
      `echo ${b64(notebookScript())} | base64 -d > notebook.mjs`,
      "node checks.mjs",
      "node notebook.mjs",
    ].join(" && ");
    const t0 = performance.now();
    const r = await runInVm(command, { timeoutMs: 230_000 });
    output = r.output;
    process.stderr.write(`# VM: status ${r.status}, boot ${(r.bootMs / 1000).toFixed(1)} s, total ${(r.totalMs / 1000).toFixed(1)} s (${((performance.now() - t0) / 1000).toFixed(1)} s here)\n`);
    const line = (tag: string) => {
      const l = output.split("\n").find((x) => x.startsWith(tag));
      if (!l) throw new Error(`the VM printed no ${tag} line (status ${r.status}); its output:\n${output.slice(-6000)}`);
      return JSON.parse(l.slice(tag.length + 1));
    };
    checks = line("@@KFUNC-CHECKS");
    process.stderr.write(`# VM check times (ms): ${JSON.stringify(checks.ms)}\n`);
    notebook = line("@@KFUNC-NOTEBOOK");
  }, { timeout: 240_000 });

  const run = (name: string) => {
    const r = checks.runs[name];
    assert.ok(r, `no result for ${name}`);
    assert.equal(r.error, undefined, `${name} failed in the VM:\n${r.error}`);
    return r;
  };

  it("the VM's kernel allows fentry, fexit, kprobes and kretprobes", () => {
    assert.deepEqual(checks.support, { fentry: true, fexit: true, kprobe: true, kretprobe: true });
  });

  for (const via of ["fentry", "kprobe"] as const) {
    const entryKind = via === "fentry" ? "fentry" : "kprobe";
    const retKind = via === "fentry" ? "fexit" : "kretprobe";

    it(`${via}: a child reading a file ${N} times shows ${N} calls of vfs_read for its pid`, () => {
      const r = run(`${via} entry`);
      assert.equal(r.source, `${entryKind}:vfs_read`);
      assert.equal(r.rows, N);
      assert.deepEqual(r.pids, [r.pid]);
      assert.deepEqual(r.counts, [64], "count: the workload reads into a 64-byte buffer");
      assert.deepEqual(r.columns, ["ts", "cpu", "pid", "tid", "comm", "file", "buf", "count", "pos"]);
    });

    it(`${retKind}: return values equal the bytes read; arguments and latency come along`, () => {
      const r = run(`${via} return`);
      assert.equal(r.source, `${retKind}:vfs_read`);
      assert.equal(r.rows, N);
      assert.deepEqual(r.rets, [Buffer.byteLength(DATA)]);
      assert.deepEqual(r.counts, [64]);
      assert.ok((r.minLatency as number) > 0, `latency ${r.minLatency}`);
      assert.deepEqual(r.columns, ["ts", "cpu", "pid", "tid", "comm", "count", "ret", "latency"]);
    });

    it(`${via}: the entry → return latency histogram has ${N} entries`, () => {
      const r = run(`${via} latency`);
      assert.equal(r.source, `latency ${retKind}:vfs_read`);
      assert.equal(r.total, N);
      assert.equal(r.unmatched, 0);
      assert.deepEqual(r.comms, ["workload"]);
      assert.deepEqual(r.columns, ["comm", "bucket", "low", "high", "count"]);
    });

    it(`${via}: in-kernel counts keyed by comm, the return value and an argument`, () => {
      // one row: on 6.1, bpf_get_current_comm leaves stack bytes after the name, which must not split the key
      assert.deepEqual(run(`${via} count by ret`).rows, [{ comm: "workload", ret: Buffer.byteLength(DATA), args_count: 64, count: N }]);
    });

    it(`${via}: argument filters run in the kernel`, () => {
      assert.deepEqual(run(`${via} filter`), { rows: 0, filtered: N });
    });

    it(`${via}: char * arguments read as strings (do_sys_openat2's filename, from user memory)`, () => {
      assert.deepEqual(run(`${via} strings`), { rows: 5, filenames: [OPENED], dfds: [-100] });
    });

    it(`${via}: kernel strings too (seq_puts writing /proc/self/status, twice)`, () => {
      const r = run(`${via} kernel strings`);
      assert.ok((r.rows as number) > 0 && (r.rows as number) % 2 === 0, `${r.rows} calls`);
      assert.deepEqual(r.strings, ["Name:\t", "State:\t", "R (running)"]);
    });
  }

  it("the notebook's main code measures vfs_read with kernel function probes", () => {
    assert.equal(notebook.refusal, null, `the notebook fell back: ${notebook.refusal}`);
    assert.match(notebook.source, /^latency (fexit|kretprobe):vfs_read$/);
    assert.ok(notebook.events > 0, `${notebook.events} calls`);
    assert.ok(notebook.streamed > 0, "dd's reads were streamed");
    assert.deepEqual(notebook.streamedColumns, ["ts", "cpu", "pid", "tid", "comm", "count", "ret", "latency"]);
  });
});
