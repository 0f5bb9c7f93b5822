/* One uprobe on several functions (a list or a wildcard): the gated workload's
 * `three N1 N2 N3` mode calls bpfbook_target N1 times, bpfbook_name N2 times, then
 * bpfbook_line N3 times, so every count per function, and the function of every row,
 * is known; bpftrace's `uprobe:BIN:bpfbook_*` counts the same side by side. */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { liveCount, InvalidArgumentError } from "../bpf-lib/src/index.js";
import { uprobe, uretprobe } from "../bpf-lib/src/probes/uprobe/probe.js";
import { NoMatchingSymbolError, TooManySymbolsError } from "../bpf-lib/src/probes/uprobe/match.js";
import { UnknownSymbolError } from "../bpf-lib/src/symbols/errors.js";
import { openElf } from "../bpf-lib/src/symbols/elf.js";
import { workload, programIdsOf, WORKLOAD } from "./helpers/workload.js";
import { bpftrace, parseMap } from "./helpers/bpftrace.js";
import { releaseLinksAsync } from "../bpf-lib/src/engine/release.js";

const rowsOf = (t: { objects(): object[] }) => t.objects() as Record<string, unknown>[];
const programsBefore = programIdsOf();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const N1 = 5, N2 = 7, N3 = 11;

after(() => {
  assert.deepEqual(programIdsOf(), programsBefore, "no BPF program of this process is left loaded");
  assert.equal(liveCount(), 0, "nothing is left tracked as live");
});

/** Waits until the child blocks in its gate (readv, syscall 19), so a peer tracer can attach first. */
async function atGate(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (readFileSync(`/proc/${pid}/syscall`, "utf8").startsWith("19 ")) return;
    await sleep(10);
  }
  throw new Error(`workload ${pid} never reached its gate`);
}

describe("uprobe on several functions: matching", () => {
  it("a wildcard attaches to every matching function once, by name; a list keeps its order", () => {
    const p = uprobe(WORKLOAD, "bpfbook_*");
    assert.deepEqual(p.functions.map((f) => f.name), ["bpfbook_line", "bpfbook_name", "bpfbook_rename", "bpfbook_target"]);
    const elf = openElf(WORKLOAD);
    for (const f of p.functions) assert.equal(f.function.fileOffset, elf.lookup(f.name)[0].fileOffset);
    const plan = p.plan();
    assert.deepEqual(plan.columns, ["ts", "cpu", "pid", "tid", "comm", "probe"]);
    assert.deepEqual(plan.functions?.map((f) => f.name), ["bpfbook_line", "bpfbook_name", "bpfbook_rename", "bpfbook_target"]);
    // a name and a pattern that matches it again: one attachment
    assert.deepEqual(uprobe(WORKLOAD, ["bpfbook_target", "bpfbook_?ame", "bpfbook_t*"]).functions.map((f) => f.name), ["bpfbook_target", "bpfbook_name"]);
    // one function: no probe column
    assert.deepEqual(uprobe(WORKLOAD, "bpfbook_target").plan().columns, ["ts", "cpu", "pid", "tid", "comm"]);
  });

  it("errors: no match (nearest names), too many (the count), a bad name, offset, probe on one function", () => {
    assert.throws(() => uprobe(WORKLOAD, "bpfbok_*"), (e: unknown) => e instanceof NoMatchingSymbolError && e instanceof UnknownSymbolError && /no function of .* matches "bpfbok_\*"; nearest: .*bpfbook_/.test((e as Error).message));
    assert.throws(() => uprobe(WORKLOAD, ["bpfbook_target", "nosuchfn"]), (e: unknown) => e instanceof UnknownSymbolError && (e as UnknownSymbolError).symbol === "nosuchfn");
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_*", { maxFunctions: 3 }), (e: unknown) => e instanceof TooManySymbolsError && e.matches.length === 4 && e.limit === 3 && /matches 4 functions .* more than 3: .*raise maxFunctions/.test(e.message));
    assert.throws(() => uprobe("libc", "*"), (e: unknown) => e instanceof TooManySymbolsError && e.limit === 64 && e.matches.length > 64 && /\(default 64\)/.test(e.message));
    // glibc's memcpy: the default version is an ifunc (its resolver), the other a compat version: neither is what calls run
    assert.throws(() => uprobe("libc", "memcpy*"), (e: unknown) => e instanceof NoMatchingSymbolError && /matches only memcpy, GNU indirect functions .* not probed/.test((e as Error).message));
    assert.ok(!uprobe("libc", "mem*").functions.some((f) => f.name === "memcpy"), "the compat memcpy is not a match");
    assert.throws(() => uprobe(WORKLOAD, []), InvalidArgumentError);
    assert.throws(() => uprobe(WORKLOAD, ["bpfbook_target", "a b"]), InvalidArgumentError);
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_*", { offset: 4 }), (e: unknown) => e instanceof InvalidArgumentError && /offset places a probe inside one function/.test((e as Error).message));
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_target", { maxFunctions: 4 }), InvalidArgumentError);
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_target").count({ by: ["probe"] }), (e: unknown) => e instanceof InvalidArgumentError && /list or a wildcard/.test((e as Error).message));
    assert.throws(() => uprobe(WORKLOAD, "bpfbook_*", { where: { probe: "bpfbook_nope" } }), (e: unknown) => e instanceof InvalidArgumentError && /the matches are bpfbook_line, bpfbook_name, bpfbook_rename, bpfbook_target/.test((e as Error).message));
  });
});

