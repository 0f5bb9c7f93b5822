/* Every tool, for the shell (`bpfbook <tool>`): its description (catalog.ts, plain data)
 * and how to make it, imported only when it runs, so `bpfbook help` loads no libbpf. */
import type { Tool } from "./tool.js";
import type { ToolInfo } from "./tool-info.js";
import { OPENSNOOP, SOCKSTAT, SYSCOUNT, TCPACCEPT, TCPCONNECT, TCPCONNLAT, TCPDROP, TCPLIFE, TCPRETRANS } from "./catalog.js";

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
];
