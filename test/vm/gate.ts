/* A workload child blocked at its start gate, for probes that must see only the mode's own
 * calls: under qemu's TCG a child's exec and loader take long, and a probe attached after a
 * fixed sleep could see them or miss the start. Shared by the guest halves of the VM tests. */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { WORKLOAD } from "../helpers/workload.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface GatedChild {
  pid: number;
  /** Lets the child start its work; resolves with its exit code. */
  go(): Promise<number>;
}

/**
 * Starts the workload (or `binary`, a copy of it) and waits until it blocks at its gate:
 * in readv(2) (syscall 19 on x86-64), reading the gate byte. Its start-up is then over.
 */
export async function gated(args: string[], binary: string = WORKLOAD): Promise<GatedChild> {
  const c = spawn(binary, args, { stdio: ["pipe", "inherit", "inherit"] });
  c.stdin.on("error", () => {});
  const done = new Promise<number>((r) => c.once("exit", (code) => r(code ?? -1)));
  for (let i = 0; i < 600; i++) {
    let sc = "";
    try {
      sc = readFileSync(`/proc/${c.pid}/syscall`, "utf8");
    } catch {
      // not yet
    }
    if (sc.startsWith("19 ")) break;
    await sleep(50);
  }
  return { pid: c.pid!, go: () => (c.stdin.end("g"), done) };
}
