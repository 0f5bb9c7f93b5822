/* Interrupting the cell that is running: a rejection the executor races the cell's promise against. */

/** What runInThisContext throws when breakOnSigint stopped the script. */
export function isSigintStop(e: unknown): boolean {
  return typeof e === "object" && e !== null && "code" in e && e.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED";
}

export class Interruption {
  readonly promise: Promise<never>;
  private rejectWith: (reason: unknown) => void = () => {};
  private fired = false;

  constructor() {
    this.promise = new Promise<never>((_, reject) => {
      this.rejectWith = reject;
    });
    // Nobody may be racing it yet when it fires.
    this.promise.catch(() => {});
  }

  get interrupted(): boolean {
    return this.fired;
  }

  fire(): void {
    if (this.fired) return;
    this.fired = true;
    this.rejectWith(this);
  }
}
