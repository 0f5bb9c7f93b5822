/* Names from a tracepoint's `print fmt`: the kernel's own tables for its fields.
 * An argument that prints a field through __print_symbolic / __print_flags (or their
 * _u64 forms) becomes a decoder that evaluates the whole argument as the kernel
 * would, so `(prev_state & mask) ? __print_flags(...) : "R"` and
 * `__print_symbolic((ioprio >> 13) & 7, ...)` read right. Entry values the kernel
 * left unexpanded (enumerators, casts, shifts) are evaluated with enumerator values
 * and typedef widths from BTF. Arguments printed with %pI4, %pI6c, %pISpc or %pM
 * mark address fields. Pure, given where names come from. */
import type { TracepointField, TracepointFormat } from "../../tracefs/format.js";
import { CExprError, castType, evaluate, fieldsOf, parseExpr, splitTopLevel, tokenize, type CInt, type CValue, type EvalEnv, type Expr } from "./c-expr.js";
import { flagNames, integer, symbolName, type NamedValue } from "./print-flags.js";
import type { AddressKind } from "./format-addr.js";

/** Where enumerator values and typedef widths come from (BtfEnums, or nothing). */
export type NameSource = Pick<EvalEnv, "constant" | "type">;

/** One __print_symbolic / __print_flags table, its values evaluated. */
export interface PrintTable {
  kind: "symbolic" | "flags";
  /** The _u64 form. */
  u64: boolean;
  /** Between flag names ("|"); "" for symbolic. */
  delimiter: string;
  entries: NamedValue[];
}

export interface PrintedField {
  field: string;
  /** Position among the print fmt's arguments (0: the first after the format string). */
  argument: number;
  /** The argument as the kernel wrote it. */
  expression: string;
  /** The tables in it, in order; none for text chosen by `?:` alone. */
  tables: PrintTable[];
  /** The text the kernel prints for this value of the field. */
  decode(value: number | bigint): string;
}

export interface PrintedAddress {
  field: string;
  argument: number;
  /** `%pI4`, `%pI6c`, `%pISpc`, `%pM`. */
  conversion: string;
  kind: AddressKind;
  /** %pIS with `p`: the port follows the address. */
  port: boolean;
}

/** An argument that names a field but could not become a decoder, and why. */
export interface PrintFmtProblem {
  argument: number;
  expression: string;
  fields: string[];
  reason: string;
}

export interface PrintFmtNames {
  /** Fields printed through symbol or flag tables, by field name (the first argument that prints each). */
  fields: Map<string, PrintedField>;
  addresses: Map<string, PrintedAddress>;
  problems: PrintFmtProblem[];
}

/** The format string and its arguments. */
export function splitPrintFmt(printFmt: string): { format: string; args: string[] } {
  const [head = "", ...args] = splitTopLevel(printFmt);
  const toks = tokenize(head);
  if (toks.length !== 2 || toks[0]!.t !== "str") throw new CExprError("print fmt does not start with a string literal");
  return { format: toks[0]!.s, args };
}

/**
 * The conversion each argument is consumed by, in order: `%d`, `%s`, `%pI4`, with the
 * literal text before it; a `*` width or precision takes an argument of its own
 * (shown as `*`). Kernel pointer extensions run over the letters and digits after
 * `%p`, as vsprintf reads them.
 */
