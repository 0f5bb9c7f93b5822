/* The TCP tools (tcpconnect, tcpaccept, tcplife, tcpconnlat, tcpretrans, tcpdrop) on
 * deterministic loopback workloads: N connect/accept/close cycles (with known bytes each
 * way), N refused connects (each SYN meets no socket: one NO_SOCKET drop), N connects whose
 * SYNs a full accept queue ignores (SYN retransmits). Counts are exact and cross-checked
 * with bpftrace on the same tracepoints in the same run; bad options are named errors. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as net from "node:net";
import { spawn } from "node:child_process";
import type { ColumnTable } from "arquero";
import { InvalidArgumentError, NotSupportedError, tools } from "../bpf-lib/src/index.js";
import type { EventsTool, TcpacceptRow, TcpconnectRow, TcpconnlatRow, TcpdropRow, TcplifeRow, TcpretransRow } from "../bpf-lib/src/tools/index.js";
import { TOOLS } from "../bpf-lib/src/tools/registry.js";
import { requireTracepoints } from "../bpf-lib/src/tools/inet.js";
import { workload, type Gated } from "./helpers/workload.js";
import { bpftrace, parseMap } from "./helpers/bpftrace.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rowsOf = <R>(t: ColumnTable) => t.objects() as R[];
const NO_SOCKET = 3;

/** A port nothing listens on right now (the kernel's pick for a throwaway listener). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Collects each tool while the gated workload runs (all attached before it starts), then stops them. */
async function during(w: Gated, ...ts: EventsTool<object>[]): Promise<ColumnTable[]> {
  const ac = new AbortController();
  const runs = ts.map((t) => t.collect({ signal: ac.signal, seconds: 60 }));
  try {
    assert.equal(await w.go(), 0, "the workload succeeded");
    await sleep(200);
  } finally {
    ac.abort();
  }
  return Promise.all(runs);
}

const counts = (xs: readonly unknown[]) => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(String(x), (m.get(String(x)) ?? 0) + 1);
  return m;
};

describe("tools.tcpconnect and tools.tcpaccept on N connect/accept cycles", { concurrency: false }, () => {
  it("gives exactly N connects by the workload and N accepts on its port, as bpftrace counts them", async () => {
    const n = 4;
    const port = await freePort();
    const w = workload(["tcp", String(port), String(n)]);
    const bt = await bpftrace(
      `tracepoint:sock:inet_sock_set_state /pid == ${w.pid} && args->newstate == 2 && args->protocol == 6/ { @c[args->dport] = count(); } ` +
        `tracepoint:sock:inet_sock_set_state /args->oldstate == 3 && args->newstate == 1 && args->sport == ${port}/ { @a[args->dport > 0] = count(); }`,
    );
    const other = port === 65535 ? port - 1 : port + 1;
    const [conn, byPort, wrongPort, acc, accAll] = await during(
      w,
      tools.tcpconnect({ pid: w.pid }),
      tools.tcpconnect({ dport: port }),
      tools.tcpconnect({ pid: w.pid, dport: other }),
      tools.tcpaccept({ lport: port }),
      tools.tcpaccept({ pid: w.pid, comm: "workload" }),
    );
    const out = await bt.stop();
    assert.equal(parseMap(out, "c").get(String(port)), n, "bpftrace saw N connects to the port");
    assert.equal(parseMap(out, "a").get("1"), n, "bpftrace saw N passive opens on the port");

    assert.deepEqual(conn!.columnNames(), [...tools.TCPCONNECT.columns]);
    const c = rowsOf<TcpconnectRow>(conn!);
    assert.equal(c.length, n);
    for (const r of c) {
      assert.deepEqual([r.pid, r.tid, r.comm, r.ip, r.saddr, r.daddr, r.dport], [w.pid, w.pid, "workload", 4, "127.0.0.1", "127.0.0.1", port]);
      assert.equal(typeof r.ts, "number");
    }
    assert.equal(byPort!.numRows(), n, "dport filters in the kernel to the same N");
    assert.equal(wrongPort!.numRows(), 0, "another dport matches none of them");

    assert.deepEqual(acc!.columnNames(), [...tools.TCPACCEPT.columns]);
    const a = rowsOf<TcpacceptRow>(acc!);
    assert.equal(a.length, n);
    for (const r of a) {
      // on loopback the handshake completes in the connecting task's softirq: the workload
      assert.deepEqual([r.pid, r.comm, r.ip, r.laddr, r.lport, r.raddr], [w.pid, "workload", 4, "127.0.0.1", port, "127.0.0.1"]);
      assert.ok(r.rport > 0 && r.rport !== port);
    }
    assert.equal(new Set(a.map((r) => r.rport)).size, n, "each accept came from its own client port");
    assert.deepEqual(rowsOf<TcpacceptRow>(accAll!).map((r) => r.rport).sort(), a.map((r) => r.rport).sort(), "pid and comm filters select the same accepts");

    const fig = tools.tcpconnect().chart(conn!);
    assert.equal(JSON.stringify(fig).includes(`127.0.0.1:${port}`), true, "the chart's bar is the destination");
    const data = (fig as unknown as { data: { x?: unknown[]; y?: unknown[] }[] }).data[0]!;
    assert.deepEqual([data.x, data.y], [[n], [`127.0.0.1:${port}`]]);
    assert.ok(JSON.stringify(tools.tcpaccept().chart(acc!)).includes(`127.0.0.1:${port}`));
  });
});

