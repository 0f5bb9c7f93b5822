/* The notebook kernel's subcommands of `bpfbook`: install, run, notebook. */
import { registerCommand, parseFlags, type Command } from "../bpf-lib/src/cli/commands.js";
import { installKernelspec } from "./install.js";
import { INSTALL_USAGE, RUN_USAGE } from "./usage.js";

const install: Command = {
  name: "install",
  summary: "install the Jupyter kernelspec (TypeScript (eBPF))",
  usage: INSTALL_USAGE,
  async run(args) {
    const { flags } = parseFlags(args, { boolean: ["user"], string: ["prefix"] });
    const prefix = flags.get("prefix");
    const dir = installKernelspec({ user: flags.has("user"), prefix: typeof prefix === "string" ? prefix : undefined });
    process.stdout.write(`installed kernelspec "bpfbook" in ${dir}\n`);
    return 0;
  },
};

const run: Command = {
  name: "run",
  summary: "execute a notebook headless; non-zero exit on the first failing cell",
  usage: RUN_USAGE,
  async run(args) {
    const { runNotebook } = await import("./run.js");
    return runNotebook(args);
  },
};

registerCommand(install);
registerCommand(run);
