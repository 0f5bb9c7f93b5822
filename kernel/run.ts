/* `bpfbook run`: executes a notebook headless through Jupyter's own client
 * (nbclient, Debian's python3-nbclient) with this kernel. */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const PYTHON = "/usr/bin/python3"; // Debian's: the one that sees python3-nbclient

export function runNotebook(args: string[]): Promise<number> {
  if (!args.some((a) => a.endsWith(".ipynb"))) {
    process.stderr.write("usage: bpfbook run <notebook.ipynb> [-o executed.ipynb] [--html report.html] [--timeout SECONDS]\n");
    return Promise.resolve(2);
  }
  const script = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "kernel", "run_notebook.py");
  if (!existsSync(PYTHON)) {
    process.stderr.write(`bpfbook run needs ${PYTHON} with nbclient (apt-get install python3-nbclient, or ./install.sh)\n`);
    return Promise.resolve(1);
  }
  return new Promise((resolve) => {
    const child = spawn(PYTHON, [script, ...args], { stdio: "inherit" });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
