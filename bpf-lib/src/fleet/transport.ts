/* How an agent is reached: a child process whose stdio carries the protocol. Every
 * transport reuses machinery and auth that already exist: a local subprocess (tests,
 * and this machine), the system's OpenSSH client (the user's ~/.ssh/config, keys and
 * agent; BatchMode so a password prompt fails instead of hanging the cell), and
 * `kubectl exec` into a DaemonSet's pod (the user's kubeconfig). No daemon, no port. */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { packageRoot } from "../paths.js";
import { HostUnreachableError } from "./errors.js";

/** The agent command run on each host; `{host}` is replaced by the host's name. A function gives each host its own (undefined: the default). */
export type AgentCommand = string | ((host: string) => string | undefined);

export const DEFAULT_COMMAND = "bpfbook agent --stdio";

export interface SshOptions {
  /** An ssh_config file (`ssh -F`); default: the user's own. */
  configFile?: string;
  /** More ssh arguments, before the host (e.g. ["-p", "2222"] or ["-o", "ConnectTimeout=5"]). */
  options?: string[];
}

export interface KubernetesOptions {
  namespace: string;
  /** A label selector for the agent's pods, e.g. "app=bpfbook-agent". */
  selector: string;
  context?: string;
}

export type Transport =
  | { kind: "local" }
  | { kind: "ssh"; ssh: SshOptions }
  | { kind: "kubernetes"; kubernetes: KubernetesOptions; pods: Map<string, string> };

export function commandFor(command: AgentCommand | undefined, host: string, fallback: string): string {
  const c = (typeof command === "function" ? command(host) : command) ?? fallback;
  return c.replaceAll("{host}", host);
}

/** The agent command of this very installation: this node, this package's CLI (local hosts need no `bpfbook` on PATH). */
export function localCommand(): string {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return `${q(process.execPath)} ${q(join(packageRoot(), "dist", "bpf-lib", "src", "cli", "main.js"))} agent --stdio`;
}

/** The argv that reaches `host` and runs `command` there. */
export function agentArgv(t: Transport, host: string, command: string): string[] {
  switch (t.kind) {
    case "local":
      // exec: the agent is the child itself, so closing its stdin reaches it and a kill reaches it
      return ["/bin/sh", "-c", `exec ${command}`];
    case "ssh":
      // ssh keeps the first value it is given for an option: the user's come first and win.
      // ServerAlive: a dead network ends ssh (and so the host's run) in ~30 s, not at TCP's hours.
      return ["ssh", ...(t.ssh.configFile ? ["-F", t.ssh.configFile] : []), ...(t.ssh.options ?? []), "-T", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=6", host, command];
    case "kubernetes": {
      const pod = t.pods.get(host);
      if (!pod) throw new HostUnreachableError(host, `no pod of ${t.kubernetes.selector} runs on that node`);
      return ["kubectl", ...kubeArgs(t.kubernetes), "exec", "-i", pod, "--", ...command.split(/\s+/).filter(Boolean)];
    }
  }
}

function kubeArgs(k: KubernetesOptions): string[] {
  return [...(k.context ? ["--context", k.context] : []), "-n", k.namespace];
}

/** Starts the child that carries one host's agent. */
export function spawnAgent(argv: string[]): ChildProcess {
  return spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
}

/** The agent pods of a DaemonSet, by the node each runs on (the node is the host's name). */
export async function discoverPods(k: KubernetesOptions): Promise<Map<string, string>> {
  const out = await new Promise<string>((resolve, reject) => {
    execFile("kubectl", [...kubeArgs(k), "get", "pods", "-l", k.selector, "-o", "json"], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new HostUnreachableError(`kubernetes ${k.namespace}/${k.selector}`, `kubectl get pods failed: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
  const list = JSON.parse(out) as { items?: { metadata?: { name?: string }; spec?: { nodeName?: string }; status?: { phase?: string } }[] };
  const pods = new Map<string, string>();
  for (const p of list.items ?? []) {
    const name = p.metadata?.name;
    if (!name || p.status?.phase !== "Running") continue;
    pods.set(p.spec?.nodeName ?? name, name);
  }
  if (pods.size === 0) throw new HostUnreachableError(`kubernetes ${k.namespace}/${k.selector}`, `no running pod matches -l ${k.selector} in namespace ${k.namespace} (is the DaemonSet of deploy/kubernetes/ applied?)`);
  return pods;
}
