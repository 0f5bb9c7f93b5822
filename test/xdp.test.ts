/* XDP: the parser and rules on crafted frames (BPF_PROG_TEST_RUN), then real traffic
 * on a veth pair whose other end lives in a private network namespace: exact counts,
 * drops the sender sees, kill -9 leaving nothing attached, clear errors. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ColumnTable } from "arquero";
import {
  xdp, testFrames, buildFrame, formatAddress, parseAddress, parsePrefix, XdpBusyError, UnknownInterfaceError, xdpPrograms,
  resolveInterface, serviceName, protocolName,
} from "../bpf-lib/src/probes/xdp/index.js";
import { encodeRules } from "../bpf-lib/src/probes/xdp/match.js";
import { planXdpKey } from "../bpf-lib/src/probes/xdp/keys.js";
import { MATCH, MATCH_SIZE, KEY_COPY_SIZE, TOTALS_SIZE, MAX_RULES } from "../bpf-lib/src/probes/xdp/layout.js";
import { ICMP6_MLD_TYPES, ICMP6_ND_TYPES } from "../bpf-lib/src/probes/xdp/names.js";
import { bpfObjectPath } from "../bpf-lib/src/paths.js";
import { InvalidArgumentError, liveCount } from "../bpf-lib/src/index.js";
import { createTestNet, type TestNet } from "./helpers/netns.js";
import { programIdsHeldElsewhere } from "./helpers/workload.js";

type Row = Record<string, unknown>;
const rows = (t: ColumnTable) => t.objects() as Row[];
const sum = (rs: Row[], c = "packets") => rs.reduce((s, r) => s + Number(r[c]), 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const ourPrograms = () => (JSON.parse(execFileSync("bpftool", ["prog", "show", "--json"], { encoding: "utf8" })) as { id: number; name?: string }[]).filter((p) => p.name === "xdp_packets").map((p) => p.id);
const linkXdp = (dev: string) => (JSON.parse(execFileSync("ip", ["-j", "link", "show", "dev", dev], { encoding: "utf8" })) as { xdp?: { mode: number; prog?: { id: number; name: string } } }[])[0].xdp;
const bpftoolNet = (dev: string) => (JSON.parse(execFileSync("bpftool", ["net", "show", "dev", dev, "--json"], { encoding: "utf8" })) as { xdp: { devname: string; mode: string; id: number }[] }[])[0].xdp;

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A UDP socket here counting what reaches it. */
async function listen(addr: string, port: number): Promise<{ received: () => number; close: () => void }> {
  const s = createSocket(addr.includes(":") ? "udp6" : "udp4");
  let n = 0;
  s.on("message", () => n++);
  await new Promise<void>((r) => s.bind(port, addr, () => r()));
  return { received: () => n, close: () => s.close() };
}

