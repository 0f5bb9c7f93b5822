/* `bpfbook help COMMAND` and `bpfbook COMMAND --help` print the same usage, and the usage of
 * run, install and version says what the command does and every option it takes. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./helpers/workload.js";

const cli = join(ROOT, "dist", "bpf-lib", "src", "cli", "main.js");
const bpfbook = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 30_000 });

/** The usage of `name` both ways; they must agree, and exit 0. */
function usageOf(name: string): string {
  const viaHelp = bpfbook("help", name);
  assert.equal(viaHelp.status, 0, viaHelp.stderr);
  for (const flag of ["--help", "-h"]) {
    const viaFlag = bpfbook(name, flag);
    assert.equal(viaFlag.status, 0, viaFlag.stderr);
    assert.equal(viaFlag.stdout, viaHelp.stdout, `bpfbook ${name} ${flag} and bpfbook help ${name} differ`);
  }
  return viaHelp.stdout;
}

describe("bpfbook help", () => {
  it("run: what it does, that it saves nothing without -o or --html, and every option", () => {
    const text = usageOf("run");
    assert.match(text, /^usage: bpfbook run <notebook\.ipynb> /);
    assert.match(text, /exits non-zero\non the first failing cell/);
    assert.match(text, /without -o or --html\nnothing is written \(but a --record recording\)/);
    for (const option of ["-o FILE", "--html FILE", "--timeout S", "--kernel NAME", "--no-execute", "--no-images", "--no-sign", "--record", "--replay", "--recording F"]) {
      assert.match(text, new RegExp(`^  ${option.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} `, "m"), `run's help explains ${option}`);
    }
    assert.match(text, /seconds a cell may take \(default 600\)/);
    assert.match(text, /no BPF, no root needed/);
  });

  it("run: a wrong call prints the same usage on stderr and exits 2", () => {
    const r = bpfbook("run", "notebook.txt");
    assert.equal(r.status, 2);
    assert.equal(r.stderr, usageOf("run"));
  });

  it("install: where the kernelspec goes, with and without --user and --prefix", () => {
    const text = usageOf("install");
    assert.match(text, /^usage: bpfbook install \[--user\] \[--prefix DIR\]/);
    assert.match(text, /system-wide, in \/usr\/local\/share\/jupyter\/kernels\/bpfbook/);
    assert.match(text, /^  --user {9}for this user only, in ~\/\.local\/share\/jupyter\/kernels\/bpfbook$/m);
    assert.match(text, /^  --prefix DIR {3}in DIR\/bpfbook instead/m);
  });

  it("version: the four versions it prints", () => {
    const text = usageOf("version");
    assert.match(text, /^usage: bpfbook version {3}\(or bpfbook --version, -V\)/);
    assert.match(text, /the versions of bpfbook \(package\.json\), libbpf/);
    const r = bpfbook("version");
    assert.equal(r.status, 0);
    assert.deepEqual(r.stdout.split("\n").slice(0, 4).map((l) => l.split(/\s+/)[0]), ["bpfbook", "libbpf", "node", "kernel"]);
  });

  it("help: with and without a command", () => {
    assert.match(usageOf("help"), /^usage: bpfbook help \[COMMAND\]/);
    const r = bpfbook("help");
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^  run {2,}execute a notebook headless/m);
  });
});
