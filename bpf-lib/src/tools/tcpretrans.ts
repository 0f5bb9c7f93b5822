/* tcpretrans: which TCP connections retransmit, in which state. The tracepoint fires in
 * the retransmit timer or in softirq, so pid/comm are whichever task happened to run. */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { withNames } from "../analysis/names/with-names.js";
import { bar } from "../plot/bar.js";
import { TCPRETRANS } from "./catalog.js";
import { ADDRESS_FIELDS, endpoints, portOption, requireTracepoints, withAddresses, type TcpEnds } from "./inet.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

const TP = "tcp:tcp_retransmit_skb";

export interface TcpretransOptions extends ToolFilter {
  /** Only connections with this local port. */
  lport?: number;
  /** Only connections with this remote port. */
  rport?: number;
}

/** A row of tcpretrans: one retransmitted segment. */
export interface TcpretransRow extends TcpEnds {
  ts: number;
  /** The task that ran the retransmit (timer or softirq): rarely the socket's owner. */
  pid: number;
  comm: string;
  /** The socket's state by name ("TCP_ESTABLISHED", "TCP_SYN_SENT" for a SYN sent again). */
  state: string;
}

/** Each TCP retransmission: the connection's two ends and its state. */
export function tcpretrans(options?: TcpretransOptions): EventsTool<TcpretransRow> {
  const o = toolOptions(options, TCPRETRANS);
  const lport = portOption(o.lport, "lport", TCPRETRANS);
  const rport = portOption(o.rport, "rport", TCPRETRANS);
  requireTracepoints(TCPRETRANS, [TP]);
  const source = tracepoint(TP, {
    fields: ["sport", "dport", "state", ...ADDRESS_FIELDS],
    where: { ...filterOf(o), ...(lport !== undefined ? { sport: lport } : {}), ...(rport !== undefined ? { dport: rport } : {}) },
  });
  const shape = (t: ColumnTable) =>
    withAddresses(withNames(t, TP, ["state"]).select(t.columnNames((c) => c !== "state").concat("state_name")), TP, { saddr: "laddr", daddr: "raddr" })
      .rename({ sport: "lport", dport: "rport", state_name: "state" })
      .select(...TCPRETRANS.columns);
  return eventsTool<TcpretransRow>(TCPRETRANS, source, shape, (t) => bar(endpoints(t, "raddr", "rport", "remote"), { x: "remote", title: "retransmits by remote end", horizontal: true }));
}
