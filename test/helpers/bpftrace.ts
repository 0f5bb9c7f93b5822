/* Runs a bpftrace program as the peer in cross-checks: starts it, waits until it
 * has attached, lets the caller run a workload, then stops it and parses its maps. */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { readdirSync, readlinkSync } from "node:fs";
import { cpus } from "node:os";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function perfEventFds(pid: number): number {
  let n = 0;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === "anon_inode:[perf_event]") n++;
      } catch { /* closed meanwhile */ }
    }
  } catch { /* exited */ }
  return n;
}

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
  // "Attaching N probes..." prints before the probes are live, and under load the last one
  // can take a while: wait (at most 10 s) for a perf_event fd per probe past the output
  // buffer's one per CPU, then a moment more.
  const probes = Number(/^Attaching (\d+) probe/m.exec(out)?.[1] ?? 1);
  const want = probes + cpus().length;
  for (let i = 0; i < 1000 && perfEventFds(child.pid!) < want; i++) await sleep(10);
  await sleep(100);
  return {
    async stop() {
      let gone = child.exitCode !== null;
      const exited = new Promise<void>((r) => (gone ? r() : child.once("exit", () => r(void (gone = true)))));
      // bpftrace 0.17 can miss a SIGINT (it slept on in epoll_wait until a second one):
      // repeat it, then kill it rather than hang the suite (its maps are then missing).
      for (let i = 0; i < 5 && !gone; i++) {
        child.kill("SIGINT");
        await Promise.race([exited, sleep(2000)]);
      }
      if (!gone) child.kill("SIGKILL");
      await exited;
      return out;
    },
  };
}

/** Parses `@name[k1, k2]: value` lines into a map keyed by "k1,k2". */
export function parseMap(out: string, name = ""): Map<string, number> {
  return new Map(entries(out, name));
}

/** `@name[k1, k2]: N` lines as ["k1,k2", N], in bpftrace's order. */
function* entries(out: string, name: string): Generator<[string, number]> {
  const re = new RegExp(`^@${name}(?:\\[(.*)\\])?: (-?\\d+)$`, "gm");
  for (const x of out.matchAll(re)) yield [(x[1] ?? "").split(", ").join(","), Number(x[2])];
}

/**
 * A count or sum map's entries, entries whose keys print alike added up: bpftrace 0.17 keys a
 * char array by all its bytes, garbage after the NUL included, so one printed key can be
 * several entries (block_rq_issue's rwbs did this in a CI run).
 */
export function parseCounts(out: string, name = ""): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, n] of entries(out, name)) m.set(k, (m.get(k) ?? 0) + n);
  return m;
}

/** bpftrace's `@name[kstack]: N` blocks: each stack's frames (function names, offsets dropped, leaf first) and count. */
export function parseStacks(out: string, name: string): { frames: string[]; count: number }[] {
  const re = new RegExp(`^@${name}\\[\\n([\\s\\S]*?)\\n\\]: (\\d+)$`, "gm");
  return [...out.matchAll(re)].map((m) => ({
    frames: m[1]!.split("\n").map((l) => l.trim()).filter(Boolean).map((f) => f.replace(/\+\d+$/, "")),
    count: Number(m[2]),
  }));
}
