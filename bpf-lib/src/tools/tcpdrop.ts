/* tcpdrop: which packets the kernel drops, why, and from where. skb:kfree_skb fires for
 * every freed-as-dropped packet with the kernel's reason (packets freed normally go to
 * skb:consume_skb); the kernel stack says which path dropped it. */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { withNames } from "../analysis/names/with-names.js";
import { fieldNames } from "../analysis/names/names.js";
import { flamegraph } from "../plot/flamegraph.js";
import { InvalidArgumentError } from "../errors.js";
import { nearest } from "../tracefs/nearest.js";
import { TCPDROP } from "./catalog.js";
import { requireTracepoints } from "./inet.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

const TP = "skb:kfree_skb";
/** Beyond any enum skb_drop_reason value a kernel has had (about 130 in 6.18). */
const MAX_REASON = 1024;

export interface TcpdropOptions extends ToolFilter {
  /** Only these drop reasons: names of this kernel's enum skb_drop_reason ("NO_SOCKET"), or their numbers. */
  reasons?: readonly (string | number)[];
}

/** A row of tcpdrop: one dropped packet. */
export interface TcpdropRow {
  ts: number;
  /** The task that ran when the packet was dropped (often softirq work on behalf of another). */
  pid: number;
  comm: string;
  /** The packet's ethertype (2048: IPv4, 34525: IPv6). */
  protocol: number;
  reason: number;
  /** The reason's name ("NO_SOCKET", "TCP_INVALID_SEQUENCE", ...), from this kernel's print fmt. */
  reason_name: string;
  /** The kernel stack at the drop, folded, root first. */
  kstack: string;
}

/** This kernel's drop reasons, by name. */
function reasonNumbers(): Map<string, number> {
  const decode = fieldNames(TP, "reason");
  const byName = new Map<string, number>();
  if (!decode) return byName;
  for (let i = 0; i < MAX_REASON; i++) {
    const n = decode(i);
    if (n !== null && !/^0x[0-9a-f]+$/i.test(n)) byName.set(n, i);
  }
  return byName;
}

/** The reasons option as numbers: known names, or integers; anything else a named error. */
function reasonsOption(v: unknown): number[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0) throw new InvalidArgumentError(`tools.tcpdrop(): reasons must be a non-empty list of drop reason names (such as "NO_SOCKET") or numbers, got ${JSON.stringify(v) ?? String(v)}`);
  const known = reasonNumbers();
  return v.map((r: unknown) => {
    if (typeof r === "number" && Number.isInteger(r) && r >= 0 && r < 2 ** 32) return r;
    // the shell passes every list item as a string
    if (typeof r === "string" && /^\d+$/.test(r) && Number(r) < 2 ** 32) return Number(r);
    if (typeof r === "string") {
      const name = r.replace(/^SKB_DROP_REASON_/, "");
      const n = known.get(name);
      if (n !== undefined) return n;
      const near = nearest(name, known.keys(), 3);
      throw new InvalidArgumentError(`tools.tcpdrop(): unknown drop reason "${r}"${near.length ? ` (nearest: ${near.join(", ")})` : ""}; this kernel's reasons are the names of enum skb_drop_reason`);
    }
    throw new InvalidArgumentError(`tools.tcpdrop(): each reason must be a name (such as "NO_SOCKET") or a non-negative integer, got ${JSON.stringify(r) ?? String(r)}`);
  });
}

/** Each dropped packet: why (the kernel's drop reason, named), and the kernel stack that dropped it. */
export function tcpdrop(options?: TcpdropOptions): EventsTool<TcpdropRow> {
  const o = toolOptions(options, TCPDROP);
  const reasons = reasonsOption(o.reasons);
  requireTracepoints(TCPDROP, [TP]);
  // one reason filters in the kernel; several narrow it to their range there, exactly here
  const range = reasons === undefined ? {} : { reason: reasons.length === 1 ? reasons[0]! : { ge: Math.min(...reasons), le: Math.max(...reasons) } };
  const source = tracepoint(TP, { fields: ["protocol", "reason"], columns: ["kstack"], where: { ...filterOf(o), ...range } });
  const wanted = reasons && reasons.length > 1 ? new Set(reasons) : null;
  const shape = (t: ColumnTable) => {
    const named = withNames(t, TP, ["reason"]).select(...TCPDROP.columns);
    if (!wanted) return named;
    const r = named.array("reason") as ArrayLike<number>;
    const keep = new Array<boolean>(named.numRows());
    for (let i = 0; i < keep.length; i++) keep[i] = wanted.has(r[i]!);
    return named.assign({ _keep: keep }).filter((d: { _keep: boolean }) => d._keep).select(...TCPDROP.columns).reify();
  };
  return eventsTool<TcpdropRow>(TCPDROP, source, shape, (t) => flamegraph(t, { stack: "kstack", title: "dropped packets by kernel stack" }));
}
