/*
 * Maps positions in a cell's converted JavaScript back to the cell's own lines. tslab's converter emits no
 * source map (and rewrites its output once more into CommonJS), so we align the two token streams: the
 * converted code is the cell minus types, plus `exports.` qualifiers, `exports.x = x;` lines and helpers.
 */
import { matchSequences } from "./token-diff.js";
import { typescript } from "./typescript.js";

interface Tokens {
  keys: string[];
  starts: number[];
}

/**
 * Tokens without a parser, which alone knows where a template's `}` and a regular expression's `/` are: we
 * track `${ ... }` nesting and treat a `/` that cannot be a division as the start of a regular expression.
 */
function tokenize(text: string): Tokens {
  const ts = typescript();
  const K = ts.SyntaxKind;
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text);
  const endsOperand = new Set<number>([
    K.Identifier, K.NumericLiteral, K.BigIntLiteral, K.StringLiteral, K.RegularExpressionLiteral,
    K.NoSubstitutionTemplateLiteral, K.TemplateTail, K.CloseParenToken, K.CloseBracketToken, K.CloseBraceToken,
    K.ThisKeyword, K.SuperKeyword, K.TrueKeyword, K.FalseKeyword, K.NullKeyword, K.PlusPlusToken, K.MinusMinusToken,
  ]);
  const keys: string[] = [];
  const starts: number[] = [];
  const braces: boolean[] = []; // true: the `{` of a template's `${`
  let prev: number = K.Unknown;
  for (let kind = scanner.scan(); kind !== K.EndOfFileToken; kind = scanner.scan()) {
    if (kind === K.TemplateHead) braces.push(true);
    else if (kind === K.OpenBraceToken) braces.push(false);
    else if (kind === K.CloseBraceToken) {
      if (braces.pop()) {
        kind = scanner.reScanTemplateToken(false);
        if (kind === K.TemplateMiddle) braces.push(true);
      }
    } else if ((kind === K.SlashToken || kind === K.SlashEqualsToken) && !endsOperand.has(prev)) {
      kind = scanner.reScanSlashToken();
    }
    // Quotes may change ('x' → "x"); the value does not.
    keys.push(kind === K.StringLiteral ? `"${scanner.getTokenValue()}` : scanner.getTokenText());
    starts.push(scanner.getTokenStart());
    prev = kind;
  }
  return { keys, starts };
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

function lineOf(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export class LineMap {
  /** Per output line: its tokens' columns and the source line each is matched to (-1 if none). */
  private readonly lines = new Map<number, { column: number; sourceLine: number }[]>();

  constructor(source: string, output: string) {
    const src = tokenize(source);
    const out = tokenize(output);
    const match = matchSequences(src.keys, out.keys);
    const srcLines = lineStarts(source);
    const outLines = lineStarts(output);
    for (let j = 0; j < out.keys.length; j++) {
      const line = lineOf(outLines, out.starts[j]);
      const i = match ? match[j] : -1;
      let entry = this.lines.get(line);
      if (!entry) this.lines.set(line, (entry = []));
      entry.push({ column: out.starts[j] - outLines[line], sourceLine: i >= 0 ? lineOf(srcLines, src.starts[i]) : -1 });
    }
  }

  /**
   * The zero-based cell line of a zero-based output position: that of the matched token starting at the
   * column, else the line's most common one; undefined for lines of the converter's own making.
   */
  sourceLine(line: number, column: number): number | undefined {
    const tokens = this.lines.get(line)?.filter((t) => t.sourceLine >= 0) ?? [];
    if (tokens.length === 0) return undefined;
    const exact = tokens.find((t) => t.column === column);
    if (exact) return exact.sourceLine;
    const votes = new Map<number, number>();
    let best = tokens[0].sourceLine;
    for (const t of tokens) {
      const n = (votes.get(t.sourceLine) ?? 0) + 1;
      votes.set(t.sourceLine, n);
      if (n > (votes.get(best) ?? 0)) best = t.sourceLine;
    }
    return best;
  }
}
