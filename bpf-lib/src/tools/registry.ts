/* Every tool, for the shell (`bpfbook <tool>`): its description (catalog.ts, plain data)
 * and how to make it, imported only when it runs, so `bpfbook help` loads no libbpf. */
import type { Tool } from "./tool.js";
import type { ToolInfo } from "./tool-info.js";
import {
  BASHREADLINE,
  BIOLATENCY,
  BIOSNOOP,
  BIOTOP,
  CACHESTAT,
  CAPABLE,
  CPUDIST,
  EXECSNOOP,
  EXITSNOOP,
  FILETOP,
  GETHOSTLATENCY,
  KILLSNOOP,
  MOUNTSNOOP,
  OFFCPUTIME,
  OOMKILL,
  OPENSNOOP,
  PROFILE,
  RUNQLAT,
  RUNQLEN,
  SIGNALS,
  SOCKSTAT,
  STATSNOOP,
  SYSCOUNT,
  TCPACCEPT,
  TCPCONNECT,
  TCPCONNLAT,
  TCPDROP,
  TCPLIFE,
  TCPRETRANS,
} from "./catalog.js";

export interface RegisteredTool {
  info: ToolInfo;
  make(options: Record<string, unknown>): Promise<Tool>;
}

/** In the order `bpfbook help`, `bpfbook tools` and docs/tools.md list them: by what they look at. */
export const TOOLS: readonly RegisteredTool[] = [
  // processes
  { info: EXECSNOOP, make: async (o) => (await import("./execsnoop.js")).execsnoop(o) },
  { info: EXITSNOOP, make: async (o) => (await import("./exitsnoop.js")).exitsnoop(o) },
  { info: KILLSNOOP, make: async (o) => (await import("./killsnoop.js")).killsnoop(o) },
  { info: SIGNALS, make: async (o) => (await import("./signals.js")).signals(o) },
  { info: CAPABLE, make: async (o) => (await import("./capable.js")).capable(o) },
  { info: OOMKILL, make: async (o) => (await import("./oomkill.js")).oomkill(o) },
  { info: MOUNTSNOOP, make: async (o) => (await import("./mountsnoop.js")).mountsnoop(o) },
  { info: BASHREADLINE, make: async (o) => (await import("./bashreadline.js")).bashreadline(o) },
  // files and syscalls
  { info: OPENSNOOP, make: async (o) => (await import("./opensnoop.js")).opensnoop(o) },
  { info: STATSNOOP, make: async (o) => (await import("./statsnoop.js")).statsnoop(o) },
  { info: FILETOP, make: async (o) => (await import("./filetop.js")).filetop(o) },
  { info: SYSCOUNT, make: async (o) => (await import("./syscount.js")).syscount(o) },
  // CPU and scheduler
  { info: RUNQLAT, make: async (o) => (await import("./runqlat.js")).runqlat(o) },
  { info: RUNQLEN, make: async (o) => (await import("./runqlen.js")).runqlen(o) },
  { info: CPUDIST, make: async (o) => (await import("./cpudist.js")).cpudist(o) },
  { info: PROFILE, make: async (o) => (await import("./profile.js")).profile(o) },
  { info: OFFCPUTIME, make: async (o) => (await import("./offcputime.js")).offcputime(o) },
  // disks and the page cache
  { info: BIOLATENCY, make: async (o) => (await import("./biolatency.js")).biolatency(o) },
  { info: BIOSNOOP, make: async (o) => (await import("./biosnoop.js")).biosnoop(o) },
  { info: BIOTOP, make: async (o) => (await import("./biotop.js")).biotop(o) },
  { info: CACHESTAT, make: async (o) => (await import("./cachestat.js")).cachestat(o) },
  // network and name lookups
  { info: TCPCONNECT, make: async (o) => (await import("./tcpconnect.js")).tcpconnect(o) },
  { info: TCPACCEPT, make: async (o) => (await import("./tcpaccept.js")).tcpaccept(o) },
  { info: TCPCONNLAT, make: async (o) => (await import("./tcpconnlat.js")).tcpconnlat(o) },
  { info: TCPLIFE, make: async (o) => (await import("./tcplife.js")).tcplife(o) },
  { info: TCPRETRANS, make: async (o) => (await import("./tcpretrans.js")).tcpretrans(o) },
  { info: TCPDROP, make: async (o) => (await import("./tcpdrop.js")).tcpdrop(o) },
  { info: SOCKSTAT, make: async (o) => (await import("./sockstat.js")).sockstat(o) },
  { info: GETHOSTLATENCY, make: async (o) => (await import("./gethostlatency.js")).gethostlatency(o) },
];
