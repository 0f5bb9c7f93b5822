/*
 * What the cell compiler hands the runner, the traceback and introspection: the shapes tslab's converter
 * had (so runner.ts, introspection.ts and traceback.ts did not change), now produced on the project's TypeScript.
 */

export interface DiagnosticPos {
  /** UTF-16 offset in the cell (or in `fileName`). */
  offset: number;
  /** Zero-based. */
  line: number;
  /** Zero-based. */
  character: number;
}

export interface CellDiagnostic {
  start: DiagnosticPos;
  end: DiagnosticPos;
  messageText: string;
  category: number;
  code: number;
  /** Set when the error is in another file of the notebook's directory (a .ts the cell imports), relative to it. */
  fileName?: string;
}

export interface SideOutput {
  /** Absolute path of the .js the imported .ts would have compiled to. */
  path: string;
  data: string;
}

export interface ConvertResult {
  /** The cell as CommonJS-style code over a persistent `exports` object. */
  output?: string;
  /** Declarations of every top-level name so far, which the next cell is checked against. */
  declOutput?: string;
  /** When not empty, nothing else is set. */
  diagnostics: CellDiagnostic[];
  /** The `exports` member the last expression statement's value is stored in. */
  lastExpressionVar?: string;
  hasToplevelAwait?: boolean;
  /** Converted .ts files of the notebook's directory that the cell imports (only when they changed). */
  sideOutputs?: SideOutput[];
}

export interface DisplayPart {
  text: string;
  kind: string;
}

export interface QuickInfo {
  textSpan: { start: number; length: number };
  displayParts?: DisplayPart[];
  documentation?: DisplayPart[];
  tags?: { name: string; text?: DisplayPart[] }[];
}

export interface CompletionResult {
  /** UTF-16 offsets in the cell: what a chosen candidate replaces. */
  start: number;
  end: number;
  /** In TypeScript's order. */
  candidates: string[];
}

export interface Converter {
  convert(prevDecl: string, src: string): ConvertResult;
  inspect(prevDecl: string, src: string, position: number): QuickInfo | undefined;
  complete(prevDecl: string, src: string, position: number): CompletionResult;
  close(): void;
}
