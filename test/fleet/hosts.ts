/* N real "hosts" on this machine for the fleet tests: per host a network namespace reached
 * over a veth pair, Debian's OpenSSH sshd listening only on the namespace's address (its own
 * host key, keys generated per run), a cgroup2 directory that host's workloads run in, and a
 * ForceCommand that runs the bpfbook agent scoped to that cgroup — so each host has its own
 * exact ground truth although they share one kernel. The client side is an ssh config file
 * (Host web-<i>) that `fleet([...], { ssh: { configFile } })` uses unchanged. The hosts share
 * this machine's kernel and filesystems (cgroup2, tracefs, the checkout): only the network and
 * the hostname are their own.
 * Everything is torn down by dispose(), at process exit, and (for runs whose process died)
 * by the next run. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cgroup2Mount } from "../../bpf-lib/src/cgroups/paths.js";
import { ROOT, WORKLOAD } from "../helpers/workload.js";
import { alive } from "../helpers/netns.js";

export const SSHD = "/usr/sbin/sshd";
/** The CLI the hosts' agents run (the built tree this test file belongs to). */
export const CLI = join(ROOT, "dist", "bpf-lib", "src", "cli", "main.js");

export interface FleetHost {
  /** The ssh Host alias: web-<index>. */
  readonly name: string;
  readonly index: number;
  /** The network namespace (ip netns) the host's sshd, agents and workloads live in. */
  readonly ns: string;
  /** The namespace's address, where its sshd listens (10.201.X.2); the root namespace's end is 10.201.X.1. */
  readonly addr: string;
  /** The host's cgroup2 directory (absolute path): its workloads run here, its agent is scoped to it. */
  readonly cgroup: string;
  /** The cgroup's id as BPF sees it (the directory's inode). */
  readonly cgroupId: bigint;
  /** The command sshd forces on every connection to this host (a script in the run's directory). */
  readonly forceCommand: string;
  /** A workload child (test/fixtures/workload.c) in this host's namespace and cgroup, held at its start gate. */
  workload(args: string[]): HostWorkload;
  /** pids of this host's sshd processes (the listener and one or two per connection). */
  sshdPids(): number[];
  /** pids of everything running in this host's namespace (sshd, agents, workloads). */
  pids(): number[];
  /** SIGKILLs every sshd process of this host (connections drop as if the host went away); the agents are left to notice. Returns the pids killed. */
  killSshd(): number[];
  /** What sshd logged (-e: to its stderr, kept in a file). */
  sshdLog(): string;
}

export interface HostWorkload {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves once the child waits at its start gate (its read of stdin), so a trace started after this sees only its work. */
  atGate(): Promise<void>;
  /** Lets the child start its work (it is already in the host's cgroup); resolves with its exit code. */
  go(): Promise<number>;
}

export interface FleetHosts extends AsyncDisposable {
  readonly runId: string;
  readonly hosts: FleetHost[];
  /** The ssh client config (Host web-<i> for every host): pass as `ssh: { configFile }`. */
  readonly configFile: string;
  /** The run's temp directory (keys, configs, logs). */
  readonly dir: string;
  /** The run's parent cgroup (the hosts' cgroups are inside it). */
  readonly cgroupRoot: string;
  /** Runs `ssh -F configFile <host> ...args` (the host's ForceCommand runs whatever is asked); stdin is `input` or empty. */
  ssh(host: string, args?: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  dispose(): Promise<void>;
}

export interface FleetHostsOptions {
  count: number;
  /**
   * The command forced on a host's connections, as a shell script body (run by /bin/sh; "$@" is empty,
   * the client's command is in $SSH_ORIGINAL_COMMAND). Default (undefined): the bpfbook agent scoped
   * to the host's cgroup, `node <CLI> agent --stdio --cgroup <cgroup>`.
   */
  forceCommand?: (host: { index: number; name: string; cgroup: string }) => string | undefined;
}

/** Why these hosts cannot be made on this machine (a reason to skip), or null when they can. */
export function fleetHostsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "needs root (network namespaces, cgroups, sshd)";
  for (const [path, what] of [[SSHD, "OpenSSH's sshd (apt-get install openssh-server)"], ["/usr/bin/ssh", "OpenSSH's ssh (openssh-client)"], ["/usr/bin/ssh-keygen", "ssh-keygen (openssh-client)"], [WORKLOAD, "the workload fixture (make -C test/fixtures)"], [CLI, "the built CLI (npm run build)"]] as const) {
    if (!existsSync(path)) return `${path} is missing: ${what}`;
  }
  try {
    execFileSync("getent", ["passwd", "sshd"], { stdio: "ignore" });
  } catch {
    return "no `sshd` user (sshd's privilege separation needs it; openssh-server creates it)";
  }
  if (!cgroup2Mount()) return "no cgroup2 mount (each host needs its own cgroup)";
  try {
    execFileSync("ip", ["netns", "list"], { stdio: "ignore" });
  } catch {
    return "`ip netns` does not work here (iproute2)";
  }
  return null;
}

