/* BPF C written by the user, attached every way bpfbook attaches it, against the real
 * kernel with workloads whose answers are known: uprobes and uretprobes by their SEC
 * path, perf_event sampling at a rate, XDP on a veth in a private namespace, maps written
 * from TypeScript (and read by the program), a tiny ring flooded while nobody drains it,
 * a plain libbpf ring, streams, files with local headers, and attaching only some of the
 * programs. Exact counts wherever the kernel makes them exact. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bpf, InvalidArgumentError, UnknownInterfaceError } from "../bpf-lib/src/index.js";
import { InvalidOptionError } from "../bpf-lib/src/errors.js";
import { possibleCpus } from "../bpf-lib/src/libbpf/map.js";
import { onlineCpus } from "../bpf-lib/src/probes/profile/perf.js";
import { createTestNet, type TestNet } from "./helpers/netns.js";
import { programIdsOf, workload as gated, WORKLOAD } from "./helpers/workload.js";

type Row = Record<string, unknown>;
const children: ReturnType<typeof gated>["child"][] = [];
/** A gated workload (test/helpers/workload.ts), killed after the tests if a failure left it waiting at its gate. */
function workload(args: string[]): ReturnType<typeof gated> {
  const w = gated(args);
  children.push(w.child);
  return w;
}
const nums = (t: { array(c: string): unknown }, c: string) => Array.from(t.array(c) as ArrayLike<number>);
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const sorted = (xs: number[]) => xs.slice().sort((a, b) => a - b);
/** What `bpftool net` shows attached as XDP on an interface. */
const xdpOn = (dev: string) => (JSON.parse(execFileSync("bpftool", ["net", "show", "dev", dev, "--json"], { encoding: "utf8" })) as { xdp: { devname: string; id: number; mode: string }[] }[])[0]!.xdp;

/** Blocks this thread (so nothing drains a ring) until process `pid` has exited (a zombie: node reaps it only once the loop runs). */
function blockUntilExited(pid: number, ms = 20_000): void {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + ms;
  for (;;) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return;
    if (Date.now() > deadline) throw new Error(`process ${pid} did not finish within ${ms} ms`);
    Atomics.wait(nap, 0, 0, 2);
  }
}

/** An uprobe and a uretprobe on the workload's bpfbook_target, by the absolute path in their SEC names. */
const UPROBES = String.raw`
#include "bpfbook.h"
struct call { u32 pid; s32 arg; };
struct ret { u32 pid; s32 value; };
RINGBUF(calls, struct call);
RINGBUF(rets, struct ret);
HASH(entries, u32, u64, 64);
HASH(returns, u32, u64, 64);
const volatile u32 target = 0;

SEC("uprobe/${WORKLOAD}:bpfbook_target")
int BPF_KPROBE(on_entry_c, int i)
{
	u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (pid != target)
		return 0;
	struct call c = { .pid = pid, .arg = i };
	EMIT(calls, &c);
	ADD(entries, &pid, 1);
	return 0;
}

SEC("uretprobe/${WORKLOAD}:bpfbook_target")
int BPF_KRETPROBE(on_return_c, int value)
{
	u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (pid != target)
		return 0;
	struct ret r = { .pid = pid, .value = value };
	EMIT(rets, &r);
	ADD(returns, &pid, 1);
	return 0;
}
`;

/** getppid calls of one process, one 16-byte record each (24 bytes in the ring with its header). */
const GETPPID = String.raw`
#include "bpfbook.h"
struct event { u32 pid; u32 cpu; u64 seq; };
RINGBUF(events, struct event);
const volatile u32 target = 0;
u64 seq = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid_c(void *ctx)
{
	u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (pid != target)
		return 0;
	struct event e = { .pid = pid, .cpu = bpf_get_smp_processor_id(), .seq = __sync_fetch_and_add(&seq, 1) };
	EMIT(events, &e);
	return 0;
}
`;

