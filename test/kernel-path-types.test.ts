/* Typed kernel paths: a member this kernel's structs lack is a compile error, a right one
 * compiles with its leaf's value type, and the generated types say what resolvePath reads. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { typecheck } from "./helpers/typecheck.js";
import { ROOT } from "./helpers/workload.js";
import { pathOf, currentPathOf } from "../bpf-lib/src/btf/typed.js";
import { BtfBlob } from "../bpf-lib/src/btf/blob.js";
import { resolvePath } from "../bpf-lib/src/btf/path.js";
import { membersOf } from "../bpf-lib/src/btf/members.js";
import { findStruct } from "../bpf-lib/src/btf/root.js";
import { InvalidArgumentError } from "../bpf-lib/src/errors.js";

const GENERATED = join(ROOT, "dist", "bpf-lib", "src", "generated", "kernel-structs.d.ts");
const typed = () => existsSync(GENERATED) && !readFileSync(GENERATED, "utf8").includes("without kernel BTF");

const check = (body: string) => typecheck(["pathOf", "currentPathOf", "type LeafOf"], body, "btf/typed.js");

describe("typed kernel paths: compile-time checks", () => {
  it("right paths compile, each leaf with its value type", (t) => {
    if (!typed()) return t.skip("generated/kernel-structs.d.ts is the untyped fallback (no kernel BTF at build time)");
    const { errors, ms } = check(`
      const ppid = currentPathOf((t) => t.real_parent.tgid); const a: LeafOf<typeof ppid> = 1;
      const dport = pathOf("sock", (s) => s.__sk_common.skc_dport); const b: LeafOf<typeof dport> = 1;
      const rx = pathOf("tcp_sock", (s) => s.bytes_received); const c: LeafOf<typeof rx> = 1n;
      const comm = currentPathOf((t) => t.comm); const d: LeafOf<typeof comm> = "bash";
      const parent = currentPathOf((t) => t.real_parent); const e: LeafOf<typeof parent> = 0xffff888000000000n;
      const pos = currentPathOf((t) => t.files.fdt.fd[3].f_pos); const f: LeafOf<typeof pos> = 0n;
      const v6 = pathOf("sock", (s) => s.__sk_common.skc_v6_daddr.in6_u.u6_addr8); const g: LeafOf<typeof v6> = new Uint8Array(16);
      const octet = pathOf("sock", (s) => s.__sk_common.skc_v6_daddr.in6_u.u6_addr8[15]); const h: LeafOf<typeof octet> = 1;
      const name = pathOf("file", (f) => f.f_path.dentry.d_name.name); const i: LeafOf<typeof name> = "passwd";
      const uid = currentPathOf((t) => t.cred.uid.val); const j: LeafOf<typeof uid> = 0;
      const execve = currentPathOf((t) => t.in_execve); const k: LeafOf<typeof execve> = 1;
      const promisc = pathOf("net_device", (n) => n.uc_promisc); const l: LeafOf<typeof promisc> = true;
      const cg = currentPathOf((t) => t.cgroups.dfl_cgrp.kn.id); const m: LeafOf<typeof cg> = 1n;
      const asString: string = ppid;
      void [a, b, c, d, e, f, g, h, i, j, k, l, m, asString];`);
    assert.deepEqual(errors, []);
    t.diagnostic(`type-checking the cell took ${ms.toFixed(0)} ms`);
  });

  it("a wrong leaf type is a type error", (t) => {
    if (!typed()) return t.skip("untyped fallback");
    const { errors } = check(`const p = currentPathOf((t) => t.real_parent.tgid); const s: LeafOf<typeof p> = "x"; void s;`);
    assert.ok(errors.some((e) => /not assignable to type 'number'/.test(e)), errors.join("\n"));
  });

  it("a member the kernel lacks is a type error naming it", (t) => {
    if (!typed()) return t.skip("untyped fallback");
    const { errors } = check(`currentPathOf((t) => t.real_parnt.tgid);`);
    assert.ok(errors.some((e) => /real_parnt/.test(e) && /task_struct/.test(e)), errors.join("\n"));
    // Not a C macro: skc_dport lives in sock.__sk_common, as resolvePath says.
    const nested = check(`pathOf("sock", (s) => s.skc_dport);`).errors;
    assert.ok(nested.some((e) => /skc_dport/.test(e)), nested.join("\n"));
  });

  it("ending on a struct is a type error; so is an unknown root struct", (t) => {
    if (!typed()) return t.skip("untyped fallback");
    const leaf = check(`currentPathOf((t) => t.cred.uid);`).errors;
    assert.ok(leaf.length > 0 && leaf.some((e) => /KernelLeafType|not assignable/.test(e)), leaf.join("\n"));
    const embedded = check(`pathOf("sock", (s) => s.__sk_common);`).errors;
    assert.ok(embedded.length > 0, "an embedded struct is not a leaf");
    const root = check(`pathOf("sok", (s) => s.x);`).errors;
    assert.ok(root.some((e) => /"sok"/.test(e)), root.join("\n"));
  });
});

describe("typed kernel paths: run time", () => {
  it("the recorded string is the path resolvePath reads", () => {
    assert.equal(pathOf("task_struct", (t) => t.real_parent.tgid), "real_parent.tgid");
    assert.equal(currentPathOf((t) => t.files.fdt.fd[3].f_pos), "current.files.fdt.fd[3].f_pos");
    assert.equal(pathOf("sock", (s) => s.__sk_common.skc_v6_daddr.in6_u.u6_addr8[15]), "__sk_common.skc_v6_daddr.in6_u.u6_addr8[15]");
  });
  it("a function that computes, returns its argument, or is not a function is InvalidArgumentError", () => {
    assert.throws(() => pathOf("task_struct", (t) => t as never), InvalidArgumentError);
    assert.throws(() => pathOf("task_struct", (t) => (t.pid as unknown as number) + 1), /may only read members/);
    assert.throws(() => pathOf("task_struct", 5 as never), /expected a function/);
    assert.throws(() => pathOf("" as "task_struct", (t) => t.pid), /kernel struct name/);
  });
});

describe("typed kernel paths: the generated types say what resolvePath reads", () => {
  it("every member of the main roots has the TypeScript type of its resolved leaf", (t) => {
    if (!typed() || !existsSync("/sys/kernel/btf/vmlinux")) return t.skip("no kernel BTF");
    const text = readFileSync(GENERATED, "utf8");
    const btf = BtfBlob.vmlinux();
    let checked = 0;
    for (const root of ["task_struct", "sock", "sock_common", "tcp_sock", "sk_buff", "file", "dentry", "inode", "cred", "net_device", "request", "bio"]) {
      const line = new RegExp(`^  interface ${root} \\{ (.*) \\}$`, "m").exec(text);
      assert.ok(line, `interface ${root} is generated`);
      const members = new Map([...line[1]!.matchAll(/\/\*\* [^*]*(?:\*(?!\/)[^*]*)*\*\/ (\w+): ([^;]+);/g)].map((m) => [m[1]!, m[2]!]));
      for (const m of membersOf(btf, findStruct(btf, root)!.id)) {
        const tsType = members.get(m.name);
        assert.ok(tsType !== undefined, `${root}.${m.name} is in the interface`);
        let leaf;
        try {
          leaf = resolvePath(btf, root, m.name).leaf;
        } catch (e) {
          assert.ok(e instanceof InvalidArgumentError, `${root}.${m.name}: ${(e as Error).message}`);
          assert.match(tsType, /^(KernelStruct\.|\{)/, `${root}.${m.name} is a struct: ${tsType}`);
          checked++;
          continue;
        }
        const want =
          leaf.kind === "int" ? (leaf.bool ? /^boolean$/ : leaf.size === 8 && !leaf.bitSize ? /^bigint$/ : /^number$/)
          : leaf.kind === "string" || leaf.kind === "kstring" ? /^string$/
          : leaf.kind === "pointer" ? /^(Ptr<.*>|bigint)$/
          : /^(KernelArray<.*>|Uint8Array)$/;
        assert.match(tsType, want, `${root}.${m.name}: ${JSON.stringify(leaf)}`);
        checked++;
      }
    }
    assert.ok(checked > 900, `checked ${checked} members`);
    t.diagnostic(`${checked} members agree`);
  });
});
