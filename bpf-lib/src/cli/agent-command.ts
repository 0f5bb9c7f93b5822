/* `bpfbook agent --stdio [--cgroup PATH]`: the host's end of a fleet (fleet/agent.ts).
 * stdout carries protocol frames only: every other write to it (a library's
 * console.log, a warning) goes to stderr instead, where ssh and kubectl pass it on. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidArgumentError } from "../errors.js";
import { packageRoot } from "../paths.js";
import { parseFlags, type Command } from "./commands.js";

export const agentCommand: Command = {
  name: "agent",
  summary: "serve a fleet: run probe plans from stdin, results on stdout (bpfbook's fleet protocol)",
  usage: `usage: bpfbook agent --stdio [--cgroup PATH] [--idle-timeout SECONDS]

Runs the probes a notebook's fleet() sends, on this host: reads plans (JSON frames)
on stdin, writes results on stdout (Arrow IPC tables, stats, progress, named errors;
docs/fleet.md describes the protocol). Started by the notebook through ssh or kubectl
exec, never listening on a port. Exits, releasing everything it attached, as soon as
stdin closes, or when the notebook has said nothing for --idle-timeout seconds (it
pings every 5 s: silence is a connection that died without closing).
  --stdio         speak the protocol on stdin/stdout (the only mode)
  --cgroup PATH   scope every probe to this cgroup2 directory (absolute, or under the
                  cgroup2 mount); probe kinds that cannot filter by cgroup are refused
  --idle-timeout S  seconds without a frame from the notebook before everything is
                  released and the agent exits (default 30; 0: wait for stdin's end)
Needs what tracing needs here (root, or CAP_BPF and CAP_PERFMON).`,
  async run(args) {
    const { flags } = parseFlags(args, { boolean: ["stdio"], string: ["cgroup", "idle-timeout"] });
    if (!flags.has("stdio")) throw new InvalidArgumentError("bpfbook agent needs --stdio (the protocol runs over stdin and stdout)");
    const cgroup = flags.get("cgroup");
    const idle = flags.get("idle-timeout");
    const idleSeconds = typeof idle === "string" ? Number(idle) : undefined;
    if (idleSeconds !== undefined && !(Number.isFinite(idleSeconds) && idleSeconds >= 0)) throw new InvalidArgumentError(`bpfbook agent: --idle-timeout ${JSON.stringify(idle)} is not a number of seconds (e.g. 30; 0 waits for the end of stdin)`);
    const out = process.stdout;
    const writeFrame = out.write.bind(out) as (b: Uint8Array) => boolean;
    // from here on, stray writes to stdout would corrupt the stream: they go to stderr
    process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
    let version = "unknown";
    try {
      version = (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version?: string }).version ?? version;
    } catch {
      // unknown
    }
    const [{ runAgent }, exports] = await Promise.all([import("../fleet/agent.js"), import("../index.js")]);
    await runAgent(
      { input: process.stdin, write: (b) => void writeFrame(b), log: (line) => void process.stderr.write(line + "\n") },
      { exports: exports as unknown as Record<string, unknown>, version, ...(typeof cgroup === "string" ? { cgroup } : {}), ...(idleSeconds !== undefined ? { idleMs: idleSeconds * 1000 } : {}) },
    );
    // stdin is gone; nothing is attached any more: leave now, even if a timer or handle lingers
    process.exit(0);
  },
};
