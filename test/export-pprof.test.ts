/* exportPprof: real profiles (the spinning workload on CPU, the sleeping one off it)
 * written as profile.pb.gz, read back twice: by pprof-format (the library that wrote
 * them) and by `go tool pprof -raw` (Go's own reader, Debian's golang-go), which must
 * both find the table's exact sample totals and stacks, kernel frames in the kernel's
 * mapping. */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import * as aq from "arquero";
import { Profile } from "pprof-format";
import { exportPprof, InvalidArgumentError, InvalidOptionError, KERNEL_MAPPING, liveCount, profile, offcpu } from "../bpf-lib/src/index.js";
import type { ProfileTable } from "../bpf-lib/src/index.js";
import { workload } from "./helpers/workload.js";

type Row = { pid: number; comm: string; stack: string; count: number; ns?: number };
let dir = "";
before(() => (dir = mkdtempSync(join(tmpdir(), "bpfbook-pprof-"))));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  assert.equal(liveCount(), 0);
});

/** A decoded profile's samples as folded rows again: frames root first, `_[k]` back on kernel frames. */
function foldedFromPprof(p: Profile): { rows: Row[]; values: number[][]; types: string[][] } {
  const str = (i: number | bigint) => p.stringTable.strings[Number(i)]!;
  const mapping = new Map(p.mapping.map((m) => [Number(m.id), str(m.filename)]));
  const fn = new Map(p.function.map((f) => [Number(f.id), str(f.name)]));
  const loc = new Map(p.location.map((l) => [Number(l.id), { name: fn.get(Number(l.line[0]!.functionId))!, kernel: mapping.get(Number(l.mappingId)) === KERNEL_MAPPING }]));
  const rows: Row[] = [], values: number[][] = [];
  for (const s of p.sample) {
    const frames = s.locationId.map((id) => loc.get(Number(id))!).reverse();
    const label = new Map(s.label.map((l) => [str(l.key), str(l.str)]));
    rows.push({ pid: Number(label.get("pid")), comm: label.get("comm")!, stack: frames.map((f) => (f.kernel ? `${f.name}_[k]` : f.name)).join(";"), count: Number(s.value[0]) });
    values.push(s.value.map(Number));
  }
  return { rows, values, types: p.sampleType.map((t) => [str(t.type), str(t.unit)]) };
}

