/* Kernel function probes on this host: BTF prototypes, names (nearest-name errors),
 * plans, generated types, and what happens when the kernel cannot attach them
 * (this host: CONFIG_KPROBES off, fentry refused). The attaching half runs in the
 * Debian-kernel VM: test/vm-kprobe.test.ts. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import ts from "typescript";
import { ROOT, programIdsOf } from "./helpers/workload.js";
import {
  kprobe, kretprobe, kernelFunctionLatency, kernelFunctionPrototype, kernelFunctionSupport, kernelFunctions, formatPrototype, KernelBtf,
  UnknownKernelFunctionError, UnknownArgumentError,
} from "../bpf-lib/src/probes/fentry/index.js";
import { prototypeOf, untypedPrototype, type BtfTypeSource } from "../bpf-lib/src/probes/fentry/prototype.js";
import { renderKernelFunctionTypes, signatureOf, KERNEL_FUNCTION_FALLBACK } from "../bpf-lib/src/probes/fentry/gen-types.js";
import { BtfKind, type RawBtfType } from "../bpf-lib/src/ffi/btf.js";
import { InvalidArgumentError, NotSupportedError } from "../bpf-lib/src/errors.js";
import { kfuncLatency } from "../bpf-lib/src/probes/fentry/deprecated.js";
import { liveCount } from "../bpf-lib/src/lifecycle.js";

const hasBtf = KernelBtf.tryVmlinux() !== null;
const noBtf = hasBtf ? false : "the kernel has no BTF (/sys/kernel/btf/vmlinux)";

describe("kernel function prototypes from BTF", { skip: noBtf }, () => {
  it("vfs_read: file, buf, count, pos with their C types, slots and decoding", () => {
    const p = kernelFunctionPrototype("vfs_read");
    assert.equal(p.name, "vfs_read");
    assert.ok(p.typed);
    assert.deepEqual(p.args.map((a) => a.name), ["file", "buf", "count", "pos"]);
    assert.deepEqual(p.args.map((a) => a.slot), [0, 1, 2, 3]);
    assert.equal(p.slots, 4);
    const [file, buf, count, pos] = p.args;
    assert.equal(file!.type, "struct file *");
    assert.deepEqual(file!.decl, { kind: "pointer", pointee: "struct file", char: false });
    assert.match(buf!.type, /^char (__user )?\*$/);
    assert.equal(buf!.decl.kind === "pointer" && buf!.decl.char, true);
    assert.equal(count!.type, "size_t");
    assert.deepEqual(count!.decl, { kind: "int", size: 8, signed: false });
    assert.equal(pos!.type, "loff_t *");
    assert.deepEqual(p.ret, { type: "ssize_t", decl: { kind: "int", size: 8, signed: true } });
    assert.ok(p.args.every((a) => a.readable));
    assert.match(formatPrototype(p), /^ssize_t vfs_read\(struct file \*file, char (__user )?\*buf, size_t count, loff_t \*pos\)$/);
  });

  it("signed 32-bit, const char pointers, void returns, no arguments", () => {
    const open = kernelFunctionPrototype("do_sys_openat2");
    assert.deepEqual(open.args[0], { name: "dfd", type: "int", decl: { kind: "int", size: 4, signed: true }, index: 0, slot: 0, slots: 1, readable: true });
    assert.match(open.args[1]!.type, /^const char (__user )?\*$/);
    assert.equal(open.args[1]!.decl.kind === "pointer" && open.args[1]!.decl.char, true);
    assert.deepEqual(open.ret?.decl, { kind: "int", size: 4, signed: true });
    const sched = kernelFunctionPrototype("schedule");
    assert.deepEqual(sched.args, []);
    assert.equal(sched.ret, null);
    assert.equal(formatPrototype(sched), "void schedule(void)");
  });

  it("every FUNC of the kernel's BTF parses", () => {
    const btf = KernelBtf.vmlinux();
    const fns = btf.functions();
    assert.ok(fns.size > 10000, `${fns.size} functions`);
    let typed = 0;
    for (const id of fns.values()) if (btf.prototypeById(id).typed) typed++;
    assert.equal(typed, fns.size);
  });

  it("struct arguments passed by value cannot be read; later register slots shift", () => {
    // A synthetic BTF: int f(struct big b /* 24 bytes: on the stack */, struct pair p /* 16: two slots */, long x)
    const types: RawBtfType[] = [];
    const names = ["", "int", "long", "big", "pair", "f", "b", "p", "x"];
    const add = (t: Omit<RawBtfType, "id" | "extra"> & { extra?: number[] }) => types.push({ ...t, id: types.length + 1, extra: new Uint32Array(t.extra ?? []) });
    add({ kind: BtfKind.INT, nameOff: 1, vlen: 0, kflag: false, sizeOrType: 4, extra: [(1 << 24) | 32] }); // 1 int
    add({ kind: BtfKind.INT, nameOff: 2, vlen: 0, kflag: false, sizeOrType: 8, extra: [(1 << 24) | 64] }); // 2 long
    add({ kind: BtfKind.STRUCT, nameOff: 3, vlen: 0, kflag: false, sizeOrType: 24 }); // 3 struct big
    add({ kind: BtfKind.STRUCT, nameOff: 4, vlen: 0, kflag: false, sizeOrType: 16 }); // 4 struct pair
    add({ kind: BtfKind.FUNC_PROTO, nameOff: 0, vlen: 3, kflag: false, sizeOrType: 1, extra: [6, 3, 7, 4, 8, 2] }); // 5
    add({ kind: BtfKind.FUNC, nameOff: 5, vlen: 1, kflag: false, sizeOrType: 5 }); // 6 f
    const src: BtfTypeSource = { type: (id) => types[id - 1] ?? null, name: (off) => names[off] ?? "" };
    const p = prototypeOf(src, 6);
    assert.equal(formatPrototype(p), "int f(struct big b, struct pair p, long x)");
    assert.deepEqual(p.args.map((a) => [a.name, a.slot, a.slots, a.readable]), [["b", 0, 0, false], ["p", 0, 2, false], ["x", 2, 1, false]]);
    assert.match(p.args[0]!.why!, /struct passed by value/);
    assert.match(p.args[2]!.why!, /passed on the stack/);
    assert.equal(p.linkage, "global");
  });

  it("without BTF, a function has six untyped 64-bit arguments", () => {
    const p = untypedPrototype("some_module_fn");
    assert.equal(p.typed, false);
    assert.deepEqual(p.args.map((a) => a.name), ["arg0", "arg1", "arg2", "arg3", "arg4", "arg5"]);
  });
});

