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

export const RUNQLAT: ToolInfo = {
  name: "runqlat",
  summary: "how long runnable tasks wait for a CPU",
  counterpart: "bcc runqlat (-P: by: \"pid\"), bpftrace runqlat.bt",
  builtOn: "tracepoints sched:sched_wakeup + sched_wakeup_new → sched:sched_switch, paired in the kernel by the woken thread; pid and comm (filter and keys) are the woken task's, and pid is its thread id (the records carry no process id)",
  options: [...FILTER_OPTIONS, { name: "by", type: "string", help: "none (default), pid (per thread), or comm" }],
  columns: ["interval", "time", "pid", "comm", "bucket", "low", "high", "count"],
};

export const RUNQLEN: ToolInfo = {
  name: "runqlen",
  summary: "how many tasks wait for a CPU behind the running one",
  counterpart: "bcc runqlen (-C: by: \"cpu\"), bpftrace runqlen.bt",
  builtOn: "perf sampling at 99 Hz on every CPU, reading current->se.cfs_rq->nr_queued in the kernel (CONFIG_FAIR_GROUP_SCHED); pid and comm keep the samples taken while that process ran",
  options: [...FILTER_OPTIONS, { name: "by", type: "string", help: "none (default) or cpu" }, { name: "queue", type: "string", help: "task (default: the running task's CFS queue) or cpu (the CPU's whole run queue)" }, { name: "hz", type: "number", help: "samples per second per CPU (default 99)" }],
  columns: ["interval", "time", "cpu", "bucket", "low", "high", "count"],
};

export const CPUDIST: ToolInfo = {
  name: "cpudist",
  summary: "how long tasks run on a CPU each time they get one",
  counterpart: "bcc cpudist (-P: by: \"pid\")",
  builtOn: "tracepoint sched:sched_switch twice: switch-in (next_pid) to the same thread's switch-out (prev_pid), paired in the kernel; the idle task is left out",
  options: [...FILTER_OPTIONS, { name: "by", type: "string", help: "none (default), pid (per process), or comm" }],
  columns: ["interval", "time", "pid", "comm", "bucket", "low", "high", "count"],
};

export const OFFCPUTIME: ToolInfo = {
  name: "offcputime",
  summary: "where threads block, and for how long",
  counterpart: "bcc offcputime, bpftrace offcputime.bt",
  builtOn: "tracepoint sched:sched_switch with kernel and user stacks (offcpu()); pid is filtered in the kernel, comm on the folded rows",
  options: [...FILTER_OPTIONS, { name: "preempted", type: "boolean", help: "also time spent preempted (runnable)" }, { name: "minNs", type: "number", help: "ignore shorter off-CPU periods (default 1000 ns)" }],
  columns: ["pid", "comm", "stack", "ns", "count"],
};

export const PROFILE: ToolInfo = {
  name: "profile",
  summary: "what runs on the CPUs",
  counterpart: "bcc profile, bpftrace profile:hz:99 { @[kstack, ustack, comm] = count(); }",
  builtOn: "perf cpu-clock sampling on every CPU with kernel and user stacks (profile()); pid is filtered in the kernel, comm on the folded rows",
  options: [...FILTER_OPTIONS, { name: "hz", type: "number", help: "samples per second per CPU (default 99)" }, { name: "idle", type: "boolean", help: "keep the idle task's samples" }],
  columns: ["pid", "comm", "stack", "count"],
};

export const BIOLATENCY: ToolInfo = {
  name: "biolatency",
  summary: "how long block I/Os take",
  counterpart: "bcc biolatency (-D: by: \"disk\"), bpftrace biolatency.bt",
  builtOn: "tracepoints block:block_rq_issue → block:block_rq_complete, paired in the kernel by device and sector; no pid/comm filter (a completion runs in whatever task the interrupt hit); disk names from /sys/dev/block",
  options: [...FILTER_OPTIONS, { name: "by", type: "string", help: "none (default), disk, or rwbs" }, { name: "disk", type: "string", help: "only this disk (\"sda\", \"loop0\")" }],
  columns: ["interval", "time", "disk", "rwbs", "bucket", "low", "high", "count"],
};

export const BIOSNOOP: ToolInfo = {
  name: "biosnoop",
  summary: "each block I/O: who issued it, where, how big, how long",
  counterpart: "bcc biosnoop, bpftrace biosnoop.bt",
  builtOn: "tracepoints block:block_rq_issue → block:block_rq_complete, paired in the kernel by device and sector, the issuing task carried; disk filtered in the kernel, pid/comm (the issuer) on the rows; disk names from /sys/dev/block",
  options: [...FILTER_OPTIONS, { name: "disk", type: "string", help: "only this disk (\"sda\", \"loop0\")" }],
  columns: ["ts", "pid", "comm", "disk", "rwbs", "sector", "bytes", "latency", "error"],
};

export const BIOTOP: ToolInfo = {
  name: "biotop",
  summary: "who does block I/O, on which disk, how many bytes",
  counterpart: "bcc biotop",
  builtOn: "tracepoint block:block_rq_issue, bytes summed in the kernel per process, disk and rwbs (the issuing task: buffered writes show the flusher); disk names from /sys/dev/block",
  options: [...FILTER_OPTIONS, { name: "disk", type: "string", help: "only this disk (\"sda\", \"loop0\")" }],
  columns: ["interval", "time", "pid", "comm", "disk", "rwbs", "count", "bytes"],
};

export const FILETOP: ToolInfo = {
  name: "filetop",
  summary: "which files are read and written, by whom, how much",
  counterpart: "bcc filetop",
  builtOn: "tracepoints syscalls:sys_enter_read, sys_enter_pread64, sys_enter_write, sys_enter_pwrite64, counted in the kernel per process and fd with the bytes asked for (bcc uses kprobes on vfs_read/vfs_write, missing here, and sees readv and mmap'd I/O too); files are named in user space from /proc/PID/fd/FD, every 250 ms while running: an fd closed before that has file null",
  options: [...FILTER_OPTIONS],
  columns: ["interval", "time", "pid", "comm", "fd", "file", "reads", "writes", "read_bytes", "write_bytes"],
};

export const CACHESTAT: ToolInfo = {
  name: "cachestat",
  summary: "page cache insertions, removals and dirtyings, per interval",
  counterpart: "bcc cachestat (without HITS and HITRATIO)",
  builtOn: "tracepoints filemap:mm_filemap_add_to_page_cache, filemap:mm_filemap_delete_from_page_cache and writeback:writeback_dirty_folio (writeback_dirty_page before 5.17), counted in the kernel, in folios; no hit ratio: bcc counts accesses with kprobes on folio_mark_accessed()/mark_buffer_dirty(), and no tracepoint marks a page cache hit",
  options: [...FILTER_OPTIONS],
  columns: ["interval", "time", "added", "removed", "dirtied"],
};
