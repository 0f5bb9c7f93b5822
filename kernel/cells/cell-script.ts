/*
 * One cell's converted code, wrapped so that running the vm script *calls* it: the cell's synchronous part
 * then runs inside runInThisContext, where a SIGINT (breakOnSigint) can stop a synchronous loop.
 */
import vm from "node:vm";
import { LineMap } from "./line-map.js";

/** Where the wrapper finds its arguments while the script runs (a global, since the script is compiled code). */
export const cellArgsKey = Symbol.for("bpfbook.cells.args");

export type CellArgs = [exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string];

const open = "(async function (exports, require, module, __filename, __dirname) {";
const close = `})(...globalThis[Symbol.for(${JSON.stringify(cellArgsKey.description)})]);`;

export class CellScript {
  private lineMap: LineMap | undefined;

  /** @param filename what stack traces name this cell's frames by */
  constructor(
    readonly count: number,
    readonly filename: string,
    readonly source: string,
    readonly output: string,
  ) {}

  /** Runs the synchronous part; the promise settles when the cell does. Throws what a SIGINT interruption throws. */
  start(args: CellArgs): Promise<unknown> {
    // The output starts on line 2, which sourceLine() undoes.
    const script = new vm.Script(`${open}\n${this.output}\n${close}`, { filename: this.filename });
    const global = globalThis as unknown as Record<symbol, CellArgs | undefined>;
    global[cellArgsKey] = args;
    try {
      return script.runInThisContext({ breakOnSigint: true, displayErrors: false }) as Promise<unknown>;
    } finally {
      delete global[cellArgsKey];
    }
  }

  /** The zero-based cell line of a one-based line and column in this script, as stack traces give them. */
  sourceLine(line: number, column: number): number | undefined {
    this.lineMap ??= new LineMap(this.source, this.output);
    return this.lineMap.sourceLine(line - 2, column - 1);
  }

  /** Whether a one-based script line is the wrapper's own (the call that starts the cell). */
  isWrapperLine(line: number): boolean {
    return line < 2 || line > this.output.split("\n").length + 1;
  }

  sourceText(line: number): string {
    return this.source.split("\n")[line] ?? "";
  }
}