describe("kernel function names", { skip: noBtf }, () => {
  it("an unknown function lists the nearest names", () => {
    assert.throws(() => kprobe("vfs_raed"), (e: unknown) => {
      assert.ok(e instanceof UnknownKernelFunctionError, String(e));
      assert.equal(e.code, "ENOKFUNC");
      assert.ok(e.suggestions.includes("vfs_read"), e.message);
      assert.match(e.message, /did you mean .*vfs_read/);
      return true;
    });
    assert.throws(() => kernelFunctionPrototype("ksys_raed"), (e: unknown) => e instanceof UnknownKernelFunctionError && e.suggestions.includes("ksys_read"));
  });

  it("a fragment finds the functions that contain it", () => {
    assert.throws(() => kretprobe("openat2"), (e: unknown) => e instanceof UnknownKernelFunctionError && e.suggestions.some((s) => s.includes("openat2")));
  });

  it("kernelFunctions() lists BTF's functions", () => {
    const all = kernelFunctions();
    assert.ok(all.includes("vfs_read") && all.includes("do_sys_openat2"));
    assert.ok(all.length > 10000);
  });

  it("unknown arguments name the nearest and list the rest", () => {
    assert.throws(() => kprobe("vfs_read", { args: ["cnt" as "count"] }), (e: unknown) => {
      assert.ok(e instanceof UnknownArgumentError);
      assert.equal(e.message, 'vfs_read has no argument "cnt"; did you mean count? it has: file, buf, count, pos');
      return true;
    });
    assert.throws(() => kprobe("vfs_read", { where: { cnt: 1 } as never }), UnknownArgumentError);
  });

  it("strings only for char pointers; no string filters; ret only on returns", () => {
    assert.throws(() => kprobe("vfs_read", { strings: ["file" as never] }), /"file" is struct file \*, not a char pointer/);
    assert.throws(() => kprobe("vfs_read", { strings: ["buf"], where: { buf: 0 } }), /cannot be filtered in the kernel/);
    assert.throws(() => kprobe("vfs_read").count({ by: ["ret" as never] }), /only on return probes: use kretprobe\("vfs_read"\)/);
    assert.throws(() => kprobe("vfs_read").latency(), InvalidArgumentError);
    assert.throws(() => kprobe("vfs_read", { via: "uprobe" as never }), /via must be/);
    assert.throws(() => kprobe("vfs_read", { stringBytes: 12 }), /multiple of 8/);
  });
});

