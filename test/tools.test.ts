/* The tools collection's core and its first tools, on deterministic workloads: exact
 * counts, cross-checked against bpftrace on the same calls; the same tools from the shell
 * (`bpfbook opensnoop --pid N --json`); and named errors for bad options. */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { tools, liveCount, InvalidArgumentError } from "../bpf-lib/src/index.js";
import { TOOLS } from "../bpf-lib/src/tools/registry.js";
import { withReference } from "../bpf-lib/src/tools/reference.js";
import { workload, renamedWorkload, programIdsOf, ROOT } from "./helpers/workload.js";
import { bpftrace, parseMap } from "./helpers/bpftrace.js";

const programsBefore = programIdsOf();

/** BPF links a process holds (attached programs). */
function linksOf(pid: number): number {
  let n = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === "anon_inode:bpf_link") n++;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // not started yet
  }
  return n;
}
after(() => {
  assert.deepEqual(programIdsOf(), programsBefore, "no BPF program of this process is left loaded");
  assert.equal(liveCount(), 0, "nothing is left tracked as live");
});

const N = 40;
const MISSING = "/tmp/bpfbook-tools-missing";
const CLI = join(ROOT, "dist", "bpf-lib", "src", "cli", "main.js");

describe("tools.opensnoop", () => {
  it("every open of the workload, with its errno's name, flags, path and latency; as many as bpftrace counts", async () => {
    const w = workload(["openmissing", MISSING, String(N)]);
    const bt = await bpftrace(`tracepoint:syscalls:sys_exit_openat /pid == ${w.pid}/ { @[args->ret] = count(); }`);
    const run = tools.opensnoop({ pid: w.pid }).start();
    assert.equal(await w.go(), 0);
    const t = await tools.opensnoop({ pid: w.pid }).shape(await run.table());
    const theirs = parseMap(await bt.stop());
    assert.deepEqual(t.columnNames(), ["ts", "pid", "tid", "comm", "ret", "ret_name", "flags_name", "filename", "latency"]);
    assert.equal(t.numRows(), N);
    assert.deepEqual([...new Set(t.array("filename") as string[])], [MISSING]);
    assert.deepEqual([...new Set(t.array("ret_name") as string[])], ["ENOENT"]);
    assert.deepEqual([...new Set(t.array("flags_name") as string[])], ["O_RDONLY"]);
    assert.ok((t.array("latency") as number[]).every((x) => x > 0));
    assert.deepEqual([...theirs], [["-2", N]]);
  });

  it("collect() gives the shaped table with its stats; failed: only failures", async () => {
    const w = workload(["openat", "/dev/null", String(N)]);
    const p = tools.opensnoop({ pid: w.pid, failed: true }).collect({ seconds: 1.5 });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await w.go(), 0);
    const t = await p;
    assert.equal(t.numRows(), 0, "opening /dev/null never fails");
    assert.equal(t.stats.lost, 0);
    assert.deepEqual(t.columnNames(), ["ts", "pid", "tid", "comm", "ret", "ret_name", "flags_name", "filename", "latency"]);
  });

  it("the chart is a bar of opens by file", async () => {
    const w = workload(["openmissing", MISSING, "5"]);
    const tool = tools.opensnoop({ pid: w.pid });
    const run = tool.start();
    await w.go();
    const fig = tool.chart(tool.shape(await run.table()));
    assert.equal(fig.data[0]!.type, "bar");
    assert.deepEqual(fig.data[0]!.y, [MISSING]);
  });
});