describe("tools.tcplife and tools.tcpconnlat on N sessions with data", { concurrency: false }, () => {
  it("gives 2N lifetimes (both ends) with exact bytes, and N connect latencies, as bpftrace sums them", async () => {
    const n = 3, send = 100, reply = 250;
    const port = await freePort();
    const w = workload(["tcpdata", String(port), String(n), String(send), String(reply)]);
    const bt = await bpftrace(
      `tracepoint:sock:inet_sock_set_state /args->protocol == 6 && args->newstate == 1 && pid == ${w.pid}/ { @birth[args->skaddr] = nsecs; } ` +
        `tracepoint:sock:inet_sock_set_state /args->protocol == 6 && args->newstate == 7 && @birth[args->skaddr]/ { $tp = (struct tcp_sock *)args->skaddr; ` +
        `@n[args->sport == ${port}] = count(); @rx[args->sport == ${port}] = sum($tp->bytes_received); @tx[args->sport == ${port}] = sum($tp->bytes_acked); delete(@birth[args->skaddr]); } ` +
        `tracepoint:sock:inet_sock_set_state /args->oldstate == 2 && args->dport == ${port}/ { @lat[args->newstate] = count(); }`,
    );
    // stream(): pair rows batch by batch, shaped like collect()'s
    const streamStop = new AbortController();
    const streamed = (async () => {
      const out: TcplifeRow[] = [];
      for await (const t of tools.tcplife({ pid: w.pid }).stream({ signal: streamStop.signal, batchMs: 50 })) {
        assert.deepEqual(t.columnNames(), [...tools.TCPLIFE.columns]);
        out.push(...rowsOf<TcplifeRow>(t));
      }
      return out;
    })();
    const [life, server, client, lat] = await during(
      w,
      tools.tcplife({ pid: w.pid }),
      tools.tcplife({ lport: port }),
      tools.tcplife({ rport: port }),
      tools.tcpconnlat({ dport: port }),
    );
    streamStop.abort();
    const streamedRows = await streamed;
    const out = await bt.stop();
    const btN = parseMap(out, "n"), btRx = parseMap(out, "rx"), btTx = parseMap(out, "tx");

    assert.deepEqual(life!.columnNames(), [...tools.TCPLIFE.columns]);
    const rows = rowsOf<TcplifeRow>(life!);
    assert.equal(rows.length, 2 * n, "both ends of each session");
    const srv = rows.filter((r) => r.lport === port), cli = rows.filter((r) => r.rport === port);
    assert.equal(srv.length, n);
    assert.equal(cli.length, n);
    for (const r of rows) {
      assert.deepEqual([r.pid, r.comm, r.ip, r.laddr, r.raddr], [w.pid, "workload", 4, "127.0.0.1", "127.0.0.1"]);
      assert.ok(r.duration > 0 && r.duration < 5e9, `duration ${r.duration} ns`);
    }
    // bytes_acked counts the FIN, and on the connecting side the SYN; bytes_received the FIN
    for (const r of srv) assert.deepEqual([r.tx, r.rx], [reply + 1, send + 1], "server: sent the reply, received the request");
    for (const r of cli) assert.deepEqual([r.tx, r.rx], [send + 2, reply + 1], "client: sent the request, received the reply");
    assert.deepEqual(cli.map((r) => r.lport).sort(), srv.map((r) => r.rport).sort(), "the client ports are the server sockets' remote ports");
    // bpftrace, keyed by "is the server side" (1) or the client (0)
    assert.deepEqual([btN.get("1"), btN.get("0")], [n, n]);
    assert.deepEqual([btRx.get("1"), btTx.get("1")], [srv.reduce((s, r) => s + r.rx, 0), srv.reduce((s, r) => s + r.tx, 0)]);
    assert.deepEqual([btRx.get("0"), btTx.get("0")], [cli.reduce((s, r) => s + r.rx, 0), cli.reduce((s, r) => s + r.tx, 0)]);

    assert.deepEqual(streamedRows.map((r) => [r.lport, r.rport, r.tx, r.rx]).sort(), rows.map((r) => [r.lport, r.rport, r.tx, r.rx]).sort(), "stream() gives the same sessions");
    assert.equal(typeof (life as unknown as { stats?: { unmatched?: unknown } }).stats?.unmatched, "number", "the pair stats (unmatched closes) stay on the tool's table");
    assert.deepEqual(rowsOf<TcplifeRow>(server!).map((r) => r.lport), [port, port, port], "lport: the server ends only");
    assert.deepEqual(rowsOf<TcplifeRow>(client!).map((r) => r.rport), [port, port, port], "rport: the client ends only");

    assert.deepEqual(lat!.columnNames(), [...tools.TCPCONNLAT.columns]);
    const l = rowsOf<TcpconnlatRow>(lat!);
    assert.equal(l.length, n);
    assert.equal(parseMap(out, "lat").get("1"), n, "bpftrace: N changes SYN_SENT → ESTABLISHED");
    for (const r of l) {
      assert.deepEqual([r.pid, r.comm, r.ip, r.saddr, r.daddr, r.dport, r.state], [w.pid, "workload", 4, "127.0.0.1", "127.0.0.1", port, "TCP_ESTABLISHED"]);
      assert.ok(r.latency > 0 && r.latency < 1e9, `latency ${r.latency} ns`);
    }
    assert.deepEqual(l.map((r) => r.sport).sort(), cli.map((r) => r.lport).sort(), "each connect's source port is a client session's");

    const fig = tools.tcplife().chart(life!) as unknown as { data: { y?: number[] }[] };
    assert.equal(fig.data.flatMap((d) => d.y ?? []).reduce((s, v) => s + v, 0), 2 * n, "the histogram counts every session");
  });
});

