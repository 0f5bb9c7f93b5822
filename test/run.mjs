#!/usr/bin/env node
// `npm test`: builds, runs every host test file one at a time (they share one kernel) with the
// Python suites and then the VM tests beside them, then checks that no BPF program of ours is left loaded.
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: "inherit" }).status ?? 1;

if (process.env.BPFBOOK_TEST_NO_BUILD !== "1" && run("npm", ["run", "-s", "build"]) !== 0) process.exit(1);

// Kernels started by the tests draw no static images (a Chromium each) unless a test asks (test_images.py)
process.env.BPFBOOK_IMAGES ??= "off";
const only = process.argv.slice(2);
const dir = join(root, "dist", "test");
// Host tests first, then the ones that boot a second kernel under qemu (test/vm/).
const files = ["", "vm"].flatMap((sub) => {
  let names = [];
  try {
    names = readdirSync(join(dir, sub));
  } catch {
    return [];
  }
  return names
    .filter((f) => f.endsWith(".test.js"))
    .filter((f) => only.length === 0 || only.some((o) => join(sub, f).includes(o)))
    .sort()
    .map((f) => join(dir, sub, f));
});
// Programs loaded before the suite (by someone else) are not ours to judge.
const programs = () => JSON.parse(execFileSync("bpftool", ["prog", "show", "--json"], { encoding: "utf8" }));
let before = new Set();
try {
  before = new Set(programs().map((p) => p.id));
} catch (e) {
  console.error(`could not list BPF programs: ${e.message}`);
}
// VM tests: those under test/vm/ and the vm-*.test.js files that boot the VM themselves
const isVm = (f) => f.startsWith(join(dir, "vm") + "/") || /\/vm-[^/]*\.test\.js$/.test(f);
// Whole notebooks run through the kernel (like the Python notebook suite): in the side lane, which has room
const isNotebookRun = (f) => /\/(publish|replay-notebook)\.test\.js$/.test(f);
// Files that load nothing into this kernel (type checks, charts drawn in Chromium from made-up
// tables): in the side lane too, which keeps the two lanes near the same length
const isKernelFree = (f) => /\/(docs-snippets|plot|chart-gallery)\.test\.js$/.test(f);
const host = files.filter((f) => !isVm(f) && !isNotebookRun(f) && !isKernelFree(f)), vm = files.filter(isVm);
const notebookRuns = files.filter((f) => isNotebookRun(f) || isKernelFree(f));
const py = readdirSync(join(root, "test", "kernel")).filter((f) => /^test_.*\.py$/.test(f)).filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort();
if (py.length) run(process.execPath, [join(root, "dist", "bpf-lib", "src", "cli", "main.js"), "install"]);

/** Runs a command to its end without blocking this loop (the lanes below run at once); output into a file when given one. */
function runAsync(cmd, args, log) {
  return new Promise((resolve) => {
    const fd = log === undefined ? undefined : openSync(log, "a");
    const child = spawn(cmd, args, { cwd: root, stdio: fd === undefined ? "inherit" : ["ignore", fd, fd] });
    if (fd !== undefined) closeSync(fd);
    child.on("close", (code) => resolve(code ?? 1));
  });
}

// Two lanes, one per core. The host tests (one file at a time: they share one kernel) print as
// they go. Beside them: the notebook kernel through real Jupyter clients (Debian's Python
// packages), the tests that run whole notebooks, then the VM tests (qemu, one core, nothing on
// this kernel); that lane's report is written to a file and printed whole at the end, so the two
// logs do not interleave. Tests in the two lanes only judge their own BPF programs (held by their
// own process) and their own workloads, never the machine's. BPFBOOK_TEST_SERIAL=1 runs the
// lanes one after the other.
const serial = process.env.BPFBOOK_TEST_SERIAL === "1";
const hostLane = () => (host.length ? runAsync(process.execPath, ["--test", "--test-concurrency=1", ...host]) : Promise.resolve(0));
const sideLog = join(mkdtempSync(join(tmpdir(), "bpfbook-sidelane-")), "out.txt");
const sideLane = async () => {
  let s = 0;
  for (const f of py) {
    appendFileSync(sideLog, `# python: ${f}\n`);
    s = (await runAsync("/usr/bin/python3", [join("test", "kernel", f), "-v"], sideLog)) || s;
  }
  if (notebookRuns.length) {
    appendFileSync(sideLog, `# notebook runs and kernel-free files (${notebookRuns.length} files):\n`);
    s = (await runAsync(process.execPath, ["--test", "--test-concurrency=1", ...notebookRuns], sideLog)) || s;
  }
  if (vm.length) {
    appendFileSync(sideLog, `# VM tests (${vm.length} files):\n`);
    s = (await runAsync(process.execPath, ["--test", "--test-concurrency=1", ...vm], sideLog)) || s;
  }
  return s;
};
const started = Date.now();
const [hostStatus, sideStatus] = serial ? [await hostLane(), await sideLane()] : await Promise.all([hostLane(), sideLane()]);
console.log(`# Python suites and VM tests (run beside the host tests):`);
process.stdout.write(existsSync(sideLog) ? readFileSync(sideLog, "utf8") : "");
console.log(`# lanes done in ${((Date.now() - started) / 1000).toFixed(0)} s${serial ? " (serial)" : ""}`);
let status = hostStatus || sideStatus;

const ours = ["on_tracepoint", "on_tracepoint_d", "burst", "emit", "on_aggregate", "xdp_packets", "xdp_pass", "on_entry", "on_return", "on_sample", "on_switch", "kp_entry", "kp_return", "fe_entry", "fe_exit"];
let leaked = [];
try {
  leaked = programs().filter((p) => !before.has(p.id) && (ours.includes(p.name) || /^f_/.test(p.name ?? "")));
} catch (e) {
  console.error(`could not check for leftover programs: ${e.message}`);
}
if (leaked.length) {
  console.error(`LEAK: BPF programs of ours still loaded after the suite: ${leaked.map((p) => `${p.id}:${p.name}`).join(", ")}`);
  process.exit(1);
}
console.log("leak check: no bpfbook program left loaded");
process.exit(status);
