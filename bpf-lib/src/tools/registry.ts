/* Every tool, for the shell (`bpfbook <tool>`): its description (catalog.ts, plain data)
 * and how to make it, imported only when it runs, so `bpfbook help` loads no libbpf. */
import type { Tool } from "./tool.js";
import type { ToolInfo } from "./tool-info.js";
import { OPENSNOOP, SOCKSTAT, SYSCOUNT, TCPACCEPT, TCPCONNECT, TCPCONNLAT, TCPDROP, TCPLIFE, TCPRETRANS } from "./catalog.js";
import { EXECSNOOP, EXITSNOOP, KILLSNOOP, STATSNOOP, SIGNALS, CAPABLE, OOMKILL, MOUNTSNOOP, BASHREADLINE, GETHOSTLATENCY } from "./catalog.js";

export interface RegisteredTool {
  info: ToolInfo;
  make(options: Record<string, unknown>): Promise<Tool>;
}

export const TOOLS: readonly RegisteredTool[] = [
  { info: OPENSNOOP, make: async (o) => (await import("./opensnoop.js")).opensnoop(o) },
  { info: SYSCOUNT, make: async (o) => (await import("./syscount.js")).syscount(o) },
  { info: TCPCONNECT, make: async (o) => (await import("./tcpconnect.js")).tcpconnect(o) },
  { info: TCPACCEPT, make: async (o) => (await import("./tcpaccept.js")).tcpaccept(o) },
  { info: TCPLIFE, make: async (o) => (await import("./tcplife.js")).tcplife(o) },
  { info: TCPCONNLAT, make: async (o) => (await import("./tcpconnlat.js")).tcpconnlat(o) },
  { info: TCPRETRANS, make: async (o) => (await import("./tcpretrans.js")).tcpretrans(o) },
  { info: TCPDROP, make: async (o) => (await import("./tcpdrop.js")).tcpdrop(o) },
  { info: SOCKSTAT, make: async (o) => (await import("./sockstat.js")).sockstat(o) },
  { info: EXECSNOOP, make: async (o) => (await import("./execsnoop.js")).execsnoop(o) },
  { info: EXITSNOOP, make: async (o) => (await import("./exitsnoop.js")).exitsnoop(o) },
  { info: KILLSNOOP, make: async (o) => (await import("./killsnoop.js")).killsnoop(o) },
  { info: STATSNOOP, make: async (o) => (await import("./statsnoop.js")).statsnoop(o) },
  { info: SIGNALS, make: async (o) => (await import("./signals.js")).signals(o) },
  { info: CAPABLE, make: async (o) => (await import("./capable.js")).capable(o) },
  { info: OOMKILL, make: async (o) => (await import("./oomkill.js")).oomkill(o) },
  { info: MOUNTSNOOP, make: async (o) => (await import("./mountsnoop.js")).mountsnoop(o) },
  { info: BASHREADLINE, make: async (o) => (await import("./bashreadline.js")).bashreadline(o) },
  { info: GETHOSTLATENCY, make: async (o) => (await import("./gethostlatency.js")).gethostlatency(o) },
];
