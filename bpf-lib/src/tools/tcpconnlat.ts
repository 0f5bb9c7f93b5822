/* tcpconnlat: how long outgoing TCP connects take. The socket's change to SYN_SENT (in the
 * connecting task) starts the clock; its next change, paired on the socket's address, stops
 * it: ESTABLISHED when the SYN-ACK came, CLOSE when the connect failed (refused, timed out).
 * Pairing on the next change of any kind means a failed connect leaves no start behind. */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { latency } from "../probes/latency.js";
import { withNames } from "../analysis/names/with-names.js";
import { TCPCONNLAT } from "./catalog.js";
import { ADDRESS_FIELDS, IPPROTO_TCP, SOCK_STATE, TCP_CLOSE, TCP_SYN_SENT, booleanOption, durationChart, portOption, requireTracepoints, withAddresses } from "./inet.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface TcpconnlatOptions extends ToolFilter {
  /** Only connects to this remote port. */
  dport?: number;
  /** Only connects that failed (the socket went from SYN_SENT to CLOSE). */
  failed?: boolean;
}

/** A row of tcpconnlat: one connect, from its SYN to its outcome. */
export interface TcpconnlatRow {
  ts: number;
  /** The connecting task. */
  pid: number;
  comm: string;
  ip: 4 | 6;
  saddr: string;
  sport: number;
  daddr: string;
  dport: number;
  /** "TCP_ESTABLISHED", or "TCP_CLOSE" for a connect that failed. */
  state: string;
  /** ns from the SYN to the outcome. */
  latency: number;
}

/** Each outgoing connect's latency (SYN sent to established), and the ones that failed. */
export function tcpconnlat(options?: TcpconnlatOptions): EventsTool<TcpconnlatRow> {
  const o = toolOptions(options, TCPCONNLAT);
  const dport = portOption(o.dport, "dport", TCPCONNLAT);
  const failed = booleanOption(o.failed, "failed", TCPCONNLAT);
  requireTracepoints(TCPCONNLAT, [SOCK_STATE]);
  const port = dport !== undefined ? { dport } : {};
  const pairs = latency({
    start: tracepoint(SOCK_STATE, { fields: ["skaddr"], where: { ...filterOf(o), newstate: TCP_SYN_SENT, protocol: IPPROTO_TCP, ...port } }),
    end: tracepoint(SOCK_STATE, {
      fields: ["skaddr", "newstate", "sport", "dport", ...ADDRESS_FIELDS],
      where: { oldstate: TCP_SYN_SENT, protocol: IPPROTO_TCP, ...port, ...(failed ? { newstate: TCP_CLOSE } : {}) },
    }),
    match: { start: ["skaddr"], end: ["skaddr"] },
    carry: ["pid", "comm"],
    fields: ["newstate", "sport", "dport", ...ADDRESS_FIELDS],
  });
  const source = {
    start: pairs.startEvents.bind(pairs),
    collect: pairs.collectEvents.bind(pairs),
    stream: (opts?: Parameters<typeof pairs.streamEvents>[0]) => pairs.streamEvents(opts),
  };
  // the end runs in softirq for a SYN-ACK: the connect's task is the start's
  const shape = (t: ColumnTable) =>
    withAddresses(withNames(t.select(t.columnNames((c) => c !== "pid" && c !== "comm")), SOCK_STATE, ["newstate"]), SOCK_STATE, { saddr: "saddr", daddr: "daddr" })
      .rename({ start_pid: "pid", start_comm: "comm", newstate_name: "state" })
      .select(...TCPCONNLAT.columns);
  return eventsTool<TcpconnlatRow>(TCPCONNLAT, source, shape, (t) => durationChart(t, "latency", "TCP connect latency"));
}
