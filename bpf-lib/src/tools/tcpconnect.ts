/* tcpconnect: which processes open TCP connections, to where. The change to SYN_SENT
 * runs in the connecting task (inside connect()), so pid and comm are the caller's. */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { bar } from "../plot/bar.js";
import { TCPCONNECT } from "./catalog.js";
import { ADDRESS_FIELDS, IPPROTO_TCP, SOCK_STATE, TCP_SYN_SENT, endpoints, portOption, requireTracepoints, withAddresses } from "./inet.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface TcpconnectOptions extends ToolFilter {
  /** Only connections to this remote port. */
  dport?: number;
}

/** A row of tcpconnect: one connect() that sent a SYN. */
export interface TcpconnectRow {
  ts: number;
  pid: number;
  tid: number;
  comm: string;
  /** 4 or 6. */
  ip: 4 | 6;
  /** The local address, as text; the local port is not chosen yet when the SYN is about to go. */
  saddr: string;
  daddr: string;
  dport: number;
}

/** Each active TCP open (connect()): who, from which address, to which address and port. */
export function tcpconnect(options?: TcpconnectOptions): EventsTool<TcpconnectRow> {
  const o = toolOptions(options, TCPCONNECT);
  const dport = portOption(o.dport, "dport", TCPCONNECT);
  requireTracepoints(TCPCONNECT, [SOCK_STATE]);
  const source = tracepoint(SOCK_STATE, {
    fields: ["dport", ...ADDRESS_FIELDS],
    where: { ...filterOf(o), newstate: TCP_SYN_SENT, protocol: IPPROTO_TCP, ...(dport !== undefined ? { dport } : {}) },
  });
  const shape = (t: ColumnTable) => withAddresses(t, SOCK_STATE, { saddr: "saddr", daddr: "daddr" }).select(...TCPCONNECT.columns);
  return eventsTool<TcpconnectRow>(TCPCONNECT, source, shape, (t) => bar(endpoints(t, "daddr", "dport", "destination"), { x: "destination", title: "connects by destination", horizontal: true }));
}
