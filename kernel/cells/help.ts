/*
 * help(X) shows what the type checker knows about X (its signature or type, its doc comment and, for an
 * object, its members with their signatures), as Shift+Tab does, not X's compiled JavaScript: that text
 * exists only at compile time, so each `help(X)` whose X is a name or a property path is rewritten to
 * `help(X, "<that text>")` before the cell is converted, and help() pages the text at run time. Only the
 * call's own line changes (columns after the call shift on that line). Calls on other expressions, and calls
 * of a `help` the cells declared themselves, are left alone: help() then describes the value at run time.
 */
import type { Node, SourceFile } from "typescript";
import { describe, displayText, partsText } from "./introspection.js";
import type { CompletionResult, QuickInfo } from "./compiler/index.js";
import { typescript } from "./typescript.js";

/** What of the converter help needs (positions are UTF-16 units into the cell). */
export interface HelpSource {
  inspect(prevDecl: string, src: string, position: number): QuickInfo | undefined;
  complete(prevDecl: string, src: string, position: number): CompletionResult;
}

/** Members listed with their signatures; more are only named (each costs the type checker a lookup). */
const MAX_MEMBERS = 40;
const MAX_SIGNATURE = 160;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** A member every function or object has: not worth listing. */
const INHERITED = /^\((?:method|property)\) (?:Function|CallableFunction|NewableFunction|Object)\./;
/** The signature of the notebook's help() (declared in notebook-api.ts's PRELUDE), as quick info shows it. */
const GLOBAL_HELP = "help(value: unknown, about?: string): void";
/** Quick info of a callable or a type: its signature is the help; its members (apply, bind...) are not. */
const NOT_A_VALUE = /^(?:\(alias\) )?(?:function|class|interface|type|enum|\(method\)|constructor)\b/;

/** "const n: number", "let s: \"a\" | \"b\"": a primitive's methods (toFixed...) are not what help is asked for. */
const PRIMITIVE = /^[^:\n]*: (?:number|string|boolean|bigint|symbol|undefined|null|any|unknown|never|true|false|-?\d|"|'|`)[^\n]*$/;

interface Target {
  /** Where the argument expression starts and ends. */
  start: number;
  end: number;
  /** Where its last name starts: what quick info is asked about. */
  at: number;
  /** Where the called `help` is. */
  callee: number;
}

/** `code` with each help(X) given X's documentation as a second argument. */
export function annotateHelp(code: string, source: HelpSource, prevDecl: string): string {
  if (!/\bhelp\s*\(/.test(code)) return code;
  try {
    return annotate(code, source, prevDecl);
  } catch {
    return code; // help() then describes the value at run time; the cell itself must not fail for it
  }
}

function annotate(code: string, source: HelpSource, prevDecl: string): string {
  const ts = typescript();
  const file = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  let out = code;
  for (const t of helpCalls(file).sort((a, b) => b.end - a.end)) {
    // the notebook's help(), not one of the cell's or an earlier cell's own
    if (!partsText(source.inspect(prevDecl, code, t.callee)?.displayParts).includes(GLOBAL_HELP)) continue;
    const info = source.inspect(prevDecl, code, t.at);
    if (!info?.displayParts?.length) continue;
    let text = describe(info, 1);
    const shown = displayText(info);
    if (!NOT_A_VALUE.test(shown) && !PRIMITIVE.test(shown)) text += members(code, t, source, prevDecl);
    out = `${out.slice(0, t.end)}, ${JSON.stringify(text)}${out.slice(t.end)}`;
  }
  return out;
}

/** The help(X) calls with one name-like argument. */
function helpCalls(file: SourceFile): Target[] {
  const ts = typescript();
  const found: Target[] = [];
  const visit = (node: Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "help" && node.arguments.length === 1) {
      const arg = node.arguments[0]!;
      const callee = node.expression.getStart(file);
      if (ts.isIdentifier(arg)) found.push({ start: arg.getStart(file), end: arg.end, at: arg.getStart(file), callee });
      else if (ts.isPropertyAccessExpression(arg) && ts.isIdentifier(arg.name)) found.push({ start: arg.getStart(file), end: arg.end, at: arg.name.getStart(file), callee });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** "Members:" and one line per member (its signature, its doc's first sentence), from X's place in the cell. */
function members(code: string, t: Target, source: HelpSource, prevDecl: string): string {
  const expr = code.slice(t.start, t.end);
  // the members as completion after `X.` lists them, in X's own scope
  const dotted = `${code.slice(0, t.end)}.${code.slice(t.end)}`;
  const names = source.complete(prevDecl, dotted, t.end + 1).candidates.filter((n) => IDENTIFIER.test(n));
  if (names.length === 0) return "";
  const listed = names.slice(0, MAX_MEMBERS);
  // one source naming every member at X's place, so the checker sees the cell once for all of them
  const paths = listed.map((n) => `${expr}.${n}`);
  const probe = `${code.slice(0, t.start)}${paths.join(", ")}${code.slice(t.end)}`;
  const lines: string[] = [];
  let at = t.start;
  for (const [i, name] of listed.entries()) {
    const info = source.inspect(prevDecl, probe, at + expr.length + 1);
    at += paths[i]!.length + 2;
    const shown = displayText(info);
    if (!shown || INHERITED.test(shown) || info?.tags?.some((tag) => tag.name === "internal")) continue;
    const doc = firstSentence(partsText(info?.documentation));
    const deprecated = info?.tags?.some((tag) => tag.name === "deprecated") ? " (deprecated)" : "";
    lines.push(`  ${signature(shown, name)}${deprecated}${doc ? `\n      ${doc}` : ""}`);
  }
  const more = names.length - listed.length;
  if (more > 0) lines.push(`  ... and ${more} more: ${names.slice(MAX_MEMBERS).join(", ")}`);
  return lines.length ? `\n\nMembers:\n${lines.join("\n")}` : "";
}

/**
 * "(method) Owner<...>.collect(opts: X): Y" → "collect(opts: X): Y", and a namespace's "function f(): Y" →
 * "f(): Y", on one line, not too long.
 */
export function signature(quickInfo: string, name: string): string {
  const text = quickInfo.replace(/^\([a-z ]+\) /, "").replace(/^(?:function|const|let|var|class) (?=[\w$]+\b)/, "").replace(/\s+/g, " ");
  let depth = 0;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "<" || ch === "(" || ch === "{" || ch === "[") depth++;
    else if ((ch === ">" && text[i - 1] !== "=") || ch === ")" || ch === "}" || ch === "]") depth--;
    else if (depth === 0 && ch === "." && text.startsWith(name, i + 1) && /^[(<:?]/.test(text.slice(i + 1 + name.length).trimStart())) {
      from = i + 1;
      break;
    }
  }
  const sig = text.slice(from);
  return sig.length > MAX_SIGNATURE ? `${sig.slice(0, MAX_SIGNATURE - 1)}…` : sig;
}

function firstSentence(doc: string): string {
  const flat = doc.replace(/\s+/g, " ").trim();
  const end = flat.search(/\.(\s|$)/);
  const sentence = end < 0 ? flat : flat.slice(0, end + 1);
  return sentence.length > MAX_SIGNATURE ? `${sentence.slice(0, MAX_SIGNATURE - 1)}…` : sentence;
}
