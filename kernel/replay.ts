/* The notebook's record/replay mode: from the environment (`bpfbook run --record` and
 * `--replay` set it) or from a `%bpfbook record|replay [folder]` line at the top of a
 * cell. Cells import bpfbook through the session's proxy; the kernel numbers the calls
 * by cell, saves the recording after every cell, and shows the mode in a banner so a
 * replay is never mistaken for live data. */
import { resolve } from "node:path";
import { ReplaySession, machineFacts } from "../bpf-lib/src/replay/session.js";

let session: ReplaySession | null = null;
let announced = false;

const MAGIC = /^%bpfbook[ \t]+(record|replay|live)(?:[ \t]+(\S+))?[ \t]*(?:\r?\n|$)/;

/** Starts the mode the environment asks for (BPFBOOK_RECORD or BPFBOOK_REPLAY: a recording folder). */
export async function sessionFromEnv(cwd: string): Promise<ReplaySession | null> {
  const replay = process.env.BPFBOOK_REPLAY, record = process.env.BPFBOOK_RECORD;
  if (replay) session = ReplaySession.replay(resolve(cwd, replay));
  else if (record) session = ReplaySession.record(resolve(cwd, record), machineFacts(await doctorReport()));
  return session;
}

async function doctorReport(): Promise<unknown> {
  try {
    const { doctor } = await import("../bpf-lib/src/doctor/doctor.js");
    return await doctor();
  } catch (e) {
    return { error: String(e) };
  }
}

export function currentSession(): ReplaySession | null {
  return session;
}

/** A cell starting with `%bpfbook record|replay|live [folder]`: switches mode; returns the rest of the cell, or null when there was no such line. */
export async function switchMode(code: string, cwd: string, notebookName = "notebook"): Promise<{ rest: string; changed: boolean } | null> {
  const m = MAGIC.exec(code);
  if (!m) return null;
  const mode = m[1] as "record" | "replay" | "live";
  const dir = resolve(cwd, m[2] ?? `${notebookName}.recording`);
  session?.save();
  session = mode === "live" ? null : mode === "replay" ? ReplaySession.replay(dir) : ReplaySession.record(dir, machineFacts(await doctorReport()));
  announced = false;
  return { rest: "\n" + code.slice(m[0].length), changed: true };
}

/** Before a cell runs: its number for the log. */
export function beginCell(count: number): void {
  if (session) session.cell = count;
}

/** After a cell: the recording so far is on disk. */
export function endCell(): void {
  session?.save();
}

/** The banner shown once, in the first cell's output, while recording or replaying. */
export function banner(): { "text/plain": string; "text/html": string } | null {
  if (!session || announced) return null;
  announced = true;
  const m = session.machine;
  const text = session.mode === "replay"
    ? `REPLAY — not live data. Every bpfbook call returns what was recorded on ${m.hostname} (Linux ${m.kernel}, ${m.cpus} CPUs) at ${m.recordedAt}, from ${session.dir}; your own analysis code runs for real.`
    : `RECORDING — every bpfbook call and what it returns is saved to ${session.dir}, so this notebook can be replayed without BPF or root (bpfbook run <notebook> --replay).`;
  const color = session.mode === "replay" ? "#8a4b00" : "#1f5f99";
  return { "text/plain": text, "text/html": `<div style="border-left:4px solid ${color};padding:4px 8px;color:${color};font-family:sans-serif"><b>${session.mode === "replay" ? "REPLAY" : "RECORDING"}</b> ${text.replace(/^[A-Z]+ — /, "").replace(/&/g, "&amp;").replace(/</g, "&lt;")}</div>` };
}
