/* The names kernel function probes had before "kfunc" gave way to "kernel function":
 * in today's kernel a kfunc is a kernel function that BPF programs may call, not one
 * they trace (bpftrace renamed its kfunc probes to fentry for the same reason). Kept so
 * existing notebooks still run; each one is the new name under its old spelling. */
import { kernelFunctionLatency, kernelFunctionPrototype, latencyCalled } from "./probe.js";
import { kernelFunctionColumnName } from "./plan.js";
import { KernelFunctionAggregation } from "./aggregate.js";
import { kernelFunctionSupport, type KernelFunctionSupport } from "./support.js";
import type { KernelFunctionArg, KernelFunctionPrototype, KernelFunctionValueKind } from "./prototype.js";
import type {
  KernelFunctionAggregateOptions, KernelFunctionArgName, KernelFunctionColumn, KernelFunctionKeyName, KernelFunctionPlan,
  KernelFunctionStringArg, KernelFunctionValueName, KernelFunctionWhere,
} from "./types.js";

/** @deprecated Use {@link kernelFunctionLatency}. */
export const kfuncLatency: typeof kernelFunctionLatency = (fn, opts = {}) => latencyCalled("kfuncLatency", fn, opts);
/** @deprecated Use {@link kernelFunctionPrototype}. */
export const kfuncPrototype = kernelFunctionPrototype;
/** @deprecated Use {@link kernelFunctionColumnName}. */
export const kfuncColumnName = kernelFunctionColumnName;
/** @deprecated Use {@link kernelFunctionSupport}. */
export const kfuncSupport = kernelFunctionSupport;
/** @deprecated Use {@link KernelFunctionAggregation}. */
export const KfuncAggregation = KernelFunctionAggregation;
/** @deprecated Use {@link KernelFunctionAggregation}. */
export type KfuncAggregation = KernelFunctionAggregation;

/** @deprecated Use {@link KernelFunctionSupport}. */
export type KfuncSupport = KernelFunctionSupport;
/** @deprecated Use {@link KernelFunctionPrototype}. */
export type KfuncPrototype = KernelFunctionPrototype;
/** @deprecated Use {@link KernelFunctionArg}. */
export type KfuncArg = KernelFunctionArg;
/** @deprecated Use {@link KernelFunctionValueKind}. */
export type KfuncValueKind = KernelFunctionValueKind;
/** @deprecated Use {@link KernelFunctionPlan}. */
export type KfuncPlan = KernelFunctionPlan;
/** @deprecated Use {@link KernelFunctionAggregateOptions}. */
export type KfuncAggregateOptions<K extends string = string, V extends string = string> = KernelFunctionAggregateOptions<K, V>;
/** @deprecated Use {@link KernelFunctionWhere}. */
export type KfuncWhere<N extends string> = KernelFunctionWhere<N>;
/** @deprecated Use {@link KernelFunctionArgName}. */
export type KfuncArgName<N extends string> = KernelFunctionArgName<N>;
/** @deprecated Use {@link KernelFunctionStringArg}. */
export type KfuncStringArg<N extends string> = KernelFunctionStringArg<N>;
/** @deprecated Use {@link KernelFunctionKeyName}. */
export type KfuncKeyName<N extends string> = KernelFunctionKeyName<N>;
/** @deprecated Use {@link KernelFunctionValueName}. */
export type KfuncValueName<N extends string> = KernelFunctionValueName<N>;
/** @deprecated Use {@link KernelFunctionColumn}. */
export type KfuncColumn<K extends string> = KernelFunctionColumn<K>;
