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

export const TCPCONNECT: ToolInfo = {
  name: "tcpconnect",
  summary: "which processes open TCP connections, to where",
  counterpart: "bcc tcpconnect, bpftrace tcpconnect.bt",
  builtOn: "tracepoint sock:inet_sock_set_state, the change to TCP_SYN_SENT (in the connecting task; bcc uses kprobes on tcp_v4_connect/tcp_v6_connect, which this kernel lacks)",
  options: [...FILTER_OPTIONS, { name: "dport", type: "number", help: "only connections to this port" }],
  columns: ["ts", "pid", "tid", "comm", "ip", "saddr", "daddr", "dport"],
};

export const TCPACCEPT: ToolInfo = {
  name: "tcpaccept",
  summary: "which TCP connections are accepted (passive opens), from where",
  counterpart: "bcc tcpaccept, bpftrace tcpaccept.bt",
  builtOn: "tracepoint sock:inet_sock_set_state, the change TCP_SYN_RECV → TCP_ESTABLISHED; it runs where the handshake's last ACK is processed (softirq), so pid/comm are that task, not the acceptor (bcc's kretprobe on inet_csk_accept needs kprobes, which this kernel lacks)",
  options: [...FILTER_OPTIONS, { name: "lport", type: "number", help: "only connections to this local (listening) port" }],
  columns: ["ts", "pid", "comm", "ip", "laddr", "lport", "raddr", "rport"],
};

export const TCPLIFE: ToolInfo = {
  name: "tcplife",
  summary: "TCP sessions: how long each lived and how many bytes it moved",
  counterpart: "bcc tcplife, bpftrace tcplife.bt",
  builtOn: "latency() pairs of sock:inet_sock_set_state by socket address, from TCP_ESTABLISHED to TCP_CLOSE, with tcp_sock.bytes_acked/bytes_received read at the close (BTF)",
  options: [
    ...FILTER_OPTIONS,
    { name: "lport", type: "number", help: "only sessions with this local port" },
    { name: "rport", type: "number", help: "only sessions with this remote port" },
  ],
  columns: ["ts", "pid", "comm", "ip", "laddr", "lport", "raddr", "rport", "tx", "rx", "duration"],
};

export const TCPCONNLAT: ToolInfo = {
  name: "tcpconnlat",
  summary: "how long outgoing TCP connects take (SYN sent to established), and which fail",
  counterpart: "bcc tcpconnlat",
  builtOn: "latency() pairs of sock:inet_sock_set_state by socket address, from TCP_SYN_SENT to the next state (TCP_ESTABLISHED, or TCP_CLOSE for a failed connect); bcc uses kprobes on tcp_v4_connect and tcp_rcv_state_process, which this kernel lacks",
  options: [
    ...FILTER_OPTIONS,
    { name: "dport", type: "number", help: "only connects to this port" },
    { name: "failed", type: "boolean", help: "only connects that failed (refused, timed out)" },
  ],
  columns: ["ts", "pid", "comm", "ip", "saddr", "sport", "daddr", "dport", "state", "latency"],
};

export const TCPRETRANS: ToolInfo = {
  name: "tcpretrans",
  summary: "which TCP connections retransmit, in which state",
  counterpart: "bcc tcpretrans, bpftrace tcpretrans.bt",
  builtOn: "tracepoint tcp:tcp_retransmit_skb (it runs in the retransmit timer or softirq, so pid/comm are whatever task ran it); tail loss probes (bcc -l, a kprobe) are not seen",
  options: [
    ...FILTER_OPTIONS,
    { name: "lport", type: "number", help: "only connections with this local port" },
    { name: "rport", type: "number", help: "only connections with this remote port" },
  ],
  columns: ["ts", "pid", "comm", "ip", "laddr", "lport", "raddr", "rport", "state"],
};

export const TCPDROP: ToolInfo = {
  name: "tcpdrop",
  summary: "which packets the kernel drops, why, and from where in the kernel",
  counterpart: "bcc tcpdrop, bpftrace tcpdrop.bt",
  builtOn: "tracepoint skb:kfree_skb with its drop reason (enum skb_drop_reason, named from this kernel's print fmt) and the kernel stack; every protocol, not only TCP (bcc hooks tcp_drop(), a function newer kernels no longer have)",
  options: [...FILTER_OPTIONS, { name: "reasons", type: "list", help: "only these drop reasons (names such as NO_SOCKET, or numbers)" }],
  columns: ["ts", "pid", "comm", "protocol", "reason", "reason_name", "kstack"],
};

