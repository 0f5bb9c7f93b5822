/* Completion's own logic, without a kernel: what a typed prefix keeps and in what order, which text a
 * completion replaces (strings, words, list options), and what help() pages without static text. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { rank } from "../kernel/cells/completion/rank.js";
import { siteAt } from "../kernel/cells/completion/site.js";
import { completeCell } from "../kernel/cells/completion/complete.js";
import { signature } from "../kernel/cells/help.js";
import { helpPage, parameters } from "../kernel/help-page.js";

/** The site at the `|` of `marked`. */
function at(marked: string) {
  const pos = marked.indexOf("|");
  return siteAt(marked.slice(0, pos) + marked.slice(pos + 1), pos);
}

describe("rank", () => {
  it("puts prefix matches as typed first, then in any case, then containing, keeping the given order in each", () => {
    assert.deepEqual(rank(["xsys", "Sysfs", "sys_b", "sys_a", "other"], "sys"), { matches: ["sys_b", "sys_a", "Sysfs", "xsys"], total: 4 });
  });
  it("keeps at most the limit and counts the rest", () => {
    const names = Array.from({ length: 5000 }, (_, i) => `f${i}`);
    const r = rank(names, "f1", 10);
    assert.equal(r.total, 1111);
    assert.deepEqual(r.matches, ["f1", "f10", "f11", "f12", "f13", "f14", "f15", "f16", "f17", "f18"]);
  });
  it("drops duplicates and keeps everything for an empty prefix", () => {
    assert.deepEqual(rank(["b", "a", "b"], ""), { matches: ["b", "a"], total: 2 });
  });
});

describe("siteAt", () => {
  it("covers a string's content up to the cursor, and the call it is the first argument of", () => {
    assert.deepEqual(at('tracepoint("sys|'), { kind: "string", start: 12, end: 15, prefix: "sys", call: { callee: "tracepoint", index: 0, args: ["sys"] } });
  });
  it("replaces the rest of the name when the cursor is inside it, but filters by what is before the cursor", () => {
    assert.deepEqual(at('tracepoint("sys|calls:sys_enter_openat", {})'), { kind: "string", start: 12, end: 37, prefix: "sys", call: { callee: "tracepoint", index: 0, args: ["syscalls:sys_enter_openat", undefined] } });
  });
  it("knows the second argument of a method call and the literal first one", () => {
    const s = at('bpfbook.uprobe("/bin/bash", "readl|');
    assert.equal(s.prefix, "readl");
    assert.deepEqual(s.call, { callee: "uprobe", index: 1, args: ["/bin/bash", "readl"] });
  });
  it("sees a string in a list option as that option of the call", () => {
    const s = at('tracepoint("syscalls:sys_enter_openat", { fields: ["filename", "fl|"] })');
    assert.equal(s.option, "fields");
    assert.deepEqual(s.call, { callee: "tracepoint", index: 1, args: ["syscalls:sys_enter_openat", undefined] });
    assert.deepEqual([s.start, s.end, s.prefix], [64, 66, "fl"]);
  });
  it("is the word around the cursor outside strings, empty after a dot", () => {
    assert.deepEqual(at("const x = Ma|th.max"), { kind: "word", start: 10, end: 14, prefix: "Ma" });
    assert.deepEqual(at("Math.|"), { kind: "word", start: 5, end: 5, prefix: "" });
    assert.deepEqual(at('f("a") + ab|'), { kind: "word", start: 9, end: 11, prefix: "ab" });
  });
  it("is not in a string right after its closing quote", () => {
    assert.equal(at('"abc"|').kind, "word");
    assert.equal(at("`abc|`").kind, "string");
  });
});

describe("completeCell", () => {
  it("counts positions in code points and filters the converter's candidates by the word's prefix", () => {
    // "😀" is one code point, two UTF-16 units: the converter is asked at UTF-16 16, Jupyter told 15
    const code = 'const s = "😀"; ab';
    let asked = -1;
    const c = completeCell(code, 17, (pos) => ((asked = pos), ["abc", "xab", "Abs", "zzz"]));
    assert.equal(asked, 18);
    assert.deepEqual(c, { matches: ["abc", "Abs", "xab"], cursorStart: 15, cursorEnd: 17, metadata: { "bpfbook.total": 3 } });
  });
});

describe("help without static text", () => {
  it("shows a function's parameter list, not its body", () => {
    function add(a: number, b = 2): number {
      return a + b;
    }
    assert.equal(helpPage(add), "add(a, b = 2)");
    assert.equal(parameters("x => x + 1", 1), "x");
    assert.equal(parameters("function () { [native code] }", 2), "arg0, arg1");
  });
  it("shows an object's class, methods and public properties, not its private state", () => {
    class Probe {
      readonly name = "p";
      #secret = 1;
      _internal = 2;
      start(): number {
        return this.#secret;
      }
      get size(): number {
        return 1;
      }
    }
    assert.equal(helpPage(new Probe()), "Probe\n\nMethods: start(), size\n\nProperties: name");
  });
  it("pages the kernel's text when it has one", () => {
    assert.equal(helpPage(Math.max, "(method) Math.max(...values: number[]): number"), "(method) Math.max(...values: number[]): number");
  });
});

describe("member signatures", () => {
  it("drop the kind and the owner's type, whatever its type arguments", () => {
    assert.equal(signature('(method) TracepointProbe<"a:b", "x" | "y", {}>.collect(opts: CollectOptions): Promise<T>', "collect"), "collect(opts: CollectOptions): Promise<T>");
    assert.equal(signature("(property) Foo.name: string", "name"), "name: string");
    assert.equal(signature("function opensnoop(options?: tools.OpensnoopOptions): tools.EventsTool<tools.OpensnoopRow>", "opensnoop"), "opensnoop(options?: tools.OpensnoopOptions): tools.EventsTool<tools.OpensnoopRow>");
  });
});