describe("xdp: addresses, names and matches", () => {
  it("formats addresses: IPv4 dotted, IPv6 compressed (RFC 5952)", () => {
    const f = (s: string) => formatAddress(parseAddress(s)!);
    assert.equal(f("10.200.1.2"), "10.200.1.2");
    assert.equal(f("fd00:200:0:0:0:0:0:1"), "fd00:200::1");
    assert.equal(f("::"), "::");
    assert.equal(f("::1"), "::1");
    assert.equal(f("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1"); // first of two equal runs
    assert.equal(f("1:0:0:2:0:0:0:3"), "1:0:0:2::3"); // the longest run
    assert.equal(f("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1"); // a single zero group stays
    assert.equal(f("FE80::ABCD:0012"), "fe80::abcd:12");
    assert.equal(f("::ffff:10.0.0.1"), "10.0.0.1");
    assert.equal(parseAddress("10.0.0.256"), null);
    assert.equal(parseAddress("1::2::3"), null);
    assert.equal(parsePrefix("10.200.1.5/24").text, "10.200.1.0/24");
    assert.equal(parsePrefix("fd00:200::7/64").text, "fd00:200::/64");
    assert.throws(() => parsePrefix("10.0.0.0/33"), /prefix length .* 0\.\.32/);
  });

  it("names protocols and ports from /etc/protocols and /etc/services", () => {
    assert.equal(protocolName(17), "udp");
    assert.equal(protocolName(58), "icmpv6");
    assert.equal(serviceName(53, "udp"), "domain");
    assert.equal(serviceName(22), "ssh");
    assert.equal(serviceName(9999, "udp"), null);
  });

  it("refuses bad rules with the nearest names", () => {
    assert.throws(() => encodeRules([{ action: "drop", protocol: "icmpp" }], MAX_RULES), /unknown "icmpp"; did you mean icmp/);
    assert.throws(() => encodeRules([{ action: "drop", prot: "udp" } as never], MAX_RULES), /unknown field "prot"; did you mean .*protocol/);
    assert.throws(() => encodeRules([{ action: "reject" as never, protocol: "udp" }], MAX_RULES), /action must be "drop" or "pass"/);
    assert.throws(() => encodeRules([{ action: "drop", dport: 70000 }], MAX_RULES), /ports are 0\.\.65535/);
    assert.throws(() => encodeRules([{ action: "drop", dport: "no-such-service" }], MAX_RULES), /unknown service/);
    assert.throws(() => encodeRules([{ action: "drop", icmpType: "echo-request" }], MAX_RULES), /add protocol: "icmp" or "icmpv6"/);
    assert.throws(() => encodeRules(new Array(17).fill({ action: "drop" }), MAX_RULES), /at most 16 rules/);
    const r = encodeRules([{ action: "drop", protocol: "udp", dport: "domain" }, { action: "pass", src: "10.0.0.0/8", name: "internal" }], MAX_RULES);
    assert.deepEqual(r.rules.map((x) => x.name), ["drop udp dport 53", "internal"]);
  });

  it("lays out keys: the 5-tuple fits, unknown keys are named", () => {
    assert.equal(planXdpKey(["flow"]).plan.size, 40);
    assert.deepEqual(planXdpKey(["flow"]).columns, ["protocol", "src", "sport", "dst", "dport"]);
    assert.throws(() => planXdpKey(["dprot"]), /unknown packet key "dprot"; did you mean dport/);
    assert.throws(() => planXdpKey(["src", "dst", "flow"]), /appears twice/);
  });

  it("the TypeScript layout agrees with the object's BTF", () => {
    const btf = JSON.parse(execFileSync("bpftool", ["btf", "dump", "file", bpfObjectPath("xdp"), "--json"], { encoding: "utf8" })) as { types: { kind: string; name: string; size: number; members?: { name: string; bits_offset: number }[] }[] };
    const struct = (n: string) => btf.types.find((t) => t.kind === "STRUCT" && t.name === n)!;
    const m = struct("xdp_match");
    assert.equal(m.size, MATCH_SIZE);
    const off = Object.fromEntries(m.members!.map((x) => [x.name, x.bits_offset / 8]));
    assert.deepEqual({ fields: off.fields, ethertype: off.ethertype, proto: off.proto, action: off.action, sportLo: off.sport_lo, sportHi: off.sport_hi, dportLo: off.dport_lo, dportHi: off.dport_hi, vlan: off.vlan, icmpType: off.icmp_type, src: off.src, srcMask: off.src_mask, dst: off.dst, dstMask: off.dst_mask }, MATCH);
    assert.equal(struct("key_copy").size, KEY_COPY_SIZE);
    assert.equal(struct("xdp_totals").size, TOTALS_SIZE);
  });
});

describe("xdp: the parser and rules on crafted frames", () => {
  it("parses Ethernet, QinQ, ARP, IPv4, IPv6 extension headers, TCP, UDP, ICMP, fragments, truncation", async () => {
    const t = await testFrames([
      buildFrame({ protocol: "udp", src: "10.200.0.1", dst: "10.200.0.2", sport: 40000, dport: 53, payload: 10 }),
      buildFrame({ protocol: "tcp", sport: 1234, dport: 443, tcpFlags: 0x12, ttl: 7 }),
      buildFrame({ protocol: "icmp", icmpType: 8 }),
      buildFrame({ protocol: "icmpv6", src: "fd00:200::1", dst: "ff02::1:ff00:2", icmpType: 135 }),
      buildFrame({ protocol: "udp", src: "fd00:200::1", dst: "fd00:200::2", ipv6Ext: [0, 60, 44], dport: 9999 }),
      buildFrame({ protocol: "udp", vlans: [100, 200], dport: 7 }),
      buildFrame({ protocol: "udp", vlans: [10, 20, 30], dport: 7 }),
      buildFrame({ protocol: "arp", src: "10.200.0.1", dst: "10.200.0.2", icmpType: 2 }),
      buildFrame({ protocol: "tcp", truncate: 14 + 20 + 10 }),
      buildFrame({ protocol: "udp", fragOffset: 10 }),
      buildFrame({ protocol: "sctp", sport: 5000, dport: 5001 }),
    ]);
    const pick = (r: Row) => ({ protocol: r.protocol, src: r.src, dst: r.dst, sport: r.sport, dport: r.dport, icmpType: r.icmpType, tcpFlags: r.tcpFlags, ttl: r.ttl, vlan: r.vlan, innerVlan: r.innerVlan, fragment: r.fragment, truncated: r.truncated, len: r.len, verdict: r.verdict });
    const base = { src: "10.200.0.1", dst: "10.200.0.2", sport: 0, dport: 0, icmpType: null, tcpFlags: null, ttl: 64, vlan: 0, innerVlan: 0, fragment: null, truncated: 0, verdict: "pass" };
    assert.deepEqual(rows(t).map(pick), [
      { ...base, protocol: "ipv4/udp", sport: 40000, dport: 53, len: 14 + 20 + 8 + 10 },
      { ...base, protocol: "ipv4/tcp", sport: 1234, dport: 443, tcpFlags: "SYN,ACK", ttl: 7, len: 54 },
      { ...base, protocol: "ipv4/icmp", icmpType: "echo-request", len: 42 },
      { ...base, protocol: "ipv6/icmpv6", src: "fd00:200::1", dst: "ff02::1:ff00:2", icmpType: "neighbor-solicitation", len: 62 },
      { ...base, protocol: "ipv6/udp", src: "fd00:200::1", dst: "fd00:200::2", sport: 40000, dport: 9999, fragment: "first", len: 14 + 40 + 24 + 8 },
      { ...base, protocol: "ipv4/udp", sport: 40000, dport: 7, vlan: 100, innerVlan: 200, len: 50 },
      // a third tag is not followed: the frame is counted by its outer tags, as 802.1q
      { ...base, protocol: "802.1q", src: null, dst: null, ttl: 0, vlan: 10, innerVlan: 20, len: 54 },
      { ...base, protocol: "arp", icmpType: "arp-reply", ttl: 0, len: 42 },
      { ...base, protocol: "ipv4/tcp", tcpFlags: "", truncated: 1, len: 44 },
      { ...base, protocol: "ipv4/udp", fragment: "later", len: 42 },
      { ...base, protocol: "ipv4/sctp", sport: 5000, dport: 5001, len: 46 },
    ]);
    assert.equal(t.stats.truncatedHeaders, 1);
    assert.equal(t.stats.packetsSeen, 11);
  });

  it("rules: first match wins; prefixes, either-direction ports and addresses; dry run only counts", async () => {
    const frames = [
      buildFrame({ protocol: "udp", dport: 53 }), // pass: dns first
      buildFrame({ protocol: "udp", dport: 5353 }), // drop: udp
      buildFrame({ protocol: "tcp", src: "192.168.7.9", dst: "10.200.0.2", dport: 22 }), // drop: src prefix
      buildFrame({ protocol: "tcp", src: "10.200.0.2", dst: "10.1.2.3", sport: 22, dport: 50000 }), // drop: port 22 either way
      buildFrame({ protocol: "icmpv6", src: "fd00:200::5", dst: "fd00:300::1" }), // drop: addr fd00:200::/64 either way
      buildFrame({ protocol: "icmp" }), // no rule: pass
    ];
    const rules = [
      { action: "pass" as const, protocol: "udp", dport: "domain" },
      { action: "drop" as const, protocol: "udp" },
      { action: "drop" as const, src: "192.168.0.0/16" },
      { action: "drop" as const, port: 22 },
      { action: "drop" as const, addr: "fd00:200::/64", name: "lab v6" },
    ];
    const t = await testFrames(frames, { rules });
    assert.deepEqual(rows(t).map((r) => [r.verdict, r.action, r.rule]), [
      ["pass", "pass", "pass udp dport 53"], ["drop", "drop", "drop udp"], ["drop", "drop", "drop src 192.168.0.0/16"],
      ["drop", "drop", "drop port 22"], ["drop", "drop", "lab v6"], ["pass", "pass", null],
    ]);
    assert.deepEqual(t.stats.rules.map((r) => r.packets), [1, 1, 1, 1, 1]);
    assert.equal(t.stats.xdpDropped, 4);
    const dry = await testFrames(frames, { rules, dryRun: true });
    assert.deepEqual(rows(dry).map((r) => [r.verdict, r.action]), [["pass", "pass"], ["pass", "would-drop"], ["pass", "would-drop"], ["pass", "would-drop"], ["pass", "would-drop"], ["pass", "pass"]]);
    assert.equal(dry.stats.xdpDropped, 0);
    assert.equal(dry.stats.wouldDrop, 4);
  });
});

describe("xdp on a veth pair", { concurrency: false }, () => {
  let net: TestNet;
  let net6: TestNet;
  const before_ = new Set<number>();
  before(() => {
    for (const id of ourPrograms()) before_.add(id);
    net = createTestNet();
    net6 = createTestNet({ ipv6: true });
  });
  after(() => {
    net?.dispose();
    net6?.dispose();
  });

  it("counts exactly: N UDP datagrams to a port and M pings, by protocol, port and ICMP type (the rest is ARP)", async () => {
    const N = 300, M = 10, SIZE = 32;
    using run = xdp(net.host).count({ by: ["protocol", "dport", "icmpType"] }).start();
    await net.udp({ port: 9999, count: N, size: SIZE });
    const ping = await net.ping({ count: M, interval: 0.02 });
    await run.stop();
    const t = await run.finished();
    assert.equal(ping.received, M);
    const all = rows(t);
    const udp = all.filter((r) => r.protocol === "ipv4/udp");
    const icmp = all.filter((r) => r.protocol === "ipv4/icmp");
    const rest = all.filter((r) => r.protocol !== "ipv4/udp" && r.protocol !== "ipv4/icmp");
    assert.deepEqual(udp, [{ protocol: "ipv4/udp", dport: 9999, dportName: null, icmpType: null, packets: N, bytes: N * (14 + 20 + 8 + SIZE) }]);
    assert.deepEqual(icmp, [{ protocol: "ipv4/icmp", dport: 0, dportName: null, icmpType: "echo-request", packets: M, bytes: M * (14 + 20 + 8 + 56) }]);
    assert.ok(rest.every((r) => r.protocol === "arp"), `only ARP besides: ${JSON.stringify(rest)}`);
    assert.equal(sum(all), t.stats.packetsSeen);
    assert.equal(t.stats.events, t.stats.packetsSeen);
    assert.equal(t.stats.dropped, 0);
    assert.equal(t.stats.interface, net.host);
    assert.equal(t.stats.mode, "native");
  });

  it("IPv6: exact UDP counts; the rest is neighbor discovery and multicast listener reports", async () => {
    const N = 120, M = 4;
    using run = xdp(net6.host).count({ by: ["protocol", "src", "dst", "dport", "icmpType"] }).start();
    await net6.udp({ to: net6.hostAddr6!, port: 9998, count: N, size: 10 });
    const ping = await net6.ping({ to: net6.hostAddr6!, count: M, interval: 0.02 });
    await run.stop();
    const all = rows(await run.finished());
    assert.equal(ping.received, M);
    const udp = all.filter((r) => r.protocol === "ipv6/udp");
    assert.deepEqual(udp, [{ protocol: "ipv6/udp", src: net6.peerAddr6, dst: net6.hostAddr6, dport: 9998, dportName: null, icmpType: null, packets: N, bytes: N * (14 + 40 + 8 + 10) }]);
    const echo = all.filter((r) => r.icmpType === "echo-request");
    assert.equal(sum(echo), M);
    const control = new Set([...ICMP6_ND_TYPES, ...ICMP6_MLD_TYPES].map((n) => ({ 130: "mld-query", 131: "mld-report", 132: "mld-done", 143: "mldv2-report", 133: "router-solicitation", 134: "router-advertisement", 135: "neighbor-solicitation", 136: "neighbor-advertisement", 137: "redirect" })[n]));
    const rest = all.filter((r) => r.protocol !== "ipv6/udp" && r.icmpType !== "echo-request");
    assert.ok(rest.every((r) => r.protocol === "ipv6/icmpv6" && control.has(r.icmpType as string)), `only ND/MLD besides: ${JSON.stringify(rest)}`);
  });

  it("by 5-tuple (flow), with a filter in the kernel", async () => {
    const N = 50;
    using run = xdp(net.host, { where: { protocol: "udp" } }).count({ by: ["flow"] }).start();
    await net.udp({ port: 9999, count: N, sport: 40123 });
    await net.ping({ count: 3, interval: 0.02 });
    await run.stop();
    const t = await run.finished();
    assert.deepEqual(rows(t), [{ protocol: "ipv4/udp", src: net.peerAddr, sport: 40123, sportName: null, dst: net.hostAddr, dport: 9999, dportName: null, packets: N, bytes: N * 74 }]);
    assert.equal(t.stats.events, N);
    assert.equal(t.stats.filtered, t.stats.packetsSeen - N);
    assert.ok(t.stats.filtered >= 3);
  });

  it("rates over time: intervals add up to the total, with packets per second", async () => {
    using run = xdp(net.host, { where: { protocol: "udp" } }).count({ by: ["protocol"] }).start({ interval: 0.1 });
    for (let i = 0; i < 3; i++) {
      await net.udp({ port: 9999, count: 100 });
      await sleep(150);
    }
    await run.stop();
    const t = await run.finished();
    assert.ok(t.stats.intervals >= 3, `${t.stats.intervals} intervals`);
    assert.equal(sum(rows(t)), 300);
    assert.deepEqual(t.columnNames(), ["interval", "time", "protocol", "packets", "bytes", "packetsPerSec", "bytesPerSec"]);
    for (const r of rows(t)) assert.ok(Number(r.packetsPerSec) > 0 && Number.isFinite(r.packetsPerSec as number), JSON.stringify(r));
  });

  it("packet sizes as a histogram", async () => {
    using run = xdp(net.host, { where: { protocol: "udp", dport: 9999 } }).hist().start();
    await net.udp({ port: 9999, count: 20, size: 32 }); // 74-byte frames
    await net.udp({ port: 9999, count: 10, size: 200 }); // 242-byte frames
    await run.stop();
    assert.deepEqual(rows(await run.finished()), [{ bucket: 7, low: 64, high: 128, packets: 20 }, { bucket: 8, low: 128, high: 256, packets: 10 }]);
  });

  it("samples packet headers as rows: every packet, then about 1 in 10", async () => {
    const N = 200;
    using run = xdp(net.host, { where: { protocol: "udp" } }).sample().start();
    await net.udp({ port: 9999, count: N, sport: 40124, size: 16 });
    const t = await run.table();
    assert.equal(t.numRows(), N);
    assert.equal(t.stats.received + t.stats.lost, t.stats.produced);
    const r = rows(t)[0];
    assert.deepEqual({ protocol: r.protocol, src: r.src, dst: r.dst, sport: r.sport, dport: r.dport, len: r.len, action: r.action }, { protocol: "ipv4/udp", src: net.peerAddr, dst: net.hostAddr, sport: 40124, dport: 9999, len: 58, action: "pass" });
    assert.ok(!t.columnNames().includes("comm"));

    const M = 2000;
    using s = xdp(net.host, { where: { protocol: "udp" } }).sample({ every: 10 }).start();
    await net.udp({ port: 9999, count: M });
    const t10 = await s.table();
    assert.equal(t10.numRows() + t10.stats.sampledOut, M);
    assert.ok(t10.numRows() > 120 && t10.numRows() < 280, `${t10.numRows()} of ${M} sampled at 1 in 10`);
  });

  it("a drop rule drops exactly the matching packets: the sender's pings are lost, UDP still passes", async () => {
    const M = 5, N = 40;
    const rx = await listen(net.hostAddr, 9997);
    try {
      using run = xdp(net.host, { rules: [{ action: "drop", protocol: "icmp" }] }).count({ by: ["protocol", "action"] }).start();
      const ping = await net.ping({ count: M, interval: 0.2, waitSec: 1 });
      await net.udp({ port: 9997, count: N, gapMs: 2 }); // paced: the listener's buffer is small
      await until("the datagrams", () => rx.received() === N);
      await run.stop();
      const t = await run.finished();
      assert.equal(ping.transmitted, M);
      assert.equal(ping.received, 0);
      assert.equal(ping.lossPercent, 100);
      assert.equal(rx.received(), N);
      assert.deepEqual(t.stats.rules.map((r) => ({ name: r.name, packets: r.packets })), [{ name: "drop icmp", packets: M }]);
      assert.equal(t.stats.xdpDropped, M);
      assert.deepEqual(rows(t).filter((r) => r.action === "drop"), [{ protocol: "ipv4/icmp", action: "drop", packets: M, bytes: M * 98 }]);
      assert.equal(rows(t).find((r) => r.protocol === "ipv4/udp")?.packets, N);
      // detached: pings pass again
      assert.equal((await net.ping({ count: 2, interval: 0.05 })).received, 2);
    } finally {
      rx.close();
    }
  });

  it("dry run: counts what would be dropped and drops nothing", async () => {
    const M = 4;
    using run = xdp(net.host, { rules: [{ action: "drop", protocol: "icmp", icmpType: "echo-request" }], dryRun: true }).count({ by: ["action"] }).start();
    const ping = await net.ping({ count: M, interval: 0.05 });
    await run.stop();
    const t = await run.finished();
    assert.equal(ping.received, M);
    assert.equal(t.stats.wouldDrop, M);
    assert.equal(t.stats.xdpDropped, 0);
    assert.equal(rows(t).find((r) => r.action === "would-drop")?.packets, M);
    assert.equal(t.stats.dryRun, true);
  });

  it("attaches in native or generic mode as asked, and detaches on stop", async () => {
    for (const [mode, shown] of [["generic", "generic"], ["native", "driver"]] as const) {
      using run = xdp(net.host, { mode }).count().start();
      assert.equal(run.mode, mode);
      const seen = bpftoolNet(net.host);
      assert.deepEqual(seen.map((x) => [x.mode, x.id]), [[shown, run.programId]]);
      await run.stop();
      assert.equal(linkXdp(net.host), undefined);
    }
  });

  it("kill -9 of the process holding the XDP attachment leaves nothing on the interface; while it holds, others are refused", async () => {
    const entry = join(root, "dist", "bpf-lib", "src", "probes", "xdp", "index.js");
    const child = spawn(process.execPath, ["--input-type=module", "-e", `
      const { xdp } = await import(${JSON.stringify(entry)});
      const run = xdp(process.env.IFACE).count().start();
      console.log(JSON.stringify({ id: run.programId, mode: run.mode }));
      setInterval(() => {}, 1000);`], { env: { ...process.env, IFACE: net.host }, stdio: ["ignore", "pipe", "inherit"] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout!.once("data", (d) => resolve(String(d)));
        child.once("exit", (c) => reject(new Error(`child exited ${c}`)));
      });
      const { id } = JSON.parse(line) as { id: number };
      assert.equal(linkXdp(net.host)?.prog?.id, id);
      assert.throws(() => xdp(net.host).count().start(), (e: unknown) => e instanceof XdpBusyError && e.programId === id && e.programName === "xdp_packets" && /already has an XDP program attached \(program \d+ "xdp_packets", native mode\); bpfbook will not replace it/.test(e.message));
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      await until("the kernel to detach the dead process's program", () => linkXdp(net.host) === undefined);
      assert.deepEqual(bpftoolNet(net.host), []);
      assert.deepEqual(xdpPrograms(resolveInterface(net.host)), []);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });

  it("refuses to replace an XDP program attached with ip link", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-xdp-"));
    try {
      writeFileSync(join(dir, "pass.c"), '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nSEC("xdp") int other_pass(struct xdp_md *c) { return XDP_PASS; }\nchar L[] SEC("license") = "GPL";\n');
      const multiarch = execFileSync("gcc", ["-print-multiarch"], { encoding: "utf8" }).trim();
      try {
        execFileSync("clang", ["-O2", "-target", "bpf", `-I/usr/include/${multiarch}`, "-c", join(dir, "pass.c"), "-o", join(dir, "pass.o")], { stdio: "pipe" });
      } catch (e) {
        t.skip(`cannot compile a BPF program here: ${(e as Error).message}`);
        return;
      }
      execFileSync("ip", ["link", "set", "dev", net.host, "xdpgeneric", "obj", join(dir, "pass.o"), "sec", "xdp"]);
      try {
        const theirs = linkXdp(net.host)!.prog!.id;
        assert.throws(() => xdp(net.host).count().start(), (e: unknown) => e instanceof XdpBusyError && e.code === "EXDPBUSY" && e.programId === theirs && e.programName === "other_pass" && e.mode === "generic" && /ip link set dev .* xdp off/.test(e.message));
        assert.throws(() => xdp(net.host, { mode: "native" }).sample().start(), XdpBusyError);
        assert.equal(linkXdp(net.host)?.prog?.id, theirs, "theirs is still attached");
        assert.equal(liveCount(), 0);
      } finally {
        execFileSync("ip", ["link", "set", "dev", net.host, "xdpgeneric", "off"]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a missing interface is a clear error with the nearest names", () => {
    const typo = net.host.slice(0, -1) + "x";
    assert.throws(() => xdp(typo), (e: unknown) => e instanceof UnknownInterfaceError && e.code === "ENODEV" && e.suggestions.includes(net.host) && new RegExp(`no network interface "${typo}" in this network namespace; did you mean .*${net.host}`).test(e.message));
    assert.throws(() => xdp(""), UnknownInterfaceError);
    assert.throws(() => xdp(net.host, { mode: "fast" as never }), InvalidArgumentError);
    assert.throws(() => xdp(net.host, { dryRun: true }), /give rules too/);
    assert.throws(() => xdp(net.host).count({ by: ["port"] as never }), /unknown packet key "port"; did you mean (dport, sport|sport, dport)/);
  });

  it("leaves no program of ours loaded", async () => {
    // a program another process holds (a notebook suite's kernel running beside us) is not ours
    await until("our programs to go", () => { const elsewhere = programIdsHeldElsewhere(); return ourPrograms().every((id) => before_.has(id) || elsewhere.has(id)); });
    assert.equal(liveCount(), 0);
    assert.equal(linkXdp(net.host), undefined);
  });
});
