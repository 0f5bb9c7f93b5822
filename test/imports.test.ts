/* The library's layering, checked on its import graph: every .ts under bpf-lib/src
 * and kernel/ parsed with the TypeScript compiler, counting `import type`,
 * `export ... from` and import() as edges. No cycles; the engine and the layers below
 * it never import probes/; only the layers that speak C to libbpf, libc or the
 * kernel import ffi/; index.ts only re-exports. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { ROOT } from "./helpers/workload.js";

const SRC = join(ROOT, "bpf-lib", "src");

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    // generated/ holds this machine's tracepoint and kernel function tables: leaves, and huge
    if (statSync(p).isDirectory()) return f === "generated" || f === "node_modules" ? [] : walk(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

/** The file a relative specifier names: "./x.js" is x.ts (or x.d.ts), a directory its index.ts. */
function resolveSpecifier(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  const stem = base.replace(/\.js$/, "");
  for (const c of [`${stem}.ts`, `${stem}.d.ts`, join(base, "index.ts"), base]) if (existsSync(c) && statSync(c).isFile()) return c;
  return null;
}

/** Every module a file names: import/export declarations (type-only too), import() and import("x").T. */
function specifiers(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) out.push(n.moduleSpecifier.text);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) out.push(n.arguments[0].text);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) out.push(n.argument.literal.text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

type Graph = Map<string, string[]>;

/** Repository-relative paths: file → the files it imports (relative specifiers only). */
function importGraph(roots: string[]): Graph {
  const g: Graph = new Map();
  for (const file of roots.flatMap(walk)) {
    const deps: string[] = [];
    for (const spec of specifiers(file)) {
      if (!spec.startsWith(".")) continue;
      const target = resolveSpecifier(file, spec);
      assert.ok(target, `${relative(ROOT, file)} imports ${spec}, which names no file`);
      deps.push(relative(ROOT, target));
    }
    g.set(relative(ROOT, file), deps);
  }
  return g;
}

/** One cycle per strongly connected component (Tarjan), each as the path that closes it. */
function cycles(g: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc = new Set<string>();
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.add(w);
    } while (w !== v);
    if (scc.size > 1 || (g.get(v) ?? []).includes(v)) found.push(pathWithin(g, scc, v));
  };
  for (const v of g.keys()) if (!index.has(v)) connect(v);
  return found;
}

/** A path v → … → v inside one strongly connected component (breadth first, so the shortest). */
function pathWithin(g: Graph, scc: Set<string>, v: string): string[] {
  const prev = new Map<string, string>();
  const queue = [v];
  while (queue.length) {
    const u = queue.shift()!;
    for (const w of g.get(u) ?? []) {
      if (!scc.has(w)) continue;
      if (w === v) {
        const path = [v];
        for (let x = u; x !== v; x = prev.get(x)!) path.splice(1, 0, x);
        return [...path, v];
      }
      if (!prev.has(w)) {
        prev.set(w, u);
        queue.push(w);
      }
    }
  }
  return [v];
}

const lib = (p: string) => `bpf-lib/src/${p}`;
const under = (dir: string) => (f: string) => f.startsWith(lib(dir));

/**
 * The files that may import ffi/ (koffi declarations), besides ffi/ itself: the libbpf
 * object layer and the ring buffer, and the few places that make a system call no
 * libbpf object wraps.
 */
const FFI_IMPORTERS: readonly ((f: string) => boolean)[] = [
  under("ffi/"),
  under("libbpf/"),
  under("ringbuf/"),
  (f) => f === lib("engine/settled.ts"), // membarrier: program runs under way have finished
  (f) => f === lib("engine/alloc.ts"), // madvise: huge pages for a table's large columns
  under("doctor/"), // tries tiny programs of each kind; libbpf's version
  (f) => f === lib("cli/commands.ts"), // libbpf's version, loaded only when asked
  (f) => f === lib("probes/fentry/prototype.ts"), // the kernel's BTF, through libbpf's btf API
  (f) => f === lib("analysis/names/btf-enums.ts"), // libbpf's BTF when /sys/kernel/btf/vmlinux cannot be read directly
  (f) => f === lib("probes/profile/perf.ts"), // perf_event_open, and closing its fds
  (f) => f === lib("probes/xdp/attach.ts") || f === lib("probes/xdp/link.ts") || f === lib("probes/xdp/totals.ts"), // XDP attach queries, per-CPU map reads
];

