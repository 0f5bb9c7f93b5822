/* Option checks shared by every entry point (tracepoints, aggregations, latency,
 * uprobes, kernel functions, XDP, profiles, collect/stream/start). Each throws
 * InvalidOptionError naming the option, what was given and what would work. */
export * as durations from "./durations.js";
export * as sizes from "./sizes.js";
export * as ranges from "./ranges.js";
export * as shapes from "./shapes.js";
export { histSpec, type HistSpec } from "./hist.js";
export { cpuList } from "./cpus.js";
export { shown } from "./describe.js";
