/* Tables carry their row type: columns, rows and verb callbacks are typed, a wrong column name fails to compile. */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import ts from "typescript";
import { ROOT } from "./helpers/workload.js";

const HEAD = `import * as aq from "arquero";
import { tracepoint, plot, percentiles, type TraceTable, type RowOf } from ${JSON.stringify(join(ROOT, "dist", "bpf-lib", "src", "index.js"))};
import type { ColumnTable } from "arquero";
const t = await tracepoint("syscalls:sys_enter_openat", { fields: ["filename", "flags"] }).collect({ seconds: 1 });
`;

/** Each snippet is its own file of one program: one compile for all of them (a program costs most of a minute here). */
const SNIPPETS: Record<string, string> = {
  columns: `const a: ArrayLike<string> = t.array("comm"); const b: string[] = t.array("filename"); const p: number = t.get("pid", 0);
    const f64: Float64Array = t.array("ts", Float64Array); const g: (row: number) => string = t.getter("comm"); void [a, b, p, f64, g];`,
  rows: `const pid: number = t.objects()[0].pid; const comm: string = t.object(3).comm; for (const r of t) { const s: string = r.filename; void s; } void [pid, comm];`,
  wrongArray: `t.array("nope");`,
  wrongGet: `t.get("filenme", 0);`,
  callbacks: `const f = t.filter((d) => d.comm === "cat" && d.pid > 1).orderby((d) => d.ts);
    const e = t.filter(aq.escape((d) => d.filename.startsWith("/etc")));
    const s: string[] = f.array("comm"); const stats: number = t.stats.lost; void [e, s, stats];`,
  wrongCallback: `t.filter((d) => d.nope === 1);`,
  wrongEscape: `t.filter(aq.escape((d) => d.comm.toFixed(2)));`,
  shapes: `const picked = t.select("comm", "pid"); const c: string[] = picked.array("comm");
    const dv = t.derive({ key: (d) => d.comm + " " + d.pid, cmd: aq.escape((d) => d.filename.length) });
    const k: string = dv.get("key", 0); const n: number = dv.get("cmd", 0);
    const counts = t.groupby("comm").count().orderby(aq.desc("count")); const cnt: number = counts.objects()[0].count; const who: string = counts.get("comm", 0);
    const named = t.groupby("comm", "pid").count({ as: "calls" }); const calls: number[] = named.array("calls");
    const rolled = t.groupby("comm").rollup({ files: aq.escape((d) => d.filename), n: () => aq.op.count() }); const r: string = rolled.get("comm", 0);
    void [c, k, n, cnt, who, calls, r];`,
  wrongSelect: `t.select("comm").get("pid", 0);`,
  wrongAfterCount: `t.groupby("comm").count().get("filename", 0);`,
  assignable: `const plain: ColumnTable = t; const grouped: ColumnTable = t.groupby("comm").count(); plot.bar(t.groupby("comm").count(), { x: "comm", y: "count" });
    percentiles(t, [50]); type R = RowOf<typeof t>; const fn: R["filename"] = "x"; const tt: TraceTable<R> = t; void [plain, grouped, fn, tt];`,
  optionColumns: `const ex = await tracepoint("sched:sched_process_exit", { fields: ["group_dead"], columns: ["ppid", "kstack"], read: { code: "current.exit_code" } }).collect({ seconds: 1 });
    const ppid: number[] = ex.array("ppid"); const ks: string = ex.get("kstack", 0); const picked = ex.select("pid", "ppid", "code"); const p2: number = picked.get("ppid", 0);
    const named = await tracepoint("syscalls:sys_exit_openat", { fields: ["ret"], names: true }).collect({ seconds: 1 }); const rn: (string | null)[] = named.array("ret_name");
    const listed = await tracepoint("syscalls:sys_enter_openat", { fields: ["flags"], names: ["flags"] }).collect({ seconds: 1 }); const fl: string | null = listed.get("flags_name", 0);
    const started = await tracepoint("syscalls:sys_enter_openat", { fields: ["filename"], columns: ["uid"] }).start().table(); const uid: number = started.get("uid", 0);
    const byStack = t.groupby("comm").count(); void [ppid, ks, p2, rn, fl, uid, byStack];`,
  wrongOptionColumn: `const ex = await tracepoint("sched:sched_process_exit", { fields: ["group_dead"], columns: ["ppid"] }).collect({ seconds: 1 }); ex.array("pcomm");`,
  wrongListedName: `const listed = await tracepoint("syscalls:sys_enter_openat", { fields: ["flags"], names: ["flags"] }).collect({ seconds: 1 }); listed.get("mode_name", 0);`,
  untyped: `declare const u: TraceTable; const xs: unknown[] = u.array("anything"); const plain = aq.table({ a: [1] }).filter(aq.escape((d: { a: number }) => d.a > 0)); void [xs, plain];`,
};

