/* biosnoop: each block I/O, who issued it, on which disk, how big, how long. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { block } from "../probes/presets.js";
import { bar } from "../plot/bar.js";
import { BIOSNOOP } from "./catalog.js";
import { diskDevt, diskName } from "./disks.js";
import { eventsTool, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface BiosnoopOptions extends ToolFilter {
  /** Only this disk, as lsblk names it ("sda", "loop0"); filtered in the kernel. */
  disk?: string;
}

/** A row of biosnoop. */
export interface BiosnoopRow {
  /** The completion's time (CLOCK_MONOTONIC ns). */
  ts: number;
  /** The process that issued the request (the completion runs in whatever task the interrupt hit). */
  pid: number;
  comm: string;
  /** The disk's name from sysfs ("sda"), or "MAJ:MIN" for a device gone since. */
  disk: string;
  /** "R", "W", "WS" (sync write), "FF" (flush), ... */
  rwbs: string;
  sector: number;
  bytes: number;
  /** ns from issue to completion. */
  latency: number;
  /** 0, or the negative errno of a failed request. */
  error: number;
}

/** Each block request, issue → completion matched by device and sector in the kernel. */
export function biosnoop(options?: BiosnoopOptions): EventsTool<BiosnoopRow> {
  const o = toolOptions(options, BIOSNOOP);
  const devt = o.disk === undefined ? undefined : diskDevt(o.disk, "tools.biosnoop()");
  const source = block.requests(devt === undefined ? {} : { dev: devt });
  const shape = (t: ColumnTable) => {
    // the issuer is the task at block_rq_issue (start_pid/start_comm): pid and comm are its
    let r = t.derive({ pid: (d: { start_pid: number }) => d.start_pid, comm: (d: { start_comm: string }) => d.start_comm });
    if (o.pid !== undefined) r = r.params({ pid: o.pid }).filter((d: { pid: number }, $: { pid: number }) => d.pid === $.pid);
    if (o.comm !== undefined) r = r.params({ comm: o.comm }).filter((d: { comm: string }, $: { comm: string }) => d.comm === $.comm);
    return r.derive({ disk: aq.escape((d: { dev: number }) => diskName(d.dev)) }).select(...BIOSNOOP.columns);
  };
  // the pair's row type names its columns; the tool reshapes them to BiosnoopRow
  return eventsTool<BiosnoopRow>(BIOSNOOP, source as unknown as Parameters<typeof eventsTool>[1], shape, (t) => bar(t, { x: "comm", y: "bytes", title: "block I/O bytes by process", horizontal: true }));
}
