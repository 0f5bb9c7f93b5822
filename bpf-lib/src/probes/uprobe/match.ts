/* Several functions of one binary for one uprobe: a list of names and wildcards
 * (`*` any run of characters, `?` one), as bpftrace's `uprobe:/bin/bash:read*`.
 * Matched against the ELF function symbols, one attachment per address (aliases
 * name the same code: the first name kept), bounded, and errors that say what
 * would work. */
import { BpfbookError, InvalidArgumentError } from "../../errors.js";
import { openElf, type ElfSymbol } from "../../symbols/elf.js";
import { nearestSymbols, resolveFunction, type ResolvedFunction } from "../../symbols/resolve.js";
import { UnknownSymbolError } from "../../symbols/errors.js";

/** How many functions one probe attaches to unless `maxFunctions` says otherwise. */
export const DEFAULT_MAX_FUNCTIONS = 64;
/** The most `maxFunctions` allows: each match is one or two attachments (perf events, fds), and uprobe.bpf.c keys a call's start by thread and the index in 10 bits. */
export const MAX_FUNCTIONS = 1024;

/** A function a multi-function probe attaches to: its name (the `probe` column) and place. */
export interface MatchedFunction {
  name: string;
  function: ResolvedFunction;
}

/** Whether a symbol argument has wildcards (else it names one function). */
export function isSymbolPattern(name: string): boolean {
  return /[*?]/.test(name);
}

function symbolRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
}

/** A pattern that matches no function of the binary; `.nearest` lists the closest names it has. */
export class NoMatchingSymbolError extends UnknownSymbolError {
  readonly pattern: string;
  constructor(binary: string, pattern: string, nearest: readonly string[], skipped: readonly string[] = []) {
    super(binary, pattern, nearest);
    this.pattern = pattern;
    const hint = nearest.length ? `; nearest: ${nearest.join(", ")}` : "; it has no function symbols (stripped?)";
    const why = skipped.length ? `: it matches only ${skipped.slice(0, 6).join(", ")}${skipped.length > 6 ? ", ..." : ""}, GNU indirect functions (resolvers run once at load, not the code each call runs) or compat versions, which are not probed; probe an implementation instead` : "";
    this.message = `no ${skipped.length ? "probeable " : ""}function of ${binary} matches ${JSON.stringify(pattern)}${why}${hint}`;
  }
}

/** More matching functions than one probe may attach to (`.limit`: maxFunctions). */
export class TooManySymbolsError extends BpfbookError {
  readonly binary: string;
  readonly pattern: string;
  readonly matches: readonly string[];
  readonly limit: number;
  constructor(binary: string, pattern: string, matches: readonly string[], limit: number, defaulted: boolean) {
    const shown = matches.length > 8 ? `${matches.slice(0, 8).join(", ")} and ${matches.length - 8} more` : matches.join(", ");
    super("ETOOMANY", `${JSON.stringify(pattern)} matches ${matches.length} functions of ${binary} (${shown}), more than ${limit}: each is attached on its own, and maxFunctions${defaulted ? ` (default ${DEFAULT_MAX_FUNCTIONS})` : ""} caps them. Narrow the pattern, or raise maxFunctions (up to ${MAX_FUNCTIONS})`);
    this.binary = binary;
    this.pattern = pattern;
    this.matches = matches;
    this.limit = limit;
  }
}

/** Exported before local, the default version before old ones: the name a program's callers use. */
const rank = (s: ElfSymbol): number => (s.oldVersion ? 10 : 0) + (s.binding === "local" ? 1 : 0);

/**
 * The functions of `path` a list of names and patterns names, in order (a pattern's
 * matches by name), each address once. A plain name resolves as uprobe() resolves it
 * (UnknownSymbolError with the nearest names, ifunc advice); a pattern skips
 * indirect-function resolvers, compat versions of names that have a default one and
 * symbols in no loaded segment, and matching nothing is a NoMatchingSymbolError.
 */
export function matchFunctions(path: string, spec: string | readonly string[], maxFunctions: number | undefined, what: string): MatchedFunction[] {
  const items = typeof spec === "string" ? [spec] : spec;
  if (!Array.isArray(items) || items.length === 0) throw new InvalidArgumentError(`${what}: give a function name, a wildcard ("read*") or a non-empty list of them`);
  for (const it of items) if (typeof it !== "string" || it === "" || /[\s:]/.test(it)) throw new InvalidArgumentError(`${what}: ${JSON.stringify(it)} is not a function name or wildcard (letters, digits, _ . @ and the wildcards * ?)`);
  if (maxFunctions !== undefined && (!Number.isInteger(maxFunctions) || maxFunctions < 1 || maxFunctions > MAX_FUNCTIONS)) {
    throw new InvalidArgumentError(`${what}: maxFunctions must be an integer from 1 to ${MAX_FUNCTIONS}, got ${String(maxFunctions)}`);
  }
  const limit = maxFunctions ?? DEFAULT_MAX_FUNCTIONS;
  const elf = openElf(path);
  const out: MatchedFunction[] = [];
  const seen = new Set<number>();
  // a compat version (memcpy@GLIBC_2.2.5) is not what programs linked today call when a default one exists (even an ifunc, skipped)
  const current = new Set(elf.functions().filter((s) => !s.oldVersion).map((s) => s.name));
  for (const item of items) {
    if (!isSymbolPattern(item)) {
      const f = resolveFunction(path, item);
      if (!seen.has(f.fileOffset)) out.push({ name: item, function: f });
      seen.add(f.fileOffset);
      continue;
    }
    const re = symbolRegExp(item);
    const hits = elf.functions().filter((s) => s.kind === "func" && s.fileOffset >= 0 && re.test(s.name) && !(s.oldVersion && current.has(s.name))).sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const mine: MatchedFunction[] = [];
    for (const s of hits) {
      if (seen.has(s.fileOffset)) continue;
      seen.add(s.fileOffset);
      mine.push({ name: s.name, function: { path, symbol: s, fileOffset: s.fileOffset } });
    }
    if (hits.length === 0) {
      // what it did match, and skipped: said so, and suggestions among what can be probed
      const skipped = new Set(elf.functions().filter((s) => re.test(s.name)).map((s) => s.name));
      const probeable = elf.functions().filter((s) => s.kind === "func" && !skipped.has(s.name)).map((s) => s.name);
      throw new NoMatchingSymbolError(path, item, nearestSymbols(item.replace(/[*?]/g, ""), probeable), [...skipped]);
    }
    out.push(...mine.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
  }
  if (out.length > limit) throw new TooManySymbolsError(path, typeof spec === "string" ? spec : spec.join(","), out.map((m) => m.name), limit, maxFunctions === undefined);
  return out;
}
