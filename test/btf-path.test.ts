/* Kernel paths against a second source of truth: a C program compiled against vmlinux.h
 * (bpftool's C rendering of the same kernel's BTF) prints offsetof, sizeof, signedness and
 * bitfield positions, and resolvePath must agree exactly. The same cases run against the
 * VM harness's Debian kernel, whose BTF is taken from its image without booting it. */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BtfBlob } from "../bpf-lib/src/btf/blob.js";
import { resolvePath, currentTaskPath, bitWindow, MAX_PATH_DEREFS, type KernelPath } from "../bpf-lib/src/btf/path.js";
import { parsePath, formatPath } from "../bpf-lib/src/btf/syntax.js";
import { KernelBtf, type BtfTypeSource } from "../bpf-lib/src/probes/fentry/prototype.js";
import { InvalidArgumentError, InvalidOptionError, NotSupportedError, PathTooDeepError, UnknownKernelTypeError, UnknownMemberError } from "../bpf-lib/src/errors.js";
import { ROOT } from "./helpers/workload.js";
import { extractVmlinux } from "./helpers/vmlinuz.js";

type LeafKind = "int" | "bits" | "pointer" | "string" | "kstring" | "bytes";

interface Case {
  root: string;
  path: string;
  as?: string;
  /** C expressions, one per offset the path should produce. */
  offsets: string[];
  /** The leaf: its struct and member designator (for sizeof, signedness, bit positions). */
  leaf: [struct: string, member: string];
  kind: LeafKind;
  /** The leaf's C type, where it is worth pinning. */
  type?: string;
  enum?: string;
  bool?: boolean;
  /** Members newer than the VM harness's 6.1 kernel. */
  hostOnly?: boolean;
}

const o = (struct: string, member: string) => `__builtin_offsetof(struct ${struct}, ${member})`;
const c = (root: string, path: string, offsets: string[], leaf: [string, string], kind: LeafKind, extra: Partial<Case> = {}): Case => ({ root, path, offsets, leaf, kind, ...extra });

