/* fleet(): the same probe functions as the package, run on many hosts at once. Each
 * host runs `bpfbook agent --stdio` reached through a transport (transport.ts); a
 * connection per host is made on the first run and kept for the next ones (it holds
 * the notebook's event loop only while a run waits on it); each run sends the plan
 * the cell's calls made (builder.ts) and merges what comes back (run.ts). */
import { track, untrack } from "../lifecycle.js";
import { InvalidArgumentError } from "../errors.js";
import { constructor, describeSteps, namespace, probeSteps, type PlanRunner } from "./builder.js";
import { AgentConnection } from "./connection.js";
import { FleetRun } from "./run.js";
import { PLAN_VERSION, encodeArgs, type Plan } from "./plan.js";
import {
  agentArgv, commandFor, DEFAULT_COMMAND, discoverPods, localCommand, spawnAgent,
  type AgentCommand, type KubernetesOptions, type SshOptions, type Transport,
} from "./transport.js";
import type { FleetProbes } from "./types.js";
import type { HostResult } from "./results.js";

export interface FleetOptions {
  /** OpenSSH: `ssh [-F configFile] [options] -T -o BatchMode=yes <host> <command>`. */
  ssh?: SshOptions;
  /** The agent command on each host ("{host}" is replaced by the host; a function gives each its own). Default "bpfbook agent --stdio" (local hosts: this installation's CLI). */
  command?: AgentCommand;
  /** Seconds a host has to say hello before it counts as unreachable (default 30). */
  helloTimeout?: number;
  /**
   * Scopes each host's agent to one cgroup2 directory (`--cgroup`): a path, with "{host}"
   * replaced by the host, or a function of the host. Several containers of one machine
   * traced as a fleet, each seeing only its own processes.
   */
  cgroup?: string | ((host: string) => string);
}

/** What a host's name may hold: an ssh alias, a DNS name or address, a node name; nothing a shell or ssh reads as more. */
const HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:@%[\]-]*$/;

/** A cgroup path that travels in a command line as it is (ssh's remote shell and kubectl's argv read it alike). */
const CGROUP_PATH = /^\/[A-Za-z0-9_.\/@%+=:,-]*$/;

export interface Fleet extends FleetProbes, Disposable {
  /** The hosts (for Kubernetes: known once connected, the nodes the agent pods run on). */
  readonly hosts: readonly string[];
  /** Connects to every host (if not yet) and says what each is, or why it cannot be reached. */
  connect(): Promise<HostResult[]>;
  /** Closes every agent: each stops what it runs, releases everything and exits. */
  close(): void;
}

function checkHosts(hosts: unknown, what: string): string[] {
  if (!Array.isArray(hosts) || hosts.length === 0 || hosts.some((h) => typeof h !== "string" || !HOST_NAME.test(h))) {
    const bad = Array.isArray(hosts) ? hosts.find((h) => typeof h !== "string" || !HOST_NAME.test(h)) : undefined;
    throw new InvalidArgumentError(`fleet(): ${what} must be a non-empty list of host names (letters, digits and . _ - : @ % [ ], not starting with "-"), e.g. ["web-1", "web-2"]; got ${JSON.stringify(hosts)}${bad !== undefined ? `: ${JSON.stringify(bad)} is not one` : ""}`);
  }
  if (new Set(hosts).size !== hosts.length) throw new InvalidArgumentError(`fleet(): ${what} names a host twice: ${JSON.stringify(hosts)}`);
  return [...(hosts as string[])];
}

