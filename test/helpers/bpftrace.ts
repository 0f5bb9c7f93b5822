/* Runs a bpftrace program as the peer in cross-checks: starts it, waits until it
 * has attached, lets the caller run a workload, then stops it and parses its maps. */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface BpftraceRun {
  /** Stops bpftrace (SIGINT: it prints its maps) and returns its stdout. */
  stop(): Promise<string>;
}

export async function bpftrace(program: string): Promise<BpftraceRun> {
  const child = spawn("bpftrace", ["-e", program], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const rl = createInterface({ input: child.stdout! });
  const attached = new Promise<void>((resolve, reject) => {
    rl.on("line", (l) => {
      out += l + "\n";
      if (l.startsWith("Attaching")) resolve();
    });
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.once("exit", (code) => reject(new Error(`bpftrace exited with ${code} before attaching: ${err}`)));
  });
  await attached;
  // "Attaching N probes..." prints before the last probe is live; give it a moment.
  await new Promise((r) => setTimeout(r, 300));
  return {
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT");
      await exited;
      return out;
    },
  };
}

/** Parses `@name[k1, k2]: value` lines into a map keyed by "k1,k2". */
export function parseMap(out: string, name = ""): Map<string, number> {
  const m = new Map<string, number>();
  const re = new RegExp(`^@${name}(?:\\[(.*)\\])?: (-?\\d+)$`, "gm");
  for (const x of out.matchAll(re)) m.set((x[1] ?? "").split(", ").join(","), Number(x[2]));
  return m;
}
