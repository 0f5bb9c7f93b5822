/* What each tool is (name, question, counterpart, options, columns): plain data, so the
 * shell can list and parse tools without loading libbpf. Each tool's module imports its
 * entry from here. */
import { FILTER_OPTIONS, type ToolInfo } from "./tool-info.js";

export const OPENSNOOP: ToolInfo = {
  name: "opensnoop",
  summary: "which files are opened, by whom, with what result",
  counterpart: "bcc opensnoop, bpftrace opensnoop.bt",
  builtOn: "tracepoints syscalls:sys_enter_openat + sys_exit_openat, paired in the kernel",
  options: [...FILTER_OPTIONS, { name: "failed", type: "boolean", help: "only failed opens" }],
  columns: ["ts", "pid", "tid", "comm", "ret", "ret_name", "flags_name", "filename", "latency"],
};

export const SYSCOUNT: ToolInfo = {
  name: "syscount",
  summary: "which syscalls run, how often, by which processes, and which fail",
  counterpart: "bcc syscount (-P: by process), bpftrace syscount.bt",
  builtOn: "tracepoints raw_syscalls:sys_enter (raw_syscalls:sys_exit with errors), counted in the kernel",
  options: [...FILTER_OPTIONS, { name: "by", type: "string", help: "syscall (default), process, or both" }, { name: "errors", type: "boolean", help: "only failed calls, by errno" }],
  columns: ["pid", "comm", "syscall", "ret", "errno", "count"],
};
