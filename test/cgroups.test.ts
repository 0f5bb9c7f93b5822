/* cgroup paths and the containers they name: pure parsing, and ids resolved from the live cgroup2 tree. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { cgroupOwner } from "../bpf-lib/src/cgroups/container.js";
import { CgroupPaths, cgroup2Mount } from "../bpf-lib/src/cgroups/paths.js";

const id = "0123456789abcdef".repeat(4);

describe("cgroupOwner", () => {
  it("names the runtimes' containers", () => {
    assert.deepEqual(cgroupOwner(`/system.slice/docker-${id}.scope`), { container: id, runtime: "docker", unit: `docker-${id}.scope` });
    assert.deepEqual(cgroupOwner(`/docker/${id}`), { container: id, runtime: "docker", unit: null });
    assert.equal(cgroupOwner(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-${id}.scope`).runtime, "containerd");
    assert.equal(cgroupOwner(`/kubepods/besteffort/pod12/${id}`).container, id);
    assert.equal(cgroupOwner(`/machine.slice/libpod-${id}.scope/container`).runtime, "podman");
    assert.equal(cgroupOwner(`/kubepods.slice/crio-${id}.scope`).runtime, "cri-o");
    assert.deepEqual(cgroupOwner("/machine.slice/machine-web\\x2d1.scope"), { container: "web-1", runtime: "nspawn", unit: "machine-web\\x2d1.scope" });
  });
  it("names the systemd unit when there is no container", () => {
    assert.deepEqual(cgroupOwner("/system.slice/nginx.service"), { container: null, runtime: null, unit: "nginx.service" });
    assert.deepEqual(cgroupOwner("/user.slice/user-1000.slice/session-3.scope"), { container: null, runtime: null, unit: "session-3.scope" });
    assert.deepEqual(cgroupOwner("/"), { container: null, runtime: null, unit: null });
    // not 64 hex digits: not a container id
    assert.equal(cgroupOwner("/docker/abc").container, null);
  });
});

describe("CgroupPaths", () => {
  const mount = cgroup2Mount();
  it("resolves ids (directory inodes) to paths, including cgroups made after the first walk", { skip: mount ? false : "no cgroup2 mount on this machine" }, () => {
    const paths = new CgroupPaths(mount);
    assert.equal(paths.path(statSync(mount!, { bigint: true }).ino), "/");
    const dir = join(mount!, `bpfbook-test-${process.pid}`);
    const scope = join(dir, `docker-${id}.scope`);
    mkdirSync(scope, { recursive: true });
    try {
      // a miss walks again, but not more than once a second
      const ino = statSync(scope, { bigint: true }).ino;
      const t0 = Date.now();
      let got: string | null = null;
      while (got === null && Date.now() - t0 < 3000) got = paths.path(ino);
      assert.equal(got, `/bpfbook-test-${process.pid}/docker-${id}.scope`);
      assert.equal(paths.path(123456789n), null);
    } finally {
      rmdirSync(scope);
      rmdirSync(dir);
    }
  });
});
