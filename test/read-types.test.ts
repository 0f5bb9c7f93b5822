/* A tracepoint's `read` entries are typed like its fields: their names are keys, values
 * and filters, and their rows' values follow what they read (a typed path's leaf, a
 * string, a list of strings, bytes); a name that is neither a field nor a read is an error. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { typecheck } from "./helpers/typecheck.js";
import { tracepoint, InvalidArgumentError } from "../bpf-lib/src/index.js";

const PROBE = `const p = tracepoint("sched:sched_process_exec", {
  read: { pp: "current.real_parent.tgid", pc: currentPathOf((t) => t.real_parent.comm), argv: { from: "filename", array: 4 }, raw: { from: "filename", bytes: 8 } },
  where: { pp: 1 },
});`;

describe("read types", () => {
  it("read names are keys, values and filters; rows type their values", () => {
    const { errors } = typecheck(["tracepoint", "currentPathOf"], `${PROBE}
      p.count({ by: ["pp", "pc", "comm"] });
      p.stats("pp", { by: ["pc"] });
      p.hist("pp");
      const t = await p.collect({ seconds: 1 });
      type Row = NonNullable<typeof t["__row"]>;
      const c: Row["pc"] = "bash";
      const a: Row["argv"] = ["a", "b"];
      const b: Row["raw"] = new Uint8Array(8);
      const n: Row["pp"] = 1;
      const f: Row["filename"] = "/bin/true";
      void c; void a; void b; void n; void f;`);
    assert.deepEqual(errors, []);
  });

  it("a name that is neither a field nor a read is refused, with the right candidates", () => {
    const { errors } = typecheck(["tracepoint", "currentPathOf"], `${PROBE}
      p.count({ by: ["pq"] });
      const t = await p.collect({ seconds: 1 });
      type Row = NonNullable<typeof t["__row"]>;
      const c: Row["pc"] = 3;
      void c;`);
    assert.equal(errors.length, 2, errors.join("\\n"));
    assert.match(errors[0]!, /"pq"/);
    assert.match(errors[1]!, /number.*not assignable to.*string/);
  });

  it("reads are keys, filters and values only where they can be: no list or byte keys, no list or byte filters, no string values", () => {
    const bad = (line: string) => typecheck(["tracepoint", "currentPathOf"], `${PROBE}\n${line}`).errors;
    assert.equal(bad(`p.count({ by: ["argv"] });`).length, 1, "a list is no key");
    assert.equal(bad(`p.count({ by: ["raw"] });`).length, 1, "a byte buffer is no key");
    assert.equal(bad(`p.stats("pc");`).length, 1, "a string is no value");
    assert.equal(bad(`p.stats("argv");`).length, 1, "a list is no value");
    assert.equal(bad(`tracepoint("sched:sched_process_exec", { read: { argv: { from: "filename", array: 2 } }, where: { argv: "x" } });`).length, 1, "a list is no kernel filter");
  });

  it("typed probes with reads go into latency() and pair(); the pair row has the start's reads", () => {
    const { errors } = typecheck(["tracepoint", "latency", "pair"], `
      const s = tracepoint("syscalls:sys_enter_openat", { fields: ["filename"], read: { pp: "current.real_parent.tgid" } });
      const e = tracepoint("syscalls:sys_exit_openat", { fields: ["ret"] });
      latency({ start: s, end: e, carry: ["pp"], by: ["pp"] });
      latency({ start: [s, s], end: e });
      const t = await pair(s, e).collect({ seconds: 1 });
      type Row = NonNullable<typeof t["__row"]>;
      const f: Row["filename"] = "/etc/passwd";
      const r: Row["ret"] = 3;
      const pp: Row["pp"] = 1;
      void f; void r; void pp;`);
    assert.deepEqual(errors, []);
  });

  it("a list key refused by the type is refused at run time too, before anything loads", () => {
    const p = tracepoint("syscalls:sys_enter_execve", { read: { argv: { from: "argv", user: true, array: 2 } } });
    // an untyped caller (a computed name) reaches the run-time check
    const by = ["argv"] as unknown as ["pid"];
    assert.throws(() => p.count({ by }), (e: unknown) => e instanceof InvalidArgumentError && /field "argv" \(char \*\[\]\) cannot be an aggregation key/.test(e.message));
  });
});
