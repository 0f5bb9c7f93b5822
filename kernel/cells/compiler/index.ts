/* The cell compiler: TypeScript cells to code over a persistent `exports`, on the project's own TypeScript. */
export { createConverter } from "./converter.js";
export type { CellDiagnostic, CompletionResult, Converter, ConvertResult, DiagnosticPos, DisplayPart, QuickInfo, SideOutput } from "./types.js";
