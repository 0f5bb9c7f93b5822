/* Kernel function reads on a second kernel: Debian's 6.1 booted under qemu (test/vm/vm.ts),
 * which allows kprobes and fentry. One boot runs test/vm/reads-guest.js: `read` through a
 * user pointer argument and through kernel pointers, `columns: ["ppid", "uid"]`, keys by a
 * derived value, by fentry and by kprobe, on gated workloads with known answers; the BTF
 * offsets of the paths on 6.1 (compared here with this host's); and every program kind
 * loaded on 6.1 in a covering subset of its feature combinations; and a user's BPF C
 * compiled here (compileBpf) and loaded there (bpf.object), by fentry and by kprobe.
 * Skipped, with the reason printed, where qemu or the kernel is missing. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { basename, dirname, join } from "node:path";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { release } from "node:os";
import { BtfBlob } from "../../bpf-lib/src/btf/blob.js";
import { currentTaskPath, resolvePath } from "../../bpf-lib/src/btf/path.js";
import { KINDS, limitedRows } from "../helpers/combos.js";
import { compileBpf } from "../../bpf-lib/src/probes/custom/compile.js";
import { findKernel, runInVm, vmUnavailableReason } from "./vm.js";
import { CUSTOM_C, CUSTOM_ENV, PATHS, READS_N, type GuestReport } from "./reads-shared.js";
import { FEATURES, runFeatures, type Outcome } from "./features.js";
import { compatibilityMarkdown } from "./compat-doc.js";
import { kernelFunctionSupport } from "../../bpf-lib/src/probes/fentry/index.js";
import { listTracepoints } from "../../bpf-lib/src/tracefs/catalog.js";
import type { DoctorReport } from "../../bpf-lib/src/doctor/doctor.js";

const N = READS_N;
const DATA = "/tmp/bpfbook-vmreads-data.txt";
const OPENED = "/tmp/bpfbook-vmreads-open";
/** Combinations loaded per program kind: the fewest that hold every factor level is 16 (the derive factor's levels). */
const COMBO_LIMIT = 20;

const why = vmUnavailableReason();
const TYPED_TRACEPOINTS = "/tmp/bpfbook-typed-tracepoints.json";
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
if (why) console.log(`skipping the VM reads test: ${why}`);

