/*
 * Runs notebook cells: the cell compiler (compiler/) type-checks a cell against the declarations earlier cells left and
 * turns it into CommonJS-style code over a persistent `exports` object; we load its imports (ES modules
 * included), run it in the main context and report value, error or interruption.
 */
import { join, resolve } from "node:path";
import { CellScript } from "./cell-script.js";
import { createExports } from "./exports-object.js";
import { complete, inspect, type Completion } from "./introspection.js";
import { annotateHelp } from "./help.js";
import { Interruption, isSigintStop } from "./interruption.js";
import { isComplete, type Completeness } from "./is-complete.js";
import { ModuleLoader } from "./modules.js";
import { declaredNames, expandShorthands } from "./shorthand.js";
import { bpfCellSource, isBpfCell, typeBpfCalls } from "./bpf-cells.js";
import { switchMode } from "../replay.js";
import { imagesStatus, takeImagesMagic } from "../display/image-mode.js";
import { bpfbookName } from "./locations.js";
import { blankExportModifiers } from "./strip-exports.js";
import { diagnosticsError, internalError, interruptedError, originCell, runtimeError } from "./traceback.js";
import { createConverter, type Converter } from "./compiler/index.js";
import type { CellError, CellOutcome, RunnerOptions } from "./types.js";

const cellStackTraceLimit = 50;

export class CellRunner {
  private readonly cwd: string;
  private converter: Converter | undefined;
  /** Declarations of every name earlier cells defined, which the next cell is checked against. */
  private prevDecl = "";
  private readonly prelude: string;
  private readonly onChecking: (running: boolean) => void;
  private readonly onSyncPart: (running: boolean) => void;
  private readonly state = createExports();
  private readonly modules: ModuleLoader;
  /** By file name, so stack frames of functions defined in any earlier cell map to that cell's lines. */
  private readonly scripts = new Map<string, CellScript>();
  private current: Interruption | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /**
   * While the runner lives SIGINT must not end the process; during a cell it interrupts it. (During the
   * cell's synchronous part Node disables this listener and breakOnSigint stops the script instead.)
   */
  private readonly onSigint = (): void => this.interrupt();

  constructor(opts: RunnerOptions) {
    this.cwd = resolve(opts.cwd);
    this.prelude = opts.prelude ?? "";
    this.onChecking = opts.onChecking ?? (() => {});
    this.onSyncPart = opts.onSyncPart ?? (() => {});
    this.prevDecl = this.prelude;
    this.modules = new ModuleLoader(this.cwd);
    process.on("SIGINT", this.onSigint);
  }

  /** Type-checks and runs one cell; state persists across cells. Cells run one at a time, in call order. */
  execute(code: string, executionCount: number): Promise<CellOutcome> {
    const run = this.queue.then(() => this.run(code, executionCount));
    this.queue = run.catch(() => {});
    return run;
  }

  /** Positions count Unicode code points, as in Jupyter's messages. */
  complete(code: string, cursorPos: number): Completion {
    try {
      return complete(this.getConverter(), this.prevDecl, code, cursorPos);
    } catch {
      return { matches: [], cursorStart: cursorPos, cursorEnd: cursorPos };
    }
  }

  /** The type and docs of the symbol at the cursor (code points). */
  inspect(code: string, cursorPos: number, detailLevel: 0 | 1): { found: boolean; text: string } {
    try {
      return inspect(this.getConverter(), this.prevDecl, code, cursorPos, detailLevel);
    } catch {
      return { found: false, text: "" };
    }
  }

  /** An error no cell awaited (a timer's, an unhandled rejection): traceback at cell lines, and the cell it was thrown in. */
  explain(e: unknown): { error: CellError; cell: number | undefined } {
    const scriptOf = (name: string) => this.scripts.get(name);
    return { error: runtimeError(e, scriptOf), cell: originCell(e, scriptOf) };
  }

  isComplete(code: string): Completeness {
    return isComplete(code);
  }

  /** Interrupts the running cell, if any: its pending await is abandoned and it ends "interrupted". */
  interrupt(): void {
    this.current?.fire();
  }

  /** Forgets every name, declaration and module (kernel restart). */
  reset(): void {
    this.interrupt();
    this.prevDecl = this.prelude;
    this.state.clear();
    this.modules.clear();
    this.scripts.clear();
    // The converter remembers which imported .ts files it already converted; a new one converts them again.
    this.converter?.close();
    this.converter = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.interrupt();
    process.off("SIGINT", this.onSigint);
    this.converter?.close();
    this.converter = undefined;
  }