describe("plans", { skip: noBtf }, () => {
  it("an entry probe: arguments, strings, event layout, kernel filters", () => {
    const plan = kprobe("vfs_read", { args: ["count"], strings: ["buf"], stringBytes: 64, where: { pid: 42, count: { ge: 64 } } }).plan();
    assert.equal(plan.probe, "kprobe");
    assert.equal(plan.via, "auto");
    assert.deepEqual(plan.columns.map((c) => [c.column, c.as]), [["buf", "string"], ["count", "number"]]);
    assert.equal(plan.columns[0]!.read, "auto"); // no __user tag in this BTF: the address decides (or "user" where tagged)
    // 40-byte header, argument slots 0..2 (buf, count), one 64-byte string
    assert.equal(plan.eventBytes, 40 + 3 * 8 + 64);
    assert.deepEqual(plan.kernelFilters, ["pid == 42", "count ge 64"]);
  });

  it("a return probe: ret and latency after the arguments", () => {
    const plan = kretprobe("vfs_read", { args: ["count"], latency: true }).plan();
    assert.deepEqual(plan.columns.map((c) => c.column), ["count", "ret", "latency"]);
    assert.equal(plan.eventBytes, 40 + 5 * 8); // slots ret, latency, file, buf, count
    assert.deepEqual(kretprobe("schedule").plan().columns, []); // void, no arguments
  });

  it("aggregation keys: an argument named like a result column becomes args_<name>", () => {
    const a = kretprobe("vfs_read").count({ by: ["comm", "count", "ret"] });
    assert.deepEqual(a.columns(false), ["comm", "args_count", "ret", "count"]);
    const h = kernelFunctionLatency("vfs_read", { by: ["pid"] });
    assert.deepEqual(h.columns(true), ["interval", "time", "pid", "bucket", "low", "high", "count"]);
    assert.deepEqual(kernelFunctionLatency("vfs_read", { hist: "stats" }).columns(false), ["count", "sum", "min", "max", "avg"]);
    assert.throws(() => kprobe("vfs_read").hist("file" as never), /must be an integer argument/);
  });

  it("kernelFunctionLatency's and kfuncLatency's option errors quote the call as written", () => {
    assert.throws(() => kernelFunctionLatency("vfs_read", { maxKeys: -1 }), (e: unknown) => e instanceof Error
      && e.message === 'kernelFunctionLatency("vfs_read"): maxKeys must be an integer from 1 to 4194304 (default 10240); got -1');
    assert.throws(() => kfuncLatency("vfs_read", { hist: "bad" as never }), (e: unknown) => e instanceof Error
      && e.message.startsWith('kfuncLatency("vfs_read"): hist must be "log2" or a linear { min, max, step }'));
    assert.throws(() => kfuncLatency("vfs_read", 5 as never), (e: unknown) => e instanceof Error
      && e.message.startsWith('kfuncLatency("vfs_read"): options must be an object such as { by: ["pid"] }'));
  });
});

