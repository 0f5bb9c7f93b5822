#!/usr/bin/env bash
# One command on a fresh Debian 12 machine, as root: system packages, kernel
# filesystems, npm dependencies, vmlinux.h, the CO-RE BPF objects, the test
# fixtures, this machine's tracepoint types, and the TypeScript build.
# Idempotent: a second run only checks, and rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh needs root (it installs Debian packages and mounts tracefs): sudo ./install.sh" >&2
  exit 1
fi

# Build and run: clang/llvm/bpftool/libbpf for the BPF objects, gcc for fixtures and the C peer.
# Peers and tests: bpftrace, iproute2 (XDP on veth; the fleet tests' namespaces), openssh-client (the fleet's ssh transport), binutils (objdump: the uprobe offset decoder's yardstick). Notebook kernel and its tests: Jupyter, Chromium (also the static chart images of `bpfbook run`).
# Second kernels for tests, booted under qemu (test/vm/): Debian's kernel (kprobes/fentry) and its PREEMPT_RT flavour, busybox.
# Notebooks on real software: PostgreSQL 15 (server and pgbench) for notebooks/06-postgresql.ipynb.
# Export tests' independent readers: Go (`go tool pprof` reads the pprof profiles), protoc and Python's protobuf (parse the OTLP JSON against its .proto files).
PACKAGES=(
  clang llvm libbpf-dev libbpf1 bpftool libelf-dev zlib1g-dev make gcc pkg-config
  bpftrace iproute2 iputils-ping binutils util-linux kmod openssh-client
  jupyter-notebook python3-jupyter-client python3-jupyter-kernel-test python3-nbconvert python3-nbclient
  chromium
  qemu-system-x86 linux-image-amd64 linux-image-rt-amd64 busybox-static xz-utils
  postgresql-15
  golang-go protobuf-compiler python3-protobuf
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "Debian packages: all present"
fi
# OpenSSH for the fleet tests (test/fleet/): their sshd runs only inside the tests' network
# namespaces, so when we install openssh-server its system service is neither started nor enabled.
if ! dpkg-query -W -f='${Status}' openssh-server 2>/dev/null | grep -q "install ok installed"; then
  say "installing openssh-server (its ssh service stays stopped and disabled)"
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# install.sh: no service starts while it installs openssh-server\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  apt-get update -qq
  ssh_status=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null || ssh_status=$?
  [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$ssh_status" = 0 ] || exit "$ssh_status"
  systemctl disable --quiet ssh.service ssh.socket 2>/dev/null || true
fi

mountpoint -q /sys/kernel/tracing || { say "mounting tracefs"; mount -t tracefs nodev /sys/kernel/tracing; }
mountpoint -q /sys/fs/bpf || { say "mounting bpffs"; mount -t bpf bpf /sys/fs/bpf; }
mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security 2>/dev/null || true

# npm ci wipes node_modules: only when the lock file changed since the last install.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.bpfbook-lock ] || [ "$(cat node_modules/.bpfbook-lock)" != "$lock_sum" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.bpfbook-lock
else
  say "npm dependencies: up to date"
fi

say "building (BPF objects, fixtures, tracepoint types, TypeScript)"
npm run -s build

say "installing the Jupyter kernelspec"
node dist/bpf-lib/src/cli/main.js install

say "done: try \`npx bpfbook doctor\`, then \`npm test\`"
