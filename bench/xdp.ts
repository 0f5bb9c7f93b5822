/* XDP cost: packets per second across a veth pair (a small C sender, compiled at bench
 * time, writes prebuilt frames with AF_PACKET + sendmmsg inside a network namespace, to
 * the veth end here) with nothing attached, with a minimal XDP_PASS program (the floor)
 * and with bpfbook's programs, in native and generic mode; plus the program alone under
 * BPF_PROG_TEST_RUN, which is precise where the veth path is noisy. Reports ns per
 * packet and what each program adds to the floor. Bounded: each round sends at most
 * BENCH_XDP_PACKETS frames or runs BENCH_XDP_SECONDS seconds; BENCH_XDP_ROUNDS rounds. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BpfObject } from "../bpf-lib/src/libbpf/object.js";
import { bpfObjectPath } from "../bpf-lib/src/paths.js";
import { xdp, buildFrame, type XdpRule } from "../bpf-lib/src/probes/xdp/index.js";
import { attachXdpProgram, resolveInterface, type XdpMode } from "../bpf-lib/src/probes/xdp/attach.js";
import { RunMode } from "../bpf-lib/src/probes/xdp/layout.js";
import { createTestNet, type TestNet } from "../test/helpers/netns.js";

const PACKETS = Number(process.env.BENCH_XDP_PACKETS ?? 5_000_000);
const SECONDS = Number(process.env.BENCH_XDP_SECONDS ?? 1);
const ROUNDS = Number(process.env.BENCH_XDP_ROUNDS ?? 5);
const PAYLOAD = 18; // 64-byte frames: 14 + 20 + 8 + 18 + (no FCS)
const TEST_RUN_REPEAT = Number(process.env.BENCH_XDP_REPEAT ?? 2_000_000);

const SENDER_C = String.raw`
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
static unsigned short csum(const unsigned char *p, int n) {
	unsigned long s = 0;
	for (int i = 0; i < n; i += 2) s += (p[i] << 8) | p[i + 1];
	while (s >> 16) s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}
static void mac(const char *s, unsigned char *m) { sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]); }
/* sender IFNAME DSTMAC SRCMAC SRCIP DSTIP PORT COUNT SECONDS PAYLOAD: prebuilt Ethernet/IPv4/UDP
 * frames written straight to the device (AF_PACKET, qdisc bypassed) with sendmmsg, so
 * the receiving side's cost dominates; stops after COUNT frames or SECONDS. */
