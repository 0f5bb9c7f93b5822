/* filetop: which files are read and written, by whom, how much. Tracepoints see file
 * descriptors, not files (vfs_read/vfs_write, where bcc reads the file, need kprobes):
 * counts and bytes are kept in the kernel per process and fd, and each fd is named from
 * /proc/PID/fd/FD in user space, looked up again every 250 ms while the tool runs. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { readlinkSync } from "node:fs";
import { tracepoints } from "../probes/tracepoint/group.js";
import { listTracepoints } from "../tracefs/catalog.js";
import type { AggCollectOptions, AggregationRun, AggTable } from "../engine/aggregation-run.js";
import { collectOptions } from "../options/durations.js";
import { bar } from "../plot/bar.js";
import { NotSupportedError } from "../errors.js";
import { FILETOP } from "./catalog.js";
import { toolColumns } from "./shared.js";
import { aggregationTool, filterOf, toolOptions, type AggregationTool, type ToolFilter } from "./tool.js";

export type FiletopOptions = ToolFilter;

const READS = ["syscalls:sys_enter_read", "syscalls:sys_enter_pread64"];
const WRITES = ["syscalls:sys_enter_write", "syscalls:sys_enter_pwrite64"];
/** How often a running filetop names the fds it has counted so far. */
const LOOKUP_MS = 250;

/** What /proc says a process's fd is ("/etc/hostname", "pipe:[1234]", "socket:[99]"), or null once it is closed or the process gone. */
function fdTarget(pid: number, fd: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return null;
  }
}

interface KeyRow {
  pid: number;
  fd: number;
}

/**
 * Reads and writes (read, pread64, write, pwrite64) per process and file descriptor, with the
 * bytes asked for (the syscall's count, as bcc's filetop counts vfs_read's), and the file
 * each fd named while the tool ran (null for an fd closed before it was looked at).
 */
export function filetop(options?: FiletopOptions): AggregationTool {
  const o = toolOptions(options, FILETOP);
  const all = new Set(listTracepoints());
  const missing = [...READS, ...WRITES].filter((n) => !all.has(n));
  if (missing.length) throw new NotSupportedError("tools.filetop()", `this kernel has no ${missing.join(", ")} tracepoint${missing.length > 1 ? "s" : ""}`);
  const agg = tracepoints([...READS, ...WRITES], { where: filterOf(o) }).stats("count", { by: ["probe", "pid", "comm", "fd"] });
  // the last name seen for each pid:fd (an fd closed and reused keeps the newer name)
  const names = new Map<string, string>();
  const lookUp = (t: ColumnTable) => {
    for (const r of t.objects() as KeyRow[]) {
      const name = fdTarget(r.pid, r.fd);
      if (name !== null) names.set(`${r.pid}:${r.fd}`, name);
    }
  };
  const start = (opts?: AggCollectOptions): AggregationRun => {
    const run = agg.start(opts);
    // read in turns (snapshotAsync): a look must not hold the loop however many files are open
    let looking = false;
    const timer = setInterval(() => {
      if (!run.running || looking) return;
      looking = true;
      run.snapshotAsync().then(lookUp, () => {}).finally(() => (looking = false));
    }, LOOKUP_MS);
    timer.unref();
    // the final look happens in shape(), on the finished table
    void run.finished().finally(() => clearInterval(timer)).catch(() => {});
    return run;
  };
  const source = {
    start,
    async collect(opts: AggCollectOptions): Promise<AggTable> {
      return start(collectOptions(opts, "tools.filetop().collect()")).finished();
    },
  };
  const shape = (t: ColumnTable) => {
    lookUp(t);
    const keys = t.columnNames().includes("interval") ? ["interval", "time", "pid", "comm", "fd"] : ["pid", "comm", "fd"];
    const rows = t
      .params({ reads: READS })
      .derive({ read: (d: { probe: string }, $: { reads: string[] }) => aq.op.includes($.reads, d.probe, 0) })
      .groupby(...keys)
      .rollup({
        reads: (d: { read: boolean; count: number }) => aq.op.sum(d.read ? d.count : 0),
        writes: (d: { read: boolean; count: number }) => aq.op.sum(d.read ? 0 : d.count),
        read_bytes: (d: { read: boolean; sum: number }) => aq.op.sum(d.read ? d.sum : 0),
        write_bytes: (d: { read: boolean; sum: number }) => aq.op.sum(d.read ? 0 : d.sum),
      })
      .derive({ file: aq.escape((d: { pid: number; fd: number }) => names.get(`${d.pid}:${d.fd}`) ?? null) });
    return toolColumns(rows.numRows() ? rows.orderby(aq.desc((d: { read_bytes: number; write_bytes: number }) => d.read_bytes + d.write_bytes)) : rows, FILETOP);
  };
  const chart = (t: ColumnTable) => bar(t.derive({ bytes: (d: { read_bytes: number; write_bytes: number }) => d.read_bytes + d.write_bytes }), { x: "file", y: "bytes", title: "bytes read and written by file", horizontal: true });
  return aggregationTool(FILETOP, source, shape, chart);
}
