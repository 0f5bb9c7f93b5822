/* opensnoop: which files are opened, by whom, with what result. openat's entry and exit
 * are paired in the kernel by thread; the filename is read at entry and carried over. */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { pair } from "../probes/pair.js";
import { withNames } from "../analysis/names/with-names.js";
import { bar } from "../plot/bar.js";
import { OPENSNOOP } from "./catalog.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface OpensnoopOptions extends ToolFilter {
  /** Only failed opens (ret < 0). */
  failed?: boolean;
}

/** A row of opensnoop. */
export interface OpensnoopRow {
  ts: number;
  pid: number;
  tid: number;
  comm: string;
  /** The file descriptor, or the negative errno. */
  ret: number;
  /** The errno's name ("ENOENT") for a failure, else null. */
  ret_name: string | null;
  /** The open flags by name ("O_RDONLY|O_CLOEXEC"). */
  flags_name: string;
  filename: string;
  /** ns from entry to exit. */
  latency: number;
}

/** Each openat(2): the process, the file, the flags, the result (errno names for failures) and the time it took. */
export function opensnoop(options?: OpensnoopOptions): EventsTool<OpensnoopRow> {
  const o = toolOptions(options, OPENSNOOP);
  const where = filterOf(o);
  const source = pair(
    tracepoint("syscalls:sys_enter_openat", { fields: ["filename", "flags"], where }),
    tracepoint("syscalls:sys_exit_openat", { fields: ["ret"], where: o.failed ? { ...where, ret: { lt: 0 } } : where }),
  );
  const shape = (t: ColumnTable) =>
    withNames(withNames(t, "syscalls:sys_enter_openat", ["flags"]), "syscalls:sys_exit_openat", ["ret"]).select(...OPENSNOOP.columns);
  return eventsTool<OpensnoopRow>(OPENSNOOP, source, shape, (t) => bar(t, { x: "filename", title: "opens by file", horizontal: true }));
}
