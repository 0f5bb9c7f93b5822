/* The `bpfbook` subcommands. main.ts dispatches on this registry; to add a
 * subcommand (the notebook kernel's `install` and `run`, say), write a Command
 * and add it to `commands` below or call registerCommand() before main runs.
 * Commands import what they need lazily, so `bpfbook help` loads no FFI. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BpfbookError, InvalidArgumentError } from "../errors.js";
import { packageRoot } from "../paths.js";
import { nearest } from "../tracefs/nearest.js";

export interface Command {
  /** The word after `bpfbook`. */
  name: string;
  /** One line for the command table. */
  summary: string;
  /** The full usage text, shown by `bpfbook help NAME` and `bpfbook NAME --help`. */
  usage: string;
  /** Runs with the arguments after the name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
  /** Listed under this heading by `bpfbook help` (the tools collection), else with the commands. */
  group?: "tools";
}

/** Subcommands that other parts of the project provide when they are built. */
export const PLANNED: ReadonlyArray<{ name: string; summary: string; from: string }> = [
  { name: "install", summary: "install the Jupyter kernelspec", from: "the notebook kernel (kernel/)" },
  { name: "run", summary: "run a notebook or script with bpfbook", from: "the notebook kernel (kernel/)" },
];

/** Command-line flags: `--name`, `--name value`, `--name=value`; anything else is positional. */
export function parseFlags(args: string[], spec: { boolean?: string[]; string?: string[] }): { flags: Map<string, string | true>; positional: string[] } {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = (eq < 0 ? a : a.slice(0, eq)).replace(/^--?/, "");
    if (spec.boolean?.includes(name)) {
      if (eq >= 0) throw new InvalidArgumentError(`option --${name} takes no value`);
      flags.set(name, true);
    } else if (spec.string?.includes(name)) {
      const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) throw new InvalidArgumentError(`option --${name} needs a value`);
      flags.set(name, value);
    } else {
      const known = [...(spec.boolean ?? []), ...(spec.string ?? [])].map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
      throw new InvalidArgumentError(`unknown option ${a}${known.length ? ` (options: ${known.join(", ")})` : ""}`);
    }
  }
  return { flags, positional };
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

const doctorCommand: Command = {
  name: "doctor",
  summary: "check what this kernel and machine let bpfbook do",
  usage: `usage: bpfbook doctor [--json] [--verbose]

Reports the kernel, BTF, lockdown, privileges, tracefs, bpffs and libbpf, then
tries each kind of BPF program (load, attach, dispose) and says why one fails.
  --json      print the report as JSON
  --verbose   with each failure, print what the kernel and libbpf said
Exits 0 whatever the kernel can do.`,
  async run(args) {
    const { flags } = parseFlags(args, { boolean: ["json", "verbose", "v"] });
    const { doctor, formatDoctor } = await import("../doctor/doctor.js");
    const report = await doctor();
    process.stdout.write(flags.has("json") ? JSON.stringify(report, null, 2) + "\n" : formatDoctor(report, { details: flags.has("verbose") || flags.has("v") }));
    return 0;
  },
};

const tracepointsCommand: Command = {
  name: "tracepoints",
  summary: "list the kernel's tracepoints (group:name)",
  usage: `usage: bpfbook tracepoints [--filter SUBSTR]

Lists every tracepoint a BPF program can attach to, one group:name per line.
  --filter SUBSTR   only names containing SUBSTR (case-insensitive)
Exits 1 when nothing matches.`,
  async run(args) {
    const { flags, positional } = parseFlags(args, { string: ["filter"] });
    if (positional.length > 0) throw new InvalidArgumentError(`unexpected argument ${JSON.stringify(positional[0])} (use --filter SUBSTR)`);
    const { listTracepoints } = await import("../tracefs/catalog.js");
    const all = listTracepoints();
    const filter = flags.get("filter");
    const names = typeof filter === "string" ? all.filter((n) => n.toLowerCase().includes(filter.toLowerCase())) : all;
    if (names.length === 0) {
      const hint = typeof filter === "string" ? nearest(filter, all) : [];
      process.stderr.write(`no tracepoint matches ${JSON.stringify(filter)}${hint.length ? `; nearest: ${hint.join(", ")}` : ""}\n`);
      return 1;
    }
    process.stdout.write(names.join("\n") + "\n");
    return 0;
  },
};

