/* Kernel function probes: the public API (re-exported by bpf-lib/src/index.ts), and
 * the names it had before "kfunc" became "kernel function" (deprecated.ts). */
export { kprobe, kretprobe, kernelFunctionLatency, kernelFunctionPrototype, KernelFunctionProbe } from "./probe.js";
export { kernelFunctionColumnName } from "./plan.js";
export { KernelFunctionAggregation } from "./aggregate.js";
export type {
  KprobeOptions, KretprobeOptions, KprobeRow, KretprobeRow, KernelFunctionWhere, KernelFunctionPlan, KernelFunctionAggregateOptions,
  KernelFunctionArgName, KernelFunctionStringArg, KernelFunctionKeyName, KernelFunctionValueName, KernelFunctionColumn, StringSource,
} from "./types.js";
export { KernelBtf, formatPrototype } from "./prototype.js";
export type { KernelFunctionPrototype, KernelFunctionArg, KernelFunctionValueKind } from "./prototype.js";
export { kernelFunctionNames as kernelFunctions, traceability } from "./names.js";
export type { Traceability } from "./names.js";
export { kernelFunctionSupport } from "./support.js";
export type { KernelFunctionSupport } from "./support.js";
export { UnknownKernelFunctionError, UntraceableKernelFunctionError, UnknownArgumentError } from "./errors.js";
export type { KernelFunctionSignatures, KernelFunctionArgs, KernelFunctionReturn, KernelFunctionStrings, IsKernelFunction } from "../../generated/kernel-functions.js";
export {
  kfuncLatency, kfuncPrototype, kfuncColumnName, kfuncSupport, KfuncAggregation,
} from "./deprecated.js";
export type {
  KfuncWhere, KfuncPlan, KfuncAggregateOptions, KfuncArgName, KfuncStringArg, KfuncKeyName, KfuncValueName, KfuncColumn,
  KfuncPrototype, KfuncArg, KfuncValueKind, KfuncSupport,
} from "./deprecated.js";
