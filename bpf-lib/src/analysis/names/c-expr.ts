/* A small C expression language: the argument lists of tracepoint `print fmt`
 * lines and the values of uapi `#define`s. Tokens, a precedence parser to an AST,
 * and an evaluator with C's integer types on an LP64 machine (int 32 bits, long
 * 64), so `~(gfp_t)4`, `-9ULL` and `1u << 31` come out as the kernel computed
 * them. Pure. */

/** A C integer value with its type after the usual promotions (never narrower than int). */
export interface CInt {
  v: bigint;
  bits: 32 | 64;
  unsigned: boolean;
}

/** What a C type name means for a cast: its width and sign (or a pointer, or bool). */
export interface IntType {
  bits: 1 | 8 | 16 | 32 | 64;
  signed: boolean;
}

export type Expr =
  | { k: "num"; v: CInt }
  | { k: "str"; s: string }
  | { k: "id"; name: string }
  /** `REC->name`: a field of the record. */
  | { k: "field"; name: string }
  | { k: "unary"; op: "-" | "+" | "~" | "!" | "&"; e: Expr }
  | { k: "bin"; op: string; l: Expr; r: Expr }
  | { k: "cond"; c: Expr; t: Expr; f: Expr }
  | { k: "cast"; type: string; e: Expr }
  | { k: "call"; fn: string; args: Expr[] }
  /** `{ a, b }`: the entries of __print_symbolic and __print_flags. */
  | { k: "list"; items: Expr[] };

/** Input the parser or the evaluator cannot handle; the message says what. */
export class CExprError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CExprError";
  }
}

type Tok = { t: "num"; s: string } | { t: "str"; s: string } | { t: "id"; s: string } | { t: "op"; s: string } | { t: "end"; s: "" };

// Longest first, so `<<=` is not read as `<` `<=`.
const OPS = ["->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "(", ")", "{", "}", "[", "]", ",", "?", ":", "~", "!", "-", "+", "*", "/", "%", "&", "|", "^", "<", ">", "."];

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'", a: "\x07", b: "\b", f: "\f", v: "\v" };

export function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"' || c === "'") {
      let s = "";
      let j = i + 1;
      for (; j < src.length && src[j] !== c; j++) {
        if (src[j] === "\\") {
          const e = src[++j]!;
          const oct = /^[0-7]{1,3}/.exec(src.slice(j));
          if (oct) { s += String.fromCharCode(parseInt(oct[0], 8)); j += oct[0].length - 1; }
          else if (e === "x") { const h = /^[0-9a-fA-F]+/.exec(src.slice(j + 1))?.[0] ?? ""; s += String.fromCharCode(parseInt(h || "0", 16)); j += h.length; }
          else s += ESCAPES[e] ?? e;
        } else s += src[j];
      }
      if (j >= src.length) throw new CExprError(`unterminated ${c === '"' ? "string" : "character"} literal`);
      i = j + 1;
      // A character literal is an int: 'R' is 82.
      if (c === "'") out.push({ t: "num", s: String(s.charCodeAt(0) || 0) });
      else if (out.at(-1)?.t === "str") out.at(-1)!.s += s; // "a" "b" is one string
      else out.push({ t: "str", s });
      continue;
    }
    const num = /^(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*/.exec(src.slice(i));
    if (num) { out.push({ t: "num", s: num[0] }); i += num[0].length; continue; }
    const id = /^[A-Za-z_]\w*/.exec(src.slice(i));
    if (id) { out.push({ t: "id", s: id[0] }); i += id[0].length; continue; }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new CExprError(`unexpected character ${JSON.stringify(c)}`);
    out.push({ t: "op", s: op });
    i += op.length;
  }
  out.push({ t: "end", s: "" });
  return out;
}

const wrap = (v: bigint, bits: number, unsigned: boolean): bigint => (unsigned ? BigInt.asUintN(bits, v) : BigInt.asIntN(bits, v));