int main(int argc, char **argv) {
	if (argc < 10) return 2;
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) { perror("socket"); return 1; }
	int one = 1;
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_ifindex = if_nametoindex(argv[1]), .sll_halen = 6 };
	unsigned char f[1514] = {0};
	int payload = atoi(argv[9]), len = 14 + 20 + 8 + payload;
	mac(argv[2], f); mac(argv[3], f + 6); mac(argv[2], ll.sll_addr);
	f[12] = 0x08; f[13] = 0;
	unsigned char *ip = f + 14;
	ip[0] = 0x45; ip[2] = (20 + 8 + payload) >> 8; ip[3] = (20 + 8 + payload); ip[8] = 64; ip[9] = 17;
	inet_pton(AF_INET, argv[4], ip + 12); inet_pton(AF_INET, argv[5], ip + 16);
	unsigned short c = csum(ip, 20); ip[10] = c >> 8; ip[11] = c;
	unsigned char *u = ip + 20; int port = atoi(argv[6]);
	u[0] = 0x9c; u[1] = 0x40; u[2] = port >> 8; u[3] = port; u[4] = (8 + payload) >> 8; u[5] = 8 + payload;
	long count = atol(argv[7]); double limit = atof(argv[8]);
	enum { B = 64 };
	struct iovec iov[B]; struct mmsghdr m[B]; memset(m, 0, sizeof m);
	for (int i = 0; i < B; i++) { iov[i].iov_base = f; iov[i].iov_len = len; m[i].msg_hdr.msg_iov = &iov[i]; m[i].msg_hdr.msg_iovlen = 1; m[i].msg_hdr.msg_name = &ll; m[i].msg_hdr.msg_namelen = sizeof ll; }
	struct timespec t0, t; clock_gettime(CLOCK_MONOTONIC, &t0);
	long sent = 0, errors = 0; double el = 0;
	while (sent < count) {
		int n = count - sent < B ? (int)(count - sent) : B;
		int r = sendmmsg(fd, m, n, 0);
		if (r < 0) { if (errno == ENOBUFS || errno == EAGAIN) { errors++; continue; } perror("sendmmsg"); return 1; }
		sent += r;
		if ((sent & 0x3fff) < B) { clock_gettime(CLOCK_MONOTONIC, &t); el = (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9; if (el > limit) break; }
	}
	clock_gettime(CLOCK_MONOTONIC, &t); el = (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
	printf("{\"sent\":%ld,\"seconds\":%.6f,\"errors\":%ld}\n", sent, el, errors);
	return 0;
}
`;

export interface XdpBenchRow {
  bench: "veth" | "test_run";
  mode: "none" | "native" | "generic" | "-";
  who: string;
  /** veth: packets the host end received per second, median of the rounds; test_run: 1e9 / ns. */
  packetsPerSec: number;
  /** veth: the slowest and fastest round. */
  minPerSec?: number;
  maxPerSec?: number;
  nsPerPacket: number;
  /** ns per packet over the floor (the minimal XDP_PASS program in the same mode; for the floor, over nothing attached). */
  addedNs?: number;
  /** veth: packets received over all rounds (every sent frame arrived: checked); test_run: repeats. */
  packets: number;
  rounds: number;
  note?: string;
}

function compileSender(dir: string): string {
  const src = join(dir, "sender.c"), bin = join(dir, "sender");
  writeFileSync(src, SENDER_C);
  execFileSync("gcc", ["-O2", "-o", bin, src], { stdio: "pipe" });
  return bin;
}

const rxPackets = (dev: string) => Number(readFileSync(`/sys/class/net/${dev}/statistics/rx_packets`, "utf8"));

/** One round: the sender in the namespace, pinned to one CPU, until PACKETS or SECONDS. */
async function sendRound(net: TestNet, sender: string, macs: { host: string; peer: string }): Promise<{ sent: number; received: number; seconds: number }> {
  const before = rxPackets(net.host);
  const args = [sender, net.peer, macs.host, macs.peer, net.peerAddr, net.hostAddr, "9", String(PACKETS), String(SECONDS), String(PAYLOAD)];
  const child = existsSync("/usr/bin/taskset") ? net.spawn("taskset", ["-c", "1", ...args]) : net.spawn(args[0], args.slice(1));
  let out = "", err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const code = await new Promise<number>((r) => child.once("close", (c) => r(c ?? -1)));
  if (code !== 0) throw new Error(`the sender failed (${code}): ${err}`);
  await new Promise((r) => setTimeout(r, 20)); // let the last frames through
  const res = JSON.parse(out) as { sent: number; seconds: number };
  return { sent: res.sent, received: rxPackets(net.host) - before, seconds: res.seconds };
}

function floorSetup(host: string, mode: XdpMode): () => Promise<() => Promise<void>> {
  return async () => {
    const obj = BpfObject.open(bpfObjectPath("xdp"), "xdp");
    try {
      for (const p of obj.programs.values()) if (p.name !== "xdp_pass") p.setAutoload(false);
      for (const m of ["agg0", "agg1"]) { obj.map(m).setKeySize(8); obj.map(m).setMaxEntries(1); }
      obj.map("events").setMaxEntries(4096);
      obj.load();
    } catch (e) {
      obj.dispose();
      throw e;
    }
    let link;
    try {
      link = attachXdpProgram(obj.program("xdp_pass"), resolveInterface(host), mode).link;
    } catch (e) {
      obj.dispose();
      throw e;
    }
    return async () => {
      link.dispose(); // a native/generic link is a bare fd: the object does not own it
      obj.dispose();
    };
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const NO_MATCH_RULES: XdpRule[] = [
  { action: "drop", protocol: "tcp", dport: 23 },
  { action: "drop", src: "192.0.2.0/24" },
  { action: "drop", protocol: "icmpv6", icmpType: "redirect" },
];

/** The program alone on a 60-byte UDP frame under BPF_PROG_TEST_RUN, ns per run. */
async function testRunRows(): Promise<XdpBenchRow[]> {
  const frame = buildFrame({ protocol: "udp", dport: 9, payload: PAYLOAD });
  const out: XdpBenchRow[] = [];
  const measure = (who: string, note: string, obj: BpfObject, prog: string) => {
    try {
      obj.load();
      let best = Infinity;
      for (let i = 0; i < ROUNDS; i++) best = Math.min(best, obj.program(prog).testRun({ dataIn: frame, repeat: TEST_RUN_REPEAT }).durationNs);
      out.push({ bench: "test_run", mode: "-", who, packets: TEST_RUN_REPEAT, rounds: ROUNDS, packetsPerSec: 1e9 / best, nsPerPacket: best, note });
    } finally {
      obj.dispose();
    }
  };
  // configured exactly as xdp().count() configures it ("lo" only names an interface; nothing is attached)
  const counting = (by: string[], rules: XdpRule[] = []) => {
    const probe = xdp("lo", { rules });
    const obj = probe.open(RunMode.aggregate);
    probe.count({ by: by as never }).configure(obj);
    return obj;
  };
  const floor = BpfObject.open(bpfObjectPath("xdp"), "xdp");
  for (const p of floor.programs.values()) if (p.name !== "xdp_pass") p.setAutoload(false);
  for (const m of ["agg0", "agg1"]) { floor.map(m).setKeySize(8); floor.map(m).setMaxEntries(1); }
  floor.map("events").setMaxEntries(4096);
  measure("minimal XDP_PASS (floor)", "return XDP_PASS", floor, "xdp_pass");
  measure("bpfbook count by protocol", "parse + 3-byte key", counting(["protocol"]), "xdp_packets");
  measure("bpfbook count by flow (5-tuple)", "parse + 40-byte key", counting(["flow"]), "xdp_packets");
  measure("bpfbook 3 rules (none match) + count", "", counting(["protocol"], NO_MATCH_RULES), "xdp_packets");
  for (const r of out.slice(1)) r.addedNs = r.nsPerPacket - out[0].nsPerPacket;
  return out;
}

export async function benchXdp(): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), "bpfbook-xdp-bench-"));
  const net = createTestNet();
  const rows: XdpBenchRow[] = [];
  try {
    const sender = compileSender(dir);
    const macs = { host: readFileSync(`/sys/class/net/${net.host}/address`, "utf8").trim(), peer: net.exec("cat", [`/sys/class/net/${net.peer}/address`]).trim() };
    const run = (make: () => { stop(): Promise<void> }) => async () => {
      const r = make();
      return async () => r.stop();
    };
    const configs: { mode: XdpBenchRow["mode"]; who: string; setup: () => Promise<() => Promise<void>>; note?: string }[] = [
      { mode: "none", who: "nothing attached", setup: async () => async () => {}, note: "no listener: UDP drops them" },
      { mode: "native", who: "minimal XDP_PASS (floor)", setup: floorSetup(net.host, "native") },
      { mode: "native", who: "bpfbook count by protocol", setup: run(() => xdp(net.host, { mode: "native" }).count({ by: ["protocol"] }).start()) },
      { mode: "native", who: "bpfbook count by flow (5-tuple)", setup: run(() => xdp(net.host, { mode: "native" }).count({ by: ["flow"] }).start()) },
      { mode: "native", who: "bpfbook 3 rules (none match) + count", setup: run(() => xdp(net.host, { mode: "native", rules: NO_MATCH_RULES }).count({ by: ["protocol"] }).start()) },
      { mode: "native", who: "bpfbook sample 1 in 100", setup: run(() => xdp(net.host, { mode: "native" }).sample({ every: 100 }).start()), note: "rows decoded as they come" },
      { mode: "generic", who: "minimal XDP_PASS (floor)", setup: floorSetup(net.host, "generic") },
      { mode: "generic", who: "bpfbook count by protocol", setup: run(() => xdp(net.host, { mode: "generic" }).count({ by: ["protocol"] }).start()) },
    ];
    await sendRound(net, sender, macs); // warm up
    const rates = configs.map(() => [] as number[]);
    const received = configs.map(() => 0);
    // Round-robin, so drift in the machine (other load, frequency) spreads over every configuration.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, c] of configs.entries()) {
        const teardown = await c.setup();
        try {
          const r = await sendRound(net, sender, macs);
          // an ARP frame may come along; fewer would mean the veth dropped some
          if (r.received < r.sent) throw new Error(`${c.who}: ${r.sent} frames sent, ${r.received} received: the bench assumes none are lost`);
          rates[i].push(r.sent / r.seconds);
          received[i] += r.sent;
        } finally {
          await teardown();
        }
      }
    }
    configs.forEach((c, i) => {
      const pps = median(rates[i]);
      rows.push({ bench: "veth", mode: c.mode, who: c.who, packetsPerSec: pps, minPerSec: Math.min(...rates[i]), maxPerSec: Math.max(...rates[i]), nsPerPacket: 1e9 / pps, packets: received[i], rounds: ROUNDS, note: c.note });
    });
    const none = rows[0].nsPerPacket;
    for (const r of rows) {
      if (r.mode === "none") continue;
      const floor = rows.find((f) => f.mode === r.mode && f.who.startsWith("minimal"))!;
      r.addedNs = r === floor ? r.nsPerPacket - none : r.nsPerPacket - floor.nsPerPacket;
      if (r === floor) r.note = "added: over nothing attached";
    }
    rows.push(...(await testRunRows()));
  } finally {
    net.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} k` : n.toFixed(0));
  console.log(`\nXDP: ${PAYLOAD + 42}-byte UDP frames across a veth pair (raw sender pinned to CPU 1; median of ${ROUNDS} interleaved rounds of ${SECONDS} s), and the program alone (BPF_PROG_TEST_RUN, best of ${ROUNDS} × ${TEST_RUN_REPEAT} runs)\n`);
  console.log(["bench", "mode", "who", "packets/s", "range", "ns/packet", "ns added", "note"].join(" | "));
  console.log("--- | --- | --- | ---: | ---: | ---: | ---: | ---");
  for (const r of rows) {
    const range = r.minPerSec === undefined ? "" : `${fmt(r.minPerSec)}–${fmt(r.maxPerSec!)}`;
    console.log([r.bench, r.mode, r.who, fmt(r.packetsPerSec) + "/s", range, r.nsPerPacket.toFixed(r.bench === "veth" ? 0 : 1), r.addedNs === undefined ? "" : r.addedNs.toFixed(r.bench === "veth" ? 0 : 1), r.note ?? ""].join(" | "));
  }
  return { date: new Date().toISOString(), kernel: release(), frameBytes: PAYLOAD + 42, secondsPerRound: SECONDS, maxPacketsPerRound: PACKETS, rounds: ROUNDS, testRunRepeat: TEST_RUN_REPEAT, rows };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchXdp();
  if (process.env.BENCH_XDP_JSON) writeFileSync(process.env.BENCH_XDP_JSON, JSON.stringify(r, null, 2));
}
