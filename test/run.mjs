#!/usr/bin/env node
// `npm test`: builds, runs every test file one at a time (they share one kernel),
// then checks that no BPF program of ours is left loaded.
import { spawnSync, execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
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
let status = files.length ? run(process.execPath, ["--test", "--test-concurrency=1", ...files]) : 0;

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
