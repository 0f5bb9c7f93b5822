/* The tools collection: the classic bcc/bpftrace tools as typed functions
 * (`import { tools } from "bpfbook"; await tools.opensnoop({ pid }).collect({ seconds: 5 })`).
 * This file only re-exports; registry.ts lists them for the shell. */
export { opensnoop } from "./opensnoop.js";
export type { OpensnoopOptions, OpensnoopRow } from "./opensnoop.js";
export { syscount } from "./syscount.js";
export { OPENSNOOP, SYSCOUNT } from "./catalog.js";
export type { SyscountOptions } from "./syscount.js";
export type { Tool, EventsTool, AggregationTool, ToolInfo, ToolOption, ToolFilter } from "./tool.js";
