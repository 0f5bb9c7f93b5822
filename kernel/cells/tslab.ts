/*
 * tslab's converter (TypeScript cell → CommonJS-style JS plus the declarations the next cell sees),
 * typed here for the few members we use: tslab's own .d.ts drags in its TypeScript 5.0 fork's types.
 */
import { createRequire } from "node:module";
import { installTypeResolution } from "./type-resolution.js";

export interface DiagnosticPos {
  offset: number;
  /** Zero-based. */
  line: number;
  /** Zero-based. */
  character: number;
}

export interface TslabDiagnostic {
  start: DiagnosticPos;
  end: DiagnosticPos;
  messageText: string;
  category: number;
  code: number;
  /** Set when the error is in another file of the notebook's directory (a .ts the cell imports). */
  fileName?: string;
}

export interface SideOutput {
  /** Absolute path of the .js the imported .ts would have compiled to. */
  path: string;
  data: string;
}

export interface ConvertResult {
  output?: string;
  declOutput?: string;
  /** When not empty, nothing else is set. */
  diagnostics: TslabDiagnostic[];
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
  start: number;
  end: number;
  candidates: string[];
}

export interface Converter {
  convert(prevDecl: string, src: string): ConvertResult;
  inspect(prevDecl: string, src: string, position: number): QuickInfo | undefined;
  complete(prevDecl: string, src: string, position: number): CompletionResult;
  close(): void;
}

interface ConverterModule {
  createConverter(): Converter;
  isCompleteCode(content: string): { completed: boolean; indent?: string };
}

/** The fork's `ts.sys`: the converter's host reads the file system through it. */
export interface ForkSys {
  getCurrentDirectory(): string;
}

let loaded: { converterModule: ConverterModule; forkSys: ForkSys } | undefined;

/** Loaded on first use: the fork takes a few hundred milliseconds to load, which kernel start-up need not wait for. */
function tslab(): { converterModule: ConverterModule; forkSys: ForkSys } {
  if (loaded) return loaded;
  const converterPath = createRequire(import.meta.url).resolve("tslab/dist/converter.js");
  const load = createRequire(converterPath);
  const converterModule = load(converterPath) as ConverterModule;
  // The fork instance tslab itself uses (resolved from tslab's directory), whose sys we adjust.
  const forkSys = (load("@tslab/typescript-for-tslab") as { sys: ForkSys }).sys;
  installTypeResolution(forkSys);
  loaded = { converterModule, forkSys };
  return loaded;
}

/**
 * A converter whose root is the notebook's directory. tslab takes its root from the fork's
 * current directory at creation only, so we lend it the notebook's for that call instead of chdir-ing the process.
 */
export function createConverter(cwd: string): Converter {
  const { converterModule, forkSys } = tslab();
  const saved = forkSys.getCurrentDirectory;
  forkSys.getCurrentDirectory = () => cwd;
  try {
    return converterModule.createConverter();
  } finally {
    forkSys.getCurrentDirectory = saved;
  }
}

export function tslabIsComplete(code: string): { completed: boolean; indent?: string } {
  return tslab().converterModule.isCompleteCode(code);
}