describe("tools.tcpconnlat and tools.tcpdrop on N refused connects", { concurrency: false }, () => {
  it("gives N failed connects (TCP_CLOSE) and N NO_SOCKET drops in tcp_v4_rcv, as bpftrace counts them", async () => {
    const n = 3;
    const port = await freePort();
    const w = workload(["tcprefused", String(port), String(n)]);
    const bt = await bpftrace(
      `tracepoint:skb:kfree_skb /pid == ${w.pid}/ { @d[args->reason] = count(); } ` +
        `tracepoint:sock:inet_sock_set_state /args->oldstate == 2 && args->dport == ${port}/ { @lat[args->newstate] = count(); }`,
    );
    const [lat, failed, drops, named, other, outOfList, byNumber, byNumberText] = await during(
      w,
      tools.tcpconnlat({ pid: w.pid }),
      tools.tcpconnlat({ dport: port, failed: true }),
      tools.tcpdrop({ pid: w.pid }),
      tools.tcpdrop({ pid: w.pid, reasons: ["NO_SOCKET", "TCP_CSUM"] }),
      tools.tcpdrop({ pid: w.pid, reasons: ["TCP_CSUM"] }),
      // 2 and 4 bracket NO_SOCKET (3): the kernel range lets it through, the exact list must not
      tools.tcpdrop({ pid: w.pid, reasons: ["NOT_SPECIFIED", "SOCKET_CLOSE"] }),
      tools.tcpdrop({ pid: w.pid, reasons: [NO_SOCKET] }),
      tools.tcpdrop({ pid: w.pid, reasons: [String(NO_SOCKET)] }),
    );
    const out = await bt.stop();
    assert.equal(parseMap(out, "lat").get("7"), n, "bpftrace: N changes SYN_SENT → CLOSE");
    assert.equal(parseMap(out, "lat").get("1"), undefined, "and none established");
    assert.deepEqual([...parseMap(out, "d")], [[String(NO_SOCKET), n]], "bpftrace: N NO_SOCKET drops, nothing else");

    const l = rowsOf<TcpconnlatRow>(lat!);
    assert.equal(l.length, n);
    for (const r of l) assert.deepEqual([r.pid, r.comm, r.daddr, r.dport, r.state], [w.pid, "workload", "127.0.0.1", port, "TCP_CLOSE"]);
    assert.equal(failed!.numRows(), n, "failed: the same N");

    assert.deepEqual(drops!.columnNames(), [...tools.TCPDROP.columns]);
    const d = rowsOf<TcpdropRow>(drops!);
    assert.equal(d.length, n);
    for (const r of d) {
      assert.deepEqual([r.pid, r.comm, r.protocol, r.reason, r.reason_name], [w.pid, "workload", 0x0800, NO_SOCKET, "NO_SOCKET"]);
      const frames = r.kstack.split(";");
      assert.ok(frames.includes("tcp_v4_rcv"), `the drop is under tcp_v4_rcv: ${r.kstack}`);
      assert.ok(frames.indexOf("__sys_connect") < frames.indexOf("tcp_v4_rcv"), "root first: the connect() calls down to the receive path (loopback)");
    }
    assert.equal(named!.numRows(), n, "reasons by name");
    assert.equal(other!.numRows(), 0, "another reason: none");
    assert.equal(outOfList!.numRows(), 0, "a reason between two listed ones is not listed");
    assert.equal(byNumber!.numRows(), n, "reasons by number");
    assert.equal(byNumberText!.numRows(), n, "reasons by number as text (as the shell passes them)");

    const fig = JSON.stringify(tools.tcpdrop().chart(drops!));
    assert.ok(fig.includes("tcp_v4_rcv"), "the flame graph has the drop path");
  });
});

