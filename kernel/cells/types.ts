/* What the kernel's main thread gets back from running a cell. */

export interface CellError {
  ename: string;
  evalue: string;
  /** Plain-text lines for Jupyter, with positions in the cell's own lines ("Cell In[3], line 2: ..."). */
  traceback: string[];
}

export type CellOutcome =
  | { status: "ok"; value: unknown; hasValue: boolean }
  | { status: "error"; error: CellError }
  | { status: "interrupted"; error: CellError };

export interface RunnerOptions {
  /** The notebook's directory: relative imports and packages installed next to the notebook resolve from here. */
  cwd: string;
  /** Declarations of globals the host provides (display(), input(), ...), visible to every cell's type check. */
  prelude?: string;
  /** Told when type checking (and conversion) of a cell starts (true) and ends (false). */
  onChecking?: (running: boolean) => void;
  /** Told when the cell's synchronous part (run under breakOnSigint) starts (true) and ends (false). */
  onSyncPart?: (running: boolean) => void;
}