/** A CInt of the given type, the value wrapped into it. */
export function cint(v: bigint, bits: 32 | 64, unsigned: boolean): CInt {
  return { v: wrap(v, bits, unsigned), bits, unsigned };
}

/** An integer literal's value and type (C11 6.4.4.1 on LP64). */
export function literal(text: string): CInt {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)([uUlL]*)$/.exec(text);
  if (!m) throw new CExprError(`bad integer literal ${text}`);
  const digits = m[1]!;
  const v = digits.length > 1 && digits[0] === "0" && !/^0[xX]/.test(digits) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  const suffix = m[2]!.toLowerCase();
  if (!/^(u?l{0,2}|l{1,2}u)$/.test(suffix)) throw new CExprError(`bad integer suffix in ${text}`);
  const u = suffix.includes("u");
  const long = suffix.includes("l");
  const decimal = /^[1-9]/.test(digits) || digits === "0";
  // The first type of the list that holds the value.
  const candidates: Array<[32 | 64, boolean]> = [];
  if (!long) {
    if (!u) candidates.push([32, false]);
    if (u || !decimal) candidates.push([32, true]);
  }
  if (!u) candidates.push([64, false]);
  if (u || !decimal) candidates.push([64, true]);
  for (const [bits, unsigned] of candidates) {
    if (wrap(v, bits, unsigned) === v) return { v, bits, unsigned };
  }
  throw new CExprError(`integer literal ${text} does not fit 64 bits`);
}

const TYPE_WORDS = new Set(["unsigned", "signed", "char", "short", "int", "long", "_Bool", "bool", "const", "volatile", "struct", "union", "enum", "void", "__force", "__bitwise", "__user", "__iomem", "__kernel", "restrict"]);
const FIXED = /^(?:__)?([us])(8|16|32|64)$|^__(?:le|be)(16|32|64)$/;

/** True when `(words)` followed by an operand must be a cast, whatever the words name. */
function looksLikeType(words: string[]): boolean {
  return words.some((w) => TYPE_WORDS.has(w) || w === "*" || FIXED.test(w) || /_t$/.test(w));
}

/** The width and sign of a C type name built from keywords (`unsigned long`, `u8`, `__be32`); undefined for other names. */
export function builtinType(words: string[]): IntType | undefined {
  const w = words.filter((x) => !["const", "volatile", "__force", "__user", "__iomem", "restrict"].includes(x));
  if (w.includes("*")) return { bits: 64, signed: false };
  if (w.length === 1) {
    const f = FIXED.exec(w[0]!);
    if (f) return f[1] ? { bits: Number(f[2]) as 8 | 16 | 32 | 64, signed: f[1] === "s" } : { bits: Number(f[3]) as 16 | 32 | 64, signed: false };
    if (w[0] === "_Bool" || w[0] === "bool") return { bits: 1, signed: false };
  }
  if (!w.length || !w.every((x) => ["unsigned", "signed", "char", "short", "int", "long"].includes(x))) return undefined;
  const signed = !w.includes("unsigned");
  if (w.includes("char")) return { bits: 8, signed };
  if (w.includes("short")) return { bits: 16, signed };
  if (w.includes("long")) return { bits: 64, signed };
  return { bits: 32, signed };
}

/** Parses one C expression (the whole of `src`). */
export function parseExpr(src: string): Expr {
  const p = new Parser(tokenize(src));
  const e = p.expr();
  p.expect("");
  return e;
}

// Binary operators by precedence, loosest first (C's table, without assignment and comma).
const LEVELS: string[][] = [["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", ">", "<=", ">="], ["<<", ">>"], ["+", "-"], ["*", "/", "%"]];

class Parser {
  #i = 0;
  constructor(private readonly toks: Tok[]) {}