describe("the TCP tools on IPv6", { concurrency: false }, () => {
  it("give ip 6 and the v6 addresses (::1) for one connection over ::1", async () => {
    const port = await freePort();
    // a child process: the tracer's own connections are left out by default
    const script = `const net = require("node:net");
      process.stdin.once("data", () => {
        const s = net.createServer((c) => { c.resume(); c.on("end", () => c.end()); });
        s.listen(${port}, "::1", () => { const c = net.connect(${port}, "::1", () => c.end("hello")); c.resume(); c.on("close", () => s.close()); });
      });`;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "inherit", "inherit"] });
    const exited = new Promise<number>((r) => child.once("exit", (code) => r(code ?? -1)));
    const gated: Gated = { child, pid: child.pid!, go: () => (child.stdin!.end("g"), exited) };
    await sleep(300); // node is up and reading stdin
    const [conn, acc, srv, cli, lat] = await during(gated, tools.tcpconnect({ dport: port }), tools.tcpaccept({ lport: port }), tools.tcplife({ lport: port }), tools.tcplife({ rport: port }), tools.tcpconnlat({ dport: port }));
    const c = rowsOf<TcpconnectRow>(conn!);
    assert.deepEqual(c.map((r) => [r.pid, r.ip, r.saddr, r.daddr, r.dport]), [[child.pid, 6, "::1", "::1", port]]);
    assert.deepEqual(rowsOf<TcpacceptRow>(acc!).map((r) => [r.ip, r.laddr, r.lport, r.raddr]), [[6, "::1", port, "::1"]]);
    const s = rowsOf<TcplifeRow>(srv!), k = rowsOf<TcplifeRow>(cli!);
    assert.deepEqual(s.map((r) => [r.ip, r.laddr, r.raddr, r.rx]), [[6, "::1", "::1", 5 + 1]], "the server received hello and the FIN");
    assert.deepEqual(k.map((r) => [r.ip, r.laddr, r.raddr, r.tx, r.rport]), [[6, "::1", "::1", 5 + 2, port]], "the client's hello, SYN and FIN were acked");
    assert.deepEqual(rowsOf<TcpconnlatRow>(lat!).map((r) => [r.pid, r.ip, r.saddr, r.daddr, r.sport, r.state]), [[child.pid, 6, "::1", "::1", k[0]!.lport, "TCP_ESTABLISHED"]]);
    assert.ok(JSON.stringify(tools.tcpconnect().chart(conn!)).includes(`[::1]:${port}`), "v6 endpoints in brackets");
  });
});

