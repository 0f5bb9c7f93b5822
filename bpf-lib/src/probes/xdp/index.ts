/* XDP: see and shape the packets arriving on an interface. */
export { xdp, XdpProbe, XdpAggregation, XdpRun, XdpSample, XdpSampleRun, testFrames, ruleTable, packetColumns } from "./probe.js";
export type { XdpOptions, XdpCountOptions, XdpHistOptions, XdpSampleOptions, XdpInfo, XdpStats, XdpTable, XdpPacketStats, XdpPacketTable } from "./probe.js";
export type { PacketMatch, XdpRule, PortSpec } from "./match.js";
export type { XdpTotals, RuleInfo, RuleCount } from "./totals.js";
export { XDP_KEYS, KEY_PRESETS } from "./keys.js";
export type { XdpKey } from "./keys.js";
export { listInterfaces, resolveInterface, xdpPrograms } from "./attach.js";
export type { XdpMode, XdpAttachedMode, AttachedProgram, NetworkInterface } from "./attach.js";
export { XdpFdLink } from "./link.js";
export { UnknownInterfaceError, XdpBusyError } from "./errors.js";
export { buildFrame } from "./frames.js";
export type { FrameSpec } from "./frames.js";
export { formatAddress, parseAddress, parsePrefix } from "./addr.js";
export { protocolName, protocolNumber, serviceName, servicePort, etherTypeName, icmpTypeName, tcpFlagsText, protocolLabel } from "./names.js";
