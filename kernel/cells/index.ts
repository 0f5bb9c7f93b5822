/* The notebook's cell compiler and executor, for the kernel's main thread. */
export { CellRunner } from "./runner.js";
export type { CellError, CellOutcome, RunnerOptions } from "./types.js";
export type { Completion } from "./introspection.js";
export type { Completeness } from "./is-complete.js";