// Stale cleanup recognises a run by the pid in its name: bpfbook-fleet-<pid>x<n>-<i>.
const NS_RE = /^bpfbook-fleet-(\d+)x[0-9a-z]+-\d+$/;
const CG_RE = /^bpfbook-fleet-(\d+)x[0-9a-z]+$/;
const DIR_RE = /^bpfbook-fleet-(\d+)x[0-9a-z]+-\w+$/;
let counter = 0;
const live = new Map<string, () => void>();
let hooked = false;

function run(cmd: string, args: string[], allowFail = false): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    if (allowFail) return "";
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${err.stderr?.trim() || err.message}`);
  }
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

function nsPids(ns: string): number[] {
  return run("ip", ["netns", "pids", ns], true).split("\n").filter((l) => /^\d+$/.test(l.trim())).map(Number);
}

function killAll(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Empties and removes a cgroup tree (children first); cgroup.kill takes every process in it with it. */
function removeCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroup(join(dir, e.name));
  const kill = join(dir, "cgroup.kill");
  if (existsSync(kill)) writeFileSync(kill, "1");
  else killAll(readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number));
  // rmdir fails with EBUSY until the killed tasks are reaped
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      if (Date.now() > deadline) throw new Error(`could not remove cgroup ${dir}: ${(e as Error).message}`);
      execFileSync("sleep", ["0.02"]);
    }
  }
}

/** Removes what runs of dead processes left (kill -9, crashes): their namespaces' processes, namespaces, veths, temp dirs, cgroups. */
export function cleanupStale(): void {
  for (const line of run("ip", ["netns", "list"], true).split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const m = NS_RE.exec(name);
    if (m && !alive(Number(m[1]))) {
      killAll(nsPids(name));
      run("ip", ["netns", "del", name], true);
    }
  }
  for (const l of JSON.parse(run("ip", ["-j", "link", "show"], true) || "[]") as { ifname: string }[]) {
    const m = /^bff([0-9a-z]+)x[0-9a-z]+-\d+$/.exec(l.ifname);
    if (m && !alive(parseInt(m[1]!, 36))) run("ip", ["link", "del", l.ifname], true);
  }
  for (const name of readdirSync(tmpdir())) {
    const m = DIR_RE.exec(name);
    if (m && !alive(Number(m[1]))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
  const mount = cgroup2Mount();
  if (mount) {
    for (const e of readdirSync(mount, { withFileTypes: true })) {
      const m = CG_RE.exec(e.name);
      if (e.isDirectory() && m && !alive(Number(m[1]))) {
        try {
          removeCgroup(join(mount, e.name));
        } catch {
          // a later run tries again
        }
      }
    }
  }
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  const all = () => {
    for (const f of [...live.values()]) {
      try {
        f();
      } catch {
        // every run must go
      }
    }
  };
  process.once("exit", all);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      all();
      process.kill(process.pid, sig);
    });
  }
}

/** The first 10.201.X block of `count` consecutive /24s that no address or route here uses. */
function freeBase(count: number): number {
  const used = new Set<number>();
  const text = run("ip", ["-4", "route", "show"], true) + run("ip", ["-4", "addr", "show"], true);
  for (const m of text.matchAll(/10\.201\.(\d+)\./g)) used.add(Number(m[1]));
  for (let base = 0; base + count <= 255; base++) {
    let free = true;
    for (let i = 0; i < count && free; i++) free = !used.has(base + i);
    if (free) return base;
  }
  throw new Error(`no ${count} free consecutive 10.201.X.0/24 subnets for the fleet hosts`);
}

function keygen(path: string, comment: string): string {
  run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path]);
  return readFileSync(`${path}.pub`, "utf8").trim();
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number, detail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what} (waited ${timeoutMs} ms): ${detail()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Makes `count` hosts web-0 … web-<count-1>, each with a running sshd. */
export async function createFleetHosts(opts: FleetHostsOptions): Promise<FleetHosts> {
  const why = fleetHostsUnavailable();
  if (why) throw new Error(`fleet hosts cannot be made here: ${why}`);
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 50) throw new RangeError(`count must be an integer from 1 to 50, got ${opts.count}`);
  cleanupStale();
  hook();
  const runId = `${process.pid}x${(counter++).toString(36)}`;
  const tag = `${process.pid.toString(36)}x${(counter - 1).toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), `bpfbook-fleet-${runId}-`));
  chmodSync(dir, 0o700);
  const cgroupRoot = join(cgroup2Mount()!, `bpfbook-fleet-${runId}`);
  const sshds: ChildProcess[] = [];
  const made: { ns: string; veth: string }[] = [];
  let disposed = false;

  const teardown = (): void => {
    if (disposed) return;
    disposed = true;
    live.delete(runId);
    const errors: string[] = [];
    for (const { ns, veth } of made) {
      // sshd, its sessions, the agents and the workloads all live in the namespace
      killAll(nsPids(ns));
      run("ip", ["netns", "del", ns], true);
      run("ip", ["link", "del", veth], true);
    }
    for (const c of sshds) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    try {
      removeCgroup(cgroupRoot);
    } catch (e) {
      errors.push((e as Error).message);
    }
    rmSync(dir, { recursive: true, force: true });
    if (errors.length) throw new Error(`fleet hosts ${runId}: teardown left: ${errors.join("; ")}`);
  };
  live.set(runId, teardown);

  try {
    // sshd's privilege separation directory (made at boot by the package's tmpfiles.d on a systemd machine)
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    mkdirSync(cgroupRoot);
    const clientKey = join(dir, "client_key");
    const clientPub = keygen(clientKey, `bpfbook-fleet-${runId}`);
    // No command= here: each host's sshd_config forces its own command.
    writeFileSync(join(dir, "authorized_keys"), `restrict ${clientPub}\n`, { mode: 0o600 });
    const base = freeBase(opts.count);
    const knownHosts: string[] = [];
    const clientConfig: string[] = [`# bpfbook fleet test hosts, run ${runId}`];
    const hosts: FleetHost[] = [];

    for (let i = 0; i < opts.count; i++) {
      const name = `web-${i}`;
      const ns = `bpfbook-fleet-${runId}-${i}`;
      const veth = `bff${tag}-${i}`;
      if (veth.length > 15) throw new Error(`interface name ${veth} is too long`);
      const x = base + i;
      const hostAddr = `10.201.${x}.1`, addr = `10.201.${x}.2`;
      made.push({ ns, veth });
      run("ip", ["netns", "add", ns]);
      run("ip", ["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      run("ip", ["addr", "add", `${hostAddr}/24`, "dev", veth]);
      run("ip", ["link", "set", veth, "up"]);
      run("ip", ["-n", ns, "addr", "add", `${addr}/24`, "dev", "eth0"]);
      run("ip", ["-n", ns, "link", "set", "lo", "up"]);
      run("ip", ["-n", ns, "link", "set", "eth0", "up"]);

      const cgroup = join(cgroupRoot, name);
      mkdirSync(cgroup);
      const cgroupId = statSync(cgroup, { bigint: true }).ino;

      const hostKey = join(dir, `${name}.host_key`);
      knownHosts.push(`${addr} ${keygen(hostKey, name).split(" ").slice(0, 2).join(" ")}`);
      const body = opts.forceCommand?.({ index: i, name, cgroup }) ?? `exec ${process.execPath} ${CLI} agent --stdio --cgroup ${cgroup}`;
      const forceCommand = join(dir, `${name}.command.sh`);
      writeFileSync(forceCommand, `#!/bin/sh\n# what sshd runs for every connection to ${name}\n${body}\n`, { mode: 0o700 });
      const config = join(dir, `${name}.sshd_config`);
      writeFileSync(
        config,
        [
          `# sshd for fleet test host ${name} (namespace ${ns})`,
          `ListenAddress ${addr}`,
          "Port 22",
          `HostKey ${hostKey}`,
          `PidFile ${join(dir, `${name}.sshd.pid`)}`,
          `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
          "AuthenticationMethods publickey",
          "PubkeyAuthentication yes",
          "PermitRootLogin prohibit-password",
          "PasswordAuthentication no",
          "KbdInteractiveAuthentication no",
          "UsePAM no",
          // the keys live under /tmp, which is world-writable: StrictModes would refuse them
          "StrictModes no",
          "AllowTcpForwarding no",
          "X11Forwarding no",
          "PrintMotd no",
          `ForceCommand ${forceCommand}`,
          "",
        ].join("\n"),
      );
      const log = join(dir, `${name}.sshd.log`);
      const fd = openSync(log, "a");
      // Only the network namespace changes (not `ip netns exec`, whose private mount namespace
      // remounts /sys and so hides cgroup2 and tracefs from the agent), plus a UTS namespace so
      // the host's agent reports its own hostname (web-<i>). nsenter, unshare and sh all exec in
      // place: the child's pid is sshd's (the listener's).
      const sshd = spawn("nsenter", [`--net=/run/netns/${ns}`, "--", "unshare", "--uts", "--", "sh", "-c", 'hostname "$0" && exec "$@"', name, SSHD, "-D", "-e", "-f", config], { stdio: ["ignore", fd, fd] });
      closeSync(fd);
      sshds.push(sshd);

      const readLog = () => (existsSync(log) ? readFileSync(log, "utf8") : "");
      const sshdPids = () => nsPids(ns).filter((p) => comm(p) === "sshd");
      hosts.push({
        name, index: i, ns, addr, cgroup, cgroupId, forceCommand,
        workload(args) {
          if (!existsSync(WORKLOAD)) throw new Error(`${WORKLOAD} is missing: run make -C test/fixtures`);
          const child = spawn("nsenter", [`--net=/run/netns/${ns}`, "--", WORKLOAD, ...args], { stdio: ["pipe", "inherit", "inherit"] });
          child.stdin!.on("error", () => {});
          const exited = new Promise<number>((resolve, reject) => {
            child.once("error", reject);
            child.once("exit", (code) => resolve(code ?? -1));
          });
          // Into the cgroup before the gate opens, so every syscall of its work is the host's.
          writeFileSync(join(cgroup, "cgroup.procs"), String(child.pid));
          const pid = child.pid!;
          // The gate is a readv(2) of fd 0 (x86-64 syscall 19), the workload's only one.
          const gated = () => comm(pid) === "workload" && readFileSync(`/proc/${pid}/syscall`, "utf8").startsWith("19 0x0 ");
          return {
            pid, child,
            atGate: () => waitFor(`workload ${pid} on ${name} did not reach its start gate`, gated, 10000, () => `comm ${comm(pid)}`),
            go: () => (child.stdin!.end("g"), exited),
          };
        },
        sshdPids,
        pids: () => nsPids(ns),
        killSshd() {
          const killed: number[] = [];
          // a connection being accepted forks a new one: repeat until none is left
          for (let round = 0; round < 20; round++) {
            const left = sshdPids();
            if (left.length === 0) break;
            killAll(left);
            killed.push(...left);
            execFileSync("sleep", ["0.01"]);
          }
          return [...new Set(killed)];
        },
        sshdLog: readLog,
      });
      clientConfig.push(
        "",
        `Host ${name}`,
        `  HostName ${addr}`,
        "  User root",
        `  IdentityFile ${clientKey}`,
        "  IdentitiesOnly yes",
        "  IdentityAgent none",
        `  UserKnownHostsFile ${join(dir, "known_hosts")}`,
        "  GlobalKnownHostsFile /dev/null",
        "  StrictHostKeyChecking yes",
        "  BatchMode yes",
        "  ConnectTimeout 5",
        "  LogLevel ERROR",
      );
    }
    writeFileSync(join(dir, "known_hosts"), knownHosts.join("\n") + "\n");
    const configFile = join(dir, "ssh_config");
    writeFileSync(configFile, clientConfig.join("\n") + "\n", { mode: 0o600 });

    for (const [i, h] of hosts.entries()) {
      const sshd = sshds[i]!;
      await waitFor(`sshd for ${h.name} did not start listening on ${h.addr}:22`, () => {
        if (sshd.exitCode !== null) throw new Error(`sshd for ${h.name} exited with ${sshd.exitCode}: ${h.sshdLog()}`);
        return h.sshdLog().includes("Server listening on");
      }, 10000, h.sshdLog);
    }

    const ssh: FleetHosts["ssh"] = (host, args = [], input = "") =>
      new Promise((resolve, reject) => {
        const c = spawn("ssh", ["-F", configFile, "-T", host, ...args], { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "", stderr = "";
        c.stdout.on("data", (d) => (stdout += d));
        c.stderr.on("data", (d) => (stderr += d));
        c.once("error", reject);
        c.once("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
        c.stdin.end(input);
      });

    const dispose = async (): Promise<void> => {
      teardown();
    };
    return { runId, hosts, configFile, dir, cgroupRoot, ssh, dispose, [Symbol.asyncDispose]: dispose };
  } catch (e) {
    try {
      teardown();
    } catch {
      // report the first failure
    }
    throw e;
  }
}