/** `go tool pprof -raw`: the sample types, each sample's values and stack (kernel frames by mapping), and what it printed on stderr. */
function goPprofRaw(file: string): { types: string[]; samples: { values: number[]; stack: string }[]; period: number; stderr: string } {
  const r = spawnSync("go", ["tool", "pprof", "-raw", file], { encoding: "utf8", env: { ...process.env, HOME: dir } });
  if (r.status !== 0) throw new Error(`go tool pprof failed (${r.status}): ${r.stderr}${r.error ?? ""}`);
  const out = r.stdout, stderr = r.stderr;
  const lines = out.split("\n");
  const at = (h: string) => lines.findIndex((l) => l.trim() === h);
  const types = lines[at("Samples:") + 1]!.trim().split(/\s+/).map((s) => s.replace("[dflt]", ""));
  const locations = new Map<number, { name: string; mapping: number }>();
  for (const l of lines.slice(at("Locations") + 1, at("Mappings"))) {
    const m = /^\s*(\d+): 0x[0-9a-f]+ (?:M=(\d+) )?(.*) :\d+ s=\d+$/.exec(l);
    if (m) locations.set(Number(m[1]), { name: m[3]!, mapping: Number(m[2] ?? 0) });
  }
  const mappings = new Map<number, string>();
  for (const l of lines.slice(at("Mappings") + 1)) {
    const m = /^(\d+): 0x[0-9a-f]+\/0x[0-9a-f]+\/0x[0-9a-f]+ (\S*)/.exec(l);
    if (m) mappings.set(Number(m[1]), m[2]!);
  }
  const samples: { values: number[]; stack: string }[] = [];
  for (const l of lines.slice(at("Samples:") + 2, at("Locations"))) {
    const m = /^\s+([\d ]+): ([\d ]+)\s*$/.exec(l);
    if (!m) continue;
    const frames = m[2]!.trim().split(/\s+/).map((id) => locations.get(Number(id))!).reverse();
    samples.push({ values: m[1]!.trim().split(/\s+/).map(Number), stack: frames.map((f) => (mappings.get(f.mapping) === KERNEL_MAPPING ? `${f.name}_[k]` : f.name)).join(";") });
  }
  const period = Number(/^Period: (\d+)$/m.exec(out)?.[1] ?? 0);
  return { types, samples, period, stderr };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const byStack = (rows: { stack: string }[]) => [...rows].sort((a, b) => (a.stack < b.stack ? -1 : a.stack > b.stack ? 1 : 0));

describe("exportPprof", () => {
  it("a CPU profile of the spinning workload: every sample and stack, read back by pprof-format and by go tool pprof", async () => {
    const w = workload(["--linger", "300", "spin", "1"]);
    const run = profile({ pid: w.pid, seconds: 1.5, hz: 99 });
    await w.go();
    const t: ProfileTable = await run;
    const rows = t.objects() as Row[];
    assert.ok(t.stats.samples > 50, `${t.stats.samples} samples`);
    assert.ok(rows.some((r) => r.stack.split(";").includes("spin_here")), "spin_here was sampled");
    const file = join(dir, "cpu.pb.gz");
    const bytes = exportPprof(t, { path: file });
    assert.deepEqual(readFileSync(file), Buffer.from(bytes));
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const p = Profile.decode(gunzipSync(bytes));
    const back = foldedFromPprof(p);
    const period = Math.round(1e9 / 99);
    assert.deepEqual(back.types, [["samples", "count"], ["cpu", "nanoseconds"]]);
    assert.equal(Number(p.period), period);
    assert.equal(p.stringTable.strings[Number(p.defaultSampleType)], "cpu");
    assert.equal(Number(p.durationNanos), Math.round(t.stats.seconds * 1e9));
    assert.equal(BigInt(p.timeNanos), BigInt(Math.round(t.stats.startNs)) + BigInt(Math.round(t.stats.epochOffsetNs)), "wall-clock start");
    assert.deepEqual(back.rows, rows.map((r) => ({ pid: r.pid, comm: r.comm, stack: r.stack, count: r.count })), "one sample per row: same pid, comm, stack and count");
    assert.deepEqual(back.values.map((v) => v[1]), rows.map((r) => r.count * period), "cpu time = samples × period");
    assert.equal(sum(back.rows.map((r) => r.count)), t.stats.samples);

    const go = goPprofRaw(file);
    assert.equal(go.stderr, "", "go tool pprof reads it without a warning");
    assert.deepEqual(go.types, ["samples/count", "cpu/nanoseconds"]);
    assert.equal(go.period, period);
    assert.equal(sum(go.samples.map((s) => s.values[0]!)), t.stats.samples, "go tool pprof: the same sample total");
    // pprof merges samples with the same stack and labels; our rows are distinct (pid, comm, stack) already
    assert.deepEqual(byStack(go.samples), byStack(rows.map((r) => ({ values: [r.count, r.count * period], stack: r.stack }))));
  });

  it("an off-CPU profile of the sleeping workload: off_cpu nanoseconds per stack, kernel frames in [kernel.kallsyms]", async () => {
    const w = workload(["sleep", "20", "5"]);
    const run = offcpu({ pid: w.pid, seconds: 1 });
    await w.go();
    const t = await run;
    const rows = t.objects() as Required<Row>[];
    const sleeping = rows.filter((r) => r.stack.includes("do_nanosleep_[k]"));
    // 5 nanosleeps, each off the CPU once: unless its timer fired before the task reached schedule()
    // (its vCPU stolen for over 20 ms, on a loaded machine), when it woke itself and never left
    const n = sum(sleeping.map((r) => r.count));
    assert.ok(n === 5 || n === 4, `5 nanosleeps off the CPU (4 if one never left it):\n${rows.map((r) => `${r.stack} ${r.count}`).join("\n")}`);
    assert.ok(sum(sleeping.map((r) => r.ns)) >= n * 20e6, "each of them off the CPU for at least its 20 ms");
    const file = join(dir, "offcpu.pb.gz");
    const p = Profile.decode(gunzipSync(exportPprof(t, { path: file })));
    const back = foldedFromPprof(p);
    assert.deepEqual(back.types, [["samples", "count"], ["off_cpu", "nanoseconds"]]);
    assert.equal(p.stringTable.strings[Number(p.defaultSampleType)], "off_cpu");
    assert.deepEqual(back.rows, rows.map((r) => ({ pid: r.pid, comm: r.comm, stack: r.stack, count: r.count })));
    assert.deepEqual(back.values.map((v) => v[1]), rows.map((r) => r.ns));
    assert.equal(sum(back.values.map((v) => v[1]!)), t.stats.ns, "the off-CPU total, exactly");
    // the kernel frames are in the kernel's mapping, under their own names
    const kernelFns = new Set(p.location.filter((l) => Number(l.mappingId) === 2).map((l) => p.stringTable.strings[Number(p.function.find((f) => f.id === l.line[0]!.functionId)!.name)]));
    assert.ok(kernelFns.has("do_nanosleep") && kernelFns.has("schedule"), [...kernelFns].join(", "));
    assert.equal(p.stringTable.strings[Number(p.mapping[1]!.filename)], KERNEL_MAPPING);

    const go = goPprofRaw(file);
    assert.equal(go.stderr, "");
    assert.deepEqual(go.types, ["samples/count", "off_cpu/nanoseconds"]);
    assert.equal(sum(go.samples.map((s) => s.values[1]!)), t.stats.ns);
    assert.deepEqual(byStack(go.samples), byStack(rows.map((r) => ({ values: [r.count, r.ns], stack: r.stack }))));
  });

  it("a table made by hand: a kernel and a user frame of one name stay apart; hz and kind from options", () => {
    const t = aq.table({ pid: [7, 7], comm: ["app", "app"], stack: ["main;read;read_[k];vfs_read_[k]", "main;compute"], count: [3, 2] });
    const p = Profile.decode(gunzipSync(exportPprof(t, { hz: 1000 })));
    const back = foldedFromPprof(p);
    assert.deepEqual(back.rows.map((r) => r.stack), ["main;read;read_[k];vfs_read_[k]", "main;compute"]);
    assert.deepEqual(back.values, [[3, 3_000_000], [2, 2_000_000]]);
    assert.equal(p.location.length, 5, "main, read, read_[k], vfs_read_[k], compute");
    assert.equal(Number(p.timeNanos), 0, "no stats: no start time");
    const off = foldedFromPprof(Profile.decode(gunzipSync(exportPprof(t.derive({ ns: (d: { count: number }) => d.count * 1000 })))));
    assert.deepEqual(off.types[1], ["off_cpu", "nanoseconds"], "an ns column means off-CPU");
    assert.deepEqual(off.values, [[3, 3000], [2, 2000]]);
  });

  it("a table that is not a profile is a named error listing the columns it needs and has", () => {
    const t = aq.table({ ts: [1], latency: [2] });
    assert.throws(() => exportPprof(t), (e: Error) => e instanceof InvalidArgumentError && /needs a profile\(\) table: columns stack, count; this table lacks stack, count \(it has ts, latency\)/.test(e.message));
    assert.throws(() => exportPprof(aq.table({ stack: ["a"], count: [1] }), { kind: "offcpu" }), /needs an offcpu\(\) table: columns stack, count, ns; this table lacks ns/);
    assert.throws(() => exportPprof(aq.table({ stack: ["a"], count: [1] }), { kind: "wall" as "cpu" }), InvalidOptionError);
    assert.throws(() => exportPprof(aq.table({ stack: ["a"], count: [1] }), { hz: 0 }), /hz must be a sampling rate/);
    assert.throws(() => exportPprof([] as unknown as aq.ColumnTable), /the first argument must be a table/);
  });
});
