/* The syntax of kernel paths: member names joined by "." (or "->", the same thing, as in
 * bpftrace), each optionally followed by array indexes: `real_parent.tgid`,
 * `sk->__sk_common.skc_dport`, `files.fdt.fd[3].f_pos`. Pure: types come later. */
import { InvalidArgumentError } from "../errors.js";

export type PathStep = { member: string } | { index: number };

export const PATH_EXAMPLES = "real_parent.tgid, cred->uid.val, comm, __sk_common.skc_dport, files.fdt.fd[0]";

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const INDEX = /\[\s*(0[xX][0-9a-fA-F]+|[0-9]+)\s*\]/y;
const SEPARATOR = /\s*(\.|->)\s*/y;

function syntaxError(path: string, at: number, expected: string): InvalidArgumentError {
  const where = at >= path.length ? "at the end" : `at character ${at + 1} (${JSON.stringify(path.slice(at, at + 8))})`;
  return new InvalidArgumentError(
    `kernel path ${JSON.stringify(path)}: expected ${expected} ${where}; a path is member names joined by "." or "->", ` +
      `with [N] to index a fixed-size array, such as ${PATH_EXAMPLES}`,
  );
}

/** The steps of `path`; [] for an empty path. */
export function parsePath(path: string): PathStep[] {
  if (typeof path !== "string") throw new InvalidArgumentError(`a kernel path must be a string such as "real_parent.tgid"; got ${typeof path}`);
  const steps: PathStep[] = [];
  const s = path.trim();
  let at = 0;
  if (s === "") return steps;
  for (;;) {
    IDENT.lastIndex = at;
    const id = IDENT.exec(s);
    if (!id) throw syntaxError(s, at, "a member name");
    steps.push({ member: id[0] });
    at = IDENT.lastIndex;
    for (;;) {
      INDEX.lastIndex = at;
      const ix = INDEX.exec(s);
      if (!ix) break;
      const n = Number(ix[1]);
      if (!Number.isSafeInteger(n)) throw syntaxError(s, at, "an array index below 2^53");
      steps.push({ index: n });
      at = INDEX.lastIndex;
    }
    if (at === s.length) return steps;
    SEPARATOR.lastIndex = at;
    const sep = SEPARATOR.exec(s);
    if (!sep) throw syntaxError(s, at, s[at] === "[" ? "an index: a non-negative integer in brackets, [2]" : '"." or "->" or [index]');
    at = SEPARATOR.lastIndex;
  }
}

/** The normal spelling: members joined by ".", indexes in brackets: `fdt.fd[3].f_pos`. */
export function formatPath(steps: readonly PathStep[]): string {
  let out = "";
  for (const step of steps) {
    if ("index" in step) out += `[${step.index}]`;
    else out += out === "" ? step.member : `.${step.member}`;
  }
  return out;
}