  private getConverter(): Converter {
    if (this.closed) throw new Error("the cell runner is closed");
    this.converter ??= createConverter(this.cwd);
    return this.converter;
  }

  private async run(code: string, count: number): Promise<CellOutcome> {
    const interruption = new Interruption();
    this.current = interruption;
    // Cell frames can sit below many library frames (arquero, this library); V8 keeps only 10 by default.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = Math.max(limit, cellStackTraceLimit);
    // A cell awaiting what holds no handle (a promise never settled) must stay interruptible: SIGINT reaches
    // us through the event loop, which would otherwise end (tslab's file watchers used to hold it open).
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      return await this.runCell(code, count, interruption);
    } catch (e) {
      return { status: "error", error: internalError(e) };
    } finally {
      clearInterval(keepAlive);
      if (this.current === interruption) this.current = undefined;
      if (Error.stackTraceLimit === Math.max(limit, cellStackTraceLimit)) Error.stackTraceLimit = limit;
    }
  }

  private async runCell(code: string, count: number, interruption: Interruption): Promise<CellOutcome> {
    this.onChecking(true);
    let converted: ReturnType<Converter["convert"]>;
    try {
      // `%bpfbook record|replay|live` switches the mode; the line itself stays (blank), so line numbers hold
      const switched = await switchMode(code, this.cwd);
      if (switched) {
        code = switched.rest;
        this.modules.forget(bpfbookName);
      }
      // `%bpfbook images on|off|auto`: static images of charts (display/image-mode.ts); said back in the cell's output
      const images = takeImagesMagic(code);
      if (images) {
        code = images.rest;
        process.stdout.write(`${imagesStatus()}\n`);
      }
      // BPF C is compiled first, so the cell is checked against its object's types
      const source = annotateHelp(isBpfCell(code) ? await bpfCellSource(code) : await typeBpfCalls(code), this.getConverter(), this.prevDecl);
      converted = this.getConverter().convert(this.prevDecl, expandShorthands(blankExportModifiers(source), declaredNames(this.prevDecl)));
    } finally {
      this.onChecking(false);
    }
    if (converted.diagnostics.length > 0) {
      return { status: "error", error: diagnosticsError(converted.diagnostics, count, code) };
    }
    this.modules.addLocalSources(converted.sideOutputs);
    const output = converted.output;
    if (!output) {
      this.prevDecl = converted.declOutput ?? this.prevDecl;
      return { status: "ok", value: undefined, hasValue: false };
    }
    try {
      await Promise.race([this.modules.prepare(output), interruption.promise]);
    } catch (e) {
      if (e === interruption) return { status: "interrupted", error: interruptedError("async") };
      throw e;
    }

    const script = this.register(count, code, output);
    const exports = this.state.exports;
    const lastVar = converted.lastExpressionVar;
    const takeLast = (): unknown => {
      if (lastVar === undefined) return undefined;
      const value = exports[lastVar];
      delete exports[lastVar];
      return value;
    };
    const require = this.modules.requireFor(this.cwd);
    const filename = join(this.cwd, script.filename);
    const module = { exports, require, id: filename, filename, path: this.cwd, loaded: false };
    const scriptOf = (name: string) => this.scripts.get(name);

    let done: Promise<unknown>;
    try {
      this.onSyncPart(true);
      try {
        done = script.start([exports, require, module, filename, this.cwd]);
      } finally {
        this.onSyncPart(false);
      }
    } catch (e) {
      takeLast();
      if (isSigintStop(e)) return { status: "interrupted", error: interruptedError("sync") };
      return { status: "error", error: runtimeError(e, scriptOf) };
    }
    // An interrupted cell may still fail later, with nobody awaiting it.
    done.catch(() => {});
    try {
      await Promise.race([done, interruption.promise]);
    } catch (e) {
      takeLast();
      if (e === interruption) return { status: "interrupted", error: interruptedError("async") };
      return { status: "error", error: runtimeError(e, scriptOf) };
    }
    // Declarations advance only when the cell completed: a failed cell's names stay unknown.
    this.prevDecl = converted.declOutput ?? this.prevDecl;
    const value = takeLast();
    return { status: "ok", value, hasValue: value !== undefined };
  }

  private register(count: number, source: string, output: string): CellScript {
    let filename = `cell-${count}.js`;
    // Silent executions reuse the count; earlier functions must keep mapping to their own cell.
    for (let k = 2; this.scripts.has(filename); k++) filename = `cell-${count}.${k}.js`;
    const script = new CellScript(count, filename, source, output);
    this.scripts.set(filename, script);
    return script;
  }
}