export function fleet(hosts: readonly string[], options?: FleetOptions): Fleet;
export function fleet(spec: { local: readonly string[] }, options?: FleetOptions): Fleet;
export function fleet(spec: { kubernetes: KubernetesOptions; command?: AgentCommand }, options?: FleetOptions): Fleet;
export function fleet(spec: readonly string[] | { local: readonly string[] } | { kubernetes: KubernetesOptions; command?: AgentCommand }, options: FleetOptions = {}): Fleet {
  let transport: Transport;
  let hosts: string[];
  let command = options.command;
  if (Array.isArray(spec)) {
    hosts = checkHosts(spec, "the hosts");
    transport = { kind: "ssh", ssh: options.ssh ?? {} };
  } else if (spec && typeof spec === "object" && "local" in spec) {
    hosts = checkHosts(spec.local, "local");
    transport = { kind: "local" };
  } else if (spec && typeof spec === "object" && "kubernetes" in spec) {
    const k = spec.kubernetes;
    if (!k || typeof k.namespace !== "string" || typeof k.selector !== "string") throw new InvalidArgumentError(`fleet(): kubernetes needs { namespace, selector }, e.g. { namespace: "bpfbook", selector: "app=bpfbook-agent" }`);
    hosts = [];
    transport = { kind: "kubernetes", kubernetes: k, pods: new Map() };
    command ??= spec.command;
  } else {
    throw new InvalidArgumentError(`fleet(): expected a list of ssh hosts, { local: [...] } or { kubernetes: { namespace, selector } }; got ${JSON.stringify(spec)}`);
  }
  const fallback = transport.kind === "local" ? localCommand() : DEFAULT_COMMAND;
  const cgroup = options.cgroup;
  if (cgroup !== undefined && typeof cgroup !== "string" && typeof cgroup !== "function") throw new InvalidArgumentError(`fleet(): cgroup must be a cgroup2 directory ("{host}" is replaced by the host) or a function of the host; got ${JSON.stringify(cgroup)}`);
  const commandOf = (host: string): string => {
    const c = commandFor(command, host, fallback);
    if (cgroup === undefined) return c;
    const dir = typeof cgroup === "function" ? cgroup(host) : cgroup.replaceAll("{host}", host);
    if (typeof dir !== "string" || !CGROUP_PATH.test(dir)) throw new InvalidArgumentError(`fleet(): the cgroup of host ${host} must be an absolute cgroup2 directory (letters, digits and _ . / @ % + = : , -), e.g. /sys/fs/cgroup/jobs/${host}; got ${JSON.stringify(dir)}`);
    return `${c} --cgroup ${dir}`;
  };
  // a path the hosts share is checked now, before any host is reached
  if (typeof cgroup === "string") for (const h of hosts.length ? hosts : ["host"]) commandOf(h);
  const helloTimeoutMs = (options.helloTimeout ?? 30) * 1000;
  const connections = new Map<string, AgentConnection>();
  let seq = 0;

  const connectAll = async (): Promise<Map<string, Promise<AgentConnection>>> => {
    if (transport.kind === "kubernetes" && (hosts.length === 0 || [...connections.values()].some((c) => c.ended))) {
      transport.pods = await discoverPods(transport.kubernetes);
      hosts = [...transport.pods.keys()];
    }
    const out = new Map<string, Promise<AgentConnection>>();
    for (const host of hosts) {
      let c = connections.get(host);
      if (!c || c.ended) {
        try {
          c = new AgentConnection(host, spawnAgent(agentArgv(transport, host, commandOf(host))), { helloTimeoutMs });
        } catch (e) {
          out.set(host, Promise.reject(e as Error));
          continue;
        }
        connections.set(host, c);
      }
      out.set(host, Promise.resolve(c));
    }
    return out;
  };

  const run: PlanRunner = async (plan: Plan) => {
    const conns = await connectAll();
    const r = new FleetRun(describeSteps(plan.steps), ++seq, plan, conns);
    return plan.run.call === "start" ? r.whenStarted() : r.finished();
  };

  const f = {
    get hosts(): readonly string[] {
      return [...hosts];
    },
    tracepoint: constructor("tracepoint", run),
    tracepoints: constructor("tracepoints", run),
    uprobe: constructor("uprobe", run),
    uretprobe: constructor("uretprobe", run),
    kprobe: constructor("kprobe", run),
    kretprobe: constructor("kretprobe", run),
    latency: constructor("latency", run),
    pair: constructor("pair", run),
    syscalls: namespace("syscalls", run),
    sched: namespace("sched", run),
    block: namespace("block", run),
    profile(options: unknown) {
      const steps = [{ call: "startProfile", args: encodeArgs([options], "profile()", probeSteps) }];
      return run({ v: PLAN_VERSION, steps, run: { call: "collect", args: [] } });
    },
    startProfile(options?: unknown) {
      const steps = [{ call: "startProfile", args: encodeArgs([options], "startProfile()", probeSteps) }];
      return run({ v: PLAN_VERSION, steps, run: { call: "start", args: [] } });
    },
    async connect(): Promise<HostResult[]> {
      const conns = await connectAll();
      return Promise.all([...conns].map(async ([host, c]): Promise<HostResult> => {
        try {
          const h = await (await c).hello;
          return { host, ok: true, hostname: h.hostname, kernel: h.kernel, cpus: h.cpus, bpfbook: h.bpfbook, epochOffsetNs: h.epochOffsetNs };
        } catch (e) {
          const err = e as Error & { code?: string };
          return { host, ok: false, error: { name: err.name, ...(err.code ? { code: err.code } : {}), message: err.message } };
        }
      }));
    },
    close(): void {
      untrack(f);
      for (const c of connections.values()) c.close();
      connections.clear();
    },
    [Symbol.dispose](): void {
      f.close();
    },
  };
  track(f);
  return f as unknown as Fleet;
}