const versionCommand: Command = {
  name: "version",
  summary: "print the versions of bpfbook, libbpf, node and the kernel",
  usage: `usage: bpfbook version   (or bpfbook --version, -V)

Prints four lines: the versions of bpfbook (package.json), libbpf (the shared library
this build loads, or why it cannot be loaded), node, and the running kernel (uname -r).
Takes no options; needs no root.`,
  async run(args) {
    parseFlags(args, {});
    let libbpf: string;
    try {
      libbpf = (await import("../ffi/libbpf.js")).version();
    } catch (err) {
      libbpf = `unavailable (${err instanceof Error ? err.message.split("\n")[0] : String(err)})`;
    }
    const { release } = await import("node:os");
    process.stdout.write(`bpfbook ${packageVersion()}\nlibbpf  ${libbpf}\nnode    ${process.version}\nkernel  ${release()}\n`);
    return 0;
  },
};

const helpCommand: Command = {
  name: "help",
  summary: "show this help, or a command's usage (help COMMAND)",
  usage: `usage: bpfbook help [COMMAND]

Without COMMAND, lists every command and tool; with one, prints its usage and options
(the same as bpfbook COMMAND --help).`,
  async run(args) {
    if (args.length > 0) {
      const cmd = findCommand(args[0]!);
      if (!cmd) {
        process.stderr.write(unknownCommandMessage(args[0]!));
        return 2;
      }
      process.stdout.write(cmd.usage + "\n");
      return 0;
    }
    process.stdout.write(usage());
    return 0;
  },
};

/** Every subcommand, in the order help lists them. */
export const commands: Command[] = [doctorCommand, tracepointsCommand, versionCommand, helpCommand];

export function registerCommand(cmd: Command): void {
  if (findCommand(cmd.name)) throw new BpfbookError("EDUPCOMMAND", `a bpfbook command named "${cmd.name}" is already registered`);
  commands.push(cmd);
}

export function findCommand(name: string): Command | undefined {
  return commands.find((c) => c.name === name);
}

/** Names close to `name`: typos, and commands it is a prefix of. */
export function nearestCommands(name: string): string[] {
  const names = [...commands.map((c) => c.name), ...PLANNED.map((p) => p.name).filter((n) => !findCommand(n))];
  const prefixed = names.filter((n) => name.length > 0 && n.startsWith(name));
  return [...new Set([...prefixed, ...nearest(name, names, 3)])].slice(0, 3);
}

export function unknownCommandMessage(name: string): string {
  const planned = PLANNED.find((p) => p.name === name && !findCommand(p.name));
  if (planned) return `bpfbook: "${name}" comes with ${planned.from}, which is not part of this build\n`;
  const near = nearestCommands(name);
  return `bpfbook: unknown command ${JSON.stringify(name)}${near.length ? `; did you mean ${near.join(" or ")}?` : ""}\nRun "bpfbook help" for the list of commands.\n`;
}

/** The top-level usage: the command table. */
export function usage(): string {
  const missing = PLANNED.filter((p) => !findCommand(p.name));
  const width = Math.max(...commands.map((c) => c.name.length), ...missing.map((p) => p.name.length)) + 2;
  const lines = [
    "usage: bpfbook COMMAND [ARGS]",
    "",
    "Trace the running Linux kernel with eBPF, from TypeScript and Jupyter.",
    "",
    "commands:",
    ...commands.filter((c) => !c.group).map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
  ];
  const tools = commands.filter((c) => c.group === "tools");
  if (tools.length) lines.push("", "tools (the classic bcc/bpftrace tools; bpfbook TOOL --help):", ...tools.map((c) => `  ${c.name.padEnd(width)}${c.summary}`));
  if (missing.length > 0) {
    lines.push("", "coming with the notebook kernel (not in this build):");
    for (const p of missing) lines.push(`  ${p.name.padEnd(width)}${p.summary}`);
  }
  lines.push("", 'Run "bpfbook help COMMAND" or "bpfbook COMMAND --help" for a command\'s options.');
  return lines.join("\n") + "\n";
}