describe("kernel function reads on Debian's 6.1 kernel (VM)", { skip: why ?? false }, () => {
  let g: GuestReport;
  /** The feature pass, run in the same boot after the reads. */
  let gf: { outcomes: Record<string, Outcome>; ms: Record<string, number>; doctor: DoctorReport | null } | undefined;
  const host: Record<string, number[]> = {};
  /** Why the user's BPF C could not be compiled here (its checks skip), or null. */
  let customWhy: string | null = null;

  before(async () => {
    const btf = BtfBlob.vmlinux();
    for (const [name, p] of Object.entries(PATHS)) host[name] = (p.root === "current" ? currentTaskPath(btf, p.path) : resolvePath(btf, p.root, p.path)).offsets;
    // compiled here, against this host's vmlinux.h; the guest sees this machine's files read-only, its /tmp at /tmp/host
    const env: Record<string, string> = { BPFBOOK_VM_COMBO_LIMIT: String(COMBO_LIMIT) };
    try {
      for (const via of ["fentry", "kprobe"] as const) {
        const o = await compileBpf(CUSTOM_C, { sourceName: `vm-custom-${via}`, defines: { VIA_FENTRY: via === "fentry" } });
        env[CUSTOM_ENV[via]] = o.path.startsWith("/tmp/") ? `/tmp/host${o.path.slice(4)}` : o.path;
      }
    } catch (e) {
      customWhy = `the custom C cannot be compiled here: ${(e as Error).message.split("\n")[0]}`;
      console.log(`# skipping the custom C checks: ${customWhy}`);
    }
    // the tracepoint names this checkout's types were generated from, for the guest to compare with its own
    writeFileSync(TYPED_TRACEPOINTS, JSON.stringify(listTracepoints()));
    env.BPFBOOK_TYPED_TRACEPOINTS = `/tmp/host${TYPED_TRACEPOINTS.slice(4)}`;
    const t0 = performance.now();
    // one boot: the kernel-function reads, then every feature once (test/vm/features.ts)
    const r = await runInVm("node dist/test/vm/reads-guest.js; node dist/test/vm/features-guest.js", { timeoutMs: 480_000, env });
    process.stderr.write(`# VM: status ${r.status}, boot ${(r.bootMs / 1000).toFixed(1)} s, total ${(r.totalMs / 1000).toFixed(1)} s (${((performance.now() - t0) / 1000).toFixed(1)} s here)\n`);
    const line = r.output.split("\n").find((l) => l.startsWith("@@VMREADS "));
    if (!line) throw new Error(`the VM printed no @@VMREADS line (status ${r.status}); its output:\n${r.output.slice(-6000)}`);
    g = JSON.parse(line.slice("@@VMREADS ".length)) as GuestReport;
    process.stderr.write(`# VM check times (ms): ${JSON.stringify(g.ms)}\n`);
    const fline = r.output.split("\n").find((l) => l.startsWith("@@VMFEATURES "));
    if (fline) gf = JSON.parse(fline.slice("@@VMFEATURES ".length)) as typeof gf;
    else process.stderr.write(`# the VM printed no @@VMFEATURES line; the tail of its output:\n${r.output.slice(-3000)}\n`);
  }, { timeout: 490_000 });

  const run = (name: string) => {
    const r = g.runs[name];
    assert.ok(r, `no result for ${name}`);
    assert.equal(r.error, undefined, `${name} failed in the VM:\n${r.error}`);
    return r;
  };

  it("the guest runs another kernel, which allows fentry and kprobes", () => {
    assert.notEqual(g.kernel, release(), "the guest's kernel is not this host's");
    assert.equal(g.kernel, findKernel()!.version);
    assert.deepEqual(g.support, { fentry: true, fexit: true, kprobe: true, kretprobe: true });
  });

  for (const via of ["fentry", "kprobe"] as const) {
    const entry = via === "fentry" ? "fentry" : "kprobe";
    const ret = via === "fentry" ? "fexit" : "kretprobe";

    it(`${via}: read { from: "filename", string: 64 } of do_sys_openat2 gives the opened path, ${N} times`, () => {
      const r = run(`${via} user read`);
      assert.equal(r.source, `${entry}:do_sys_openat2`);
      assert.equal(r.exit, 0);
      assert.deepEqual({ rows: r.rows, values: r.values, readFailed: r.readFailed }, { rows: N, values: [OPENED], readFailed: 0 });
    });

    it(`${via}: the same read of an untagged pointer that holds a kernel address reads kernel memory (seq_puts's s)`, () => {
      const r = run(`${via} kernel by address`);
      assert.ok((r.rows as number) > 0 && (r.rows as number) % 2 === 0, `${r.rows} calls for two reads of /proc/self/status`);
      assert.deepEqual({ values: r.values, readFailed: r.readFailed }, { values: ["Name:\t", "State:\t", "R (running)"], readFailed: 0 });
    });

    it(`${via}: read "file->f_path.dentry->d_name.name" of vfs_read gives the file's name, ${N} times`, () => {
      const r = run(`${via} kernel path`);
      assert.equal(r.source, `${entry}:vfs_read`);
      assert.deepEqual({ rows: r.rows, values: r.values, readFailed: r.readFailed }, { rows: N, values: [basename(DATA)], readFailed: 0 });
      assert.ok((r.columns as string[]).includes("name") && (r.columns as string[]).includes("file"), `columns ${r.columns}`);
    });

    it(`${via}: count by the read name, in the kernel`, () => {
      const r = run(`${via} count by path`);
      assert.deepEqual(r, { rows: [{ name: basename(DATA), count: N }], readFailed: 0 });
    });

    it(`${via}: columns ["ppid", "uid"] are the workload's parent (the guest's node) and root`, () => {
      const r = run(`${via} ppid uid`);
      assert.equal(r.source, `${entry}:vfs_read`);
      assert.deepEqual({ rows: r.rows, ppid: r.ppid, uid: r.uid, readFailed: r.readFailed }, { rows: N, ppid: [g.nodePid], uid: [0], readFailed: 0 });
      assert.deepEqual(r.columns, ["ts", "cpu", "pid", "tid", "comm", "count", "uid", "ppid"]); // standard columns come in one fixed order (EXTRA_COLUMNS), whatever order they were asked in
    });

    it(`${via}: count by ppid (a standard column the aggregation derives)`, () => {
      assert.deepEqual(run(`${via} count by ppid`).rows, [{ ppid: g.nodePid, count: N }]);
    });

    it(`${ret}: reads through arguments (at the entry) and the return value`, () => {
      const r = run(`${via} return reads`);
      assert.equal(r.source, `${ret}:vfs_read`);
      assert.deepEqual(
        { rows: r.rows, values: r.values, ppid: r.ppid, ret: r.ret, readFailed: r.readFailed },
        { rows: N, values: [basename(DATA)], ppid: [g.nodePid], ret: [Buffer.byteLength("hello bpfbook\n")], readFailed: 0 },
      );
    });

    it(`${ret}: reads through an argument happen at the entry and reach the return's row, ${N} times`, () => {
      const r = run(`${via} entry reads`);
      assert.equal(r.source, `${ret}:do_sys_openat2`);
      assert.deepEqual(
        { rows: r.rows, fname: r.fname, again: r.again, readFailed: r.readFailed, freedSource: r.freedSource, freedRows: r.freedRows, freed: r.freed, freedFailed: r.freedFailed, latency: r.latency },
        { rows: N, fname: [OPENED], again: [OPENED], readFailed: 0, freedSource: `${ret}:putname`, freedRows: N, freed: [OPENED], freedFailed: 0, latency: [{ fname: OPENED, count: N }] },
      );
      assert.equal((r.ret as number[]).length, 1, `one fd, reused by every open: ${r.ret}`);
      assert.ok((r.ret as number[])[0]! >= 3, `an fd: ${r.ret}`);
    });

    it(`${via}: columns ["kstack"] of vfs_read: the read syscall's kernel path, on every call`, () => {
      const r = run(`${via} kstack`);
      assert.equal(r.rows, N);
      assert.equal(r.stacksLost, 0);
      const stacks = r.stacks as string[];
      assert.ok(stacks.length >= 1 && stacks.length <= 2, `${stacks.length} distinct stacks: ${stacks.join(" | ")}`);
      // it starts at the traced function: the program and its fentry trampoline are left out (cfg_kstack_skip)
      for (const s of stacks) assert.match(s, /do_syscall_64;.*ksys_read;vfs_read$/, s);
    });

    it(`${via}: count by kstack in the kernel: exact, every stack named`, () => {
      const r = run(`${via} count by kstack`);
      assert.deepEqual(r.columns, ["kstack", "count"]);
      const rows = r.rows as { kstack: string; count: number }[];
      assert.equal(rows.reduce((a, x) => a + x.count, 0), N);
      assert.equal(r.stacksLost, 0);
      for (const x of rows) assert.match(x.kstack, /do_syscall_64;.*ksys_read/, x.kstack);
      assert.deepEqual(rows.map((x) => x.kstack).sort(), (run(`${via} kstack`).stacks as string[]).slice().sort(), "the same stacks as the stream");
    });

    it(`${via}: columns ["ustack"] of vfs_read: the workload's user stack, named from its mappings`, () => {
      const r = run(`${via} ustack`);
      assert.equal(r.rows, N);
      assert.equal(r.stacksLost, 0);
      const stacks = r.stacks as string[];
      assert.equal(stacks.length, 1, stacks.join(" | "));
      // glibc's syscall() has no frame: the stack runs from it to main's caller (docs/stacks.md); the
      // guest's libc may lack a debug file (libc.so.6+0x…), but every frame lies in a mapped file
      const frames = stacks[0]!.split(";");
      assert.ok(frames.length >= 2, stacks[0]);
      for (const f of frames) assert.ok(!/^0x|\[exited\]|\[unknown\]/.test(f), `frame ${f} of ${stacks[0]}`);
    });
  }

  it("the paths resolve against each kernel's own BTF: 6.1's offsets differ from this host's where the structs do, and read right", () => {
    const rows = Object.keys(PATHS).map((name) => ({ path: name, host: JSON.stringify(host[name]), guest: JSON.stringify(g.offsets[name]), differ: JSON.stringify(host[name]) !== JSON.stringify(g.offsets[name]) }));
    console.log(`# BTF offsets, this host's ${release()} vs the guest's ${g.kernel}:`);
    for (const r of rows) console.log(`#   ${r.path}: host ${r.host}, guest ${r.guest}${r.differ ? "  (differ)" : ""}`);
    for (const [name, o] of Object.entries(g.offsets)) assert.ok(Array.isArray(o), `${name} did not resolve in the guest: ${o}`);
    // a layout that differs proves the guest's reads used the guest's offsets, not this host's
    assert.ok(rows.some((r) => r.differ), "every path has the same offsets on both kernels: this run proves nothing about re-resolving them");
    // and the reads those offsets drive gave the right values on 6.1 (the checks above, again)
    for (const via of ["fentry", "kprobe"]) {
      assert.deepEqual(run(`${via} ppid uid`).ppid, [g.nodePid]);
      assert.deepEqual(run(`${via} kernel path`).values, [basename(DATA)]);
    }
  });

  for (const via of ["fentry", "kprobe"] as const) {
    it(`custom C ${via}: compiled here, loaded there with bpf.object() (CO-RE relocated to 6.1): exactly ${N} vfs_read calls, the file's name read through its pointers`, (t) => {
      if (customWhy) {
        t.skip(customWhy);
        return;
      }
      const r = run(`custom C ${via}`);
      console.log(`# custom C ${via}: ${r.rows} rows, by_pid ${JSON.stringify(r.byPid)}, ${JSON.stringify(r.stats)}, ${g.ms[`custom C ${via}`]} ms in the VM`);
      assert.deepEqual(r.programs, [{ name: `custom_${via}`, section: `${via}/vfs_read` }]);
      assert.deepEqual(r.columns, ["pid", "count", "name"]);
      assert.deepEqual(
        { exit: r.exit, rows: r.rows, pids: r.pids, names: r.names, counts: r.counts, byPid: r.byPid, stats: r.stats },
        { exit: 0, rows: N, pids: [r.pid], names: [basename(DATA)], counts: [64], byPid: [{ key: r.pid, value: N }], stats: { received: N, produced: N, lost: 0 } },
      );
    });
  }

  for (const kind of Object.keys(KINDS)) {
    it(`verifier: ${kind} loads on 6.1 in ${limitedRows(kind, COMBO_LIMIT)} combinations that hold every factor level`, () => {
      const r = g.combos.find((c) => c.kind === kind);
      assert.ok(r, `no combination result for ${kind}`);
      assert.ok(!("error" in r), `${kind}: ${"error" in r ? r.error : ""}`);
      console.log(`# ${kind}: ${r.count} combinations (${r.programs} programs) loaded in ${r.ms} ms on 6.1, ${r.failures.length} refused; levels ${r.coverage.levels}/${r.coverage.ofLevels}, pairs ${r.coverage.pairs}/${r.coverage.ofPairs}`);
      assert.deepEqual(r.failures.slice(0, 3), [], `${r.failures.length} of ${r.count} refused`);
      assert.equal(r.count, limitedRows(kind, COMBO_LIMIT), "the limit, the kind's own (slow loads), or every row of a kind that has fewer");
      assert.deepEqual(r.coverage.missing, [], "every level of every factor loaded at least once");
      assert.ok(r.programs >= r.count, "every combination loaded at least one program");
    });
  }

  describe("every feature on this host and on Debian's 6.1 (test/vm/features.ts)", () => {
    let hf: Awaited<ReturnType<typeof runFeatures>>;
    /** The same pass on Debian's PREEMPT_RT flavour of 6.1 (a third column), when it is installed. */
    let rt: { kernel: string; r: Awaited<ReturnType<typeof runFeatures>> } | string = "not run";
    before(async () => {
      hf = await runFeatures();
      const rtKernel = findKernel("rt");
      if (!rtKernel) {
        rt = "no PREEMPT_RT kernel in /boot (apt-get install linux-image-rt-amd64)";
        return;
      }
      const r = await runInVm("node dist/test/vm/features-guest.js", { flavour: "rt", timeoutMs: 300_000, env: { BPFBOOK_TYPED_TRACEPOINTS: `/tmp/host${TYPED_TRACEPOINTS.slice(4)}` } });
      process.stderr.write(`# VM (${rtKernel.version}): status ${r.status}, boot ${(r.bootMs / 1000).toFixed(1)} s, total ${(r.totalMs / 1000).toFixed(1)} s\n`);
      const line = r.output.split("\n").find((l) => l.startsWith("@@VMFEATURES "));
      rt = line ? { kernel: rtKernel.version, r: JSON.parse(line.slice("@@VMFEATURES ".length)) } : `the ${rtKernel.version} VM printed no @@VMFEATURES line (status ${r.status}): ${r.output.slice(-2000)}`;
    }, { timeout: 330_000 });

    for (const f of FEATURES) {
      it(`${f.name}: ${f.proves}`, () => {
        assert.ok(gf, "the guest ran the feature pass");
        const mine = hf.outcomes[f.name], theirs = gf.outcomes[f.name];
        process.stderr.write(`# ${f.name}: host ${JSON.stringify(mine)} (${hf.ms[f.name]} ms), 6.1 ${JSON.stringify(theirs)} (${gf.ms[f.name]} ms)\n`);
        assert.notEqual(mine?.status, "fail", `on this host: ${mine?.status === "fail" ? mine.reason : ""}`);
        assert.ok(theirs, `no outcome from the guest for ${f.name}`);
        assert.notEqual(theirs.status, "fail", `on 6.1: ${theirs.status === "fail" ? theirs.reason : ""}`);
        if (typeof rt === "string") return;
        const onRt = rt.r.outcomes[f.name];
        process.stderr.write(`#   ${rt.kernel}: ${JSON.stringify(onRt)} (${rt.r.ms[f.name]} ms)\n`);
        assert.ok(onRt, `no outcome from the rt guest for ${f.name}`);
        assert.notEqual(onRt.status, "fail", `on ${rt.kernel}: ${onRt.status === "fail" ? onRt.reason : ""}`);
      });
    }

    it("bpfbook doctor's report of each kernel is kept as a fixture, and docs/compatibility.md is written from the results", () => {
      assert.ok(gf?.doctor, "the guest's doctor report");
      assert.ok(hf.doctor, "this host's doctor report");
      const fixtures = join(ROOT, "test", "fixtures", "doctor");
      mkdirSync(fixtures, { recursive: true });
      writeFileSync(join(fixtures, "host.json"), JSON.stringify(hf.doctor, null, 1) + "\n");
      writeFileSync(join(fixtures, "debian-6.1.json"), JSON.stringify(gf.doctor, null, 1) + "\n");
      // the kernel-function rows: this host's support as the library reports it, the guest's from the reads above
      const here = kernelFunctionSupport();
      const kfRows = (["fentry", "kprobe"] as const).map((via) => {
        const name = via === "fentry" ? "kernel functions: fentry/fexit" : "kernel functions: kprobe/kretprobe";
        const exit = via === "fentry" ? "fexit" : "kretprobe";
        const hostOk = here[via].ok && here[exit].ok;
        const runs = Object.entries(g.runs).filter(([k]) => k.startsWith(`${via} `) || k === `custom C ${via}`);
        const failed = runs.filter(([, r]) => r.error !== undefined).map(([k]) => k);
        const guest: Outcome = g.support[via] === true && g.support[exit] === true && failed.length === 0
          ? { status: "pass", detail: `${runs.length} checks: ${runs.map(([k]) => k).join(", ")}` }
          : { status: "fail", reason: `support ${JSON.stringify(g.support)}, failed: ${failed.join(", ")}` };
        const host: Outcome = hostOk ? { status: "pass", detail: "supported (its checks run in the VM)" } : { status: "skip", reason: here[via].reason ?? here[exit].reason ?? "refused" };
        return { row: { name, proves: `read through user and kernel pointers, BTF paths, stacks, counts, return probes and a user's BPF C, by ${via}; every program kind's verifier combinations` }, host, guest };
      });
      const doc = compatibilityMarkdown([...FEATURES, ...kfRows.map((k) => k.row)], [
        { title: `${release()} (this host)`, note: `Native, lockdown \`${hf.doctor.lockdown ?? "unknown"}\`.`, outcomes: { ...hf.outcomes, ...Object.fromEntries(kfRows.map((k) => [k.row.name, k.host])) }, ms: hf.ms },
        { title: `${g.kernel} (Debian, VM)`, note: `Under qemu (TCG, 2 vCPUs), lockdown \`${gf.doctor.lockdown ?? "unknown"}\`; this machine's files read-only over 9p.`, outcomes: { ...gf.outcomes, ...Object.fromEntries(kfRows.map((k) => [k.row.name, k.guest])) }, ms: { ...gf.ms, ...g.ms } },
        ...(typeof rt === "string" ? [] : [{ title: `${rt.kernel} (Debian PREEMPT_RT, VM)`, note: "The same VM and files, Debian's real-time flavour of the same 6.1 release; only the feature pass runs there (a second boot).", outcomes: rt.r.outcomes, ms: rt.r.ms }]),
      ], {
        generatedBy: "npm test (dist/test/vm/reads.test.js)",
        flavours: typeof rt === "string"
          ? `Debian's registry also offers the PREEMPT_RT and cloud flavours of 6.1; the RT column is missing from this run: ${rt}.`
          : "Debian's registry also offers a cloud flavour of 6.1 (linux-image-cloud-amd64: fewer drivers, the same tracing); it is not a column (one more boot for little new).",
      });
      writeFileSync(join(ROOT, "docs", "compatibility.md"), doc);
      assert.match(doc, /\| feature \|/);
    });
  });
});