export const SOCKSTAT: ToolInfo = {
  name: "sockstat",
  summary: "how many TCP sockets enter each state (or make each transition), in total or per interval",
  counterpart: "bcc tcpstates (counted, not listed), /proc/net/sockstat over time",
  builtOn: "tracepoint sock:inet_sock_set_state, counted in the kernel per state (pid/comm are the task at the change: softirq work runs in whichever task was on the CPU)",
  options: [...FILTER_OPTIONS, { name: "by", type: "string", help: "state (default: the state entered) or transition (from and to)" }],
  columns: ["interval", "time", "from", "state", "count"],
};

export const EXECSNOOP: ToolInfo = {
  name: "execsnoop",
  summary: "which programs start, with their arguments, parent and result",
  counterpart: "bcc execsnoop (-x: failed only), bpftrace execsnoop.bt",
  builtOn: "tracepoints syscalls:sys_enter_execve (argv read from user memory, ppid) + sys_exit_execve, paired in the kernel; execveat is not traced",
  options: [...FILTER_OPTIONS, { name: "failed", type: "boolean", help: "only failed execs" }, { name: "maxArgs", type: "number", help: "arguments kept per exec, 1 to 8 (default 8)" }],
  columns: ["ts", "pid", "tid", "comm", "ppid", "ret", "ret_name", "filename", "argv", "latency"],
};

export const EXITSNOOP: ToolInfo = {
  name: "exitsnoop",
  summary: "which processes exit, how (status or signal), and how old they were",
  counterpart: "bcc exitsnoop (-x: failed only, -t: threads)",
  builtOn: "tracepoint sched:sched_process_exit + kernel reads of current->exit_code and current->group_leader->start_time (the 6.18 tracepoint has no exit code)",
  options: [...FILTER_OPTIONS, { name: "failed", type: "boolean", help: "only non-zero exits and deaths by signal" }, { name: "threads", type: "boolean", help: "every thread's exit, not only the process's" }],
  columns: ["ts", "pid", "tid", "ppid", "comm", "status", "signal", "signal_name", "core", "age_ms"],
};

export const KILLSNOOP: ToolInfo = {
  name: "killsnoop",
  summary: "who sends which signal to whom with kill(2), and did it work",
  counterpart: "bcc killsnoop (-x: failed only), bpftrace killsnoop.bt",
  builtOn: "tracepoints syscalls:sys_enter_kill + sys_exit_kill, paired in the kernel (tkill, tgkill, pidfd_send_signal are other syscalls: see signals)",
  options: [...FILTER_OPTIONS, { name: "failed", type: "boolean", help: "only failed kills" }],
  columns: ["ts", "pid", "tid", "comm", "sig", "sig_name", "target", "ret", "ret_name", "latency"],
};

export const STATSNOOP: ToolInfo = {
  name: "statsnoop",
  summary: "which paths are stat'ed, by whom, through which call",
  counterpart: "bcc statsnoop, bpftrace statsnoop.bt",
  builtOn: "tracepoints syscalls:sys_enter_newstat, sys_enter_newlstat, sys_enter_newfstatat, sys_enter_statx as one tracepoints() group (entries only: no result)",
  options: [...FILTER_OPTIONS],
  columns: ["ts", "pid", "tid", "comm", "syscall", "filename"],
};

export const SIGNALS: ToolInfo = {
  name: "signals",
  summary: "every signal generated: sender, signal, target, and whether it was delivered",
  counterpart: "bpftrace signals.bt, bcc trace of signal:signal_generate",
  builtOn: "tracepoint signal:signal_generate (any sender: kill, tgkill, sigqueue, faults, timers, the kernel)",
  options: [...FILTER_OPTIONS, { name: "target", type: "number", help: "only signals to this pid" }, { name: "signal", type: "number", help: "only this signal number" }],
  columns: ["ts", "pid", "tid", "comm", "sig", "sig_name", "target_pid", "target_comm", "code", "result", "result_name"],
};

