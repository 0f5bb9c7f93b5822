/* `bpfbook install`: writes the Jupyter kernelspec for this checkout. */
import { mkdirSync, writeFileSync, copyFileSync, existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { KERNEL_NAME, DISPLAY_NAME } from "./info.js";

export interface InstallOptions {
  /** Per-user (~/.local/share/jupyter/kernels) instead of system-wide (/usr/local/share/jupyter/kernels). */
  user?: boolean;
  /** An explicit kernels directory (overrides user/system). */
  prefix?: string;
}

export function kernelspec(): Record<string, unknown> {
  const main = join(dirname(fileURLToPath(import.meta.url)), "main.js");
  return {
    argv: [process.execPath, main, "{connection_file}"],
    display_name: DISPLAY_NAME,
    language: "typescript",
    // Interrupts arrive as interrupt_request on the control channel; the kernel's wire
    // thread turns them into SIGINT for itself, so a busy cell is interrupted too.
    // (Signal mode works as well, but would also hit child processes of the group.)
    interrupt_mode: "message",
    env: { NODE_OPTIONS: "--enable-source-maps" },
    metadata: { debugger: false },
  };
}

export function installKernelspec(opts: InstallOptions = {}): string {
  const base = opts.prefix ?? (opts.user ? join(homedir(), ".local", "share", "jupyter", "kernels") : "/usr/local/share/jupyter/kernels");
  const dir = join(base, KERNEL_NAME);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "kernel.json"), JSON.stringify(kernelspec(), null, 2) + "\n");
  const logo = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "kernel", "logo-64x64.png");
  if (existsSync(logo)) copyFileSync(logo, join(dir, "logo-64x64.png"));
  return dir;
}
