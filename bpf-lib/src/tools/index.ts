/* The tools collection: the classic bcc/bpftrace tools as typed functions
 * (`import { tools } from "bpfbook"; await tools.opensnoop({ pid }).collect({ seconds: 5 })`).
 * This file only re-exports; registry.ts lists them for the shell. */
export { opensnoop } from "./opensnoop.js";
export type { OpensnoopOptions, OpensnoopRow } from "./opensnoop.js";
export { syscount } from "./syscount.js";
export { OPENSNOOP, SYSCOUNT } from "./catalog.js";
export type { SyscountOptions } from "./syscount.js";
export { runqlat } from "./runqlat.js";
export type { RunqlatOptions } from "./runqlat.js";
export { runqlen } from "./runqlen.js";
export type { RunqlenOptions } from "./runqlen.js";
export { cpudist } from "./cpudist.js";
export type { CpudistOptions } from "./cpudist.js";
export { offcputime } from "./offcputime.js";
export type { OffcputimeOptions } from "./offcputime.js";
export { profile } from "./profile.js";
export type { ProfileToolOptions } from "./profile.js";
export { biolatency } from "./biolatency.js";
export type { BiolatencyOptions } from "./biolatency.js";
export { biosnoop } from "./biosnoop.js";
export type { BiosnoopOptions, BiosnoopRow } from "./biosnoop.js";
export { biotop } from "./biotop.js";
export type { BiotopOptions } from "./biotop.js";
export { RUNQLAT, RUNQLEN, CPUDIST, OFFCPUTIME, PROFILE, BIOLATENCY, BIOSNOOP, BIOTOP, FILETOP, CACHESTAT } from "./catalog.js";
export { filetop } from "./filetop.js";
export type { FiletopOptions } from "./filetop.js";
export { cachestat } from "./cachestat.js";
export type { CachestatOptions } from "./cachestat.js";
export type { Tool, EventsTool, AggregationTool, ProfileTool, ToolInfo, ToolOption, ToolFilter } from "./tool.js";