export const CAPABLE: ToolInfo = {
  name: "capable",
  summary: "which capability checks happen, by whom, and which are refused",
  counterpart: "bcc capable, bpftrace capable.bt",
  builtOn: "tracepoint capability:cap_capable (no kprobe needed); missing: the audit flag (cap_capable()'s opts argument, which the tracepoint does not record and kprobes, absent here, would read)",
  options: [...FILTER_OPTIONS, { name: "failed", type: "boolean", help: "only refused checks" }],
  columns: ["ts", "pid", "tid", "comm", "uid", "cap", "cap_name", "ret", "ret_name"],
};

export const OOMKILL: ToolInfo = {
  name: "oomkill",
  summary: "OOM kills: the victim, its memory, and the task that triggered it",
  counterpart: "bcc oomkill, bpftrace oomkill.bt",
  builtOn: "tracepoint oom:mark_victim (bcc hooks oom_kill_process() with a kprobe; the machine's load averages it prints are not here)",
  options: [...FILTER_OPTIONS],
  columns: ["ts", "pid", "comm", "victim_pid", "victim_comm", "total_vm", "anon_rss", "file_rss", "shmem_rss", "uid", "oom_score_adj"],
};

export const MOUNTSNOOP: ToolInfo = {
  name: "mountsnoop",
  summary: "mount and umount2 calls: source, target, filesystem, flags, result",
  counterpart: "bcc mountsnoop",
  builtOn: "tracepoints syscalls:sys_enter_mount + sys_enter_umount, paired in the kernel with raw_syscalls:sys_exit (filtered to their numbers, x86_64); the mount data string and the new mount API (fsopen, move_mount) are not traced",
  options: [...FILTER_OPTIONS],
  columns: ["ts", "pid", "tid", "comm", "call", "source", "target", "fstype", "flags", "flags_name", "ret", "ret_name", "latency"],
};

export const BASHREADLINE: ToolInfo = {
  name: "bashreadline",
  summary: "the commands typed into bash, on every bash running the file",
  counterpart: "bcc bashreadline, bpftrace bashreadline.bt",
  builtOn: "uretprobe on bash's readline() and a user string read of its return value",
  options: [...FILTER_OPTIONS, { name: "binary", type: "string", help: "the bash (or libreadline) to probe, default bash on PATH" }],
  columns: ["ts", "pid", "tid", "comm", "line"],
};

export const GETHOSTLATENCY: ToolInfo = {
  name: "gethostlatency",
  summary: "name lookups through libc: which host, by whom, how long",
  counterpart: "bcc gethostlatency, bpftrace gethostlatency.bt",
  builtOn: "uprobe + uretprobe on libc's getaddrinfo(), the host string read through the saved argument (gethostbyname and lookups without libc, Go or static musl, are not seen)",
  options: [...FILTER_OPTIONS],
  columns: ["ts", "pid", "tid", "comm", "host", "ret", "ret_name", "latency"],
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
  builtOn: "tracepoints block:block_rq_issue → block:block_rq_complete, paired in the kernel by device and sector; by comm: the issuing task's comm carried from issue to completion (block.requests()); no pid/comm filter (a completion runs in whatever task the interrupt hit); disk names from /sys/dev/block",
  options: [...FILTER_OPTIONS, { name: "by", type: "string", help: "none (default), disk, rwbs, or comm (the issuing process: buffered writes show the flusher)" }, { name: "disk", type: "string", help: "only this disk (\"sda\", \"loop0\")" }],
  columns: ["interval", "time", "disk", "rwbs", "comm", "bucket", "low", "high", "count"],
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
  summary: "page cache insertions, removals and dirtyings, and the hit ratio where kernel functions can be traced, per interval",
  counterpart: "bcc cachestat (HITS, MISSES and HITRATIO only where kernel functions can be traced)",
  builtOn: "tracepoints filemap:mm_filemap_add_to_page_cache, filemap:mm_filemap_delete_from_page_cache and writeback:writeback_dirty_folio (writeback_dirty_page before 5.17), counted in the kernel, in folios; where kernel functions can be traced (fentry, else kprobes), also bcc's hits, misses and ratio from counts of folio_mark_accessed, filemap_add_folio, folio_account_dirtied (where not inlined; else the dirtying tracepoint) and mark_buffer_dirty (the pre-folio names on older kernels), read at the same interval boundaries; elsewhere no hit ratio, and the tool's notice says why: no tracepoint marks a page cache hit",
  options: [...FILTER_OPTIONS],
  columns: ["interval", "time", "added", "removed", "dirtied", "hits", "misses", "ratio"],
};
