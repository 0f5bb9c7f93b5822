/* The tools collection: the classic bcc/bpftrace tools as typed functions
 * (`import { tools } from "bpfbook"; await tools.opensnoop({ pid }).collect({ seconds: 5 })`).
 * This file only re-exports; registry.ts lists them for the shell. */
export { opensnoop } from "./opensnoop.js";
export type { OpensnoopOptions, OpensnoopRow } from "./opensnoop.js";
export { syscount } from "./syscount.js";
export { OPENSNOOP, SYSCOUNT } from "./catalog.js";
export type { SyscountOptions } from "./syscount.js";
export { execsnoop } from "./execsnoop.js";
export type { ExecsnoopOptions, ExecsnoopRow } from "./execsnoop.js";
export { exitsnoop } from "./exitsnoop.js";
export type { ExitsnoopOptions, ExitsnoopRow } from "./exitsnoop.js";
export { killsnoop } from "./killsnoop.js";
export type { KillsnoopOptions, KillsnoopRow } from "./killsnoop.js";
export { statsnoop } from "./statsnoop.js";
export type { StatsnoopOptions, StatsnoopRow } from "./statsnoop.js";
export { signals } from "./signals.js";
export type { SignalsOptions, SignalsRow } from "./signals.js";
export { capable } from "./capable.js";
export type { CapableOptions, CapableRow } from "./capable.js";
export { oomkill } from "./oomkill.js";
export type { OomkillOptions, OomkillRow } from "./oomkill.js";
export { mountsnoop } from "./mountsnoop.js";
export type { MountsnoopOptions, MountsnoopRow } from "./mountsnoop.js";
export { bashreadline } from "./bashreadline.js";
export type { BashreadlineOptions, BashreadlineRow } from "./bashreadline.js";
export { gethostlatency } from "./gethostlatency.js";
export type { GethostlatencyOptions, GethostlatencyRow } from "./gethostlatency.js";
export { EXECSNOOP, EXITSNOOP, KILLSNOOP, STATSNOOP, SIGNALS, CAPABLE, OOMKILL, MOUNTSNOOP, BASHREADLINE, GETHOSTLATENCY } from "./catalog.js";
export type { Tool, EventsTool, AggregationTool, ToolInfo, ToolOption, ToolFilter } from "./tool.js";