const CASES: Case[] = [
  c("task_struct", "real_parent.tgid", [o("task_struct", "real_parent"), o("task_struct", "tgid")], ["task_struct", "tgid"], "int", { type: "pid_t" }),
  c("task_struct", "tgid", [o("task_struct", "tgid")], ["task_struct", "tgid"], "int"),
  c("task_struct", "real_parent", [o("task_struct", "real_parent")], ["task_struct", "real_parent"], "pointer", { type: "struct task_struct *" }),
  c("task_struct", "cred->uid.val", [o("task_struct", "cred"), o("cred", "uid.val")], ["cred", "uid.val"], "int", { type: "uid_t" }),
  c("struct task_struct", "cred.gid.val", [o("task_struct", "cred"), o("cred", "gid.val")], ["cred", "gid.val"], "int"),
  c("task_struct", "nsproxy.pid_ns_for_children.ns.inum", [o("task_struct", "nsproxy"), o("nsproxy", "pid_ns_for_children"), o("pid_namespace", "ns.inum")], ["pid_namespace", "ns.inum"], "int"),
  c("task_struct", "comm", [o("task_struct", "comm")], ["task_struct", "comm"], "string", { type: "char[16]" }),
  c("task_struct", "comm[3]", [`${o("task_struct", "comm")} + 3`], ["task_struct", "comm[3]"], "int", { type: "char" }),
  c("task_struct", "signal.nr_threads", [o("task_struct", "signal"), o("signal_struct", "nr_threads")], ["signal_struct", "nr_threads"], "int"),
  c("task_struct", "signal.rlim[7].rlim_cur", [o("task_struct", "signal"), o("signal_struct", "rlim[7].rlim_cur")], ["signal_struct", "rlim[7].rlim_cur"], "int"),
  c("task_struct", "se.sum_exec_runtime", [o("task_struct", "se.sum_exec_runtime")], ["task_struct", "se.sum_exec_runtime"], "int", { type: "u64" }),
  c("task_struct", "in_execve", [], ["task_struct", "in_execve"], "bits"),
  c("task_struct", "cgroups.dfl_cgrp.kn.id", [o("task_struct", "cgroups"), o("css_set", "dfl_cgrp"), o("cgroup", "kn"), o("kernfs_node", "id")], ["kernfs_node", "id"], "int", { type: "u64" }),
  c("task_struct", "mm.exe_file.f_path.dentry.d_name.name", [o("task_struct", "mm"), o("mm_struct", "exe_file"), o("file", "f_path.dentry"), o("dentry", "d_name.name")], ["dentry", "d_name.name"], "kstring"),
  c("task_struct", "files.fdt.fd[3].f_pos", [o("task_struct", "files"), o("files_struct", "fdt"), o("fdtable", "fd"), "3 * sizeof(struct file *)", o("file", "f_pos")], ["file", "f_pos"], "int", { type: "loff_t" }),
  c("struct sock *", "__sk_common.skc_dport", [o("sock", "__sk_common.skc_dport")], ["sock", "__sk_common.skc_dport"], "int", { type: "__be16" }),
  c("const void * skaddr", "__sk_common.skc_family", [o("sock", "__sk_common.skc_family")], ["sock", "__sk_common.skc_family"], "int", { as: "sock" }),
  c("struct sock *", "__sk_common.skc_state", [o("sock", "__sk_common.skc_state")], ["sock", "__sk_common.skc_state"], "int"),
  c("struct sock *", "__sk_common.skc_daddr", [o("sock", "__sk_common.skc_daddr")], ["sock", "__sk_common.skc_daddr"], "int", { type: "__be32" }),
  c("struct sock *", "__sk_common.skc_reuse", [], ["sock", "__sk_common.skc_reuse"], "bits"),
  c("struct sock *", "__sk_common.skc_ipv6only", [], ["sock", "__sk_common.skc_ipv6only"], "bits"),
  c("struct sock *", "__sk_common.skc_v6_daddr.in6_u.u6_addr8", [o("sock", "__sk_common.skc_v6_daddr.in6_u.u6_addr8")], ["sock", "__sk_common.skc_v6_daddr.in6_u.u6_addr8"], "bytes"),
  c("void *", "inet_sport", [o("inet_sock", "inet_sport")], ["inet_sock", "inet_sport"], "int", { as: "inet_sock" }),
  c("struct sock *", "bytes_received", [o("tcp_sock", "bytes_received")], ["tcp_sock", "bytes_received"], "int", { as: "tcp_sock" }),
  c("tcp_sock", "bytes_acked", [o("tcp_sock", "bytes_acked")], ["tcp_sock", "bytes_acked"], "int"),
  c("tcp_sock", "inet_conn.icsk_inet.sk.__sk_common.skc_num", [o("tcp_sock", "inet_conn.icsk_inet.sk.__sk_common.skc_num")], ["tcp_sock", "inet_conn.icsk_inet.sk.__sk_common.skc_num"], "int"),
  c("const struct sk_buff *", "len", [o("sk_buff", "len")], ["sk_buff", "len"], "int"),
  c("struct sk_buff *", "pkt_type", [], ["sk_buff", "pkt_type"], "bits"),
  c("struct sk_buff *", "dev->name", [o("sk_buff", "dev"), o("net_device", "name")], ["net_device", "name"], "string"),
  c("struct net_device *", "uc_promisc", [o("net_device", "uc_promisc")], ["net_device", "uc_promisc"], "int", { bool: true }),
  c("struct file *", "f_path.dentry->d_name.name", [o("file", "f_path.dentry"), o("dentry", "d_name.name")], ["dentry", "d_name.name"], "kstring"),
  c("struct file *", "f_inode.i_ino", [o("file", "f_inode"), o("inode", "i_ino")], ["inode", "i_ino"], "int"),
  c("struct request *", "state", [o("request", "state")], ["request", "state"], "int", { enum: "mq_rq_state" }),
  // Signed and enum bitfields inside an anonymous union's named struct; 64-bit bitfields past bit 32.
  c("bpf_reg_state", "iter.depth", [], ["bpf_reg_state", "iter.depth"], "bits", { hostOnly: true }),
  c("bpf_reg_state", "iter.state", [], ["bpf_reg_state", "iter.state"], "bits", { hostOnly: true }),
  c("fred_ss", "vector", [], ["fred_ss", "vector"], "bits", { hostOnly: true }),
  c("fred_ss", "insnlen", [], ["fred_ss", "insnlen"], "bits", { hostOnly: true }),
];

interface Truth {
  offsets: number[];
  size: number;
  signed?: boolean;
  /** Bitfields: first bit from the start of the leaf's struct, and width. */
  bits?: [first: number, width: number];
}

