/* tcplife: TCP sessions, how long each lived and how many bytes it moved. A session is a
 * socket's ESTABLISHED → CLOSE, paired in the kernel on the socket's address (whichever
 * task or softirq runs either end); the byte counts are read from the tcp_sock at the close. */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { latency } from "../probes/latency.js";
import { TCPLIFE } from "./catalog.js";
import { ADDRESS_FIELDS, IPPROTO_TCP, SOCK_STATE, TCP_CLOSE, TCP_ESTABLISHED, durationChart, portOption, requireTracepoints, withAddresses, type TcpEnds } from "./inet.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface TcplifeOptions extends ToolFilter {
  /** Only sessions with this local port. */
  lport?: number;
  /** Only sessions with this remote port. */
  rport?: number;
}

/** A row of tcplife: one TCP session, reported when it closed. */
export interface TcplifeRow extends TcpEnds {
  ts: number;
  /** The task when the session was established (for a passive open: where the handshake completed). */
  pid: number;
  comm: string;
  /** Bytes sent and acknowledged (tcp_sock.bytes_acked): the FIN counts as one, and on the connecting side the SYN too. */
  tx: number;
  /** Bytes received (tcp_sock.bytes_received): the FIN counts as one. */
  rx: number;
  /** ns from ESTABLISHED to CLOSE. */
  duration: number;
}

/**
 * Each TCP session that both started and ended while tracing: its ends, bytes each way and
 * lifetime. Sessions open when tracing starts have no start: they are counted in
 * `stats.unmatched`, not shown. `pid`/`comm` filter on the task at the start.
 */
export function tcplife(options?: TcplifeOptions): EventsTool<TcplifeRow> {
  const o = toolOptions(options, TCPLIFE);
  const lport = portOption(o.lport, "lport", TCPLIFE);
  const rport = portOption(o.rport, "rport", TCPLIFE);
  requireTracepoints(TCPLIFE, [SOCK_STATE]);
  const pairs = latency({
    start: tracepoint(SOCK_STATE, { fields: ["skaddr"], where: { ...filterOf(o), newstate: TCP_ESTABLISHED, protocol: IPPROTO_TCP } }),
    end: tracepoint(SOCK_STATE, {
      fields: ["skaddr", "sport", "dport", ...ADDRESS_FIELDS],
      where: { newstate: TCP_CLOSE, protocol: IPPROTO_TCP, ...(lport !== undefined ? { sport: lport } : {}), ...(rport !== undefined ? { dport: rport } : {}) },
      read: { rx: "(struct tcp_sock *)skaddr->bytes_received", tx: "(struct tcp_sock *)skaddr->bytes_acked" },
    }),
    match: { start: ["skaddr"], end: ["skaddr"] },
    carry: ["pid", "comm"],
    fields: ["sport", "dport", "rx", "tx", ...ADDRESS_FIELDS],
  });
  const source = {
    start: pairs.startEvents.bind(pairs),
    collect: pairs.collectEvents.bind(pairs),
    stream: (opts?: Parameters<typeof pairs.streamEvents>[0]) => pairs.streamEvents(opts),
  };
  // the end's own pid/comm are whoever closed it; the session's are the start's
  const shape = (t: ColumnTable) =>
    withAddresses(t.select(t.columnNames((c) => c !== "pid" && c !== "comm")), SOCK_STATE, { saddr: "laddr", daddr: "raddr" })
      .rename({ start_pid: "pid", start_comm: "comm", sport: "lport", dport: "rport", latency: "duration" })
      .select(...TCPLIFE.columns);
  return eventsTool<TcplifeRow>(TCPLIFE, source, shape, (t) => durationChart(t, "duration", "TCP session lifetimes"));
}