describe("custom BPF C: attach kinds, map writes, rings", { concurrency: false }, () => {
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    assert.deepEqual(programIdsOf(), [], "every program of these tests was released");
  });

  it("uprobe and uretprobe by SEC path: exactly N calls, in a hash by pid and as ring records (arguments 0..N-1, returns 1..N)", async () => {
    const N = 500;
    using prog = await bpf.compile(UPROBES);
    const w = workload(["call", String(N)]);
    prog.set({ target: w.pid });
    assert.deepEqual(prog.programs, [
      { name: "on_entry_c", section: `uprobe/${WORKLOAD}:bpfbook_target` },
      { name: "on_return_c", section: `uretprobe/${WORKLOAD}:bpfbook_target` },
    ]);
    // one ring collected, the other program attached with it (a collection attaches every program)
    const calls = prog.events("calls").start();
    assert.equal(prog.attached, true);
    assert.equal(await w.go(), 0);
    await calls.stop();
    const t = await calls.table();
    assert.equal(prog.attached, false);
    assert.deepEqual(t.columnNames(), ["pid", "arg"]);
    assert.equal(t.numRows(), N);
    assert.deepEqual(new Set(nums(t, "pid")), new Set([w.pid]));
    assert.deepEqual(sorted(nums(t, "arg")), range(0, N));
    assert.deepEqual({ received: t.stats.received, produced: t.stats.produced, lost: t.stats.lost }, { received: N, produced: N, lost: 0 });
    assert.deepEqual(prog.map("entries").table().objects(), [{ key: w.pid, value: N }]);
    assert.deepEqual(prog.map("returns").table().objects(), [{ key: w.pid, value: N }]);

    // the return ring, on a second workload: the value returned is the argument + 1
    using prog2 = await bpf.compile(UPROBES);
    const w2 = workload(["call", String(N)]);
    prog2.set({ target: w2.pid });
    const rets = prog2.events("rets").start();
    assert.equal(await w2.go(), 0);
    await rets.stop();
    const r = await rets.table();
    assert.equal(r.numRows(), N);
    assert.deepEqual(sorted(nums(r, "value")), range(1, N));
    assert.deepEqual(new Set(nums(r, "pid")), new Set([w2.pid]));
    assert.deepEqual({ received: r.stats.received, produced: r.stats.produced, lost: r.stats.lost }, { received: N, produced: N, lost: 0 });
    assert.equal(prog2.map("entries").get(w2.pid)?.value, N);
    assert.equal(prog2.map("returns").get(w2.pid)?.value, N);
  });

  it("programs: [name] attaches only those: the uretprobe counts N, the uprobe beside it 0; an unknown name says which there are", async () => {
    const N = 300;
    using prog = await bpf.compile(UPROBES);
    const w = workload(["call", String(N)]);
    prog.set({ target: w.pid });
    assert.deepEqual(prog.programs.map((p) => p.name), ["on_entry_c", "on_return_c"]);
    assert.throws(() => prog.start({ programs: ["on_return"] }), (e: unknown) => e instanceof InvalidArgumentError && /no program "on_return"; the programs are on_entry_c, on_return_c \(did you mean on_return_c\?\)/.test(e.message));
    assert.equal(prog.attached, false, "a refused start attaches nothing");
    prog.start({ programs: ["on_return_c"] });
    assert.equal(prog.attached, true);
    assert.equal(programIdsOf().length, 2, "both programs are loaded, one attached");
    assert.equal(await w.go(), 0);
    prog.stop();
    assert.equal(prog.attached, false);
    assert.equal(prog.map("returns").get(w.pid)?.value, N);
    assert.equal(prog.map("entries").get(w.pid), undefined);
    assert.equal(prog.map("entries").size, 0);
  });

  it(`perf_event at { hz: 199 } for 1 s: per-CPU counts (one row per possible CPU) equal a hash by CPU, and sum to the total, within hz × CPUs × seconds`, async () => {
    const HZ = 199;
    const code = String.raw`
#include "bpfbook.h"
PERCPU_ARRAY(samples, u64, 1);
HASH(by_cpu, u32, u64, 1024);
SEC("perf_event")
int on_tick_c(struct bpf_perf_event_data *ctx)
{
	u32 zero = 0, cpu = bpf_get_smp_processor_id();
	u64 *v = bpf_map_lookup_elem(&samples, &zero);
	if (v)
		*v += 1;
	ADD(by_cpu, &cpu, 1);
	return 0;
}
`;
    using prog = await bpf.compile(code);
    assert.deepEqual(prog.programs, [{ name: "on_tick_c", section: "perf_event" }]);
    assert.throws(() => prog.start({ hz: 0 }), (e: unknown) => e instanceof InvalidOptionError && /hz/.test(e.message) && /from 1 to 100000/.test(e.message));
    assert.equal(prog.attached, false);
    // every online CPU kept busy, so each takes its full rate (an idle CPU's ticks may be fewer)
    const online = onlineCpus();
    const spinners = online.map(() => workload(["spin", "1.3"]));
    const spun = Promise.all(spinners.map((w) => w.go()));
    const t0 = performance.now();
    await prog.run({ seconds: 1, hz: HZ });
    const seconds = (performance.now() - t0) / 1000;
    assert.deepEqual(await spun, spinners.map(() => 0));
    assert.equal(prog.attached, false);
    const perCpu = prog.map("samples").table({ perCpu: true });
    assert.deepEqual(perCpu.columnNames(), ["key", "cpu", "value"]);
    assert.equal(perCpu.numRows(), possibleCpus());
    assert.deepEqual(nums(perCpu, "cpu"), range(0, possibleCpus()));
    assert.deepEqual(new Set(nums(perCpu, "key")), new Set([0]));
    const total = prog.map("samples").table().objects() as Row[];
    assert.equal(total.length, 1);
    const sum = nums(perCpu, "value").reduce((a, b) => a + b, 0);
    assert.equal(total[0]!.value, sum, "the summed table is the per-CPU rows added up");
    assert.equal(prog.map("samples").get(0)?.value, sum, "get() sums the CPUs too");
    // each CPU's own slot counted exactly what the shared hash counted for it, in the same program runs
    const byCpu = new Map((prog.map("by_cpu").table().objects() as { key: number; value: number }[]).map((r) => [r.key, r.value]));
    for (const r of perCpu.objects() as { cpu: number; value: number }[]) assert.equal(r.value, byCpu.get(r.cpu) ?? 0, `CPU ${r.cpu}`);
    // only online CPUs sample; sampling counts are not exact: bounds
    for (const r of perCpu.objects() as { cpu: number; value: number }[]) {
      if (!online.includes(r.cpu)) assert.equal(r.value, 0, `offline CPU ${r.cpu}`);
      else assert.ok(r.value >= 0.5 * HZ && r.value <= 1.2 * HZ * seconds + 2, `CPU ${r.cpu}: ${r.value} samples`);
    }
    const expected = HZ * online.length;
    console.log(`# perf_event: ${sum} samples in ${seconds.toFixed(2)} s on ${online.length} CPUs at ${HZ} Hz (per CPU ${JSON.stringify(nums(perCpu, "value"))}; ${expected} per second expected)`);
    assert.ok(sum >= 0.5 * expected * 1 && sum <= 1.2 * expected * seconds + 2 * online.length, `${sum} samples`);
  });

  describe("xdp on a veth in a namespace", () => {
    let net: TestNet;
    before(() => {
      net = createTestNet();
    });
    after(() => net?.dispose());

    const XDP = String.raw`
#include "bpfbook.h"
#include <bpf/bpf_endian.h>
ARRAY(frames, u64, 2); /* 0: every frame, 1: IPv4 UDP to the port */
HASH(by_sport, u16, u64, 64);
const volatile u16 port = 0;
SEC("xdp")
int count_udp_c(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	u32 k = 0;
	u64 *n = bpf_map_lookup_elem(&frames, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(0x0800))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	struct udphdr *udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > end || udp->dest != bpf_htons(port))
		return XDP_PASS;
	k = 1;
	n = bpf_map_lookup_elem(&frames, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
	u16 sport = bpf_ntohs(udp->source);
	ADD(by_sport, &sport, 1);
	return XDP_PASS;
}
`;

    it("{ xdp: ifname } counts exactly the N datagrams sent; bpftool net shows it attached during the run, nothing after", async () => {
      const N = 200, PORT = 9911, SPORT = 40911;
      using prog = await bpf.compile(XDP, { globals: { port: PORT } });
      assert.deepEqual(prog.programs, [{ name: "count_udp_c", section: "xdp" }]);
      prog.start({ xdp: net.host });
      const during = xdpOn(net.host);
      assert.equal(during.length, 1);
      assert.equal(during[0]!.devname, net.host);
      assert.equal(prog.attached, true);
      await net.udp({ port: PORT, count: N, sport: SPORT, size: 20 });
      prog.stop();
      assert.deepEqual(xdpOn(net.host), [], "nothing attached after the run");
      const frames = prog.map("frames").table().objects() as { key: number; value: number }[];
      assert.equal(frames[1]!.value, N);
      assert.ok(frames[0]!.value >= N, `${frames[0]!.value} frames in all (the rest is ARP)`);
      assert.deepEqual(prog.map("by_sport").table().objects(), [{ key: SPORT, value: N }]);
      // run() the same way: detached at its end, counting on
      const counted = prog.run({ seconds: 30, xdp: net.host });
      assert.equal(xdpOn(net.host).length, 1);
      await net.udp({ port: PORT, count: N, sport: SPORT, size: 20 });
      prog.stop();
      await counted;
      assert.deepEqual(xdpOn(net.host), []);
      assert.equal(prog.map("by_sport").get(SPORT)?.value, 2 * N);
    });

    it("without { xdp }, or with an interface that does not exist, starting is a named error and nothing attaches", async () => {
      using prog = await bpf.compile(XDP, { globals: { port: 9911 } });
      assert.throws(() => prog.start(), (e: unknown) => e instanceof InvalidArgumentError && /program "count_udp_c" is an XDP program \(SEC\("xdp"\)\): say which interface it runs on, e\.g\. \{ xdp: "eth0" \}/.test(e.message));
      await assert.rejects(prog.run({ seconds: 1 }), InvalidArgumentError);
      assert.throws(() => prog.start({ xdp: "bbk-nosuchif" }), UnknownInterfaceError);
      assert.equal(prog.attached, false);
      assert.deepEqual(xdpOn(net.host), []);
    });
  });

  it("map writes: set/get/delete/clear/size on HASH (struct key and value), ARRAY and PERCPU_HASH; the program reads a config TypeScript wrote", async () => {
    const code = String.raw`
#include "bpfbook.h"
struct task_key { u32 pid; char comm[16]; };
struct tally { u64 calls; u64 weighted; s32 last; };
struct config { u32 pid; u32 weight; };
ARRAY(cfg, struct config, 1);
HASH(by_task, struct task_key, struct tally, 64);
PERCPU_HASH(per_cpu, u32, u64, 64);
SEC("tracepoint/syscalls/sys_enter_getppid")
int on_call_c(void *ctx)
{
	u32 zero = 0;
	struct config *c = bpf_map_lookup_elem(&cfg, &zero);
	u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (!c || pid != c->pid)
		return 0;
	struct task_key k = { .pid = pid };
	bpf_get_current_comm(k.comm, sizeof(k.comm));
	struct tally *t = bpf_map_lookup_elem(&by_task, &k);
	if (!t) {
		struct tally z = {};
		bpf_map_update_elem(&by_task, &k, &z, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&by_task, &k);
		if (!t)
			return 0;
	}
	__sync_fetch_and_add(&t->calls, 1);
	__sync_fetch_and_add(&t->weighted, c->weight);
	t->last = -(s32)c->weight;
	ADD(per_cpu, &pid, 1);
	return 0;
}
`;
    using prog = await bpf.compile(code);
    prog.load();
    const config = prog.map("cfg"), byTask = prog.map("by_task"), perCpu = prog.map("per_cpu");

    // ARRAY: every index exists, zeroed; set/get round trip; clear zeroes; delete is refused by the kernel
    assert.equal(config.size, 1);
    assert.deepEqual(config.table().objects(), [{ key: 0, pid: 0, weight: 0 }]);
    config.set(0, { pid: 123, weight: 9 });
    assert.deepEqual(config.get(0), { pid: 123, weight: 9 });
    assert.deepEqual(config.get({ key: 0 }), { pid: 123, weight: 9 });
    assert.equal(config.clear(), 1);
    assert.deepEqual(config.get(0), { pid: 0, weight: 0 });
    assert.throws(() => config.delete(0), /EINVAL/);
    assert.throws(() => config.set(0, { pid: 1, wieght: 2 }), (e: unknown) => e instanceof InvalidArgumentError && /did you mean "weight"/.test(e.message));

    // HASH with a struct key and a struct value: names decoded, every field round trips
    const key = { pid: 4242, comm: "from-ts" }, value = { calls: 7, weighted: 2 ** 40 + 3, last: -5 };
    byTask.set(key, value);
    assert.equal(byTask.size, 1);
    assert.deepEqual(byTask.get(key), value);
    assert.deepEqual(byTask.get({ pid: 4242, comm: "from-tz" }), undefined);
    assert.deepEqual(byTask.table().columnNames(), ["pid", "comm", "calls", "weighted", "last"]);
    assert.deepEqual(byTask.table().objects(), [{ ...key, ...value }]);
    byTask.set({ pid: 1, comm: "other" }, { calls: 1 });
    assert.equal(byTask.size, 2);
    assert.deepEqual(byTask.get({ pid: 1, comm: "other" }), { calls: 1, weighted: 0, last: 0 }, "fields left out are 0");
    assert.equal(byTask.delete({ pid: 1, comm: "other" }), true);
    assert.equal(byTask.delete({ pid: 1, comm: "other" }), false);
    assert.equal(byTask.size, 1);
    assert.equal(byTask.clear(), 1);
    assert.equal(byTask.size, 0);
    assert.deepEqual(byTask.table().objects(), []);

    // PERCPU_HASH: set writes every CPU, get sums them, the per-CPU table shows each
    const cpus = possibleCpus();
    perCpu.set(77, 10);
    assert.deepEqual(perCpu.get(77), { value: 10 * cpus });
    assert.deepEqual(perCpu.table({ perCpu: true }).objects(), range(0, cpus).map((cpu) => ({ key: 77, cpu, value: 10 })));
    assert.equal(perCpu.delete(77), true);
    assert.equal(perCpu.size, 0);

    // the program reads the config TypeScript wrote: nothing counted for a pid it does not name
    const N1 = 150, N2 = 60, W1 = 3, W2 = 1000;
    const w0 = workload(["getppid", "40"]);
    config.set(0, { pid: w0.pid + 1_000_000, weight: 1 });
    prog.start();
    assert.equal(await w0.go(), 0);
    prog.stop();
    assert.equal(byTask.size, 0);
    assert.equal(perCpu.size, 0);

    const w1 = workload(["getppid", String(N1)]);
    config.set(0, { pid: w1.pid, weight: W1 });
    perCpu.set(w1.pid, 100); // a starting value the program adds to, on every CPU
    prog.start();
    assert.equal(await w1.go(), 0);
    // the config changes while attached: the next workload is counted with its weight, w1's tally stays
    const w2 = workload(["getppid", String(N2)]);
    config.set(0, { pid: w2.pid, weight: W2 });
    assert.equal(await w2.go(), 0);
    prog.stop();
    const rows = byTask.table().objects() as Row[];
    assert.deepEqual(
      rows.sort((a, b) => Number(a.pid) - Number(b.pid)),
      [
        { pid: w1.pid, comm: "workload", calls: N1, weighted: W1 * N1, last: -W1 },
        { pid: w2.pid, comm: "workload", calls: N2, weighted: W2 * N2, last: -W2 },
      ].sort((a, b) => a.pid - b.pid),
    );
    assert.deepEqual(perCpu.get(w1.pid), { value: 100 * cpus + N1 });
    assert.deepEqual(perCpu.get(w2.pid), { value: N2 });
    const w1Rows = (perCpu.table({ perCpu: true }).objects() as { key: number; cpu: number; value: number }[]).filter((r) => r.key === w1.pid);
    assert.equal(w1Rows.length, cpus);
    assert.equal(w1Rows.reduce((s, r) => s + r.value - 100, 0), N1, "the calls, on whichever CPUs they ran, over the value set on each");
    assert.equal(perCpu.clear(), 2);
    assert.equal(perCpu.size, 0);
  });

  it("lost events counted exactly: a 4096-byte ring, not drained while N calls are made, keeps 170 records of 24 bytes; received + lost == produced == N", async () => {
    const N = 5000;
    using prog = await bpf.compile(GETPPID, { bufferBytes: 4096 });
    const w = workload(["getppid", String(N)]);
    prog.set({ target: w.pid });
    const lostWarnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => { if (w.code === "BPFBOOK_LOST_EVENTS") lostWarnings.push(w.message); };
    process.on("warning", onWarning);
    try {
      const trace = prog.events("events").start();
      const exited = w.go();
      // nothing drains the ring while this thread is blocked: the workload fills it and the rest is lost
      blockUntilExited(w.pid);
      assert.equal(await exited, 0);
      await trace.stop();
      const t = await trace.table();
      const { received, lost, produced } = t.stats;
      console.log(`# tiny ring: ${received} received, ${lost} lost, ${produced} produced`);
      assert.equal(produced, N);
      assert.equal(received + lost, N);
      // the kernel reserves 8-byte header + 16-byte record = 24 bytes each; 170 fit in 4096, the 171st does not
      assert.equal(received, 170);
      assert.equal(lost, N - 170);
      assert.equal(t.numRows(), received);
      // the ones kept are the first ones, in order
      assert.deepEqual(nums(t, "seq"), range(0, 170));
      await new Promise((r) => setImmediate(r));
      assert.equal(lostWarnings.length, 1, "one warning says events were lost");
      assert.match(lostWarnings[0]!, new RegExp(`${N - 170} events were lost because the ring buffer was full`));
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("a plain libbpf ring (no RINGBUF) is read as events only with its struct named: the error says how", async () => {
    const code = String.raw`
#include "bpfbook.h"
struct event { u32 pid; };
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} rb SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_getppid")
int plain_c(void *ctx)
{
	struct event e = { .pid = bpf_get_current_pid_tgid() >> 32 };
	bpf_ringbuf_output(&rb, &e, sizeof(e), 0);
	return 0;
}
`;
    using prog = await bpf.compile(code);
    assert.throws(() => prog.events("rb"), (e: unknown) => e instanceof InvalidArgumentError && e.message === `${prog.name}: ring "rb" has no record type: name its struct (prog.events("rb", { record: "struct your_event" })), or declare it with RINGBUF(rb, struct your_event)`);
    assert.throws(() => prog.map("rb"), (e: unknown) => e instanceof InvalidArgumentError && /"rb" is a ringbuf map/.test(e.message));
    // it still loads and runs as a program: only reading the ring needs a record type
    await prog.run({ seconds: 0.1 });
    assert.equal(prog.loaded, true);
  });

  it("stream() of a ring: batches arrive while the workload runs, their rows add up to exactly N", async () => {
    const N = 12;
    const code = String.raw`
#include "bpfbook.h"
struct nap { u32 pid; u32 cpu; u64 seq; };
RINGBUF(naps, struct nap);
const volatile u32 target = 0;
u64 seq = 0;
SEC("tracepoint/syscalls/sys_enter_nanosleep")
int on_nap_c(void *ctx)
{
	u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (pid != target)
		return 0;
	struct nap n = { .pid = pid, .cpu = bpf_get_smp_processor_id(), .seq = __sync_fetch_and_add(&seq, 1) };
	EMIT(naps, &n);
	return 0;
}
`;
    using prog = await bpf.compile(code);
    const w = workload(["sleep", "40", String(N)]);
    prog.set({ target: w.pid });
    const batches = prog.events("naps").stream({ events: N, batchMs: 0, seconds: 30 });
    const first = batches.next(); // starts the stream (attached) before the workload's first call
    assert.equal(prog.attached, true);
    const exited = w.go();
    const sizes: number[] = [];
    const seqs: number[] = [];
    let last: { received: number; produced: number; lost: number } | null = null;
    for (let r = await first; !r.done; r = await batches.next()) {
      sizes.push(r.value.numRows());
      seqs.push(...nums(r.value, "seq"));
      last = r.value.stats;
    }
    assert.equal(await exited, 0);
    assert.equal(prog.attached, false, "the stream detaches at its end");
    console.log(`# stream: ${sizes.length} batches of ${sizes.join(", ")} rows`);
    assert.ok(sizes.length >= 2, `the ${N} naps of 40 ms arrived in ${sizes.length} batch(es)`);
    assert.equal(sizes.reduce((a, b) => a + b, 0), N);
    assert.deepEqual(seqs, range(0, N), "every record once, in order");
    assert.deepEqual(last && { received: last.received, produced: last.produced, lost: last.lost }, { received: N, produced: N, lost: 0 });
  });

  it("bpf.file(): a .bpf.c that includes a header next to it; changing the header recompiles (a new cache key) and changes the counts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-custom-file-"));
    try {
      const tag = `${process.pid}-${Date.now()}`;
      const header = (weight: number) => `/* ${tag} */\n#define WEIGHT ${weight}\n`;
      writeFileSync(join(dir, "weights.h"), header(3));
      writeFileSync(join(dir, "count.bpf.c"), String.raw`#include "bpfbook.h"
#include "weights.h"
HASH(weighted, u32, u64, 16);
const volatile u32 target = 0;
SEC("tracepoint/syscalls/sys_enter_getppid")
int weigh_c(void *ctx)
{
	u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (pid != target)
		return 0;
	ADD(weighted, &pid, WEIGHT);
	return 0;
}
`);
      const N = 40;
      const count = async (expectCached: boolean): Promise<{ value: number | undefined; hash: string; path: string }> => {
        using prog = await bpf.file(join(dir, "count.bpf.c"));
        const w = workload(["getppid", String(N)]);
        prog.set({ target: w.pid });
        assert.equal(prog.compiled.cached, expectCached);
        prog.start();
        assert.equal(await w.go(), 0);
        prog.stop();
        return { value: prog.map("weighted").get(w.pid)?.value as number | undefined, hash: prog.compiled.hash, path: prog.compiled.path };
      };
      const first = await count(false);
      assert.equal(first.value, 3 * N);
      const again = await count(true);
      assert.deepEqual(again, { ...first }, "the same file and header: the cached object");
      writeFileSync(join(dir, "weights.h"), header(7));
      const changed = await count(false);
      assert.notEqual(changed.hash, first.hash);
      assert.notEqual(changed.path, first.path);
      assert.equal(changed.value, 7 * N);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
