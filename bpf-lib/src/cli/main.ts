#!/usr/bin/env node
/* The `bpfbook` command: dispatches to the registry in commands.ts.
 * Exit codes: 0 success, 1 failure, 2 usage error (unknown command or option). */
import { BpfbookError } from "../errors.js";
import { findCommand, registerCommand, unknownCommandMessage, usage } from "./commands.js";
import { registerToolCommands } from "./tool-commands.js";
import { agentCommand } from "./agent-command.js";

// `bpfbook tracepoints | head` closes the pipe early: that is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  // The notebook kernel adds its commands (install, run) when it is built alongside.
  await import("../../../kernel/commands.js").catch(() => undefined);
  // The tools collection: `bpfbook opensnoop`, `bpfbook syscount`...
  registerToolCommands();
  // The host's end of a fleet: `bpfbook agent --stdio`
  registerCommand(agentCommand);
  if (name === undefined) {
    process.stderr.write(usage());
    return 2;
  }
  if (name === "--help" || name === "-h") return findCommand("help")!.run(args);
  if (name === "--version" || name === "-V") return findCommand("version")!.run([]);
  const cmd = findCommand(name);
  if (!cmd) {
    process.stderr.write(unknownCommandMessage(name));
    return 2;
  }
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(cmd.usage + "\n");
    return 0;
  }
  try {
    return await cmd.run(args);
  } catch (err) {
    if (err instanceof BpfbookError) {
      process.stderr.write(`bpfbook ${cmd.name}: ${err.message}\n`);
      return err.code === "EINVAL" ? 2 : 1;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bpfbook: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