describe("tools.tcpretrans on SYNs a full accept queue ignores", { concurrency: false }, () => {
  it("gives each connect's SYN retransmits in TCP_SYN_SENT, as many as bpftrace counts", async () => {
    const n = 2;
    const port = await freePort();
    // SYN_SENT times out after 1 retry (TCP_SYNCNT 1) at 3 s; the first retransmit is at 1 s,
    // and with tcp_syn_linear_timeouts >= 2 the second one too (at 2 s, still before the timeout)
    const linear = existsSync("/proc/sys/net/ipv4/tcp_syn_linear_timeouts") ? Number(readFileSync("/proc/sys/net/ipv4/tcp_syn_linear_timeouts", "utf8")) : 0;
    const each = linear >= 2 ? 2 : 1;
    const w = workload(["tcpsyn", String(port), String(n)]);
    const bt = await bpftrace(`tracepoint:tcp:tcp_retransmit_skb /args->dport == ${port}/ { @r[args->state, args->sport] = count(); }`);
    const [re, byLocal] = await during(w, tools.tcpretrans({ rport: port }), tools.tcpretrans({ lport: port }));
    const out = await bt.stop();
    const btRows = parseMap(out, "r");

    assert.deepEqual(re!.columnNames(), [...tools.TCPRETRANS.columns]);
    const r = rowsOf<TcpretransRow>(re!);
    assert.equal(r.length, n * each);
    for (const x of r) assert.deepEqual([x.ip, x.laddr, x.raddr, x.rport, x.state], [4, "127.0.0.1", "127.0.0.1", port, "TCP_SYN_SENT"]);
    const perSocket = counts(r.map((x) => x.lport));
    assert.equal(perSocket.size, n, "n sockets retransmitted");
    assert.deepEqual([...perSocket.values()], new Array(n).fill(each));
    // bpftrace: state 2 (SYN_SENT), per local port
    assert.deepEqual(new Map([...btRows].sort()), new Map([...perSocket].map(([p, c]) => [`2,${p}`, c] as [string, number]).sort()));
    assert.equal(byLocal!.numRows(), 0, "nothing retransmits from the listening port");
    assert.ok(JSON.stringify(tools.tcpretrans().chart(re!)).includes(`127.0.0.1:${port}`));
  });
});

