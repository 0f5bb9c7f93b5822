/* XDP result tables: packets/bytes columns with service names and rates, rule
 * counters, sampled packet rows, and the stats they carry. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import type { TraceTable } from "../../engine/table.js";
import { serviceName } from "./names.js";
import type { RuleCount } from "./totals.js";
import type { XdpPacketStats, XdpPacketTable } from "./types.js";

function portColumn(t: ColumnTable, col: string, protoCol: string | null): (string | null)[] {
  const ports = t.array(col) as ArrayLike<number>;
  const protos = protoCol ? (t.array(protoCol) as ArrayLike<string | null>) : null;
  const out = new Array<string | null>(ports.length);
  for (let i = 0; i < ports.length; i++) {
    const p = protos?.[i];
    const l4 = p ? (p.includes("/") ? p.slice(p.indexOf("/") + 1) : p) : undefined;
    out[i] = ports[i] === 0 ? null : serviceName(ports[i], l4 && ["tcp", "udp", "sctp", "udplite"].includes(l4) ? l4 : undefined);
  }
  return out;
}

/**
 * Names the value columns packets/bytes (the engine's count/sum), adds service names
 * after sport/dport, and per-second rates when the table has intervals. Idempotent.
 */
export function packetColumns(t: ColumnTable, nominalInterval?: number): ColumnTable {
  const names = t.columnNames();
  if (!names.includes("count")) return t;
  const protoCol = names.includes("protocol") ? "protocol" : names.includes("ipProto") ? "ipProto" : null;
  const cols: Record<string, ArrayLike<unknown>> = {};
  for (const c of names) {
    if (c === "min" || c === "max" || c === "avg") continue;
    cols[c === "count" ? "packets" : c === "sum" ? "bytes" : c] = t.array(c) as ArrayLike<unknown>;
    if (c === "sport" || c === "dport") cols[`${c}Name`] = portColumn(t, c, protoCol);
  }
  if (names.includes("interval") && names.includes("time")) {
    const iv = t.array("interval") as ArrayLike<number>, time = t.array("time") as ArrayLike<number>;
    const at = new Map<number, number>();
    for (let i = 0; i < iv.length; i++) at.set(iv[i], time[i]);
    const seconds = (k: number) => {
      const prev = at.get(k - 1);
      const d = prev !== undefined ? at.get(k)! - prev : k === 0 ? at.get(k)! : nominalInterval ?? at.get(k)! / (k + 1);
      return d > 0 ? d : NaN;
    };
    const packets = cols.packets as ArrayLike<number>;
    const bytes = cols.bytes as ArrayLike<number> | undefined;
    const pps = new Float64Array(iv.length), bps = new Float64Array(iv.length);
    for (let i = 0; i < iv.length; i++) {
      const s = seconds(iv[i]);
      pps[i] = packets[i] / s;
      if (bytes) bps[i] = bytes[i] / s;
    }
    cols.packetsPerSec = pps;
    if (bytes) cols.bytesPerSec = bps;
  }
  return aq.table(cols as Record<string, ArrayLike<unknown>>);
}

export function withStats<S>(table: ColumnTable, stats: S): ColumnTable & { readonly stats: S } {
  // a table that already carries (the engine's) stats is shared: give ours to a new table over the same columns
  const t = Object.prototype.hasOwnProperty.call(table, "stats") ? table.select(...table.columnNames()) : table;
  Object.defineProperty(t, "stats", { value: Object.freeze(stats), enumerable: false });
  return t as ColumnTable & { readonly stats: S };
}

/** Rule counters as a table. */
export function ruleTable(rules: readonly RuleCount[]): ColumnTable {
  return aq.table({
    rule: rules.map((r) => r.index), name: rules.map((r) => r.name), action: rules.map((r) => r.action),
    match: rules.map((r) => r.match), packets: rules.map((r) => r.packets), bytes: rules.map((r) => r.bytes),
  });
}

const SAMPLE_COLUMNS_DROPPED = new Set(["pid", "tid", "comm"]);

export function packetTable(t: TraceTable, stats: XdpPacketStats, extra?: Record<string, ArrayLike<unknown>>): XdpPacketTable {
  const keep = t.columnNames().filter((c) => !SAMPLE_COLUMNS_DROPPED.has(c));
  let out = t.select(...keep);
  if (extra) out = out.assign(aq.table(extra));
  return withStats(out, stats);
}
