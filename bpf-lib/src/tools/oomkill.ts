/* oomkill: OOM kills, the victim and the task whose allocation triggered the kill. The
 * oom:mark_victim tracepoint fires as the victim is chosen, in the triggering task. */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { bar } from "../plot/bar.js";
import { OOMKILL } from "./catalog.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

/** pid and comm filter the triggering task (the one whose allocation failed). */
export interface OomkillOptions extends ToolFilter {}

/** A row of oomkill. */
export interface OomkillRow {
  ts: number;
  /** The task whose allocation hit the limit. */
  pid: number;
  comm: string;
  /** The process killed. */
  victim_pid: number;
  victim_comm: string;
  /** The victim's sizes, KiB. */
  total_vm: number;
  anon_rss: number;
  file_rss: number;
  shmem_rss: number;
  uid: number;
  oom_score_adj: number;
}

/** Each OOM kill: victim, its memory, and the triggering task. */
export function oomkill(options?: OomkillOptions): EventsTool<OomkillRow> {
  const o = toolOptions(options, OOMKILL);
  const source = tracepoint("oom:mark_victim", {
    fields: ["pid", "comm", "total_vm", "anon_rss", "file_rss", "shmem_rss", "uid", "oom_score_adj"],
    where: filterOf(o),
  });
  const shape = (t: ColumnTable) => t.rename({ args_pid: "victim_pid", args_comm: "victim_comm" }).select(...OOMKILL.columns);
  return eventsTool<OomkillRow>(OOMKILL, source, shape, (t) => bar(t, { x: "victim_comm", title: "OOM kills by victim", horizontal: true }));
}
