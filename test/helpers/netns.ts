/* A private test network: a network namespace and a veth pair, one end ("host") in
 * this namespace, where XDP programs attach, the other ("peer") inside the test
 * namespace, where traffic is generated. Names are unique per process and call;
 * addresses are 10.200.X.0/24 and fd00:200::/64 on the veth only. Everything is
 * removed on dispose(), at process exit or on SIGINT/SIGTERM, and leftovers of dead
 * test processes are removed when the next net is made. */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export interface TestNet extends Disposable {
  /** The namespace's name (ip netns). */
  readonly ns: string;
  /** The veth end in this namespace: attach XDP here; it receives what the namespace sends. */
  readonly host: string;
  /** The veth end inside the namespace. */
  readonly peer: string;
  readonly hostAddr: string;
  readonly peerAddr: string;
  /** IPv6 addresses (fd00:200::X:1 here, fd00:200::X:2 in the namespace) when made with { ipv6: true }. */
  readonly hostAddr6: string | null;
  readonly peerAddr6: string | null;
  /** Runs a command inside the namespace; returns its stdout. */
  exec(cmd: string, args: string[], opts?: { timeoutMs?: number; allowFail?: boolean }): string;
  /** Starts a command inside the namespace (killed on dispose). */
  spawn(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Sends `count` UDP datagrams of `size` payload bytes from the namespace to `to`:`port`, one after the other, from one socket. */
  udp(opts: { to?: string; port: number; count: number; size?: number; sport?: number; gapMs?: number }): Promise<void>;
  /** ping from the namespace; resolves with what ping reported. */
  ping(opts: { to?: string; count: number; interval?: number; waitSec?: number }): Promise<PingResult>;
  dispose(): void;
}

export interface PingResult {
  transmitted: number;
  received: number;
  lossPercent: number;
  output: string;
}

const PREFIX = "bbk";
const live = new Map<string, () => void>();
let hooked = false;
let counter = 0;

function ip(args: string[], allowFail = false): string {
  try {
    return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    if (allowFail) return "";
    const err = e as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(" ")} failed: ${err.stderr?.trim() || err.message}`);
  }
}

/** Whether a process is there (EPERM: there, but not ours to signal). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes namespaces and veths left by test processes that are gone (kill -9, crashes). */
export function cleanupStale(): void {
  for (const line of ip(["netns", "list"], true).split("\n")) {
    const name = line.split(" ")[0];
    const m = /^bpfbook-test-(\d+)-\d+$/.exec(name ?? "");
    if (m && !alive(Number(m[1]))) ip(["netns", "del", name], true);
  }
  let links: { ifname: string }[] = [];
  try {
    links = JSON.parse(ip(["-j", "link", "show"], true) || "[]");
  } catch {
    links = [];
  }
  for (const l of links) {
    const m = new RegExp(`^${PREFIX}-([0-9a-z]+)-[0-9a-z]+[hp]$`).exec(l.ifname);
    if (m && !alive(parseInt(m[1], 36))) ip(["link", "del", l.ifname], true);
  }
}

function cleanupAll(): void {
  for (const f of [...live.values()]) {
    try {
      f();
    } catch {
      // keep going: every net must go
    }
  }
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once("exit", cleanupAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      cleanupAll();
      process.kill(process.pid, sig);
    });
  }
}

/** A /24 in 10.200.0.0/16 that no route here uses yet. */
function freeSubnet(): number {
  const used = new Set<number>();
  const routes = ip(["-4", "route", "show"], true) + ip(["-4", "addr", "show"], true);
  for (const m of routes.matchAll(/10\.200\.(\d+)\./g)) used.add(Number(m[1]));
  const start = (process.pid + counter * 7) % 250;
  for (let i = 0; i < 250; i++) {
    const x = ((start + i) % 250) + 2;
    if (!used.has(x)) return x;
  }
  throw new Error("no free 10.200.X.0/24 subnet for a test network");
}

function sysctl(path: string, value: string): void {
  if (existsSync(path)) writeFileSync(path, value);
}

function waitUp(ifname: string, ns: string | null): void {
  const deadline = Date.now() + 5000;
  for (;;) {
    const state = ns
      ? execFileSync("ip", ["netns", "exec", ns, "cat", `/sys/class/net/${ifname}/operstate`], { encoding: "utf8" }).trim()
      : readFileSync(`/sys/class/net/${ifname}/operstate`, "utf8").trim();
    if (state === "up") return;
    if (Date.now() > deadline) throw new Error(`${ifname} did not come up (operstate ${state})`);
    execFileSync("sleep", ["0.02"]);
  }
}

export function createTestNet(opts: { ipv6?: boolean } = {}): TestNet {
  cleanupStale();
  hook();
  const n = counter++;
  const tag = `${process.pid.toString(36)}-${n.toString(36)}`;
  const ns = `bpfbook-test-${process.pid}-${n}`;
  const host = `${PREFIX}-${tag}h`;
  const peer = `${PREFIX}-${tag}p`;
  if (host.length > 15) throw new Error(`interface name ${host} is too long`);
  const x = freeSubnet();
  const hostAddr = `10.200.${x}.1`, peerAddr = `10.200.${x}.2`;
  const hostAddr6 = opts.ipv6 ? `fd00:200::${x.toString(16)}:1` : null;
  const peerAddr6 = opts.ipv6 ? `fd00:200::${x.toString(16)}:2` : null;
  const children = new Set<ChildProcess>();
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    live.delete(ns);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    // Deleting the namespace deletes its veth end, and so the pair; the link del covers a half-made net.
    ip(["netns", "del", ns], true);
    ip(["link", "del", host], true);
  };
  live.set(ns, dispose);
  try {
    ip(["netns", "add", ns]);
    ip(["link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns]);
    if (!opts.ipv6) {
      // No IPv6 at all: no link-local addresses, router solicitations or MLD reports to account for.
      sysctl(`/proc/sys/net/ipv6/conf/${host}/disable_ipv6`, "1");
      execFileSync("ip", ["netns", "exec", ns, "sh", "-c", `echo 1 > /proc/sys/net/ipv6/conf/${peer}/disable_ipv6`]);
    } else {
      execFileSync("ip", ["netns", "exec", ns, "sh", "-c", `echo 0 > /proc/sys/net/ipv6/conf/${peer}/router_solicitations 2>/dev/null || true`]);
    }
    ip(["addr", "add", `${hostAddr}/24`, "dev", host]);
    ip(["-n", ns, "addr", "add", `${peerAddr}/24`, "dev", peer]);
    if (hostAddr6 && peerAddr6) {
      ip(["-6", "addr", "add", `${hostAddr6}/128`, "dev", host, "nodad"]);
      ip(["-n", ns, "-6", "addr", "add", `${peerAddr6}/64`, "dev", peer, "nodad"]);
    }
    ip(["-n", ns, "link", "set", "lo", "up"]);
    ip(["-n", ns, "link", "set", peer, "up"]);
    ip(["link", "set", host, "up"]);
    if (hostAddr6 && peerAddr6) ip(["-6", "route", "add", `${peerAddr6}/128`, "dev", host]);
    waitUp(host, null);
    waitUp(peer, ns);
  } catch (e) {
    dispose();
    throw e;
  }

  const nsSpawn = (cmd: string, args: string[], o: SpawnOptions = {}) => {
    const c = spawn("ip", ["netns", "exec", ns, cmd, ...args], { stdio: ["ignore", "pipe", "pipe"], ...o });
    children.add(c);
    c.once("exit", () => children.delete(c));
    return c;
  };
  const run = (c: ChildProcess): Promise<{ code: number; out: string; err: string }> =>
    new Promise((resolve, reject) => {
      let out = "", err = "";
      c.stdout?.on("data", (d) => (out += d));
      c.stderr?.on("data", (d) => (err += d));
      c.once("error", reject);
      c.once("close", (code) => resolve({ code: code ?? -1, out, err }));
    });

  return {
    ns, host, peer, hostAddr, peerAddr, hostAddr6, peerAddr6,
    exec(cmd, args, o = {}) {
      try {
        return execFileSync("ip", ["netns", "exec", ns, cmd, ...args], { encoding: "utf8", timeout: o.timeoutMs ?? 30000, stdio: ["ignore", "pipe", "pipe"] });
      } catch (e) {
        if (o.allowFail) return String((e as { stdout?: string }).stdout ?? "");
        throw e;
      }
    },
    spawn: nsSpawn,
    async udp({ to = hostAddr, port, count, size = 32, sport = 0, gapMs = 0 }) {
      const script = `
        const s = require("node:dgram").createSocket(${JSON.stringify(to.includes(":") ? "udp6" : "udp4")});
        const buf = Buffer.alloc(${size}, 120);
        s.bind(${sport}, () => {
          let i = 0;
          const next = (err) => {
            if (err) { console.error(err.message); process.exit(2); }
            if (i++ === ${count}) return s.close();
            const send = () => s.send(buf, ${port}, ${JSON.stringify(to)}, next);
            if (${gapMs} > 0 && i > 1) setTimeout(send, ${gapMs}); else send();
          };
          next();
        });`;
      const r = await run(nsSpawn(process.execPath, ["-e", script]));
      if (r.code !== 0) throw new Error(`sending UDP from ${ns} failed (${r.code}): ${r.err}`);
    },
    async ping({ to = hostAddr, count, interval = 0.05, waitSec = 1 }) {
      const r = await run(nsSpawn("ping", ["-n", "-q", "-c", String(count), "-i", String(interval), "-W", String(waitSec), to]));
      const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(r.out);
      const loss = /([\d.]+)% packet loss/.exec(r.out);
      if (!m) throw new Error(`ping from ${ns} gave no summary (${r.code}): ${r.out}${r.err}`);
      return { transmitted: Number(m[1]), received: Number(m[2]), lossPercent: loss ? Number(loss[1]) : NaN, output: r.out };
    },
    dispose,
    [Symbol.dispose]: dispose,
  };
}
