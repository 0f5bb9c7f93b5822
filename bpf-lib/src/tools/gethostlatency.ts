/* gethostlatency: name lookups through libc's getaddrinfo(): which host, by whom, how long.
 * The entry saves the host pointer; the return reads the string through it and times the call. */
import type { ColumnTable } from "arquero";
import { uretprobe } from "../probes/uprobe/probe.js";
import { histogram } from "../plot/histogram.js";
import { log2Buckets } from "./log2.js";
import { GETHOSTLATENCY } from "./catalog.js";
import { eventsTool, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface GethostlatencyOptions extends ToolFilter {}

/** A row of gethostlatency. */
export interface GethostlatencyRow {
  ts: number;
  pid: number;
  tid: number;
  comm: string;
  /** The name looked up (getaddrinfo's node; cut at 80 bytes). */
  host: string;
  /** 0, or an EAI_* code. */
  ret: number;
  /** "EAI_NONAME", ...; null for a success. */
  ret_name: string | null;
  /** ns from the call to its return. */
  latency: number;
}

// glibc's netdb.h: EAI_* codes, in neither BTF nor a print fmt.
const EAI: Readonly<Record<number, string>> = {
  [-1]: "EAI_BADFLAGS", [-2]: "EAI_NONAME", [-3]: "EAI_AGAIN", [-4]: "EAI_FAIL", [-5]: "EAI_NODATA", [-6]: "EAI_FAMILY",
  [-7]: "EAI_SOCKTYPE", [-8]: "EAI_SERVICE", [-9]: "EAI_ADDRFAMILY", [-10]: "EAI_MEMORY", [-11]: "EAI_SYSTEM", [-12]: "EAI_OVERFLOW",
};

/** Each getaddrinfo() call: the host, the result, and its latency. */
export function gethostlatency(options?: GethostlatencyOptions): EventsTool<GethostlatencyRow> {
  const o = toolOptions(options, GETHOSTLATENCY);
  const source = uretprobe("libc", "getaddrinfo", {
    args: 1,
    retType: "i32",
    read: { host: { from: "arg0", string: 80 } },
    ...(o.pid !== undefined ? { pid: o.pid } : {}),
    ...(o.comm !== undefined ? { where: { comm: o.comm } } : {}),
  });
  const shape = (t: ColumnTable) => {
    const ret = Array.from(t.array("ret") as ArrayLike<number>, Number);
    return t.assign({ ret, ret_name: ret.map((r) => (r === 0 ? null : EAI[r] ?? String(r))) }).select(...GETHOSTLATENCY.columns);
  };
  return eventsTool<GethostlatencyRow>(GETHOSTLATENCY, source, shape, (t) => histogram(log2Buckets(t, "latency"), { title: "getaddrinfo latency" }));
}