  #peek(n = 0): Tok {
    return this.toks[Math.min(this.#i + n, this.toks.length - 1)]!;
  }
  #next(): Tok {
    return this.toks[this.#i++] ?? { t: "end", s: "" };
  }
  #is(s: string): boolean {
    const t = this.#peek();
    return t.t === "op" && t.s === s;
  }
  expect(s: string): void {
    const t = this.#next();
    if (s === "" ? t.t !== "end" : t.t !== "op" || t.s !== s) {
      throw new CExprError(`expected ${s === "" ? "the end" : `"${s}"`}, found ${t.t === "end" ? "the end" : `"${t.s}"`}`);
    }
  }

  expr(): Expr {
    const c = this.#binary(0);
    if (!this.#is("?")) return c;
    this.#next();
    const t = this.expr();
    this.expect(":");
    const f = this.expr();
    return { k: "cond", c, t, f };
  }

  #binary(level: number): Expr {
    if (level === LEVELS.length) return this.#unary();
    let l = this.#binary(level + 1);
    for (;;) {
      const t = this.#peek();
      if (t.t !== "op" || !LEVELS[level]!.includes(t.s)) return l;
      this.#next();
      l = { k: "bin", op: t.s, l, r: this.#binary(level + 1) };
    }
  }

  #unary(): Expr {
    const t = this.#peek();
    if (t.t === "op" && (t.s === "-" || t.s === "+" || t.s === "~" || t.s === "!" || t.s === "&")) {
      this.#next();
      return { k: "unary", op: t.s, e: this.#unary() };
    }
    if (t.t === "id" && t.s === "sizeof") throw new CExprError("sizeof is not supported");
    if (this.#is("(")) {
      const words = this.#castWords();
      if (words) {
        this.#i += words.length + 2;
        return { k: "cast", type: words.join(" "), e: this.#unary() };
      }
    }
    return this.#postfix(this.#primary());
  }

  /** The words of `(type)` at the cursor when it is a cast, else null. */
  #castWords(): string[] | null {
    const words: string[] = [];
    let n = 1;
    for (;; n++) {
      const t = this.#peek(n);
      const stars = words.length > 0 && words.at(-1) === "*";
      // Identifiers, then pointer stars: `(A * B)` is a product, not a type.
      if (t.t === "id" && !stars) words.push(t.s);
      else if (t.t === "op" && t.s === "*" && words.length > 0) words.push(t.s);
      else if (t.t === "op" && t.s === ")") break;
      else return null;
    }
    if (words.length === 0) return null;
    const after = this.#peek(n + 1);
    const operand = after.t === "num" || after.t === "id" || after.t === "str" || (after.t === "op" && ["(", "~", "!"].includes(after.s));
    if (operand) return words;
    // `(FOO) - 1` subtracts; `(gfp_t)-1` casts: only words that must name a type decide the second.
    const sign = after.t === "op" && (after.s === "-" || after.s === "+" || after.s === "&");
    return sign && looksLikeType(words) ? words : null;
  }

  #primary(): Expr {
    const t = this.#next();
    if (t.t === "num") return { k: "num", v: literal(t.s) };
    if (t.t === "str") return { k: "str", s: t.s };
    if (t.t === "id") {
      if (t.s === "REC" && this.#is("->")) {
        this.#next();
        const f = this.#next();
        if (f.t !== "id") throw new CExprError("expected a field name after REC->");
        return { k: "field", name: f.s };
      }
      if (this.#is("(")) {
        this.#next();
        const args: Expr[] = [];
        if (!this.#is(")")) {
          do args.push(this.#is("{") ? this.#list() : this.expr());
          while (this.#is(",") && this.#next());
        }
        this.expect(")");
        return { k: "call", fn: t.s, args };
      }
      return { k: "id", name: t.s };
    }
    if (t.t === "op" && t.s === "(") {
      const e = this.expr();
      this.expect(")");
      return e;
    }
    if (t.t === "op" && t.s === "{") {
      this.#i--;
      return this.#list();
    }
    throw new CExprError(t.t === "end" ? "expression ends early" : `unexpected "${t.s}"`);
  }

  #list(): Expr {
    this.expect("{");
    const items: Expr[] = [];
    while (!this.#is("}")) {
      items.push(this.expr());
      if (!this.#is(",")) break;
      this.#next();
    }
    this.expect("}");
    return { k: "list", items };
  }

  #postfix(e: Expr): Expr {
    const t = this.#peek();
    if (t.t === "op" && (t.s === "->" || t.s === "." || t.s === "[")) {
      throw new CExprError(`member access and indexing ("${t.s}") are not supported`);
    }
    return e;
  }
}

/** What an expression may refer to while it is evaluated. */
export interface EvalEnv {
  /** A named constant (an enumerator, a macro); undefined when unknown. */
  constant(name: string): CInt | undefined;
  /** A typedef or enum type used in a cast; undefined when unknown. */
  type(name: string): IntType | undefined;
  /** The value of `REC->name`. */
  field?(name: string): CInt;
  /** Calls other than the arithmetic builtins: `__print_symbolic` and friends. */
  call?(fn: string, args: Expr[], env: EvalEnv): CInt | string | undefined;
}

export type CValue = CInt | string;

const INT = (v: bigint | boolean): CInt => ({ v: typeof v === "boolean" ? (v ? 1n : 0n) : v, bits: 32, unsigned: false });

function common(a: CInt, b: CInt): { bits: 32 | 64; unsigned: boolean } {
  if (a.bits === b.bits) return { bits: a.bits, unsigned: a.unsigned || b.unsigned };
  // LP64: long holds every unsigned int, so the wider type wins with its own sign.
  return a.bits > b.bits ? { bits: a.bits, unsigned: a.unsigned } : { bits: b.bits, unsigned: b.unsigned };
}

/** The IntType of a cast's type name, or an error naming it. */
export function castType(type: string, env: EvalEnv): IntType {
  const words = type.split(" ");
  const builtin = builtinType(words);
  if (builtin) return builtin;
  const core = words.filter((w) => !["const", "volatile", "__force", "__user", "__iomem", "restrict", "__bitwise"].includes(w));
  const named = core.length === 2 && core[0] === "enum" ? env.type(`enum ${core[1]}`) : core.length === 1 ? env.type(core[0]!) : undefined;
  if (named) return named;
  throw new CExprError(`unknown type "${type}" in a cast`);
}

/** `v` converted to `t` and promoted (a cast). */
export function convert(v: CInt, t: IntType): CInt {
  if (t.bits === 1) return INT(v.v !== 0n);
  const narrow = wrap(v.v, t.bits, !t.signed);
  return t.bits < 32 ? INT(narrow) : cint(narrow, t.bits as 32 | 64, !t.signed);
}

function int(v: CValue, what: string): CInt {
  if (typeof v === "string") throw new CExprError(`${what}: a string where a number is needed`);
  return v;
}

const SWAPS: Record<string, number> = { __builtin_bswap16: 16, __builtin_bswap32: 32, __builtin_bswap64: 64, __fswab16: 16, __fswab32: 32, __fswab64: 64, ___constant_swab16: 16, ___constant_swab32: 32, ___constant_swab64: 64 };

function swab(v: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits / 8; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** Whether `e` reads a record field anywhere. */
export function fieldsOf(e: Expr, out = new Set<string>()): Set<string> {
  switch (e.k) {
    case "field": out.add(e.name); break;
    case "unary": case "cast": fieldsOf(e.e, out); break;
    case "bin": fieldsOf(e.l, out); fieldsOf(e.r, out); break;
    case "cond": fieldsOf(e.c, out); fieldsOf(e.t, out); fieldsOf(e.f, out); break;
    case "call": for (const a of e.args) fieldsOf(a, out); break;
    case "list": for (const a of e.items) fieldsOf(a, out); break;
    default: break;
  }
  return out;
}

/** Evaluates `e` with C semantics; throws CExprError for what it cannot evaluate. */
export function evaluate(e: Expr, env: EvalEnv): CValue {
  switch (e.k) {
    case "num": return e.v;
    case "str": return e.s;
    case "id": {
      const c = env.constant(e.name);
      if (c === undefined) throw new CExprError(`unknown name ${e.name}`);
      return c;
    }
    case "field": {
      if (!env.field) throw new CExprError(`REC->${e.name} has no value here`);
      return env.field(e.name);
    }
    case "cast": {
      const t = castType(e.type, env);
      return convert(int(evaluate(e.e, env), `(${e.type})`), t);
    }
    case "unary": {
      if (e.op === "&") throw new CExprError("taking an address (&) is not supported");
      const x = int(evaluate(e.e, env), e.op);
      switch (e.op) {
        case "!": return INT(x.v === 0n);
        case "+": return x;
        case "-": return cint(-x.v, x.bits, x.unsigned);
        default: return cint(~x.v, x.bits, x.unsigned);
      }
    }
    case "cond": {
      const c = int(evaluate(e.c, env), "?:");
      return evaluate(c.v !== 0n ? e.t : e.f, env);
    }
    case "bin": return binary(e.op, e.l, e.r, env);
    case "call": {
      const bits = SWAPS[e.fn];
      if (bits !== undefined && e.args.length === 1) {
        const x = int(evaluate(e.args[0]!, env), e.fn);
        return convert({ ...x, v: swab(x.v, bits) }, { bits: bits as 16 | 32 | 64, signed: false });
      }
      // A record field is never a compile-time constant.
      if (e.fn === "__builtin_constant_p" && e.args.length === 1) return INT(fieldsOf(e.args[0]!).size === 0);
      const got = env.call?.(e.fn, e.args, env);
      if (got === undefined) throw new CExprError(`unsupported call ${e.fn}()`);
      return got;
    }
    case "list": throw new CExprError("a { } list outside __print_symbolic/__print_flags");
  }
}

function binary(op: string, le: Expr, re: Expr, env: EvalEnv): CInt {
  if (op === "&&" || op === "||") {
    const l = int(evaluate(le, env), op).v !== 0n;
    if (op === "&&" ? !l : l) return INT(l);
    return INT(int(evaluate(re, env), op).v !== 0n);
  }
  const l = int(evaluate(le, env), op);
  const r = int(evaluate(re, env), op);
  if (op === "<<" || op === ">>") {
    if (r.v < 0n || r.v >= BigInt(l.bits)) throw new CExprError(`shift by ${r.v} of a ${l.bits}-bit value`);
    return cint(op === "<<" ? l.v << r.v : l.v >> r.v, l.bits, l.unsigned);
  }
  const { bits, unsigned } = common(l, r);
  const a = wrap(l.v, bits, unsigned);
  const b = wrap(r.v, bits, unsigned);
  switch (op) {
    case "+": return cint(a + b, bits, unsigned);
    case "-": return cint(a - b, bits, unsigned);
    case "*": return cint(a * b, bits, unsigned);
    case "/":
    case "%":
      if (b === 0n) throw new CExprError("division by zero");
      return cint(op === "/" ? a / b : a % b, bits, unsigned); // BigInt truncates toward zero, as C does
    case "&": return cint(a & b, bits, unsigned);
    case "|": return cint(a | b, bits, unsigned);
    case "^": return cint(a ^ b, bits, unsigned);
    case "==": return INT(a === b);
    case "!=": return INT(a !== b);
    case "<": return INT(a < b);
    case ">": return INT(a > b);
    case "<=": return INT(a <= b);
    case ">=": return INT(a >= b);
    default: throw new CExprError(`unsupported operator ${op}`);
  }
}

/** Splits `src` at the commas outside parentheses, braces and string literals. */
export function splitTopLevel(src: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '"' || c === "'") {
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === "\\") i++;
    } else if (c === "(" || c === "{" || c === "[") depth++;
    else if (c === ")" || c === "}" || c === "]") depth--;
    else if (c === "," && depth === 0) {
      out.push(src.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(src.slice(start).trim());
  return out;
}
