/* Errors of groups of tracepoints (a list or a wildcard): a malformed pattern, one
 * that matches nothing or too much, and a field not every match has. */
import { BpfbookError, InvalidArgumentError } from "../../errors.js";
import { UnknownTracepointError } from "../../tracefs/errors.js";

/** A wildcard pattern that cannot be read (unbalanced braces, no "group:name", stray characters). */
export class InvalidPatternError extends InvalidArgumentError {
  readonly pattern: string;
  constructor(pattern: string, why: string) {
    super(`tracepoint pattern ${JSON.stringify(pattern)}: ${why}`);
    this.pattern = pattern;
  }
}

/** A pattern that matches no tracepoint; `.suggestions` has the names nearest to it. */
export class NoMatchingTracepointError extends UnknownTracepointError {
  constructor(pattern: string, suggestions: string[]) {
    super(pattern, suggestions);
    const hint = suggestions.length > 0 ? `; the nearest names are ${suggestions.join(", ")}` : "";
    this.message = `no tracepoint matches ${JSON.stringify(pattern)}${hint} (see listTracepoints())`;
  }
}

/** More matches than one group may attach (`.limit`: maxProbes, or what the open-file limit allows). */
export class TooManyTracepointsError extends BpfbookError {
  readonly pattern: string;
  readonly matches: readonly string[];
  readonly limit: number;
  constructor(pattern: string, matches: readonly string[], limit: number, why: string, hint: string) {
    super("ETOOMANY", `${JSON.stringify(pattern)} matches ${matches.length} tracepoints, more than ${limit}: ${why}. ${hint}`);
    this.pattern = pattern;
    this.matches = matches;
    this.limit = limit;
  }
}

/**
 * A field (in `fields`, `where`, `by` or a value) that not every tracepoint of a group
 * has with the same type. `.lacking` lists the matches without it, `.differing` those
 * whose field has another type, `.common` the fields every match shares.
 */
export class UncommonFieldError extends BpfbookError {
  readonly group: string;
  readonly field: string;
  readonly lacking: readonly string[];
  readonly differing: readonly { tracepoint: string; type: string }[];
  readonly common: readonly string[];
  constructor(group: string, field: string, lacking: readonly string[], differing: readonly { tracepoint: string; type: string }[], common: readonly string[], expected?: string) {
    const shown = (l: readonly string[]) => (l.length > 6 ? `${l.slice(0, 6).join(", ")} and ${l.length - 6} more` : l.join(", "));
    const why = [
      lacking.length ? `${lacking.length === 1 ? "it is missing from" : `${lacking.length} lack it`}: ${shown(lacking)}` : "",
      differing.length ? `it has another type in ${shown(differing.map((d) => `${d.tracepoint} (${d.type})`))}${expected ? ` than ${expected}` : ""}` : "",
    ].filter(Boolean).join("; ");
    super("ENOTCOMMON", `field ${JSON.stringify(field)} is not common to every tracepoint of ${group}: ${why}. Fields common to all: ${common.length ? common.join(", ") : "(none besides the standard columns)"}; or trace the others separately`);
    this.group = group;
    this.field = field;
    this.lacking = lacking;
    this.differing = differing;
    this.common = common;
  }
}
