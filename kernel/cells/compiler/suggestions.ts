/*
 * "Did you mean" for string literals a union of string literals refuses: a misspelled tracepoint, field,
 * kernel function or option value is a compile error, and the checker knows the union it was checked
 * against (the literal's contextual type). The nearest members are ranked as the run-time errors rank them.
 */
import type * as TS from "typescript";
import type { TypeScript } from "../typescript.js";
import { nearest } from "../../../bpf-lib/src/tracefs/nearest.js";

/** The string literal a diagnostic's span is (or sits on), if any. */
function literalAt(ts: TypeScript, file: TS.SourceFile, start: number, length: number): TS.StringLiteralLike | undefined {
  let found: TS.StringLiteralLike | undefined;
  const visit = (node: TS.Node): void => {
    if (found || node.end <= start || node.getStart(file) > start + length) return;
    if (ts.isStringLiteralLike(node) && node.getStart(file) >= start && node.end <= start + length) {
      found = node;
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** The string literal members of a type (a union, or a type parameter's constraint). */
function literalMembers(ts: TypeScript, checker: TS.TypeChecker, type: TS.Type): string[] {
  const constraint = type.isTypeParameter() ? checker.getBaseConstraintOfType(type) : undefined;
  const t = constraint ?? type;
  const members = t.isUnion() ? t.types : [t];
  const out: string[] = [];
  for (const m of members) {
    if (m.isStringLiteral()) out.push(m.value);
    else if (m.isTypeParameter()) out.push(...literalMembers(ts, checker, m));
  }
  return out;
}

/** `did you mean "a", "b"?` for a diagnostic about a string literal, or undefined. */
export function nearestNamesHint(ts: TypeScript, checker: TS.TypeChecker, file: TS.SourceFile, d: TS.Diagnostic): string | undefined {
  if (d.category !== ts.DiagnosticCategory.Error || d.file !== file || d.start === undefined) return undefined;
  const literal = literalAt(ts, file, d.start, d.length ?? 0);
  if (!literal) return undefined;
  const contextual = checker.getContextualType(literal);
  if (!contextual) return undefined;
  const members = literalMembers(ts, checker, contextual);
  if (members.length === 0 || members.includes(literal.text)) return undefined;
  const close = nearest(literal.text, members, 5);
  if (close.length === 0) return undefined;
  return `Did you mean ${close.map((c) => JSON.stringify(c)).join(", ")}?`;
}
