#!/usr/bin/env node
// `npm test`: builds, runs every host test file one at a time (they share one kernel), then
// the Python suites with the VM tests beside them, then checks that no BPF program of ours is left loaded.
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: "inherit" }).status ?? 1;

if (process.env.BPFBOOK_TEST_NO_BUILD !== "1" && run("npm", ["run", "-s", "build"]) !== 0) process.exit(1);

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
const isVm = (f) => f.startsWith(join(dir, "vm") + "/");
const host = files.filter((f) => !isVm(f)), vm = files.filter(isVm);
let status = host.length ? run(process.execPath, ["--test", "--test-concurrency=1", ...host]) : 0;

// The VM tests keep one core busy with qemu (TCG) and touch nothing on this kernel: they run
// while the Python suites drive the notebook kernel on the other core. Their report is
// buffered and printed whole once they end, so the two logs do not interleave.
// (into a file, not a pipe: the Python suites run with spawnSync, which stops this loop from
// draining a pipe, and a full pipe would stop the VM tests)
const vmLog = join(mkdtempSync(join(tmpdir(), "bpfbook-vmtests-")), "out.txt");
const vmRun = vm.length ? new Promise((resolve) => {
  const fd = openSync(vmLog, "w");
  const child = spawn(process.execPath, ["--test", "--test-concurrency=1", ...vm], { cwd: root, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  child.on("close", (code) => resolve({ status: code ?? 1, output: readFileSync(vmLog, "utf8") }));
}) : null;

// The notebook kernel through real Jupyter clients (Debian's Python packages).
const py = readdirSync(join(root, "test", "kernel")).filter((f) => /^test_.*\.py$/.test(f)).filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
if (py.length) {
  run(process.execPath, [join(root, "dist", "bpf-lib", "src", "cli", "main.js"), "install"]);
  for (const f of py.sort()) {
    console.log(`# python: ${f}`);
    const s = run("/usr/bin/python3", [join("test", "kernel", f), "-v"]);
    if (s !== 0) status = status || s;
  }
}

if (vmRun) {
  const r = await vmRun;
  console.log(`# VM tests (${vm.length} files, run alongside the Python suites):`);
  process.stdout.write(r.output);
  if (r.status !== 0) status = status || r.status;
}

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
