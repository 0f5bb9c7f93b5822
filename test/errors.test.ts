/* docs/errors.md and the error classes agree: every exported BpfbookError class is
 * in its table with its code, and every class and code the table names is real. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import * as lib from "../bpf-lib/src/index.js";
import { ROOT } from "./helpers/workload.js";

/** class name → [parent, own code] from the sources (a class without its own code inherits its parent's). */
function classesInSources(): Map<string, { parent: string; code?: string }> {
  const out = new Map<string, { parent: string; code?: string }>();
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : [];
  });
  for (const file of walk(join(ROOT, "bpf-lib", "src"))) {
    const text = readFileSync(file, "utf8");
    const re = /class (\w+) extends (\w+) \{/g;
    const found = [...text.matchAll(re)];
    found.forEach((m, i) => {
      const body = text.slice(m.index!, found[i + 1]?.index ?? text.length);
      const code = /super\(\s*"(E[A-Z]+)"/.exec(body)?.[1];
      out.set(m[1], { parent: m[2], code });
    });
  }
  return out;
}

function codeOf(name: string, classes: Map<string, { parent: string; code?: string }>): string | undefined {
  for (let c = classes.get(name); c; c = classes.get(c.parent)) if (c.code) return c.code;
  return undefined;
}

/** The table's rows: each class in the first column with the code in the same position of the second. */
function documented(): Map<string, string> {
  const md = readFileSync(join(ROOT, "docs", "errors.md"), "utf8");
  const rows = new Map<string, string>();
  for (const line of md.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 4 || !/^`\w+Error`/.test(cells[1])) continue;
    const names = [...cells[1].matchAll(/`(\w+)`/g)].map((m) => m[1]);
    const codes = [...cells[2].matchAll(/`(E[A-Z]+)`/g)].map((m) => m[1]);
    assert.equal(names.length, codes.length, `row ${line}: as many codes as classes`);
    names.forEach((n, i) => rows.set(n, codes[i]));
  }
  return rows;
}

describe("docs/errors.md", () => {
  it("documents every exported error class with its code, and nothing that is not real", () => {
    const classes = classesInSources();
    const docs = documented();
    const exported = Object.entries(lib)
      .filter(([, v]) => typeof v === "function" && v.prototype instanceof lib.BpfbookError)
      .map(([k]) => k)
      .sort();
    assert.ok(exported.length >= 20, `found ${exported.length} exported error classes`);
    for (const name of exported) {
      assert.ok(docs.has(name), `${name} is exported but not in docs/errors.md`);
      assert.equal(docs.get(name), codeOf(name, classes), `${name}'s code`);
    }
    for (const [name, code] of docs) {
      assert.ok(exported.includes(name), `docs/errors.md names ${name}, which the package does not export`);
      assert.equal(codeOf(name, classes), code, `${name}'s code in the docs`);
    }
  });
  it("InvalidOptionError is an InvalidArgumentError naming the option, the value and what works", () => {
    const e = new lib.InvalidOptionError("collect()", "seconds", Infinity, "a number of seconds above 0");
    assert.ok(e instanceof lib.InvalidArgumentError);
    assert.equal(e.code, "EINVAL");
    assert.equal(e.name, "InvalidOptionError");
    assert.equal(e.option, "seconds");
    assert.equal(e.got, Infinity);
    assert.equal(e.message, "collect(): seconds must be a number of seconds above 0; got Infinity");
  });
});
