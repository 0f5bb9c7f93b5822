/* The notebook kernel's subcommands of `bpfbook`: install, run, notebook. */
import { registerCommand, parseFlags, type Command } from "../bpf-lib/src/cli/commands.js";
import { installKernelspec } from "./install.js";

const install: Command = {
  name: "install",
  summary: "install the Jupyter kernelspec (TypeScript (eBPF))",
  usage: "bpfbook install [--user] [--prefix DIR]\n  Writes kernel.json to /usr/local/share/jupyter/kernels/bpfbook (or ~/.local/share/... with --user).",
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
  usage:
    "bpfbook run <notebook.ipynb> [-o executed.ipynb] [--html report.html] [--timeout SECONDS] [--no-execute] [--no-images] [--no-sign] [--record | --replay] [--recording FOLDER]\n" +
    "  -o: the executed notebook, every chart with a static image, signed; --html: an offline HTML report;\n" +
    "  --record: save what every bpfbook call returned next to the notebook; --replay: run from it, without BPF or root. See docs/publishing.md.",
  async run(args) {
    const { runNotebook } = await import("./run.js");
    return runNotebook(args);
  },
};

registerCommand(install);
registerCommand(run);