describe("attaching on this kernel", { skip: noBtf }, () => {
  it("throws NotSupportedError naming kprobes, fentry and why, when the kernel allows neither", async (t) => {
    const support = kernelFunctionSupport();
    if (support.preferred !== null) {
      t.skip(`this kernel supports ${support.preferred}: see test/vm-kprobe.test.ts for attach tests`);
      return;
    }
    const before = programIdsOf();
    for (const attempt of [
      () => kprobe("vfs_read").collect({ seconds: 1 }),
      () => kretprobe("vfs_read", { latency: true }).collect({ seconds: 1 }),
      () => kernelFunctionLatency("vfs_read", { by: ["comm"] }).collect({ seconds: 1 }),
    ]) {
      await assert.rejects(attempt(), (e: unknown) => {
        assert.ok(e instanceof NotSupportedError, String(e));
        assert.match(e.message, /neither kprobes nor fentry work on this kernel/);
        assert.match(e.message, new RegExp(`kprobes: ${support.kprobe.reason!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
        assert.match(e.message, /fentry: /);
        assert.match(e.message, /see `bpfbook doctor`/);
        return true;
      });
    }
    await assert.rejects(kprobe("vfs_read", { via: "kprobe" }).collect({ seconds: 1 }), (e: unknown) => e instanceof NotSupportedError && !/fentry/.test(e.message));
    // each names the function as the user's call did
    for (const [attempt, call] of [
      [() => kernelFunctionLatency("vfs_read").collect({ seconds: 1 }), 'kernelFunctionLatency("vfs_read")'],
      [() => kfuncLatency("vfs_read", { via: "kprobe" }).collect({ seconds: 1 }), 'kfuncLatency("vfs_read") via kprobe'],
      [() => kretprobe("vfs_read").count().collect({ seconds: 1 }), 'kretprobe("vfs_read")'],
    ] as const) {
      await assert.rejects(attempt(), (e: unknown) => e instanceof NotSupportedError && e.message.startsWith(`${call} is not supported here: `));
    }
    assert.deepEqual(programIdsOf(), before, "nothing stays loaded");
    assert.equal(liveCount(), 0);
  });
});

describe("generated kernel function types", { skip: noBtf }, () => {
  it("renders compact signatures, one per distinct shape", () => {
    const p = kernelFunctionPrototype("vfs_read");
    assert.equal(signatureOf(p), '"file:P,buf:C,count:N,pos:P>N"');
    const g = renderKernelFunctionTypes([p, { ...p, name: "vfs_read_alias" }, kernelFunctionPrototype("schedule")], "test");
    assert.equal(g.functions, 3);
    assert.equal(g.signatures, 2);
    const alias = (name: string) => new RegExp(`^ ${name}: (\\$\\w+);$`, "m").exec(g.text)?.[1];
    assert.equal(alias("vfs_read"), alias("vfs_read_alias"));
    assert.ok(g.text.includes(`type ${alias("vfs_read")} = "file:P,buf:C,count:N,pos:P>N";`));
    assert.ok(g.text.includes(`type ${alias("schedule")} = ">V";`));
  });

  it("bpf-lib/src/generated/kernel-functions.d.ts holds this kernel's functions (or the fallback)", () => {
    const text = readFileSync(join(ROOT, "bpf-lib", "src", "generated", "kernel-functions.d.ts"), "utf8");
    if (text.includes("without kernel BTF")) assert.equal(text, KERNEL_FUNCTION_FALLBACK);
    else assert.match(text, /^ vfs_read: \$\w+;$/m);
    assert.equal(readFileSync(join(ROOT, "dist", "bpf-lib", "src", "generated", "kernel-functions.d.ts"), "utf8"), text, "dist has the same file");
  });

  /** Type errors of `body` as a cell, each prefixed with its line in `body` ("3: ..."). */
  function check(body: string): string[] {
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-kfunc-types-"));
    const file = join(dir, "cell.mts");
    writeFileSync(file, `import { kprobe, kretprobe, kernelFunctionLatency } from ${JSON.stringify(join(ROOT, "dist", "bpf-lib", "src", "probes", "fentry", "index.js"))};\n${body}\n`);
    const program = ts.createProgram([file], {
      strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
      noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(ROOT, "node_modules", "@types")], lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts"],
    });
    return ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file)
      .map((d) => `${d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line - 1}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  }

  it("function and argument names are checked at compile time; rows are typed", () => {
    const ok = check(`
      async function f() {
        const t = await kprobe("vfs_read", { args: ["count", "file"], strings: ["buf"], where: { count: { ge: 1 } } }).collect({ seconds: 1 });
        type Row = NonNullable<typeof t["__row"]>;
        const count: Row["count"] = 1; const file: Row["file"] = 1n; const buf: Row["buf"] = "x"; const pid: Row["pid"] = 1;
        const r = await kretprobe("vfs_read", { args: [], latency: true }).collect({ seconds: 1 });
        type R = NonNullable<typeof r["__row"]>;
        const ret: R["ret"] = -1; const lat: R["latency"] = 5;
        kernelFunctionLatency("vfs_read", { by: ["comm", "count"] });
        kprobe("some_module_function_not_in_btf", { args: ["arg0"] });
        void count; void file; void buf; void pid; void ret; void lat;
      }
      void f;`);
    assert.deepEqual(ok, []);
    const text = readFileSync(join(ROOT, "bpf-lib", "src", "generated", "kernel-functions.d.ts"), "utf8");
    if (text.includes("without kernel BTF")) return; // untyped fallback: nothing more to check
    // One program, one mistake per line: each line must have its error.
    const bad = [
      `kprobe("vfs_read", { args: ["cnt"] });`,
      `kprobe("vfs_read", { strings: ["file"] });`,
      `kprobe("vfs_read", { where: { count: "x" } });`,
      `async function g() { const t = await kprobe("vfs_read", { args: ["count"] }).collect({ seconds: 1 }); const s: NonNullable<typeof t["__row"]>["count"] = "x"; void s; } void g;`,
      `kretprobe("vfs_read").stats("fil");`,
    ];
    const errs = check(bad.map((l, i) => `const l${i} = () => { ${l} }; void l${i};`).join("\n"));
    for (const [i, needle] of [[0, /"cnt"/], [1, /"file"/], [2, /string/], [3, /string/], [4, /"fil"/]] as const) {
      assert.ok(errs.some((e) => e.startsWith(`${i}: `) && needle.test(e)), `line ${i} (${bad[i]}) has no error matching ${needle}: ${errs.join("\n")}`);
    }
  });
});
