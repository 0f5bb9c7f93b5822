/* The tools collection: the classic bcc/bpftrace tools as typed functions
 * (`import { tools } from "bpfbook"; await tools.opensnoop({ pid }).collect({ seconds: 5 })`).
 * This file only re-exports; registry.ts lists them for the shell. */
export { opensnoop } from "./opensnoop.js";
export type { OpensnoopOptions, OpensnoopRow } from "./opensnoop.js";
export { syscount } from "./syscount.js";
export { OPENSNOOP, SYSCOUNT } from "./catalog.js";
export type { SyscountOptions } from "./syscount.js";
export { tcpconnect } from "./tcpconnect.js";
export type { TcpconnectOptions, TcpconnectRow } from "./tcpconnect.js";
export { tcpaccept } from "./tcpaccept.js";
export type { TcpacceptOptions, TcpacceptRow } from "./tcpaccept.js";
export { tcplife } from "./tcplife.js";
export type { TcplifeOptions, TcplifeRow } from "./tcplife.js";
export { tcpconnlat } from "./tcpconnlat.js";
export type { TcpconnlatOptions, TcpconnlatRow } from "./tcpconnlat.js";
export { tcpretrans } from "./tcpretrans.js";
export type { TcpretransOptions, TcpretransRow } from "./tcpretrans.js";
export { tcpdrop } from "./tcpdrop.js";
export type { TcpdropOptions, TcpdropRow } from "./tcpdrop.js";
export { sockstat } from "./sockstat.js";
export type { SockstatOptions } from "./sockstat.js";
export { TCPCONNECT, TCPACCEPT, TCPLIFE, TCPCONNLAT, TCPRETRANS, TCPDROP, SOCKSTAT } from "./catalog.js";
export type { Tool, EventsTool, AggregationTool, ToolInfo, ToolOption, ToolFilter } from "./tool.js";
