/* `bpfbook doctor` on this machine. Expectations come from the system itself
 * (kernel config, kprobe interfaces, lockdown), read here independently of the
 * doctor's own code, so the test holds on any kernel, not just this one. */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { doctor, formatDoctor, type DoctorReport } from "../bpf-lib/src/doctor/doctor.js";
import { FEATURE_KINDS, probeFeature, type FeatureResult } from "../bpf-lib/src/doctor/features.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "bpf-lib", "src", "cli", "main.js");
const isRoot = process.getuid?.() === 0;

function kernelConfigText(): string | null {
  try {
    return readFileSync(`/boot/config-${release()}`, "utf8");
  } catch {
    // try the next source
  }
  try {
    return gunzipSync(readFileSync("/proc/config.gz")).toString("utf8");
  } catch {
    return null;
  }
}

/** The lockdown mode, read without the doctor's code: the file, or a private mount of securityfs. */
function lockdownMode(): string | null {
  const parse = (s: string) => /\[(\w+)\]/.exec(s)?.[1] ?? null;
  try {
    return parse(readFileSync("/sys/kernel/security/lockdown", "utf8"));
  } catch {
    // not mounted here
  }
  try {
    return parse(execFileSync("unshare", ["-m", "--propagation", "private", "sh", "-c",
      "mount -t securityfs none /sys/kernel/security && cat /sys/kernel/security/lockdown"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
  } catch {
    return null;
  }
}

function tracefsRoot(): string | null {
  for (const r of ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]) if (existsSync(`${r}/events`)) return r;
  return null;
}

/** Names of the BPF programs loaded in the kernel right now. */
function loadedProgramNames(): string[] {
  const out = execFileSync("bpftool", ["prog", "show", "--json"], { encoding: "utf8" });
  return (JSON.parse(out) as Array<{ name?: string }>).map((p) => p.name ?? "");
}

/**
 * The doctor's f_* programs still loaded after a few seconds' grace: npm test runs the notebook
 * suites beside this file, and their kernels run the doctor too (each probe lives a few ms), so
 * one look could see theirs; a program this file leaked stays.
 */
function lingeringDoctorPrograms(): string[] {
  const until = Date.now() + 5_000;
  let left = loadedProgramNames().filter((n) => n.startsWith("f_"));
  while (left.length > 0 && Date.now() < until) {
    spawnSync("sleep", ["0.2"]);
    left = loadedProgramNames().filter((n) => n.startsWith("f_"));
  }
  return left;
}

const feature = (r: DoctorReport, kind: string): FeatureResult => {
  const f = r.features.find((x) => x.kind === kind);
  assert.ok(f, `no ${kind} row in the report`);
  return f;
};

/** The shape of a value: key names (sorted) and primitive types, recursively. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v === null) return "null|string";
  if (typeof v === "object") {
    return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  }
  return typeof v === "string" ? "null|string" : typeof v;
}

describe("doctor", { skip: isRoot ? false : "needs root" }, () => {
  let report: DoctorReport;
  const lockdown = lockdownMode();

  before(async () => {
    report = await doctor();
  });

  it("reports the system", () => {
    assert.equal(report.kernel, release());
    assert.equal(report.btf, existsSync("/sys/kernel/btf/vmlinux"));
    assert.equal(report.lockdown, lockdown);
    assert.equal(report.tracefs, tracefsRoot());
    assert.equal(report.privileges.root, true);
    assert.equal(report.node, process.version);
    assert.match(report.libbpf, /\d+\.\d+/);
    assert.deepEqual(report.features.map((f) => f.kind), [...FEATURE_KINDS]);
    for (const f of report.features) {
      if (!f.ok) assert.ok(f.reason && f.reason.length > 0, `${f.kind} failed without a reason`);
    }
  });

  for (const kind of ["tracepoint", "raw_tracepoint", "uprobe", "perf_event", "xdp", "ringbuf"]) {
    it(`${kind} works`, () => {
      const f = feature(report, kind);
      assert.equal(f.ok, true, `${kind}: ${f.reason}\n${f.detail ?? ""}`);
    });
  }

  it("kprobes: not ok, with the reason, when the kernel lacks them", (t) => {
    const config = kernelConfigText();
    const configOff = config !== null && /^# CONFIG_KPROBES is not set$/m.test(config);
    const tracefs = tracefsRoot();
    const noInterfaces = !existsSync("/sys/bus/event_source/devices/kprobe") && !(tracefs && existsSync(`${tracefs}/kprobe_events`));
    if (!configOff && !noInterfaces) {
      t.skip("this kernel has kprobes");
      return;
    }
    for (const kind of ["kprobe", "kretprobe"]) {
      const f = feature(report, kind);
      assert.equal(f.ok, false);
      assert.match(f.reason!, /kprobe/i);
      if (configOff) assert.match(f.reason!, /CONFIG_KPROBES/);
    }
  });

  it("fentry/fexit and read_kernel follow lockdown", () => {
    if (lockdown === "confidentiality") {
      for (const kind of ["fentry", "fexit", "read_kernel"]) {
        const f = feature(report, kind);
        assert.equal(f.ok, false, `${kind} loaded under lockdown=confidentiality`);
        assert.match(f.reason!, /lockdown/);
      }
    } else if (lockdown === "none" || lockdown === "integrity") {
      // Reading kernel memory is only taken away at confidentiality.
      const f = feature(report, "read_kernel");
      assert.equal(f.ok, true, `read_kernel under lockdown=${lockdown}: ${f.reason}`);
    }
  });

  it("formats a table with one ✓/✗ row per feature", () => {
    const text = formatDoctor(report);
    for (const f of report.features) {
      const row = text.split("\n").find((l) => l.trimStart().slice(2).startsWith(f.kind + " "));
      assert.ok(row, `no row for ${f.kind}`);
      assert.ok(row.includes(f.ok ? "✓" : "✗"));
      if (!f.ok) assert.ok(row.includes(f.reason!));
    }
  });

  it("probeFeature tries a single kind", async () => {
    const r = await probeFeature("tracepoint");
    assert.deepEqual(r, { kind: "tracepoint", ok: true, detail: "attached to syscalls:sys_enter_getppid" });
  });

  it("`bpfbook doctor --json` prints the report as JSON", () => {
    const run = spawnSync(process.execPath, [cli, "doctor", "--json"], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const parsed = JSON.parse(run.stdout) as DoctorReport;
    assert.deepEqual(shape({ ...parsed, features: [] }), shape({ ...report, features: [] }));
    assert.deepEqual(parsed.features.map((f) => [f.kind, f.ok]), report.features.map((f) => [f.kind, f.ok]));
    for (const f of parsed.features) assert.deepEqual(Object.keys(f).filter((k) => !["kind", "ok", "reason", "detail"].includes(k)), []);
  });

  it("`bpfbook doctor` prints the table and exits 0", () => {
    const run = spawnSync(process.execPath, [cli, "doctor"], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /features \(\d+ of 11 work here\)/);
  });

  after(() => {
    // Every probe disposed what it loaded: no f_* program is left in the kernel.
    assert.deepEqual(lingeringDoctorPrograms(), []);
  });
});

describe("bpfbook CLI", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });

  it("exits 2 on an unknown subcommand, naming the nearest", () => {
    const r = run("doctr");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command "doctr"; did you mean doctor/);
  });

  it("help lists the subcommands", () => {
    for (const args of [["help"], ["--help"]]) {
      const r = run(...args);
      assert.equal(r.status, 0);
      for (const name of ["doctor", "tracepoints", "version", "help", "install", "run"]) assert.match(r.stdout, new RegExp(`^  ${name} `, "m"));
    }
  });

  it("version prints the package version", () => {
    const r = run("version");
    assert.equal(r.status, 0);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    assert.match(r.stdout, new RegExp(`^bpfbook ${pkg.version.replace(/\./g, "\\.")}$`, "m"));
  });

  it("tracepoints --filter lists matching names", { skip: isRoot ? false : "needs root" }, () => {
    const r = run("tracepoints", "--filter", "sys_enter_getppid");
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ["syscalls:sys_enter_getppid"]);
  });

  it("exits 2 on an unknown option", () => {
    const r = run("tracepoints", "--bogus");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown option --bogus/);
  });
});

after(() => {
  if (!isRoot) return;
  assert.deepEqual(lingeringDoctorPrograms(), [], "f_* programs left loaded");
});