let errors: Record<string, string[]> = {};

before(() => {
  const dir = mkdtempSync(join(tmpdir(), "bpfbook-table-types-"));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));   // the snippets import arquero as a notebook does
  const files = Object.entries(SNIPPETS).map(([name, body]) => {
    const file = join(dir, `${name}.mts`);
    writeFileSync(file, `${HEAD}${body}\nexport {};\n`);
    return file;
  });
  const program = ts.createProgram(files, {
    strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(ROOT, "node_modules", "@types")], lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts"],
  });
  const diags = ts.getPreEmitDiagnostics(program);
  errors = Object.fromEntries(Object.keys(SNIPPETS).map((name) => [name, diags
    .filter((d) => d.file?.fileName === join(dir, `${name}.mts`))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))]));
});

describe("typed tables", () => {
  it("columns are typed by the row: array, get, getter", () => assert.deepEqual(errors.columns, []));
  it("rows are typed: objects(), object(i), iteration", () => assert.deepEqual(errors.rows, []));
  it("a column that is not in the row is a compile error naming it", () => {
    assert.equal(errors.wrongArray.length, 1);
    // The union's order is the checker's own (it varies with what was checked first): look for each member.
    assert.match(errors.wrongArray[0], /^Argument of type '"nope"' is not assignable to parameter of type '(.*)'\.$/);
    for (const name of ['"filename"', '"flags"', "keyof StandardRow"]) assert.ok(errors.wrongArray[0].includes(name), errors.wrongArray[0]);
    assert.match(errors.wrongGet[0], /'"filenme"'/);
  });
  it("filter, orderby and aq.escape callbacks need no annotation and keep the row type", () => assert.deepEqual(errors.callbacks, []));
  it("a callback reading a column the row lacks is a compile error", () => {
    assert.equal(errors.wrongCallback.length, 1);
    assert.match(errors.wrongCallback[0], /^Property 'nope' does not exist on type 'TracepointRow<"syscalls:sys_enter_openat", ("filename" \| "flags"|"flags" \| "filename"), \{\}, ExtraRow<never, [^>]*>>'\.$/);
    assert.deepEqual(errors.wrongEscape, [`Property 'toFixed' does not exist on type 'string'. Did you mean 'fixed'?`]);
  });
  it("select, derive, groupby + count/rollup compute the new row type", () => assert.deepEqual(errors.shapes, []));
  it("columns a verb dropped are compile errors", () => {
    assert.match(errors.wrongSelect.join("\n"), /'"pid"' is not assignable to parameter of type '"comm"'/);
    assert.match(errors.wrongAfterCount.join("\n"), /'"filename"' is not assignable to parameter of type '"comm" \| "count"'/);
  });
  it("columns the options add are in the row: columns, read, names, and a started trace's table()", () => assert.deepEqual(errors.optionColumns, []));
  it("a standard column or name column the options did not ask for is a compile error", () => {
    assert.match(errors.wrongOptionColumn.join("\n"), /Argument of type '"pcomm"' is not assignable/);
    assert.match(errors.wrongListedName.join("\n"), /Argument of type '"mode_name"' is not assignable/);
  });
  it("a typed table is still a ColumnTable (charts, percentiles)", () => assert.deepEqual(errors.assignable, []));
  it("an untyped table's columns are unknown, and annotated escapes keep compiling", () => assert.deepEqual(errors.untyped, []));
});
