/*
 * What the cursor is in, read from the cell's syntax (the project's TypeScript), not from the converter's
 * answer: the converter may report a zero-length range, and inside a string it reports no prefix at all.
 * A site says what text a completion replaces and which prefix filters the candidates; for a string, also
 * which call and argument it is, so names the type system does not list (kernel functions, a binary's
 * symbols, interfaces) can be offered.
 */
import type { Node, SourceFile } from "typescript";
import { typescript } from "../typescript.js";

/** Offsets are UTF-16 units into the cell. */
export interface Site {
  kind: "string" | "word";
  /** Where the replaced text starts (a string's content start, or the word's start). */
  start: number;
  /** Where it ends: the end of the word the cursor is in, so accepting a name inside a word replaces all of it. */
  end: number;
  /** The text from `start` to the cursor: what the candidates must match. */
  prefix: string;
  /** For a string that is a call's argument: the called function's name and the argument's index. */
  call?: { callee: string; index: number; args: readonly (string | undefined)[] };
  /** For a string in a list option of a call (`{ fields: ["..."] }`): the option's name; `call` is the call's. */
  option?: string;
}

const WORD_BEFORE = /[\p{ID_Continue}$\u200c\u200d]*$/u;
const WORD_AFTER = /^[\p{ID_Continue}$\u200c\u200d]*/u;
/** What can follow a name inside a string: anything but blanks and quotes. */
const NAME_AFTER = /^[^\s"'`]*/;

/** The site at `pos` (UTF-16 units). Outside strings it is the identifier-like word around the cursor (maybe empty). */
export function siteAt(code: string, pos: number): Site {
  const ts = typescript();
  const file = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const literal = stringAt(file, pos);
  if (literal) {
    const start = literal.getStart(file) + 1;
    const closed = !(literal as { isUnterminated?: boolean }).isUnterminated && literal.end - literal.getStart(file) >= 2;
    const contentEnd = closed ? literal.end - 1 : literal.end;
    if (pos >= start && pos <= contentEnd) {
      const end = pos + NAME_AFTER.exec(code.slice(pos, contentEnd))![0].length;
      return { kind: "string", start, end, prefix: code.slice(start, pos), ...callOf(literal) };
    }
  }
  const before = WORD_BEFORE.exec(code.slice(0, pos))![0];
  const after = WORD_AFTER.exec(code.slice(pos))![0];
  return { kind: "word", start: pos - before.length, end: pos + after.length, prefix: before };
}

/** The innermost string literal (quoted or a template without substitutions) whose span holds `pos`. */
function stringAt(file: SourceFile, pos: number): Node | undefined {
  const ts = typescript();
  let found: Node | undefined;
  const visit = (node: Node): void => {
    if (pos < node.getStart(file) || pos > node.end) return;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) found = node;
    else ts.forEachChild(node, visit);
  };
  ts.forEachChild(file, visit);
  return found;
}

/**
 * The call a literal is an argument of, directly or as an element of a list option (`f(x, { fields: ["…"] })`),
 * with the call's literal arguments' texts (undefined for others).
 */
function callOf(literal: Node): Pick<Site, "call" | "option"> {
  const ts = typescript();
  let arg = literal;
  let option: string | undefined;
  const list = literal.parent;
  const property = list?.parent;
  if (list && ts.isArrayLiteralExpression(list) && property && ts.isPropertyAssignment(property) && ts.isObjectLiteralExpression(property.parent)) {
    if (!ts.isIdentifier(property.name) && !ts.isStringLiteral(property.name)) return {};
    option = property.name.text;
    arg = property.parent;
  }
  const call = arg.parent;
  if (!call || !(ts.isCallExpression(call) || ts.isNewExpression(call))) return {};
  const args = call.arguments ?? ts.factory.createNodeArray();
  const index = args.indexOf(arg as never);
  if (index < 0) return {};
  const callee = ts.isIdentifier(call.expression) ? call.expression.text : ts.isPropertyAccessExpression(call.expression) ? call.expression.name.text : undefined;
  if (callee === undefined) return {};
  const texts = args.map((a) => (ts.isStringLiteral(a) || ts.isNoSubstitutionTemplateLiteral(a) ? a.text : undefined));
  return { call: { callee, index, args: texts }, ...(option === undefined ? {} : { option }) };
}