describe("uprobe on several functions: in the kernel", () => {
  it("count({ by: ['probe'] }) is exact per function, and bpftrace's uprobe:BIN:bpfbook_* counts the same", async () => {
    const w = workload(["three", String(N1), String(N2), String(N3)]);
    await atGate(w.pid);
    const bt = await bpftrace(`uprobe:${WORKLOAD}:bpfbook_* /pid == ${w.pid}/ { @[probe] = count(); }`);
    const run = uprobe(WORKLOAD, "bpfbook_*", { pid: w.pid }).count({ by: ["probe"] }).start();
    assert.equal(await w.go(), 0);
    await run.stop();
    const out = await bt.stop();
    const t = await run.finished();
    const ours = Object.fromEntries(rowsOf(t).map((r) => [r.probe, r.count]));
    assert.deepEqual(ours, { bpfbook_target: N1, bpfbook_name: N2, bpfbook_line: N3 });
    const theirs = Object.fromEntries([...parseMap(out)].map(([k, v]) => [k.replace(/^uprobe:[^:]*:/, ""), v]));
    assert.deepEqual(theirs, ours, "bpftrace counts the same per function");
    assert.equal(t.stats.events, N1 + N2 + N3);
  });

  it("a stream has the right function in every row, in call order, with the arguments", async () => {
    const w = workload(["three", String(N1), String(N2), String(N3)]);
    const trace = uprobe(WORKLOAD, ["bpfbook_target", "bpfbook_line", "bpfbook_name"], { pid: w.pid, args: 1, argTypes: ["int"] }).start();
    assert.equal(trace.links.length, 3, "one attachment per function, one program");
    assert.equal(await w.go(), 0);
    const t = await trace.table();
    assert.deepEqual(t.columnNames(), ["ts", "cpu", "pid", "tid", "comm", "probe", "arg0"]);
    const rows = rowsOf(t);
    assert.deepEqual(rows.map((r) => r.probe), [...Array(N1).fill("bpfbook_target"), ...Array(N2).fill("bpfbook_name"), ...Array(N3).fill("bpfbook_line")]);
    // bpfbook_target(i) and bpfbook_line(i): 0..N-1
    assert.deepEqual(rows.filter((r) => r.probe !== "bpfbook_name").map((r) => r.arg0), [...Array.from({ length: N1 }, (_, i) => i), ...Array.from({ length: N3 }, (_, i) => i)]);
    assert.equal(t.stats.lost, 0);
    // the row type names the list's functions
    const probe: "bpfbook_target" | "bpfbook_line" | "bpfbook_name" = t.objects()[0].probe;
    assert.equal(probe, "bpfbook_target");
  });

  it("uretprobe on two functions: returns and latency by probe; where.probe attaches to that one only", async () => {
    const w = workload(["three", String(N1), String(N2), String(N3)]);
    const rets = uretprobe(WORKLOAD, "bpfbook_t*", { pid: w.pid, retType: "int" }).start();
    const lat = uprobe(WORKLOAD, ["bpfbook_target", "bpfbook_name"], { pid: w.pid }).latency({ by: ["probe"], hist: "stats" }).start();
    const only = uprobe(WORKLOAD, "bpfbook_*", { pid: w.pid, where: { probe: "bpfbook_name" } }).start();
    assert.equal(only.links.length, 1);
    assert.equal(await w.go(), 0);
    await lat.stop();
    const r = await rets.table();
    assert.deepEqual(rowsOf(r).map((x) => [x.probe, x.ret]), Array.from({ length: N1 }, (_, i) => ["bpfbook_target", i + 1]));
    const l = rowsOf(await lat.finished());
    assert.deepEqual(l.map((x) => [x.probe, x.count]).sort(), [["bpfbook_name", N2], ["bpfbook_target", N1]]);
    assert.deepEqual(rowsOf(await only.table()).map((x) => x.probe), Array(N2).fill("bpfbook_name"));
  });
});

describe("uprobe on several functions: pairing", () => {
  it("a matched function called from another pairs with its own return (malloc inside opendir)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-"));
    const ls = join(dir, "bpfbook-ls");
    copyFileSync("/usr/bin/ls", ls);
    chmodSync(ls, 0o755);
    const run = uprobe("libc", ["opendir", "malloc"], { where: { comm: "bpfbook-ls" } }).latency({ by: ["probe"], hist: "stats" }).start();
    for (let i = 0; i < 5; i++) execFileSync(ls, ["/"]);
    await run.stop();
    const t = await run.finished();
    const rows = rowsOf(t);
    // each ls opens its one directory once; keyed by thread alone, malloc's return would take opendir's start
    assert.equal(rows.find((r) => r.probe === "opendir")?.count, 5);
    assert.ok(Number(rows.find((r) => r.probe === "malloc")?.count) > 5);
    assert.equal(t.stats.unmatched, 0);
  });
});

describe("stopping many attachments", () => {
  it("releases hundreds of links at most 64 at a time (koffi refuses more than 256 async calls at once), every one, first error kept", async () => {
    let inFlight = 0, most = 0, done = 0;
    const links = Array.from({ length: 600 }, (_, i) => ({
      async disposeAsync() {
        most = Math.max(most, ++inFlight);
        await sleep(1);
        inFlight--;
        done++;
        if (i === 300 || i === 400) throw new Error(`link ${i}`);
      },
      [Symbol.dispose]() {},
    }));
    const err = await releaseLinksAsync(links);
    assert.equal(done, 600);
    assert.equal(most, 64);
    assert.equal((err as Error).message, "link 300");
  });
});
