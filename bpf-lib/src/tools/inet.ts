/* What the TCP tools share: the socket state tracepoint, its state numbers, the address
 * columns turned into text (the v4 or the v6 field, by family), port options checked,
 * and log2 buckets of a per-row duration for their histograms. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { withNames } from "../analysis/names/with-names.js";
import { InvalidArgumentError, NotSupportedError } from "../errors.js";
import { readFormat } from "../tracefs/catalog.js";
import { UnknownTracepointError } from "../tracefs/errors.js";
import { histogram } from "../plot/histogram.js";
import type { PlotFigure } from "../plot/figure.js";
import type { ToolInfo } from "./tool-info.js";

/** The tracepoint every socket state change passes (tcp_set_state and the clones of a listener). */
export const SOCK_STATE = "sock:inet_sock_set_state";

/** include/net/tcp_states.h: these numbers are uapi-stable (the tracepoint's print fmt names them). */
export const TCP_ESTABLISHED = 1;
export const TCP_SYN_SENT = 2;
export const TCP_SYN_RECV = 3;
export const TCP_CLOSE = 7;
export const IPPROTO_TCP = 6;
const AF_INET6 = 10;

/** The record fields a row's addresses are made from. */
export const ADDRESS_FIELDS = ["family", "saddr", "daddr", "saddr_v6", "daddr_v6"] as const;

/**
 * Replaces the raw address fields of `source`'s table with text: `ip` (4 or 6), and the
 * record's saddr/daddr renamed as `as` says (an IPv4 socket also fills the v6 fields with
 * the mapped address, so the family picks which one is meant).
 */
export function withAddresses(t: ColumnTable, source: string, as: { saddr: string; daddr: string }): ColumnTable {
  const named = withNames(t, source, ["saddr", "daddr", "saddr_v6", "daddr_v6"]);
  const family = Array.from(named.array("family") as ArrayLike<number>);
  const pick = (v4: string, v6: string): (string | null)[] => {
    const a = named.array(`${v4}_name`) as ArrayLike<string | null>;
    const b = named.array(`${v6}_name`) as ArrayLike<string | null>;
    return family.map((f, i) => (f === AF_INET6 ? b[i] : a[i]) ?? null);
  };
  return named.assign({
    ip: family.map((f) => (f === AF_INET6 ? 6 : 4)),
    [as.saddr]: pick("saddr", "saddr_v6"),
    [as.daddr]: pick("daddr", "daddr_v6"),
  });
}

/** `column` = "addr:port" (v6 addresses in brackets), for charts by endpoint. */
export function endpoints(t: ColumnTable, addr: string, port: string, column: string): ColumnTable {
  const a = t.array(addr) as ArrayLike<string | null>;
  const p = t.array(port) as ArrayLike<number>;
  const out = new Array<string>(t.numRows());
  for (let i = 0; i < out.length; i++) out[i] = `${a[i]?.includes(":") ? `[${a[i]}]` : a[i]}:${p[i]}`;
  return t.assign({ [column]: out });
}

/** A port option: an integer from 1 to 65535, or absent. */
export function portOption(v: unknown, option: string, info: ToolInfo): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 65535) {
    throw new InvalidArgumentError(`tools.${info.name}(): ${option} must be a port number from 1 to 65535, got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

/** A boolean option, or absent. */
export function booleanOption(v: unknown, option: string, info: ToolInfo): boolean | undefined {
  if (v !== undefined && typeof v !== "boolean") throw new InvalidArgumentError(`tools.${info.name}(): ${option} must be true or false, got ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

/** Rows per power-of-two bucket of a duration column (ns): the low/high/count table histogram() draws. */
export function log2Buckets(t: ColumnTable, column: string): ColumnTable {
  const counts = new Map<number, number>();
  for (const v of Array.from(t.array(column) as ArrayLike<number | bigint | null>)) {
    if (v === null || v === undefined) continue;
    const n = Number(v);
    const low = n < 1 ? 0 : 2 ** Math.floor(Math.log2(n));
    counts.set(low, (counts.get(low) ?? 0) + 1);
  }
  const lows = [...counts.keys()].sort((a, b) => a - b);
  return aq.table({ low: lows, high: lows.map((l) => (l === 0 ? 1 : l * 2)), count: lows.map((l) => counts.get(l)!) });
}

/** A histogram of a per-row duration column in ns. */
export function durationChart(t: ColumnTable, column: string, title: string): PlotFigure {
  return histogram(log2Buckets(t, column), { unit: "ns", title, percentiles: true });
}

/** The tracepoints a tool needs, checked up front: one this kernel lacks is a NotSupportedError naming it. */
export function requireTracepoints(info: ToolInfo, names: readonly string[]): void {
  for (const name of names) {
    try {
      readFormat(name);
    } catch (e) {
      if (e instanceof UnknownTracepointError) throw new NotSupportedError(`tools.${info.name}()`, `this kernel has no tracepoint ${name} (the tool is built on ${info.builtOn})`, { cause: e });
      throw e;
    }
  }
}

/** The two ends of a TCP connection, as rows of the TCP tools show them. */
export interface TcpEnds {
  ip: 4 | 6;
  laddr: string;
  lport: number;
  raddr: string;
  rport: number;
}