/** Compiles and runs the C program that prints the truth of `cases`, against `dir`/vmlinux.h. */
function groundTruth(cases: readonly Case[], dir: string): Truth[] {
  const lines = cases.map((k, i) => {
    const [S, m] = k.leaf;
    const offs = k.offsets.map((e) => `printf(" %lu", (unsigned long)(${e}));`).join(" ");
    const leaf =
      k.kind === "bits" ? `BITS(struct ${S}, ${m});`
      : k.kind === "int" ? `printf(" | %lu %d", (unsigned long)sizeof(((struct ${S} *)0)->${m}), (int)((__typeof__(((struct ${S} *)0)->${m}))-1 < 0));`
      : `printf(" | %lu", (unsigned long)sizeof(((struct ${S} *)0)->${m}));`;
    return `  printf("${i}"); ${offs} ${leaf} printf("\\n");`;
  });
  const src = [
    `#include "vmlinux.h"`,
    "int printf(const char *, ...);",
    "void *memset(void *, int, unsigned long);",
    // No offsetof for bitfields: set one to all ones in a zeroed struct and find its bits.
    "#define BITS(T, m) do { static union { T s; unsigned char b[sizeof(T)]; } u; memset(&u, 0, sizeof u); u.s.m = -1; \\",
    "  long first = -1, last = -1; for (unsigned long i = 0; i < sizeof(T) * 8; i++) if ((u.b[i / 8] >> (i % 8)) & 1) { if (first < 0) first = i; last = i; } \\",
    "  printf(\" | %ld %ld %d\", first, last - first + 1, (int)(u.s.m < 0)); } while (0)",
    "int main(void) {",
    ...lines,
    "  return 0;",
    "}",
  ].join("\n");
  const file = join(dir, "truth.c"), exe = join(dir, "truth");
  writeFileSync(file, src);
  execFileSync("clang", ["-O0", "-w", `-I${dir}`, "-D__TARGET_ARCH_x86", file, "-o", exe], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, CPATH: "" } });
  const out = execFileSync(exe, { encoding: "utf8" }).trim().split("\n");
  return out.map((line, i) => {
    const [head, tail] = line.split(" | ");
    const [idx, ...offs] = head!.trim().split(/\s+/).map(Number);
    assert.equal(idx, i);
    const t = tail!.trim().split(/\s+/).map(Number);
    if (cases[i]!.kind === "bits") return { offsets: offs, size: 0, bits: [t[0]!, t[1]!], signed: t[2] === 1 };
    return { offsets: offs, size: t[0]!, signed: t.length > 1 ? t[1] === 1 : undefined };
  });
}

function resolveCase(btf: BtfTypeSource, k: Case): KernelPath {
  return resolvePath(btf, k.root, k.path, k.as === undefined ? {} : { as: k.as });
}

/** Checks every case against its truth; returns how many it checked. */
function agree(btf: BtfTypeSource, cases: readonly Case[], truths: Truth[]): number {
  assert.equal(truths.length, cases.length);
  cases.forEach((k, i) => {
    const truth = truths[i]!;
    const got = resolveCase(btf, k);
    const at = `${k.root} ${k.path}`;
    assert.ok(got.offsets.length <= MAX_PATH_DEREFS + 1, at);
    const leaf = got.leaf;
    if (k.kind === "bits") {
      assert.equal(leaf.kind, "int", at);
      if (leaf.kind !== "int") return;
      assert.deepEqual(got.offsets.slice(0, -1), truth.offsets, `${at}: offsets before the leaf`);
      const first = got.offsets.at(-1)! * 8 + leaf.bitOffset!;
      assert.deepEqual([first, leaf.bitSize], truth.bits, `${at}: bit position and width`);
      assert.ok(leaf.bitOffset! + leaf.bitSize! <= leaf.size * 8, `${at}: the load covers the bitfield`);
      assert.equal(leaf.signed, truth.signed, `${at}: signedness`);
      return;
    }
    assert.deepEqual(got.offsets, truth.offsets, `${at}: offsets`);
    assert.equal(leaf.kind, k.kind, `${at}: leaf kind`);
    if (k.type) assert.equal(got.type, k.type, `${at}: type`);
    switch (leaf.kind) {
      case "int":
        assert.equal(leaf.size, truth.size, `${at}: size`);
        // Plain char's sign is a compiler flag (the kernel uses -funsigned-char since 6.2; this C program does not).
        if (got.type !== "char") assert.equal(leaf.signed, truth.signed, `${at}: signedness`);
        assert.equal(leaf.enum, k.enum, `${at}: enum`);
        assert.equal(leaf.bool, k.bool, `${at}: bool`);
        break;
      case "string":
        assert.equal(leaf.bytes, truth.size, `${at}: bytes`);
        break;
      case "bytes":
        assert.equal(leaf.size, truth.size, `${at}: size`);
        break;
      case "pointer":
      case "kstring":
        assert.equal(truth.size, 8, `${at}: a pointer is 8 bytes`);
        break;
    }
  });
  return cases.length;
}

