/* Wildcards over "group:name" tracepoint names, as bpftrace writes them:
 * `*` any run of characters, `?` one character (neither crosses the `:`), and
 * `{a,b}` alternatives. Pure: the catalog is passed in. */
import { InvalidPatternError } from "./errors.js";

const ALLOWED = /^[\w.+\-*?{},:/]+$/;

/** Whether `name` has wildcards (else it names one tracepoint). */
export function isPattern(name: string): boolean {
  return /[*?{]/.test(name);
}

/** The regular expression a pattern stands for; a malformed pattern throws InvalidPatternError. */
export function patternRegExp(pattern: string): RegExp {
  const bad = (why: string) => new InvalidPatternError(pattern, why);
  if (!ALLOWED.test(pattern)) throw bad("use letters, digits, _ . + - and the wildcards * ? {a,b}");
  const sep = pattern.search(/[:/]/);
  if (sep < 0) throw bad(`it needs a group and a name, "group:name" (e.g. "syscalls:sys_enter_*stat*")`);
  let re = "";
  let inAlt = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    switch (c) {
      case "*": re += "[^:]*"; break;
      case "?": re += "[^:]"; break;
      case "{":
        if (inAlt) throw bad("alternatives {a,b} do not nest");
        inAlt = true;
        re += "(?:";
        break;
      case "}":
        if (!inAlt) throw bad(`a "}" at ${i} closes nothing`);
        inAlt = false;
        re += ")";
        break;
      case ",":
        if (!inAlt) throw bad(`a "," at ${i} is outside {a,b}`);
        re += "|";
        break;
      case ":":
      case "/":
        if (inAlt) throw bad("alternatives {a,b} stay within the group or the name");
        if (i !== sep) throw bad(`it has more than one ":"`);
        re += ":";
        break;
      default:
        re += c.replace(/[.+\-]/g, "\\$&");
    }
  }
  if (inAlt) throw bad("a { is not closed");
  return new RegExp(`^${re}$`);
}

/** The names (in catalog order) a pattern matches. */
export function matchNames(pattern: string, names: readonly string[]): string[] {
  const re = patternRegExp(pattern);
  return names.filter((n) => re.test(n));
}

/** The pattern with its wildcards taken out (the first of each {a,b}), for "did you mean" suggestions. */
export function patternStem(pattern: string): string {
  return pattern.replace(/\{([^,}]*)[^}]*\}/g, "$1").replace(/[*?]/g, "");
}
