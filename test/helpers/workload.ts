/* Deterministic workload children (test/fixtures/workload.c), gated on stdin so
 * the tracer attaches, with the child's pid as filter, before any work is done. */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const WORKLOAD = join(ROOT, "test", "fixtures", "build", "workload");

export interface Gated {
  child: ChildProcess;
  pid: number;
  /** Lets the child start its work; resolves with its exit code when it is done. */
  go(): Promise<number>;
}

export function workload(args: string[], opts: { binary?: string } = {}): Gated {
  if (!existsSync(WORKLOAD)) throw new Error(`${WORKLOAD} is missing: run make -C test/fixtures`);
  const child = spawn(opts.binary ?? WORKLOAD, args, { stdio: ["pipe", "inherit", "inherit"] });
  // With --now the child never reads the gate byte and may be gone before we write it.
  child.stdin!.on("error", () => {});
  const exited = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => resolve(code ?? -1));
  });
  return {
    child,
    pid: child.pid!,
    go() {
      child.stdin!.end("g");
      return exited;
    },
  };
}

/** A copy of the workload under another name, so its comm differs. */
export function renamedWorkload(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), "bpfbook-"));
  const p = join(dir, name);
  copyFileSync(WORKLOAD, p);
  execFileSync("chmod", ["+x", p]);
  return p;
}

/** Names of the BPF programs loaded right now (bpftool prog show). */
export function loadedProgramNames(): string[] {
  const out = execFileSync("bpftool", ["prog", "show", "--json"], { encoding: "utf8" });
  return (JSON.parse(out) as { name?: string }[]).map((p) => p.name ?? "");
}

/** Our programs' names as the kernel shows them (truncated to 15 bytes). */
export const OUR_PROGRAMS = ["on_tracepoint", "on_tracepoint_d", "burst", "emit", "on_aggregate", "xdp_packets", "xdp_pass", "on_entry", "on_return", "on_sample", "on_sample_read", "on_switch"];

/** The distinct values of a table column, in first-seen order. */
export function uniq(t: { array(name: string): unknown }, column: string): unknown[] {
  return [...new Set(Array.from(t.array(column) as ArrayLike<unknown>))];
}

/** IDs of the BPF programs a process holds open (from /proc/PID/fdinfo), so tests see only their own. */
export function programIdsOf(pid: number = process.pid): number[] {
  const ids: number[] = [];
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return ids;
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== "anon_inode:bpf-prog") continue;
      const m = /^prog_id:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8"));
      if (m) ids.push(Number(m[1]));
    } catch {
      // the fd closed while we looked
    }
  }
  return [...new Set(ids)].sort((a, b) => a - b);
}

/** IDs of the BPF programs other living processes hold open (npm test runs the notebook suites beside the host tests). */
export function programIdsHeldElsewhere(): Set<number> {
  const held = new Set<number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    for (const id of programIdsOf(Number(name))) held.add(id);
  }
  return held;
}

/** IDs of all BPF programs loaded in the kernel. */
export function loadedProgramIds(): number[] {
  const out = execFileSync("bpftool", ["prog", "show", "--json"], { encoding: "utf8" });
  return (JSON.parse(out) as { id: number }[]).map((p) => p.id);
}
