/* Without privileges, the error names the missing capability and how to get it. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, execFileSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./helpers/workload.js";

const setpriv = (() => {
  try {
    execFileSync("setpriv", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe("privileges", { skip: process.getuid?.() === 0 && setpriv ? false : "needs root and setpriv to drop to an unprivileged user" }, () => {
  it("tracing as an unprivileged user fails with a PermissionError naming CAP_BPF and CAP_PERFMON", () => {
    const script = `import(${JSON.stringify(join(ROOT, "dist", "bpf-lib", "src", "index.js"))}).then(async (m) => {
      try { m.tracepoint("syscalls:sys_enter_getppid", { fields: [] }).start(); console.log("no error"); }
      catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }
    })`;
    const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", process.execPath, "-e", script], { encoding: "utf8", cwd: "/tmp" });
    const out = r.stdout.trim().split("\n").pop() ?? "";
    const e = JSON.parse(out) as { name: string; code: string; message: string };
    // tracefs itself is root-only on most systems: either error names what to do
    if (e.code === "EPERM") {
      assert.match(e.message, /CAP_BPF|root/);
      assert.match(e.message, /sudo|setcap|root/);
    } else {
      assert.fail(`expected a permission error, got ${out}`);
    }
  });

  it("the advice is a dedicated, group-restricted node (docs/security.md), never setcap on the system's node", () => {
    const script = `import(${JSON.stringify(join(ROOT, "dist", "bpf-lib", "src", "privileges.js"))}).then((m) => {
      try { m.requireTracingPrivileges("tracing"); console.log("no error"); }
      catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message })); }
    })`;
    const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", process.execPath, "-e", script], { encoding: "utf8", cwd: "/tmp" });
    const e = JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as { name: string; message: string };
    assert.equal(e.name, "PermissionError");
    assert.equal(e.message, "tracing needs CAP_BPF and CAP_PERFMON, which this process lacks; run as root (sudo), or under a dedicated copy of node that holds CAP_BPF and CAP_PERFMON and only a trusted group can execute (see docs/security.md; never setcap the system-wide node)");
    assert.doesNotMatch(e.message, /setcap cap_/, "no setcap command line to copy");
  });
});
