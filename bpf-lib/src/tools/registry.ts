/* Every tool, for the shell (`bpfbook <tool>`): its description (catalog.ts, plain data)
 * and how to make it, imported only when it runs, so `bpfbook help` loads no libbpf. */
import type { Tool } from "./tool.js";
import type { ToolInfo } from "./tool-info.js";
import { OPENSNOOP, SYSCOUNT } from "./catalog.js";
import { RUNQLAT, RUNQLEN, CPUDIST, OFFCPUTIME, PROFILE, BIOLATENCY, BIOSNOOP, BIOTOP, FILETOP, CACHESTAT } from "./catalog.js";

export interface RegisteredTool {
  info: ToolInfo;
  make(options: Record<string, unknown>): Promise<Tool>;
}

export const TOOLS: readonly RegisteredTool[] = [
  { info: OPENSNOOP, make: async (o) => (await import("./opensnoop.js")).opensnoop(o) },
  { info: SYSCOUNT, make: async (o) => (await import("./syscount.js")).syscount(o) },
  { info: RUNQLAT, make: async (o) => (await import("./runqlat.js")).runqlat(o) },
  { info: RUNQLEN, make: async (o) => (await import("./runqlen.js")).runqlen(o) },
  { info: CPUDIST, make: async (o) => (await import("./cpudist.js")).cpudist(o) },
  { info: OFFCPUTIME, make: async (o) => (await import("./offcputime.js")).offcputime(o) },
  { info: PROFILE, make: async (o) => (await import("./profile.js")).profile(o) },
  { info: BIOLATENCY, make: async (o) => (await import("./biolatency.js")).biolatency(o) },
  { info: BIOSNOOP, make: async (o) => (await import("./biosnoop.js")).biosnoop(o) },
  { info: BIOTOP, make: async (o) => (await import("./biotop.js")).biotop(o) },
  { info: FILETOP, make: async (o) => (await import("./filetop.js")).filetop(o) },
  { info: CACHESTAT, make: async (o) => (await import("./cachestat.js")).cachestat(o) },
];