describe("the TCP tools' options, catalog and registry", () => {
  const make = {
    tcpconnect: (o: object) => tools.tcpconnect(o as never),
    tcpaccept: (o: object) => tools.tcpaccept(o as never),
    tcplife: (o: object) => tools.tcplife(o as never),
    tcpconnlat: (o: object) => tools.tcpconnlat(o as never),
    tcpretrans: (o: object) => tools.tcpretrans(o as never),
    tcpdrop: (o: object) => tools.tcpdrop(o as never),
  };

  it("names an unknown option with the ones the tool takes", () => {
    for (const [name, f] of Object.entries(make)) {
      assert.throws(() => f({ prot: 80 }), (e: Error) => e instanceof InvalidArgumentError && e.message.includes(`tools.${name}(): unknown option "prot"`) && e.message.includes("pid, comm"), name);
    }
    assert.throws(() => tools.tcpconnect({ lport: 80 } as never), /unknown option "lport"; it takes pid, comm, dport/);
  });

  it("rejects bad ports, pids, flags and reasons with named errors", () => {
    const bad: [() => unknown, RegExp][] = [
      [() => tools.tcpconnect({ dport: 0 }), /tcpconnect\(\): dport must be a port number from 1 to 65535, got 0/],
      [() => tools.tcpconnect({ dport: 65536 }), /dport must be a port number .* got 65536/],
      [() => tools.tcpaccept({ lport: 1.5 }), /tcpaccept\(\): lport must be a port number .* got 1.5/],
      [() => tools.tcplife({ rport: "80" as unknown as number }), /tcplife\(\): rport must be a number, got "80"/],
      [() => tools.tcpretrans({ lport: -1 }), /tcpretrans\(\): lport must be/],
      [() => tools.tcpconnlat({ failed: "yes" as unknown as boolean }), /tcpconnlat\(\): failed must be true or false, got "yes"/],
      [() => tools.tcpconnlat({ pid: -1 }), /tcpconnlat\(\): pid must be a positive integer, got -1/],
      [() => tools.tcplife({ comm: "" }), /tcplife\(\): comm must be a non-empty string/],
      [() => tools.tcpdrop({ reasons: [] }), /tcpdrop\(\): reasons must be a non-empty list/],
      [() => tools.tcpdrop({ reasons: "NO_SOCKET" as unknown as string[] }), /reasons must be a non-empty list/],
      [() => tools.tcpdrop({ reasons: ["NO_SOKET"] }), /unknown drop reason "NO_SOKET" \(nearest: NO_SOCKET/],
      [() => tools.tcpdrop({ reasons: [-1] }), /each reason must be a name .* or a non-negative integer, got -1/],
    ];
    for (const [f, re] of bad) assert.throws(f, (e: Error) => e instanceof InvalidArgumentError && re.test(e.message), String(re));
    // the kernel's own spelling of a reason is taken too
    assert.doesNotThrow(() => tools.tcpdrop({ reasons: ["SKB_DROP_REASON_NO_SOCKET"] }));
  });

  it("throws NotSupportedError naming a tracepoint the kernel lacks", () => {
    assert.throws(
      () => requireTracepoints(tools.TCPDROP, ["skb:kfree_skb", "tcp:tcp_no_such_event"]),
      (e: Error) => e instanceof NotSupportedError && /tools\.tcpdrop\(\) is not supported here: this kernel has no tracepoint tcp:tcp_no_such_event/.test(e.message),
    );
  });

  it("gives the tool's columns, and a chart, when nothing happened", async () => {
    // port 1 and pid 1 see no TCP traffic here
    const ts = [tools.tcplife({ lport: 1 }), tools.tcpconnlat({ dport: 1 }), tools.tcpconnect({ dport: 1 }), tools.tcpaccept({ lport: 1 }), tools.tcpretrans({ lport: 1 }), tools.tcpdrop({ pid: 1, reasons: [1, 2] })];
    const tables = await Promise.all(ts.map((t) => t.collect({ seconds: 0.3 })));
    ts.forEach((t, i) => {
      assert.deepEqual([tables[i]!.numRows(), tables[i]!.columnNames()], [0, [...t.info.columns]], t.info.name);
      assert.ok(Array.isArray((t.chart(tables[i]!) as unknown as { data: unknown[] }).data), `${t.info.name} charts an empty table`);
    });
    const st = tools.sockstat({ pid: 1, by: "transition" });
    const empty = await st.collect({ seconds: 0.3 });
    assert.deepEqual([empty.numRows(), empty.columnNames()], [0, ["from", "state", "count"]]);
    assert.ok(st.chart(empty));
  });

  it("lists each tool in the registry with its catalog entry, and makes it", async () => {
    const names = ["tcpconnect", "tcpaccept", "tcplife", "tcpconnlat", "tcpretrans", "tcpdrop", "sockstat"];
    for (const name of names) {
      const reg = TOOLS.find((t) => t.info.name === name);
      assert.ok(reg, `${name} is registered`);
      const tool = await reg.make({});
      assert.equal(tool.kind, name === "sockstat" ? "aggregation" : "events");
      assert.equal(tool.info, reg.info);
      assert.deepEqual(reg.info.options.slice(0, 2).map((o) => o.name), ["pid", "comm"], "the common options first");
      assert.ok(reg.info.summary && reg.info.counterpart && reg.info.builtOn);
    }
  });
});

describe("tools.sockstat on N connect/accept cycles", { concurrency: false }, () => {
  it("counts every state change of the workload's sockets exactly, per state and per transition, as bpftrace does", async () => {
    const n = 3;
    const port = await freePort();
    const w = workload(["tcp", String(port), String(n)]);
    const bt = await bpftrace(`tracepoint:sock:inet_sock_set_state /pid == ${w.pid} && args->protocol == 6/ { @t[args->oldstate, args->newstate] = count(); }`);
    const ac = new AbortController();
    const states = tools.sockstat({ pid: w.pid }).collect({ signal: ac.signal, seconds: 60 });
    const transitions = tools.sockstat({ pid: w.pid, by: "transition" }).collect({ signal: ac.signal, seconds: 60 });
    const perInterval = tools.sockstat({ pid: w.pid }).collect({ signal: ac.signal, seconds: 60, interval: 0.25 });
    try {
      assert.equal(await w.go(), 0);
      await sleep(600);
    } finally {
      ac.abort();
    }
    const [s, t, iv] = await Promise.all([states, transitions, perInterval]);
    const out = await bt.stop();

    // per cycle, the client: CLOSE>SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>CLOSE (it closes first);
    // the accepted socket: LISTEN>SYN_RECV>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE; the listener once: CLOSE>LISTEN>CLOSE
    const perCycle: [string, string, number][] = [
      ["TCP_CLOSE", "TCP_SYN_SENT", n], ["TCP_SYN_SENT", "TCP_ESTABLISHED", n], ["TCP_ESTABLISHED", "TCP_FIN_WAIT1", n],
      ["TCP_FIN_WAIT1", "TCP_FIN_WAIT2", n], ["TCP_FIN_WAIT2", "TCP_CLOSE", n],
      ["TCP_LISTEN", "TCP_SYN_RECV", n], ["TCP_SYN_RECV", "TCP_ESTABLISHED", n], ["TCP_ESTABLISHED", "TCP_CLOSE_WAIT", n],
      ["TCP_CLOSE_WAIT", "TCP_LAST_ACK", n], ["TCP_LAST_ACK", "TCP_CLOSE", n],
      ["TCP_CLOSE", "TCP_LISTEN", 1], ["TCP_LISTEN", "TCP_CLOSE", 1],
    ];
    const key = (a: string, b: string) => `${a} > ${b}`;
    const expected = new Map(perCycle.map(([a, b, c]) => [key(a, b), c]));
    assert.deepEqual(t.columnNames(), ["from", "state", "count"]);
    const got = new Map(rowsOf<{ from: string; state: string; count: number }>(t).map((r) => [key(r.from, r.state), r.count]));
    assert.deepEqual(new Map([...got].sort()), new Map([...expected].sort()));
    // bpftrace's numbers, named the kernel's way
    const STATE: Record<string, string> = { 1: "TCP_ESTABLISHED", 2: "TCP_SYN_SENT", 3: "TCP_SYN_RECV", 4: "TCP_FIN_WAIT1", 5: "TCP_FIN_WAIT2", 7: "TCP_CLOSE", 8: "TCP_CLOSE_WAIT", 9: "TCP_LAST_ACK", 10: "TCP_LISTEN" };
    const theirs = new Map([...parseMap(out, "t")].map(([k, c]) => { const [a, b] = k.split(","); return [key(STATE[a!]!, STATE[b!]!), c] as [string, number]; }));
    assert.deepEqual(new Map([...theirs].sort()), new Map([...expected].sort()));

    assert.deepEqual(s.columnNames(), ["state", "count"]);
    const byState = new Map<string, number>();
    for (const [, b, c] of perCycle) byState.set(b, (byState.get(b) ?? 0) + c);
    const sc = rowsOf<{ state: string; count: number }>(s);
    assert.deepEqual(new Map(sc.map((r) => [r.state, r.count])), byState);
    assert.ok(sc.every((r, i) => i === 0 || sc[i - 1]!.count >= r.count), "ordered by count, most first");
    assert.equal(sc[0]!.state, "TCP_CLOSE", "most first: 2N + 1 closes");
    assert.equal(sc[0]!.count, 2 * n + 1);

    assert.deepEqual(iv.columnNames(), ["interval", "time", "state", "count"]);
    const total = new Map<string, number>();
    for (const r of rowsOf<{ state: string; count: number }>(iv)) total.set(r.state, (total.get(r.state) ?? 0) + r.count);
    assert.deepEqual(new Map([...total].sort()), new Map([...byState].sort()), "the intervals add up to the totals");
    const fig = tools.sockstat().chart(iv) as unknown as { data: { name?: string }[] };
    assert.ok(fig.data.some((d) => d.name === "TCP_ESTABLISHED"), "per-interval counts draw one line per state");
    assert.ok(JSON.stringify(tools.sockstat().chart(t)).includes("TCP_LISTEN → TCP_SYN_RECV"), "transitions draw as from → to bars");
    assert.throws(() => tools.sockstat({ by: "process" as "state" }), (e: Error) => e instanceof InvalidArgumentError && /tools\.sockstat\(\): by must be "state" or "transition", got "process"/.test(e.message));
  });
});
