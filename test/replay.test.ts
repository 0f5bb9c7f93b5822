/* Record and replay (bpf-lib/src/replay/): the same notebook code runs once against the
 * kernel, recorded, then again from the recording with nothing loaded: the same tables
 * (rows, types, stats) for every result kind, errors with their classes, property reads
 * of running traces, and a named error when the code asks for what was not recorded. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ColumnTable } from "arquero";
import * as real from "../bpf-lib/src/index.js";
import { ReplaySession, ReplayMismatchError } from "../bpf-lib/src/replay/session.js";
import { readIndex } from "../bpf-lib/src/replay/format.js";
import { liveCount } from "../bpf-lib/src/lifecycle.js";
import { programIdsOf, workload } from "./helpers/workload.js";
import { createTestNet, type TestNet } from "./helpers/netns.js";

type Bpfbook = typeof real;

const C = String.raw`
#include "bpfbook.h"
HASH(calls, u32, u64, 64);
SEC("tracepoint/syscalls/sys_enter_getppid")
int f(void *ctx) { u32 pid = bpf_get_current_pid_tgid() >> 32; ADD(calls, &pid, 1); return 0; }
`;

/** One "notebook": every result kind, as a notebook would ask for it. */
async function notebook(b: Bpfbook, s: ReplaySession, net: TestNet | null): Promise<Record<string, unknown>> {
  const live = net !== null;
  const out: Record<string, unknown> = {};
  const N = 200;
  s.cell = 1;
  const w = live ? workload(["getppid", String(N)]) : null;
  const pid = w?.pid ?? 1;
  const trace = b.tracepoint("syscalls:sys_enter_getppid", { where: { pid } }).start();
  const agg = b.tracepoint("syscalls:sys_enter_getppid", { where: { pid } }).count({ by: ["comm"] }).start();
  const hist = b.syscalls.latency({ where: { pid } }).start();
  if (w) await w.go();
  await trace.stop();
  await agg.stop();
  await hist.stop();
  s.cell = 2;
  out.events = await trace.table();
  out.received = trace.received;
  out.counts = await agg.finished();
  out.latency = await hist.finished();
  s.cell = 3;
  out.profile = await b.profile({ seconds: 0.3, hz: 49 });
  out.tool = await b.tools.syscount({ by: "syscall" }).collect({ seconds: 0.2 });
  s.cell = 4;
  try {
    b.tracepoint("syscalls:sys_enter_getppidd" as never);
  } catch (e) {
    out.error = e;
  }
  const prog = await b.bpf.c`${C}`;
  await prog.run({ seconds: 0.1 });
  out.map = prog.map("calls").table();
  prog.dispose();
  s.cell = 5;
  const iface = net?.host ?? "recorded";
  // one XDP program on an interface at a time
  const packets = b.xdp(iface).count({ by: ["protocol", "dport"] }).start();
  if (net) await net.udp({ port: 9000, count: 25 });
  await packets.stop();
  out.xdp = await packets.finished();
  const samples = b.xdp(iface, { where: { protocol: "udp" } }).sample().start();
  if (net) await net.udp({ port: 9000, count: 25 });
  out.xdpSamples = await samples.table();
  out.names = b.listTracepoints().filter((n: string) => n.startsWith("syscalls:sys_enter_getpp"));
  out.figure = b.plot.bar(out.counts as ColumnTable, { x: "comm", y: "count" }).layout?.title;
  return out;
}

const rows = (t: unknown) => (t as ColumnTable).objects();
const stats = (t: unknown) => (t as { stats?: unknown }).stats;

describe("record and replay", () => {
  it("replays every result kind with nothing loaded, and says when the code asks for what was not recorded", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-recording-"));
    try {
      const rec = ReplaySession.record(dir);
      const net = createTestNet();
      let recorded: Record<string, unknown>;
      try {
        recorded = await notebook(rec.wrap(real), rec, net);
      } finally {
        net.dispose();
      }
      rec.save();
      assert.equal((recorded.events as ColumnTable).numRows(), 200);
      const index = readIndex(dir);
      const text = JSON.stringify(index.calls);
      const arrow = readdirSync(dir).filter((f) => f.endsWith(".arrow")).length, asRows = text.split('"$rows"').length - 1;
      console.log(`# recording: ${index.calls.length} calls, ${arrow} Arrow tables, ${asRows} tables as JSON rows`);
      assert.ok(arrow + asRows >= 8, `${arrow} + ${asRows} tables`);
      assert.equal((recorded.xdpSamples as ColumnTable).numRows(), 25);
      assert.ok(index.calls.some((c) => c.call === "tracepoint" && c.cell === 1));
      assert.equal(index.machine.kernel.length > 0, true);

      const before = liveCount();
      const play = ReplaySession.replay(dir);
      const replayed = await notebook(play.wrap(real), play, null);
      assert.deepEqual(programIdsOf(), [], "a replay loads nothing");
      assert.equal(liveCount(), before);
      for (const k of ["events", "counts", "latency", "profile", "tool", "map", "xdp", "xdpSamples"]) {
        assert.deepEqual(rows(replayed[k]), rows(recorded[k]), `${k}: same rows`);
        assert.deepEqual((replayed[k] as ColumnTable).columnNames(), (recorded[k] as ColumnTable).columnNames(), `${k}: same columns`);
        assert.deepEqual(stats(replayed[k]), stats(recorded[k]), `${k}: same stats`);
      }
      assert.equal(replayed.received, 200);
      assert.ok(replayed.error instanceof real.UnknownTracepointError, String(replayed.error));
      assert.equal((replayed.error as Error).message, (recorded.error as Error).message);
      assert.deepEqual(replayed.names, recorded.names);
      assert.deepEqual(replayed.figure, recorded.figure);

      // code that changed since the recording
      const again = ReplaySession.replay(dir);
      const b = again.wrap(real);
      again.cell = 7;
      assert.throws(() => b.kprobe("vfs_read"), (e: unknown) => e instanceof ReplayMismatchError && /cell 7 called kprobe\("vfs_read"\) \(call 0\), but the recording has tracepoint\("syscalls:sys_enter_getppid",/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
