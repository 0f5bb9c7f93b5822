/* A throwaway classic Notebook 6 server (Debian's /usr/bin/jupyter) for browser tests:
 * its own config, data and runtime dirs under one temp dir, a token, a free port on
 * 127.0.0.1, and a stop() that shuts its kernels down (REST API first, then by pid)
 * and removes the temp dir, whatever state things are in. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const JUPYTER = "/usr/bin/jupyter";
export const SYSTEM_JUPYTER_DATA = "/usr/local/share/jupyter";

/** Why a Notebook 6 server cannot be started here, or undefined if it can. */
export function notebook6Missing(): string | undefined {
  if (!existsSync(JUPYTER)) return `${JUPYTER} is missing`;
  const v = spawnSync(JUPYTER, ["notebook", "--version"], { encoding: "utf8", timeout: 30_000 });
  if (v.status !== 0 || !v.stdout?.startsWith("6.")) return `${JUPYTER} notebook is not version 6 (${(v.stdout || v.stderr || "no output").trim()})`;
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `p` settles or after `ms`, whichever is first, leaving no timer behind. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export interface NotebookServerOptions {
  token?: string;
  /** How long to wait for /api/status to answer. */
  startTimeoutMs?: number;
  /** Extra environment for the server (and so its kernels). */
  env?: Record<string, string>;
}

export interface NotebookServer {
  port: number;
  token: string;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  /** The temp dir holding everything below. */
  root: string;
  /** The server's --notebook-dir: write notebooks here. */
  notebookDir: string;
  configDir: string;
  dataDir: string;
  runtimeDir: string;
  /** The server's environment (JUPYTER_* pointing into root). */
  env: NodeJS.ProcessEnv;
  /** A URL on the server with the token appended. */
  url(path: string): string;
  /** A REST call with the token in the Authorization header; JSON back (or null for 204). */
  api<T = unknown>(path: string, init?: RequestInit): Promise<T>;
  /** Pids of the kernel processes this server started (found by their connection file in runtimeDir). */
  kernelPids(): number[];
  /** Everything the server printed so far (for failure messages). */
  log(): string;
  /** Kernels shut down, server stopped, temp dir removed. Safe to call twice. */
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; it holds nothing any more, so it counts as gone.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Processes whose command line mentions `needle` (a path unique to this server). */
export function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(needle)) out.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** BPF program ids a process holds open (shared with the other tests). */
export { programIdsOf as bpfProgIdsOf } from "./workload.js";

export async function startNotebookServer(opts: NotebookServerOptions = {}): Promise<NotebookServer> {
  const token = opts.token ?? `bpfbook-${Math.random().toString(36).slice(2)}`;
  const root = mkdtempSync(join(tmpdir(), "bpfbook-nbserver-"));
  const notebookDir = join(root, "notebooks");
  const configDir = join(root, "config");
  const dataDir = join(root, "data");
  const runtimeDir = join(root, "runtime");
  for (const d of [notebookDir, configDir, dataDir, runtimeDir]) mkdirSync(d, { recursive: true });
  // JUPYTER_PATH entries come before JUPYTER_DATA_DIR in Jupyter's search path, so the data
  // dir goes first in it too: a kernelspec written there shadows a system one of the same name.
  const jupyterPath = [dataDir, SYSTEM_JUPYTER_DATA, ...(process.env.JUPYTER_PATH ?? "").split(":").filter((p) => p && p !== SYSTEM_JUPYTER_DATA)].join(":");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_CONFIG_DIR: configDir,
    JUPYTER_DATA_DIR: dataDir,
    JUPYTER_RUNTIME_DIR: runtimeDir,
    JUPYTER_PATH: jupyterPath,
    // Debian's python3 with Debian's packages, whatever pyenv has on PATH.
    PYTHONPATH: "",
    PYTHONNOUSERSITE: "1",
    // Python 3.11 + debugpy print a frozen-modules warning at startup otherwise.
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
    ...opts.env,
  };
  delete env.PYTHONHOME;
  delete env.JUPYTER_CONFIG_PATH;
  let output = "";
  let server: ChildProcess | undefined;
  let port = 0;
  let stopped = false;
  const seenKernels = new Set<number>();
  const kernelPids = () => {
    const pids = pidsMentioning(runtimeDir).filter((p) => p !== server?.pid);
    for (const p of pids) seenKernels.add(p);
    return pids;
  };
  const url = (path: string) => `http://127.0.0.1:${port}${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
  const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, {
      ...init,
      headers: { Authorization: `token ${token}`, ...(init.body ? { "Content-Type": "application/json" } : {}), ...(init.headers as Record<string, string> | undefined) },
      signal: init.signal ?? AbortSignal.timeout(20_000),
    });
    if (!r.ok) throw new Error(`${init.method ?? "GET"} ${path}: HTTP ${r.status} ${await r.text()}`);
    return (r.status === 204 ? null : await r.json()) as T;
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    kernelPids();
    const running = server && server.exitCode === null && server.signalCode === null;
    if (running) {
      // 1. Every kernel through the REST API (shutdown_request, then killed if it lingers).
      try {
        const kernels = await api<{ id: string }[]>("/api/kernels", { signal: AbortSignal.timeout(5_000) });
        await Promise.all(kernels.map((k) => api(`/api/kernels/${k.id}`, { method: "DELETE", signal: AbortSignal.timeout(15_000) }).catch(() => undefined)));
      } catch {
        // the server may be wedged; the pids below are the fallback
      }
      // 2. The server: SIGTERM to its process group (it cleans up kernels it still knows), then SIGKILL.
      const exited = new Promise((r) => server!.once("exit", r));
      try {
        process.kill(-server!.pid!, "SIGTERM");
      } catch {
        server!.kill("SIGTERM");
      }
      await within(exited, 10_000);
      if (server!.exitCode === null && server!.signalCode === null) {
        try {
          process.kill(-server!.pid!, "SIGKILL");
        } catch {
          server!.kill("SIGKILL");
        }
        await within(exited, 3_000);
      }
    }
    // 3. Kernels run in sessions of their own: anything still holding our connection files dies by pid.
    kernelPids();
    const end = Date.now() + 5_000;
    while ([...seenKernels].some(alive) && Date.now() < end) await sleep(100);
    for (const pid of seenKernels) {
      if (!alive(pid)) continue;
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    const end2 = Date.now() + 3_000;
    while ([...seenKernels].some(alive) && Date.now() < end2) await sleep(50);
    rmSync(root, { recursive: true, force: true });
  };

  try {
    port = await freePort();
    server = spawn(
      JUPYTER,
      ["notebook", "--no-browser", "--allow-root", "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0", `--NotebookApp.token=${token}`, `--notebook-dir=${notebookDir}`],
      { env, cwd: notebookDir, stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    server.stdout!.on("data", (b: Buffer) => (output += b.toString()));
    server.stderr!.on("data", (b: Buffer) => (output += b.toString()));
    const exited = new Promise<never>((_, reject) =>
      server!.once("exit", (code, sig) => reject(new Error(`jupyter notebook exited (${code ?? sig}) before answering:\n${output.slice(-3000)}`))),
    );
    const timeout = opts.startTimeoutMs ?? 30_000;
    const ready = (async () => {
      const end = Date.now() + timeout;
      for (;;) {
        try {
          if ((await fetch(`http://127.0.0.1:${port}/api/status?token=${token}`, { signal: AbortSignal.timeout(2_000) })).ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > end) throw new Error(`jupyter notebook did not answer on port ${port} in ${timeout} ms:\n${output.slice(-3000)}`);
        await sleep(150);
      }
    })();
    exited.catch(() => undefined);
    await Promise.race([ready, exited]);
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, token, baseUrl: `http://127.0.0.1:${port}`, root, notebookDir, configDir, dataDir, runtimeDir, env, url, api, kernelPids, log: () => output, stop };
}
