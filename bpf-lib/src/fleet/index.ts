/* The fleet: one notebook, probes on many hosts (docs/fleet.md). Re-exports only. */
export { fleet } from "./fleet.js";
export type { Fleet, FleetOptions } from "./fleet.js";
export { FleetRun } from "./run.js";
export type { FleetProbe, FleetProbes, FleetLatencyOptions } from "./types.js";
export type { FleetTable, FleetInfo, HostResult, HostError, HostProgress } from "./results.js";
export type { AgentCommand, SshOptions, KubernetesOptions } from "./transport.js";
export type { Plan, PlanStep, PlanValue } from "./plan.js";
export { PLAN_VERSION } from "./plan.js";
export { PROTOCOL } from "./protocol.js";
export { FleetPlanError, AgentProtocolError, AgentError, HostUnreachableError, AgentDisconnectedError, FleetFailedError, FleetStoppedError, FrameError } from "./errors.js";
