/* Kernel function probes: the public API (re-exported by bpf-lib/src/index.ts). */
export { kprobe, kretprobe, kfuncLatency, kfuncPrototype, KernelFunctionProbe } from "./probe.js";
export { kfuncColumnName } from "./plan.js";
export { KfuncAggregation } from "./aggregate.js";
export type {
  KprobeOptions, KretprobeOptions, KprobeRow, KretprobeRow, KfuncWhere, KfuncPlan, KfuncAggregateOptions,
  KfuncArgName, KfuncStringArg, KfuncKeyName, KfuncValueName, KfuncColumn, StringSource,
} from "./types.js";
export { KernelBtf, formatPrototype } from "./prototype.js";
export type { KfuncPrototype, KfuncArg, KfuncValueKind } from "./prototype.js";
export { kernelFunctionNames as kernelFunctions, traceability } from "./names.js";
export type { Traceability } from "./names.js";
export { kfuncSupport } from "./support.js";
export type { KfuncSupport } from "./support.js";
export { UnknownKernelFunctionError, UntraceableKernelFunctionError, UnknownArgumentError } from "./errors.js";
export type { KernelFunctionSignatures, KernelFunctionArgs, KernelFunctionReturn, KernelFunctionStrings, IsKernelFunction } from "../../generated/kfuncs.js";
