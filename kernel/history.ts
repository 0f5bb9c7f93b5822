/* The kernel's input history (history_request: tail, range, search). Pure. */
export interface HistoryEntry {
  session: number;
  line: number;
  input: string;
  output: string | null;
}

export interface HistoryQuery {
  hist_access_type?: "tail" | "range" | "search";
  output?: boolean;
  raw?: boolean;
  session?: number;
  start?: number;
  stop?: number;
  n?: number;
  pattern?: string;
  unique?: boolean;
}

/** Glob (the protocol's search pattern: * and ?) → RegExp over the whole input. */
function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[\\s\\S]*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`);
}

export class History {
  readonly session: number;
  readonly #entries: HistoryEntry[] = [];

  constructor(session = 1) {
    this.session = session;
  }

  add(line: number, input: string): void {
    this.#entries.push({ session: this.session, line, input, output: null });
  }

  setOutput(line: number, output: string): void {
    const e = this.#entries.find((x) => x.line === line);
    if (e) e.output = output;
  }

  /** Entries as the protocol wants them: [session, line, input] or [session, line, [input, output]]. */
  query(q: HistoryQuery): [number, number, string | [string, string | null]][] {
    let found: HistoryEntry[];
    switch (q.hist_access_type ?? "tail") {
      case "range": {
        const start = q.start ?? 1;
        const stop = q.stop ?? Infinity;
        found = this.#entries.filter((e) => (q.session === undefined || q.session === e.session || q.session === 0) && e.line >= start && e.line < stop);
        break;
      }
      case "search": {
        const re = globToRegExp(q.pattern ?? "*");
        found = this.#entries.filter((e) => re.test(e.input));
        if (q.unique) {
          const seen = new Set<string>();
          found = found.reverse().filter((e) => (seen.has(e.input) ? false : (seen.add(e.input), true))).reverse();
        }
        if (q.n !== undefined && q.n !== null) found = found.slice(-q.n);
        break;
      }
      default:
        found = this.#entries.slice(-(q.n ?? 10));
    }
    return found.map((e) => [e.session, e.line, q.output ? [e.input, e.output] : e.input]);
  }
}
