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