describe("imports", () => {
  const g = importGraph([SRC, join(ROOT, "kernel")]);
  const edges = [...g].flatMap(([from, tos]) => tos.map((to) => ({ from, to })));

  it("the graph is read: every source file, and edges of each kind", () => {
    assert.ok(g.size > 150, `${g.size} files`);
    // a value import, a type-only import, an `export ... from`, a dynamic import()
    assert.ok(g.get(lib("engine/aggregation.ts"))!.includes(lib("engine/aggregation-run.ts")));
    assert.ok(g.get(lib("libbpf/map.ts"))!.includes(lib("libbpf/owner.ts")));
    assert.ok(g.get(lib("index.ts"))!.includes(lib("probes/tracepoint/probe.ts")));
    assert.deepEqual(specifiers(join(ROOT, "test", "quiet.test.ts")).filter((s) => s.includes("probes/self")), ["../bpf-lib/src/probes/self.js"]);
  });

  it("the cycle finder finds cycles (a check that would pass on anything proves nothing)", () => {
    const made: Graph = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a", "d"]], ["d", []], ["e", ["e"]]]);
    assert.deepEqual(cycles(made).map((c) => c.join(" → ")).sort(), ["a → b → c → a", "e → e"]);
    assert.deepEqual(cycles(new Map([["a", ["b"]], ["b", []]])), []);
  });

  it("has no import cycles", () => {
    const found = cycles(g);
    assert.equal(found.length, 0, `import cycles:\n${found.map((c) => "  " + c.join(" → ")).join("\n")}`);
  });

  it("only probes/, tools/ (built on them) and index.ts import probes/: the engine and the layers below never do", () => {
    // fleet/types.ts names the package's probe functions (types only) to type the fleet's same functions; fleet/ runs none of them itself
    const above = (f: string) => f.startsWith(lib("probes/")) || f.startsWith(lib("tools/")) || f === lib("index.ts") || f === lib("fleet/types.ts");
    const bad = edges.filter((e) => e.to.startsWith(lib("probes/")) && e.from.startsWith(lib("")) && !above(e.from));
    assert.deepEqual(bad.map((e) => `${e.from} → ${e.to}`), []);
  });

  it("tools/ is built on the public API: it imports no libbpf/ or ffi/ module, and nothing below it imports tools/", () => {
    const low = edges.filter((e) => e.from.startsWith(lib("tools/")) && (e.to.startsWith(lib("libbpf/")) || e.to.startsWith(lib("ffi/"))));
    const up = edges.filter((e) => e.to.startsWith(lib("tools/")) && !e.from.startsWith(lib("tools/")) && e.from !== lib("index.ts") && !e.from.startsWith(lib("cli/")));
    assert.deepEqual([...low, ...up].map((e) => `${e.from} → ${e.to}`), []);
  });

  it("the library never imports the notebook kernel (but the CLI's optional commands)", () => {
    // cli/main.ts adds the kernel's commands (install, run) when it is built alongside: import() that may fail
    const optional = (e: { from: string; to: string }) => e.from === lib("cli/main.ts") && e.to === "kernel/commands.ts";
    const bad = edges.filter((e) => e.from.startsWith(lib("")) && e.to.startsWith("kernel/") && !optional(e));
    assert.deepEqual(bad.map((e) => `${e.from} → ${e.to}`), []);
  });

  it("ffi/ is imported only by the layers that speak C", () => {
    const bad = edges.filter((e) => e.to.startsWith(lib("ffi/")) && !FFI_IMPORTERS.some((ok) => ok(e.from)));
    assert.deepEqual(bad.map((e) => `${e.from} → ${e.to}`), []);
  });

  it("index.ts holds nothing but re-exports", () => {
    const file = join(SRC, "index.ts");
    const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const other = sf.statements.filter((s) => !(ts.isExportDeclaration(s) && s.moduleSpecifier));
    assert.deepEqual(other.map((s) => s.getText(sf).split("\n")[0]), []);
  });
});
