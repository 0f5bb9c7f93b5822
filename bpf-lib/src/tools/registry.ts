/* Every tool, for the shell (`bpfbook <tool>`): its description (catalog.ts, plain data)
 * and how to make it, imported only when it runs, so `bpfbook help` loads no libbpf. */
import type { Tool } from "./tool.js";
import type { ToolInfo } from "./tool-info.js";
import { OPENSNOOP, SYSCOUNT } from "./catalog.js";

export interface RegisteredTool {
  info: ToolInfo;
  make(options: Record<string, unknown>): Promise<Tool>;
}

export const TOOLS: readonly RegisteredTool[] = [
  { info: OPENSNOOP, make: async (o) => (await import("./opensnoop.js")).opensnoop(o) },
  { info: SYSCOUNT, make: async (o) => (await import("./syscount.js")).syscount(o) },
];