describe("tools.syscount", () => {
  it("counts per syscall, named, exactly the workload's calls (as bpftrace's count by args->id)", async () => {
    const w = workload(["ids", String(N)]);
    const bt = await bpftrace(`tracepoint:raw_syscalls:sys_enter /pid == ${w.pid}/ { @[args->id] = count(); }`);
    const run = tools.syscount({ pid: w.pid }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const t = tools.syscount({ pid: w.pid }).shape(await run.finished());
    const theirs = parseMap(await bt.stop());
    const ours = Object.fromEntries((t.objects() as { syscall: string; count: number }[]).map((r) => [r.syscall, r.count]));
    for (const s of ["getppid", "getpid", "gettid"]) assert.equal(ours[s], N, `${s}: ${JSON.stringify(ours)}`);
    // 39, 110, 186: getpid, getppid, gettid on x86-64
    assert.deepEqual([theirs.get("39"), theirs.get("110"), theirs.get("186")], [N, N, N]);
    assert.equal(t.get("count", 0) >= t.get("count", t.numRows() - 1), true, "most calls first");
  });

  it("errors: failed calls per errno, by process", async () => {
    const w = workload(["openmissing", MISSING, String(N)]);
    const run = tools.syscount({ pid: w.pid, errors: true, by: "both" }).start();
    await w.go();
    await run.stop();
    const rows = (await run.finished()).objects() as { syscall: string; errno: string; count: number; pid: number }[];
    assert.deepEqual(rows.filter((r) => r.syscall === "openat").map((r) => [r.pid, r.errno, r.count]), [[w.pid, "ENOENT", N]]);
  });
});

describe("tools: options and the registry", () => {
  it("bad options are named errors", () => {
    assert.throws(() => tools.opensnoop({ pid: -1 }), (e: unknown) => e instanceof InvalidArgumentError && /pid must be a positive integer/.test((e as Error).message));
    assert.throws(() => tools.opensnoop({ pdi: 3 } as never), (e: unknown) => e instanceof InvalidArgumentError && /unknown option "pdi".*pid/.test((e as Error).message));
    assert.throws(() => tools.syscount({ by: "proc" as never }), (e: unknown) => e instanceof InvalidArgumentError && /"syscall", "process" or "both"/.test((e as Error).message));
  });

  it("every registered tool is exported under its name and has columns, options and a counterpart", () => {
    for (const t of TOOLS) {
      assert.equal(typeof (tools as Record<string, unknown>)[t.info.name], "function", t.info.name);
      assert.ok(t.info.columns.length > 0 && t.info.counterpart && t.info.builtOn && t.info.summary, t.info.name);
      assert.ok(t.info.options.some((o) => o.name === "pid"), `${t.info.name} takes --pid`);
    }
  });

  it("docs/tools.md documents every tool as the catalog describes it (npm run docs:tools rewrites it)", () => {
    const doc = readFileSync(join(ROOT, "docs", "tools.md"), "utf8");
    assert.equal(withReference(doc), doc, "docs/tools.md is out of date: run npm run docs:tools");
    for (const t of TOOLS) assert.match(doc, new RegExp(`^## ${t.info.name}$`, "m"), `${t.info.name} has a section`);
  });
});

describe("bpfbook <tool> in the shell", () => {
  it("bpfbook opensnoop --pid N --json prints one JSON object per open", async () => {
    const w = workload(["openmissing", MISSING, "7"]);
    const cli = spawn(process.execPath, [CLI, "opensnoop", "--pid", String(w.pid), "--json", "--seconds", "30"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    cli.stdout.on("data", (d: Buffer) => (out += d));
    cli.stderr.on("data", (d: Buffer) => (err += d));
    const exited = new Promise<number>((r) => cli.once("exit", (c) => r(c ?? -1)));
    // attached: the command holds its two links (entry and exit)
    for (let i = 0; i < 200 && linksOf(cli.pid!) < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await w.go(), 0);
    for (let i = 0; i < 100 && out.split("\n").filter(Boolean).length < 7; i++) await new Promise((r) => setTimeout(r, 50));
    cli.kill("SIGINT");
    assert.equal(await exited, 0, err);
    const rows = out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { pid: number; filename: string; ret_name: string });
    assert.equal(rows.length, 7, out);
    assert.ok(rows.every((r) => r.pid === w.pid && r.filename === MISSING && r.ret_name === "ENOENT"));
  });

  it("bpfbook opensnoop --comm X --csv prints a CSV header and one line per open of that command only; without --json/--csv a live table", async () => {
    const binary = renamedWorkload("csvsnoop");
    for (const format of ["--csv", "table"] as const) {
      const w = workload(["openmissing", MISSING, "7"], { binary });
      const other = workload(["openmissing", MISSING, "3"]); // same opens, another comm: left out
      const args = [CLI, "opensnoop", "--comm", "csvsnoop", "--seconds", "30", ...(format === "--csv" ? ["--csv"] : [])];
      const cli = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
      let out = "", err = "";
      cli.stdout.on("data", (d: Buffer) => (out += d));
      cli.stderr.on("data", (d: Buffer) => (err += d));
      const exited = new Promise<number>((r) => cli.once("exit", (c) => r(c ?? -1)));
      for (let i = 0; i < 200 && linksOf(cli.pid!) < 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await other.go(), 0);
      assert.equal(await w.go(), 0);
      const mine = () => out.split("\n").filter((l) => l.includes(MISSING)).length;
      for (let i = 0; i < 100 && mine() < 7; i++) await new Promise((r) => setTimeout(r, 50));
      cli.kill("SIGINT");
      assert.equal(await exited, 0, err);
      assert.equal(mine(), 7, out);
      assert.ok(!out.includes(String(other.pid)), "the other command's opens are filtered out");
      if (format === "--csv") {
        const [header, ...lines] = out.split("\n").filter(Boolean);
        const cols = header.split(",");
        assert.ok(cols.includes("pid") && cols.includes("filename"), header);
        const pid = cols.indexOf("pid");
        assert.ok(lines.every((l) => Number(l.split(",")[pid]) === w.pid), out);
      } else {
        assert.ok(out.split("\n").filter((l) => l.includes(MISSING)).every((l) => l.includes(String(w.pid)) && l.includes("ENOENT")), out);
      }
    }
  });

  it("bpfbook syscount --interval prints each interval once, and the counts add up to the workload's calls", async () => {
    const w = workload(["ids", String(N)]);
    const cli = spawn(process.execPath, [CLI, "syscount", "--pid", String(w.pid), "--interval", "0.4", "--seconds", "2", "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    cli.stdout.on("data", (d: Buffer) => (out += d));
    cli.stderr.on("data", (d: Buffer) => (err += d));
    const exited = new Promise<number>((r) => cli.once("exit", (c) => r(c ?? -1)));
    for (let i = 0; i < 200 && linksOf(cli.pid!) < 1; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await w.go(), 0);
    assert.equal(await exited, 0, err);
    const rows = out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { interval: number; syscall: string; count: number });
    const keys = rows.map((r) => `${r.interval}/${r.syscall}`);
    assert.equal(new Set(keys).size, keys.length, `an interval printed twice: ${keys.join(" ")}`);
    for (const s of ["getppid", "getpid", "gettid"]) assert.equal(rows.filter((r) => r.syscall === s).reduce((a, r) => a + r.count, 0), N, s);
  });

  it("bpfbook syscount --help lists its options, bpfbook tools checks every tool here; a bad flag is a usage error (exit 2)", async () => {
    const run = (args: string[]) => new Promise<{ code: number; out: string }>((r) => {
      const c = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      c.stdout.on("data", (d: Buffer) => (out += d));
      c.stderr.on("data", (d: Buffer) => (out += d));
      c.once("exit", (code) => r({ code: code ?? -1, out }));
    });
    const help = await run(["syscount", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /--by X +syscall \(default\), process, or both/);
    assert.match(help.out, /--interval N/);
    const list = await run(["tools", "--json"]);
    assert.equal(list.code, 0);
    const rows = JSON.parse(list.out) as { name: string; ok: boolean; reason?: string }[];
    assert.deepEqual(rows.map((r) => r.name), TOOLS.map((t) => t.info.name));
    // every tool is built on what this host has (tracepoints, uprobes, sampling): none says it cannot run
    assert.deepEqual(rows.filter((r) => !r.ok), []);
    const bad = await run(["syscount", "--bogus"]);
    assert.equal(bad.code, 2);
    assert.match(bad.out, /unknown option --bogus/);
  });
});