export function conversions(format: string): Array<{ conv: string; before: string }> {
  const out: Array<{ conv: string; before: string }> = [];
  const re = /%(?:%|[-+ #0]*(\*|\d+)?(?:\.(\*|\d*))?(?:hh|h|ll|l|L|z|Z|t|j|q)?(p[A-Za-z0-9]*|[a-zA-Z]))/g;
  let last = 0;
  for (let m = re.exec(format); m; m = re.exec(format)) {
    if (m[0] === "%%") continue;
    const before = format.slice(last, m.index).replaceAll("%%", "%");
    last = m.index + m[0].length;
    const taken = [m[1] === "*" ? "*" : "", m[2] === "*" ? "*" : "", `%${m[3]}`].filter((c) => c !== "");
    taken.forEach((conv, k) => out.push({ conv, before: k === 0 ? before : "" }));
  }
  return out;
}

/** What a %p conversion prints, when it is an address. */
export function addressConversion(conv: string): { kind: AddressKind; port: boolean } | null {
  const ext = /^%p([A-Za-z0-9]*)$/.exec(conv)?.[1];
  if (!ext) return null;
  if (/^[Ii]4/.test(ext)) return { kind: "ipv4", port: false };
  if (/^[Ii]6/.test(ext)) return { kind: "ipv6", port: false };
  if (/^[Ii]S/.test(ext)) return { kind: "sockaddr", port: ext.slice(2).includes("p") };
  if (/^[Mm]/.test(ext)) return { kind: "mac", port: false };
  return null;
}

const PRINTERS = new Set(["__print_symbolic", "__print_symbolic_u64", "__print_flags", "__print_flags_u64"]);
const PRINTER_USE = /\b__print_(?:symbolic|flags)(?:_u64)?\s*\(/;
/** Decoders remember this many distinct values each (states, reasons: a handful). */
const MEMO = 65536;

/** The C type a field has when an expression reads it: its width and sign, promoted. */
export function fieldValue(f: TracepointField, v: bigint): CInt {
  const size = f.decl.kind === "pointer" ? 8 : f.size;
  const bits = size >= 8 ? 64 : size * 8;
  const unsigned = f.decl.kind === "pointer" || !f.signed;
  const x = unsigned ? BigInt.asUintN(bits, v) : BigInt.asIntN(bits, v);
  if (bits < 32) return { v: x, bits: 32, unsigned: false };
  return { v: x, bits: bits as 32 | 64, unsigned };
}

/** Every field name of `format` that its print fmt names through a table or prints as an address, and every argument that failed. */
export function printFmtNames(format: TracepointFormat, names: NameSource): PrintFmtNames {
  const out: PrintFmtNames = { fields: new Map(), addresses: new Map(), problems: [] };
  if (!format.printFmt) return out;
  let split: { format: string; args: string[] };
  try {
    split = splitPrintFmt(format.printFmt);
  } catch (e) {
    out.problems.push({ argument: -1, expression: format.printFmt.slice(0, 80), fields: [], reason: (e as Error).message });
    return out;
  }
  const convs = conversions(split.format);
  // Arguments printed right after another one with nothing between (`prev_state=%s%s`)
  // belong to its text when they read the same field: sched_switch's "R" then "+".
  const following = (argument: number, field: string): Expr[] => {
    const out: Expr[] = [];
    for (let j = argument + 1; j < split.args.length; j++) {
      const c = convs[j];
      if (!c || c.conv !== "%s" || c.before !== "") break;
      let ast: Expr;
      try {
        ast = parseExpr(split.args[j]!);
      } catch {
        break;
      }
      const fs = fieldsOf(ast);
      if (fs.size !== 1 || !fs.has(field)) break;
      out.push(ast);
    }
    return out;
  };
  const byName = new Map(format.fields.map((f) => [f.name, f]));
  const consumed = new Set<number>();
  split.args.forEach((text, argument) => {
    const problem = (fields: string[], reason: string) => out.problems.push({ argument, expression: text, fields, reason });
    if (consumed.has(argument)) return;
    if (!PRINTER_USE.test(text) && convs[argument]?.conv === "%s" && /REC->/.test(text) && /\?[\s\S]*"/.test(text)) {
      // Text chosen by conditions on one field, with no table: mm_lru_insertion's
      // `flags & 0x0001u ? "M" : " "` and the five after it read as one flag string.
      try {
        const ast = parseExpr(text);
        const fs = [...fieldsOf(ast)];
        const field = fs.length === 1 ? byName.get(fs[0]!) : undefined;
        if (!field || field.decl.kind !== "int" || out.fields.has(field.name)) return;
        const more = following(argument, field.name);
        const printed = printedField([ast, ...more], field, argument, [text, ...split.args.slice(argument + 1, argument + 1 + more.length)].join(", "), names);
        out.fields.set(field.name, printed);
        for (let j = 1; j <= more.length; j++) consumed.add(argument + j);
      } catch {
        // not something the evaluator reads: no names, and nothing the kernel meant as a table
      }
      return;
    }
    if (PRINTER_USE.test(text)) {
      let ast: Expr;
      try {
        ast = parseExpr(text);
      } catch (e) {
        problem(fieldsIn(text), errorText(e));
        return;
      }
      const fields = [...fieldsOf(ast)];
      // A table over a constant (btrfs prints its tree ids that way) names no field.
      if (fields.length === 0) return;
      if (fields.length !== 1) {
        problem(fields, `it reads ${fields.length} fields (${fields.join(", ")}); a name needs one`);
        return;
      }
      const field = byName.get(fields[0]!);
      if (!field) {
        problem(fields, `the record has no field ${fields[0]}`);
        return;
      }
      if (field.decl.kind !== "int" && field.decl.kind !== "pointer") {
        problem(fields, `field ${field.name} (${field.type}) is not an integer`);
        return;
      }
      try {
        const more = following(argument, field.name);
        const printed = printedField([ast, ...more], field, argument, [text, ...split.args.slice(argument + 1, argument + 1 + more.length)].join(", "), names);
        // A table wins over `?:` text printed for the same field earlier.
        if (!out.fields.get(field.name)?.tables.length) out.fields.set(field.name, printed);
        for (let j = 1; j <= more.length; j++) consumed.add(argument + j);
      } catch (e) {
        problem(fields, errorText(e));
      }
      return;
    }
    const conv = convs[argument]?.conv ?? "";
    const addr = addressConversion(conv);
    if (!addr) return;
    const m = /^&?\s*REC->(\w+)$/.exec(text);
    const field = m ? byName.get(m[1]!) : undefined;
    if (!field) {
      problem(fieldsIn(text), `${conv} prints "${text}", not a field`);
      return;
    }
    if (!out.addresses.has(field.name)) out.addresses.set(field.name, { field: field.name, argument, conversion: conv, ...addr });
  });
  return out;
}

const fieldsIn = (text: string) => [...new Set([...text.matchAll(/REC->(\w+)/g)].map((m) => m[1]!))];
const errorText = (e: unknown) => (e instanceof CExprError ? e.message : String(e));

function printedField(asts: Expr[], field: TracepointField, argument: number, expression: string, names: NameSource): PrintedField {
  // The tables are constants: evaluate them once, which also reports any name BTF does not know.
  // Keyed by the call's argument array, which is what the evaluator hands to `call`.
  const tables = new Map<Expr[], PrintTable>();
  const constEnv: EvalEnv = { constant: (n) => names.constant(n), type: (n) => names.type(n) };
  const collect = (e: Expr): void => {
    if (e.k === "call" && PRINTERS.has(e.fn)) tables.set(e.args, table(e, constEnv));
    for (const c of children(e)) collect(c);
  };
  for (const ast of asts) {
    collect(ast);
    const bad = unsupported(ast, constEnv);
    if (bad) throw new CExprError(bad);
  }

  const env = (v: bigint): EvalEnv => ({
    constant: constEnv.constant,
    type: constEnv.type,
    field: () => fieldValue(field, v),
    call: (fn, args, inner) => {
      if (!PRINTERS.has(fn)) return undefined;
      const t = tables.get(args)!;
      const x = evaluate(args[0]!, inner);
      if (typeof x === "string") throw new CExprError(`${fn}() of a string`);
      return t.kind === "symbolic" ? symbolName(t.entries, x.v) : flagNames(t.entries, x.v, t.delimiter);
    },
  });
  const memo = new Map<bigint, string>();
  const decode = (value: number | bigint): string => {
    const v = integer(value);
    const hit = memo.get(v);
    if (hit !== undefined) return hit;
    let text = "";
    for (const ast of asts) {
      const got: CValue = evaluate(ast, env(v));
      text += typeof got === "string" ? got : String(got.v);
    }
    if (memo.size < MEMO) memo.set(v, text);
    return text;
  };
  // An argument that fails for ordinary values (an unsupported construct off the tables) fails here, not per row.
  decode(0n);
  return { field: field.name, argument, expression, tables: [...tables.values()], decode };
}

function table(call: Extract<Expr, { k: "call" }>, env: EvalEnv): PrintTable {
  const flags = call.fn.startsWith("__print_flags");
  const rest = call.args.slice(flags ? 2 : 1);
  let delimiter = "";
  if (flags) {
    const d = call.args[1];
    if (!d || d.k !== "str") throw new CExprError(`${call.fn}() needs a delimiter string as its second argument`);
    delimiter = d.s;
  }
  const entries: NamedValue[] = [];
  const unknown: string[] = [];
  for (const item of rest) {
    if (item.k !== "list" || item.items.length !== 2) throw new CExprError(`${call.fn}() entries must be { value, "name" }`);
    const nameExpr = item.items[1]!;
    // `{ -1, NULL }`: the kernel stops at the first entry without a name.
    if (nameExpr.k !== "str") {
      if (isNull(nameExpr, env)) break;
      throw new CExprError(`${call.fn}() entries must be { value, "name" }`);
    }
    const name = nameExpr.s;
    try {
      const v = evaluate(item.items[0]!, env);
      if (typeof v === "string") throw new CExprError(`the value of "${name}" is a string`);
      entries.push({ value: v.v, name });
    } catch (e) {
      if (!(e instanceof CExprError)) throw e;
      unknown.push(`${name}: ${e.message}`);
    }
  }
  if (unknown.length) throw new CExprError(`cannot evaluate ${unknown.length} of ${rest.length} entries (${unknown.slice(0, 3).join("; ")}${unknown.length > 3 ? "; ..." : ""})`);
  return { kind: flags ? "flags" : "symbolic", u64: call.fn.endsWith("_u64"), delimiter, entries };
}

function isNull(e: Expr, env: EvalEnv): boolean {
  if (e.k === "id" && e.name === "NULL") return true;
  try {
    const v = evaluate(e, env);
    return typeof v !== "string" && v.v === 0n;
  } catch {
    return false;
  }
}

const ARITH_CALLS = new Set(["__builtin_constant_p", "__builtin_bswap16", "__builtin_bswap32", "__builtin_bswap64", "__fswab16", "__fswab32", "__fswab64", "___constant_swab16", "___constant_swab32", "___constant_swab64"]);

/**
 * What the evaluator cannot do anywhere in the argument, also in branches a test value
 * skips: calls it does not know, names and cast types BTF does not know.
 */
function unsupported(e: Expr, env: EvalEnv): string | null {
  if (e.k === "call" && !PRINTERS.has(e.fn) && !ARITH_CALLS.has(e.fn)) return `unsupported call ${e.fn}()`;
  if (e.k === "id" && env.constant(e.name) === undefined) return `unknown name ${e.name}`;
  if (e.k === "cast") {
    try {
      castType(e.type, env);
    } catch (err) {
      return errorText(err);
    }
  }
  for (const c of children(e)) {
    const bad = unsupported(c, env);
    if (bad) return bad;
  }
  return null;
}

function children(e: Expr): Expr[] {
  switch (e.k) {
    case "unary": case "cast": return [e.e];
    case "bin": return [e.l, e.r];
    case "cond": return [e.c, e.t, e.f];
    case "call": return e.args;
    case "list": return e.items;
    default: return [];
  }
}
