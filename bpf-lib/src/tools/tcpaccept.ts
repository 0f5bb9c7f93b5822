/* tcpaccept: which TCP connections are accepted, from where. A passive open is the new
 * socket's change from SYN_RECV to ESTABLISHED, made where the handshake's last ACK is
 * processed: in softirq, so pid/comm are whichever task ran it (on loopback, the client). */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { bar } from "../plot/bar.js";
import { TCPACCEPT } from "./catalog.js";
import { ADDRESS_FIELDS, IPPROTO_TCP, SOCK_STATE, TCP_ESTABLISHED, TCP_SYN_RECV, endpoints, portOption, requireTracepoints, withAddresses, type TcpEnds } from "./inet.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface TcpacceptOptions extends ToolFilter {
  /** Only connections to this local (listening) port. */
  lport?: number;
}

/** A row of tcpaccept: one established passive connection. */
export interface TcpacceptRow extends TcpEnds {
  ts: number;
  /** The task the handshake completed in (not necessarily the one that calls accept()). */
  pid: number;
  comm: string;
}

/** Each passive TCP open: the local address and port it came in on, and the remote end. */
export function tcpaccept(options?: TcpacceptOptions): EventsTool<TcpacceptRow> {
  const o = toolOptions(options, TCPACCEPT);
  const lport = portOption(o.lport, "lport", TCPACCEPT);
  requireTracepoints(TCPACCEPT, [SOCK_STATE]);
  const source = tracepoint(SOCK_STATE, {
    fields: ["sport", "dport", ...ADDRESS_FIELDS],
    where: { ...filterOf(o), oldstate: TCP_SYN_RECV, newstate: TCP_ESTABLISHED, protocol: IPPROTO_TCP, ...(lport !== undefined ? { sport: lport } : {}) },
  });
  // the new socket's source is the local end
  const shape = (t: ColumnTable) => withAddresses(t, SOCK_STATE, { saddr: "laddr", daddr: "raddr" }).rename({ sport: "lport", dport: "rport" }).select(...TCPACCEPT.columns);
  return eventsTool<TcpacceptRow>(TCPACCEPT, source, shape, (t) => bar(endpoints(t, "laddr", "lport", "listener"), { x: "listener", title: "accepted connections by local address", horizontal: true }));
}