const HEADER = join(ROOT, "bpf-lib", "build", "vmlinux.h");
const haveClang = (() => {
  try {
    execFileSync("clang", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe("kernel paths: this kernel", () => {
  let btf: BtfBlob | null = null;
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "bpfbook-btfpath-"));
    if (existsSync("/sys/kernel/btf/vmlinux")) btf = BtfBlob.vmlinux();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("agrees with offsetof, sizeof and bit positions from a C program compiled against vmlinux.h", (t) => {
    if (!btf) return t.skip("no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF)");
    if (!haveClang) return t.skip("clang is not installed");
    if (!existsSync(HEADER)) return t.skip(`${HEADER} is missing: run make -C bpf-lib`);
    execFileSync("cp", [HEADER, join(dir, "vmlinux.h")]);
    assert.equal(agree(btf, CASES, groundTruth(CASES, dir)), CASES.length);
  });

  it("libbpf's KernelBtf (one type per FFI call) resolves the same as the raw BTF", (t) => {
    if (!btf) return t.skip("no kernel BTF");
    const viaLibbpf = KernelBtf.vmlinux();
    for (const k of CASES) assert.deepEqual(resolveCase(viaLibbpf, k), resolveCase(btf, k), k.path);
  });

  it("current paths are task_struct paths, with or without current. / curtask->", (t) => {
    if (!btf) return t.skip("no kernel BTF");
    const want = resolvePath(btf, "task_struct", "real_parent.tgid");
    assert.deepEqual(currentTaskPath(btf, "real_parent.tgid"), want);
    assert.deepEqual(currentTaskPath(btf, "current.real_parent.tgid"), want);
    assert.deepEqual(currentTaskPath(btf, "curtask->real_parent->tgid"), want);
    assert.equal(want.path, "real_parent.tgid");
    assert.equal(want.root, "struct task_struct");
  });

  it("a root can be a BTF type id, a typedef, or a pointer type with qualifiers", (t) => {
    if (!btf) return t.skip("no kernel BTF");
    const byName = resolvePath(btf, "sock", "__sk_common.skc_dport");
    const id = resolvePath(btf, "struct sock *", "sk_type");
    assert.equal(id.root, "struct sock");
    const ptrId = findPointerTo(btf, "sock");
    assert.deepEqual(resolvePath(btf, ptrId, "__sk_common.skc_dport"), byName);
    assert.deepEqual(resolvePath(btf, "const struct sock *const", "__sk_common.skc_dport"), byName);
    assert.deepEqual(resolvePath(btf, "unsigned long", "__sk_common.skc_dport", { as: "struct sock" }), byName);
    // kuid_t is a typedef of an anonymous struct.
    assert.deepEqual(resolvePath(btf, "kuid_t", "val").offsets, [0]);
  });

  it("an unknown member names the type, the nearest members, and nested places of that name", (t) => {
    if (!btf) return t.skip("no kernel BTF");
    const e = catchError(() => currentTaskPath(btf!, "real_parnt.tgid"), UnknownMemberError);
    assert.equal(e.code, "ENOMEMBER");
    assert.equal(e.type, "struct task_struct");
    assert.equal(e.member, "real_parnt");
    assert.equal(e.suggestions[0], "real_parent");
    assert.ok(e.available.includes("tgid") && e.available.includes("comm"));
    assert.match(e.message, /struct task_struct has no member "real_parnt".*did you mean real_parent/);
    const deep = catchError(() => resolvePath(btf!, "struct sock *", "skc_dport"), UnknownMemberError);
    assert.deepEqual(deep.deeper, ["__sk_common.skc_dport"]);
    // Deeper in the path: the type named is the one reached, not the root.
    const mid = catchError(() => currentTaskPath(btf!, "real_parent.cred.uidd"), UnknownMemberError);
    assert.equal(mid.type, "struct cred");
    assert.ok(mid.suggestions.includes("uid") && mid.suggestions.includes("suid"), mid.message);
  });

  it("a struct leaf lists its members; a non-struct cannot be followed; indexes are bounded", (t) => {
    if (!btf) return t.skip("no kernel BTF");
    const e = catchError(() => currentTaskPath(btf!, "cred.uid"), InvalidArgumentError);
    assert.match(e.message, /cred\.uid is kuid_t, a struct, not a value; pick a member: val$/);
    assert.match(catchError(() => currentTaskPath(btf!, ""), InvalidArgumentError).message, /pick a member: .*real_parent/);
    assert.match(catchError(() => currentTaskPath(btf!, "tgid.x"), InvalidArgumentError).message, /tgid is pid_t, not a struct/);
    assert.match(catchError(() => currentTaskPath(btf!, "stack.x"), InvalidArgumentError).message, /stack is void \*, not a pointer to a struct.*void \*/);
    assert.match(catchError(() => currentTaskPath(btf!, "comm[16]"), InvalidArgumentError).message, /index 16 is out of range for comm, which is char\[16\]: use 0 to 15/);
    assert.match(catchError(() => currentTaskPath(btf!, "tgid[1]"), InvalidArgumentError).message, /cannot be indexed/);
  });

  it("a path following more than MAX_PATH_DEREFS pointers is PathTooDeepError", (t) => {
    if (!btf) return t.skip("no kernel BTF");
    const four = "real_parent.real_parent.real_parent.real_parent.tgid";
    assert.equal(currentTaskPath(btf, four).offsets.length, MAX_PATH_DEREFS + 1);
    const e = catchError(() => currentTaskPath(btf!, `real_parent.${four}`), PathTooDeepError);
    assert.equal(e.code, "EPATHDEPTH");
    assert.equal(e.derefs, 5);
    assert.equal(e.max, MAX_PATH_DEREFS);
  });

  it("a void pointer or an integer needs `as`; unknown struct names suggest the nearest", (t) => {
    if (!btf) return t.skip("no kernel BTF");
    assert.match(catchError(() => resolvePath(btf!, "const void *", "sk_type"), InvalidArgumentError).message, /does not say what it points to: name the struct with `as`, e\.g\. \{ as: "sock" \}/);
    assert.match(catchError(() => resolvePath(btf!, "u64", "sk_type"), InvalidArgumentError).message, /name the struct with `as`/);
    assert.match(catchError(() => resolvePath(btf!, "int", "x"), InvalidArgumentError).message, /not a struct or a pointer to one/);
    assert.match(catchError(() => resolvePath(btf!, "struct sock **", "x"), InvalidArgumentError).message, /pointer to a pointer/);
    assert.match(catchError(() => resolvePath(btf!, "u32", "x", { as: "sock" }), InvalidArgumentError).message, /cannot hold an address/);
    const e = catchError(() => resolvePath(btf!, "void *", "sk_type", { as: "sok" }), UnknownKernelTypeError);
    assert.equal(e.code, "ENOKTYPE");
    assert.equal(e.suggestions[0], "sock");
    assert.equal(catchError(() => resolvePath(btf!, "task_strct", "pid"), UnknownKernelTypeError).suggestions[0], "task_struct");
    const opt = catchError(() => resolvePath(btf!, "void *", "x", { as: 5 as unknown as string }), InvalidOptionError);
    assert.equal(opt.option, "as");
    assert.match(catchError(() => resolvePath(btf!, 0, "x"), InvalidArgumentError).message, /BTF type id 0 does not exist/);
  });
});

describe("kernel paths: syntax", () => {
  it("parses members, -> and indexes, and prints the normal form", () => {
    assert.deepEqual(parsePath("files->fdt.fd[3].f_pos"), [{ member: "files" }, { member: "fdt" }, { member: "fd" }, { index: 3 }, { member: "f_pos" }]);
    assert.equal(formatPath(parsePath(" a -> b . c[0x10][2] ")), "a.b.c[16][2]");
    assert.deepEqual(parsePath(""), []);
  });
  it("refuses malformed paths with the place and what a path looks like", () => {
    for (const [bad, where] of [["a..b", /character 3/], ["a.", /at the end/], ["1a", /character 1/], ["a[x]", /an index/], ["a b", /"\." or "->"/], [".a", /character 1/], ["a[-1]", /an index/]] as const) {
      const e = catchError(() => parsePath(bad), InvalidArgumentError);
      assert.match(e.message, where, bad);
      assert.match(e.message, /real_parent\.tgid/, bad);
    }
    assert.throws(() => parsePath(5 as unknown as string), InvalidArgumentError);
  });
});

describe("kernel paths: pure parts", () => {
  it("a bitfield is loaded with the smallest aligned window within its declared type, else the smallest unaligned one", () => {
    assert.deepEqual(bitWindow(3, 1, 4), { byte: 0, size: 1 }); // in_execve-like: bit 3 of an unsigned int
    assert.deepEqual(bitWindow(13, 6, 4), { byte: 0, size: 4 }); // crosses a byte and a 16-bit boundary: aligned 4
    assert.deepEqual(bitWindow(2, 30, 4), { byte: 0, size: 4 }); // int depth:30 after a 2-bit enum
    assert.deepEqual(bitWindow(30, 4, 4), { byte: 3, size: 2 }); // crosses its 32-bit unit (packed): unaligned
    assert.deepEqual(bitWindow(48, 8, 8), { byte: 6, size: 1 }); // u64 vector:8 at bit 48
    assert.deepEqual(bitWindow(60, 8, 8), { byte: 7, size: 2 });
    assert.equal(bitWindow(60, 64, 8), null);
  });
  it("bytes that are not raw BTF are NotSupportedError", () => {
    assert.throws(() => BtfBlob.fromBytes(new Uint8Array(64), "zeros"), NotSupportedError);
    const truncated = new Uint8Array(24);
    new DataView(truncated.buffer).setUint16(0, 0xeb9f, true);
    new DataView(truncated.buffer).setUint32(4, 24, true);
    new DataView(truncated.buffer).setUint32(12, 1000, true);
    assert.throws(() => BtfBlob.fromBytes(truncated, "short"), /past the end/);
    assert.throws(() => BtfBlob.file("/nonexistent/btf"), NotSupportedError);
  });
});

describe("kernel paths: the VM harness's kernel (BTF from its image, not booted)", () => {
  it("agrees with a C program compiled against that kernel's vmlinux.h", (t) => {
    const image = readdirSync("/boot").filter((f) => /^vmlinuz-6\.1\./.test(f)).sort().at(-1);
    if (!image) return t.skip("no /boot/vmlinuz-6.1.* (apt-get install linux-image-amd64)");
    if (!haveClang) return t.skip("clang is not installed");
    const dir = mkdtempSync(join(tmpdir(), "bpfbook-btfpath-vm-"));
    try {
      const got = extractVmlinux(join("/boot", image), join(dir, "vmlinux"));
      if ("skip" in got) return t.skip(got.skip);
      let header: string;
      try {
        header = execFileSync("bpftool", ["btf", "dump", "file", got.path, "format", "c"], { encoding: "utf8", maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "ignore"] });
      } catch {
        return t.skip(`bpftool cannot dump the BTF of ${image}`);
      }
      writeFileSync(join(dir, "vmlinux.h"), header);
      const btf = KernelBtf.file(got.path);
      try {
        const cases = CASES.filter((k) => !k.hostOnly);
        assert.equal(agree(btf, cases, groundTruth(cases, dir)), cases.length);
        // Offsets differ between the kernels, which is the point of resolving them per kernel.
        const host = existsSync("/sys/kernel/btf/vmlinux") ? BtfBlob.vmlinux() : null;
        if (host) assert.notDeepEqual(resolvePath(btf, "task_struct", "real_parent.tgid").offsets, resolvePath(host, "task_struct", "real_parent.tgid").offsets);
      } finally {
        btf.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function catchError<E extends Error>(fn: () => unknown, cls: new (...args: never[]) => E): E {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${(e as Error).name}: ${(e as Error).message}`);
    return e;
  }
  assert.fail(`expected ${cls.name}, nothing was thrown`);
}

/** The id of a `struct <name> *` type in `btf`. */
function findPointerTo(btf: BtfBlob, name: string): number {
  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id)!;
    if (t.kind !== 2) continue;
    const target = btf.type(t.sizeOrType);
    if (target && target.kind === 4 && btf.name(target.nameOff) === name) return id;
  }
  throw new Error(`no struct ${name} * in the BTF`);
}
