/* Runs a shell command inside a throwaway VM booted from Debian's kernel, for the
 * features this host's kernel lacks (kprobes, fentry). The VM is qemu with TCG
 * (emulated CPU: KVM hung here and `-cpu host` aborts), a tiny initramfs built
 * here (busybox-static, the virtio/9p modules, an /init script), and the host's
 * root file system shared read-only over 9p: the command runs in a chroot of the
 * host's own files (node, node_modules, bpftrace, this checkout), on the guest's
 * kernel. See docs/vm.md. */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface VmOptions {
  /** Kill the VM and reject after this long, boot included (default 120 000). */
  timeoutMs?: number;
  /** Guest memory (default 2048). */
  memMb?: number;
  /** Guest CPUs (default 2). */
  cpus?: number;
  /** Extra environment for the command (on top of PATH, HOME=/tmp/home, TERM=dumb). */
  env?: Record<string, string>;
  /** Directory the command starts in, a host path (default: this checkout). */
  cwd?: string;
  /** A host directory shared read-write at /tmp/out in the guest, to bring files back (created if missing). */
  outDir?: string;
  /** More qemu arguments, appended (for experiments and debugging). */
  qemuArgs?: string[];
  /** More kernel command-line parameters, appended to KERNEL_CMDLINE. */
  append?: string;
  /** Called with each line of the command's output as it arrives. */
  onOutput?: (line: string) => void;
  /** Called with each line of the whole serial console (boot noise included). */
  onConsole?: (line: string) => void;
  /** Which of Debian's kernel flavours to boot: "" (the generic one, default), "rt" (PREEMPT_RT) or "cloud". */
  flavour?: KernelFlavour;
}

export type KernelFlavour = "" | "rt" | "cloud";

export interface VmResult {
  /** The command's exit status inside the VM. */
  status: number;
  /** What the command printed (stdout and stderr, interleaved as on a terminal), without the kernel's boot messages. */
  output: string;
  /** From starting qemu to the command starting in the guest. */
  bootMs: number;
  /** From starting qemu to qemu exiting. */
  totalMs: number;
}

export interface VmKernel {
  version: string;
  vmlinuz: string;
  modulesDir: string;
}

/** Loaded in this order: each needs the ones before it. */
export const VM_MODULES = [
  "virtio_ring",
  "virtio",
  "virtio_pci_legacy_dev",
  "virtio_pci_modern_dev",
  "virtio_pci",
  "netfs",
  "fscache",
  "9pnet",
  "9pnet_virtio",
  "9p",
  // the feature pass (test/vm/features.ts): a loop device for block I/O, a veth pair for XDP
  "loop",
  "veth",
];

export const QEMU = "qemu-system-x86_64";
/**
 * quiet: only errors reach the console (it is also where the command's output goes).
 * panic=-1 with qemu's -no-reboot: a panic ends the VM at once.
 * lpj=: skips the delay-loop calibration of each CPU (0.7 s under TCG); the value
 * is about a 2.5 GHz TSC at HZ=250 and only sets udelay()'s accuracy.
 * tsc=reliable: TCG's TSC is the host's, synchronised across vCPUs, but the
 * guest's sync check fails under emulation and falls back to the HPET.
 */
export const KERNEL_CMDLINE = "console=ttyS0 panic=-1 quiet lpj=10000000 tsc=reliable";
export const CACHE_DIR = "/tmp/bpfbook-vm";
const BUSYBOX_CANDIDATES = ["/bin/busybox", "/usr/bin/busybox"];

/** This checkout: dist/test/vm/vm.js → three levels up. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    const nx = Number(x);
    const ny = Number(y);
    const c = Number.isInteger(nx) && Number.isInteger(ny) && x !== "" && y !== "" ? nx - ny : x.localeCompare(y);
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * The newest /boot/vmlinuz-*-amd64 of one flavour (Debian's generic kernel by default,
 * 6.1.0-57-amd64; "rt" is 6.1.0-57-rt-amd64) whose modules are installed, or null.
 */
export function findKernel(flavour: KernelFlavour = ""): VmKernel | null {
  let names: string[];
  try {
    names = readdirSync("/boot");
  } catch {
    return null;
  }
  const versions = names
    .map((n) => /^vmlinuz-(\d[\d.]*-\d+(-[a-z]+)?-amd64)$/.exec(n))
    .filter((m) => m !== null && (m[2] ?? "") === (flavour ? `-${flavour}` : ""))
    .map((m) => m![1])
    .filter((v): v is string => !!v && existsSync(join("/lib/modules", v, "modules.dep")))
    .sort(compareVersions);
  const version = versions.at(-1);
  return version ? { version, vmlinuz: `/boot/vmlinuz-${version}`, modulesDir: join("/lib/modules", version) } : null;
}

function which(cmd: string): string | null {
  for (const d of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    const p = join(d, cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // next
    }
  }
  return null;
}

function findBusybox(): string | null {
  // busybox-static's binary; a dynamically linked busybox would not run in the initramfs.
  for (const p of BUSYBOX_CANDIDATES) {
    try {
      const head = readFileSync(p).subarray(0, 4);
      if (head.toString("latin1") === "\x7fELF") return p;
    } catch {
      // next
    }
  }
  return null;
}

/** Why the VM cannot run here, or null when it can. */
export function vmUnavailableReason(): string | null {
  if (process.arch !== "x64") return `the VM harness is for x86-64 hosts (this is ${process.arch})`;
  if (!which(QEMU)) return `${QEMU} is not installed (apt-get install qemu-system-x86)`;
  if (!findKernel()) return "no Debian kernel with modules in /boot (apt-get install linux-image-amd64)";
  if (!findBusybox()) return "busybox is not installed (apt-get install busybox-static)";
  return null;
}

// ---- initramfs --------------------------------------------------------------

interface CpioEntry {
  name: string;
  mode: number;
  data?: Buffer;
  rdev?: [number, number];
}

/** An uncompressed "newc" cpio archive, as the kernel unpacks into its rootfs. */
function cpio(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    size += b.length;
  };
  const pad = () => {
    if (size % 4) push(Buffer.alloc(4 - (size % 4)));
  };
  let ino = 1;
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  for (const e of [...entries, { name: "TRAILER!!!", mode: 0 }] as CpioEntry[]) {
    const data = e.data ?? Buffer.alloc(0);
    const isDir = (e.mode & 0o170000) === 0o040000;
    const header =
      "070701" +
      [
        e.name === "TRAILER!!!" ? 0 : ino++,
        e.mode,
        0, // uid
        0, // gid
        isDir ? 2 : 1,
        0, // mtime: fixed, so the archive's bytes depend only on its contents
        data.length,
        0,
        0,
        e.rdev?.[0] ?? 0,
        e.rdev?.[1] ?? 0,
        Buffer.byteLength(e.name) + 1,
        0,
      ]
        .map(hex)
        .join("");
    push(Buffer.from(header + e.name + "\0", "latin1"));
    pad();
    push(data);
    pad();
  }
  return Buffer.concat(parts, size);
}

const DIR = 0o040755;
const FILE = 0o100644;
const EXEC = 0o100755;
const LINK = 0o120777;
const CHR = 0o020600;

/** PID 1 of the guest. Reads the command, its environment and its directory from /bpfbook/ (a second cpio per run). */
const INIT_SCRIPT = `#!/bin/busybox sh
# bpfbook VM /init (test/vm/vm.ts): modules, host root over 9p, chroot, run, power off.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
. /bpfbook/run.conf
say() { echo "bpfbook-vm: $*"; }
# The guest powers itself off even if the host side has gone away.
( sleep "$BPFBOOK_WATCHDOG_S"; say "watchdog: $BPFBOOK_WATCHDOG_S s elapsed, powering off"; poweroff -f ) &
for m in $(cat /lib/modules/order); do
  insmod "/lib/modules/$m.ko" || say "insmod $m failed"
done
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /mnt; then
  say "mounting the host root failed"
  echo "$BPFBOOK_END status=125"
  poweroff -f
fi
mount -t proc proc /mnt/proc
mount -t sysfs sysfs /mnt/sys
mount -t devtmpfs devtmpfs /mnt/dev
mount -t devpts devpts /mnt/dev/pts 2>/dev/null
mount -t tmpfs tmpfs /mnt/dev/shm 2>/dev/null
# The host's /tmp stays reachable, read-only, at /tmp/host under the guest's own tmpfs.
mkdir -p /hosttmp
mount --bind /mnt/tmp /hosttmp
mount -t tmpfs -o mode=1777 tmpfs /mnt/tmp
mkdir -p /mnt/tmp/host
mount --move /hosttmp /mnt/tmp/host 2>/dev/null || mount --bind /hosttmp /mnt/tmp/host
# A checkout that lives under the host's /tmp (CI clones there) keeps its path:
# bind its top directory from the host's /tmp over the guest's tmpfs.
for d in "$BPFBOOK_CWD_DIR" "$BPFBOOK_PROJECT_DIR"; do
  case "$d" in
    /tmp/host|/tmp/host/*|/tmp/out|/tmp/out/*|/tmp/home|/tmp/home/*) ;;
    /tmp/?*)
      top="\${d#/tmp/}"; top="\${top%%/*}"
      if [ -d "/mnt/tmp/host/$top" ] && [ ! -e "/mnt/tmp/$top" ]; then
        mkdir -p "/mnt/tmp/$top" && mount --bind "/mnt/tmp/host/$top" "/mnt/tmp/$top"
      fi ;;
  esac
done
mount -t tmpfs tmpfs /mnt/run
mount -t tracefs tracefs /mnt/sys/kernel/tracing
mount -t debugfs debugfs /mnt/sys/kernel/debug
mount -t securityfs securityfs /mnt/sys/kernel/security 2>/dev/null
mount -t bpf bpf /mnt/sys/fs/bpf
mount -t cgroup2 cgroup2 /mnt/sys/fs/cgroup 2>/dev/null
mkdir -p /mnt/tmp/home /mnt/tmp/.bpfbook-vm
if [ "$BPFBOOK_OUT" = 1 ]; then
  mkdir -p /mnt/tmp/out
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out /mnt/tmp/out || say "mounting the out directory failed"
fi
cp /bpfbook/cmd.sh /bpfbook/env.sh /mnt/tmp/.bpfbook-vm/
echo "$BPFBOOK_START"
chroot /mnt /bin/sh -c '. /tmp/.bpfbook-vm/env.sh && cd "$BPFBOOK_CWD" && exec /bin/sh -c "$(cat /tmp/.bpfbook-vm/cmd.sh)"' </dev/null 2>&1
status=$?
echo "$BPFBOOK_END status=$status"
poweroff -f
`;

function readModule(modulesDir: string, name: string): Buffer | "builtin" {
  const dep = readFileSync(join(modulesDir, "modules.dep"), "utf8");
  const re = new RegExp(`^(\\S*/${name.replace(/[-_]/g, "[-_]")}\\.ko(?:\\.(?:xz|zst|gz))?):`, "m");
  const rel = re.exec(dep)?.[1];
  if (!rel) {
    let builtin = "";
    try {
      builtin = readFileSync(join(modulesDir, "modules.builtin"), "utf8");
    } catch {
      // none
    }
    if (new RegExp(`/${name}\\.ko$`, "m").test(builtin)) return "builtin";
    throw new Error(`kernel module ${name} is neither in ${modulesDir}/modules.dep nor built in`);
  }
  const path = join(modulesDir, rel);
  if (path.endsWith(".xz")) return execFileSync("xz", ["-dc", path], { maxBuffer: 1 << 28 });
  if (path.endsWith(".zst")) return execFileSync("zstd", ["-dcq", path], { maxBuffer: 1 << 28 });
  if (path.endsWith(".gz")) return execFileSync("gzip", ["-dc", path], { maxBuffer: 1 << 28 });
  return readFileSync(path);
}

/** The cached base initramfs for this kernel, built if missing or stale (kernel, modules, busybox or /init changed). */
export function baseInitramfs(kernel: VmKernel): string {
  const busybox = findBusybox();
  if (!busybox) throw new Error("busybox is not installed (apt-get install busybox-static)");
  const stamp = (p: string) => {
    const s = statSync(p);
    return `${p}:${s.size}:${s.mtimeMs}`;
  };
  const key = createHash("sha256")
    .update([INIT_SCRIPT, VM_MODULES.join(","), kernel.version, stamp(kernel.vmlinuz), stamp(join(kernel.modulesDir, "modules.dep")), stamp(busybox)].join("\n"))
    .digest("hex")
    .slice(0, 16);
  const out = join(CACHE_DIR, `initramfs-${kernel.version}-${key}.cpio`);
  if (existsSync(out)) return out;

  mkdirSync(CACHE_DIR, { recursive: true });
  const entries: CpioEntry[] = [];
  for (const d of ["bin", "dev", "proc", "sys", "mnt", "tmp", "lib", "lib/modules", "bpfbook"]) entries.push({ name: d, mode: DIR });
  entries.push({ name: "dev/console", mode: CHR, rdev: [5, 1] });
  entries.push({ name: "dev/null", mode: 0o020666, rdev: [1, 3] });
  entries.push({ name: "bin/busybox", mode: EXEC, data: readFileSync(busybox) });
  const applets = execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => /^[\w.[-]+$/.test(a) && a !== "busybox");
  for (const a of applets) entries.push({ name: `bin/${a}`, mode: LINK, data: Buffer.from("busybox") });
  const order: string[] = [];
  for (const m of VM_MODULES) {
    const ko = readModule(kernel.modulesDir, m);
    if (ko === "builtin") continue;
    entries.push({ name: `lib/modules/${m}.ko`, mode: FILE, data: ko });
    order.push(m);
  }
  entries.push({ name: "lib/modules/order", mode: FILE, data: Buffer.from(order.join("\n") + "\n") });
  entries.push({ name: "init", mode: EXEC, data: Buffer.from(INIT_SCRIPT) });

  // Remove stale archives of this harness, then write atomically (parallel runs may race here).
  for (const f of readdirSync(CACHE_DIR)) if (/^initramfs-.*\.cpio$/.test(f)) rmSync(join(CACHE_DIR, f), { force: true });
  const tmp = `${out}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(tmp, cpio(entries));
  renameSync(tmp, out);
  return out;
}

/** Whether an ELF image carries the PVH entry note (Xen note type 18), which lets qemu boot it directly. */
function hasPvhNote(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false; // 64-bit ELF only
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (elf.readUInt32LE(ph) !== 4) continue; // PT_NOTE
    let off = Number(elf.readBigUInt64LE(ph + 8));
    const end = off + Number(elf.readBigUInt64LE(ph + 32));
    while (off + 12 <= end) {
      const namesz = elf.readUInt32LE(off);
      const descsz = elf.readUInt32LE(off + 4);
      const type = elf.readUInt32LE(off + 8);
      const name = elf.toString("latin1", off + 12, off + 12 + Math.max(0, namesz - 1));
      if (name === "Xen" && type === 18) return true;
      off += 12 + Math.ceil(namesz / 4) * 4 + Math.ceil(descsz / 4) * 4;
    }
  }
  return false;
}

/**
 * The kernel image to give qemu. A bzImage decompresses itself, which under TCG
 * takes about 3 s; the uncompressed ELF inside it boots directly through its
 * PVH entry point (CONFIG_PVH), so it is extracted once and cached. Falls back
 * to the bzImage when the payload cannot be extracted or has no PVH note.
 */
export function bootImage(kernel: VmKernel): string {
  const s = statSync(kernel.vmlinuz);
  const key = createHash("sha256").update(`${kernel.vmlinuz}:${s.size}:${s.mtimeMs}`).digest("hex").slice(0, 16);
  const out = join(CACHE_DIR, `vmlinux-${kernel.version}-${key}`);
  const failed = `${out}.unusable`;
  if (existsSync(out)) return out;
  if (existsSync(failed)) return kernel.vmlinuz;
  mkdirSync(CACHE_DIR, { recursive: true });
  const image = readFileSync(kernel.vmlinuz);
  const decoders: [Buffer, string, string[]][] = [
    [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), "xz", ["-dc", "--single-stream"]],
    [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), "zstd", ["-dcq"]],
    [Buffer.from([0x1f, 0x8b, 0x08]), "gzip", ["-dc"]],
  ];
  for (const [magic, tool, args] of decoders) {
    const at = image.indexOf(magic);
    if (at < 0) continue;
    let elf: Buffer;
    try {
      elf = execFileSync(tool, args, { input: image.subarray(at), maxBuffer: 1 << 30, stdio: ["pipe", "pipe", "ignore"] });
    } catch (e) {
      // Trailing data after the stream makes some decoders exit non-zero after writing everything.
      const partial = (e as { stdout?: Buffer }).stdout;
      if (!partial?.length) continue;
      elf = partial;
    }
    if (!hasPvhNote(elf)) continue;
    for (const f of readdirSync(CACHE_DIR)) if (/^vmlinux-.*-[0-9a-f]{16}(\.unusable)?$/.test(f)) rmSync(join(CACHE_DIR, f), { force: true });
    const tmp = `${out}.${process.pid}.${randomBytes(4).toString("hex")}`;
    writeFileSync(tmp, elf);
    renameSync(tmp, out);
    return out;
  }
  writeFileSync(failed, "");
  return kernel.vmlinuz;
}

/** Single-quotes a string for sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// ---- running ----------------------------------------------------------------

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const c of live) c.kill("SIGKILL");
  });
}

/** Kills every VM this process has running (the CLI calls it on SIGINT/SIGTERM). */
export function killAllVms(): void {
  for (const c of live) c.kill("SIGKILL");
}

const LAST_LINES = 60;

/** Per-run initramfs files left behind by processes that died before cleaning up. */
function removeOrphanedRunFiles(): void {
  for (const f of readdirSync(CACHE_DIR)) {
    const pid = Number(/^run-(\d+)-[0-9a-f]+\.cpio$/.exec(f)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ESRCH") rmSync(join(CACHE_DIR, f), { force: true });
    }
  }
}

export async function runInVm(command: string, opts: VmOptions = {}): Promise<VmResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const memMb = opts.memMb ?? 2048;
  const cpus = opts.cpus ?? 2;
  const cwd = opts.cwd ?? PROJECT_ROOT;
  const why = vmUnavailableReason();
  if (why) throw new Error(`cannot run the VM: ${why}`);
  const kernel = findKernel(opts.flavour ?? "");
  if (!kernel) throw new Error(`no Debian kernel of flavour "${opts.flavour ?? ""}" with modules in /boot (apt-get install linux-image-${opts.flavour ? `${opts.flavour}-` : ""}amd64)`);
  const base = readFileSync(baseInitramfs(kernel));
  const image = bootImage(kernel);

  const outDir = opts.outDir ? resolve(opts.outDir) : null;
  if (outDir) {
    if (outDir.includes(",")) throw new Error(`outDir cannot contain a comma (qemu's option syntax): ${outDir}`);
    mkdirSync(outDir, { recursive: true });
  }
  const token = randomBytes(8).toString("hex");
  const START = `@@bpfbook-vm start ${token}@@`;
  const END = `@@bpfbook-vm end ${token}`;
  const env: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: "/tmp/home",
    TERM: "dumb",
    ...opts.env,
    BPFBOOK_CWD: cwd,
    BPFBOOK_IN_VM: "1",
  };
  for (const k of Object.keys(env)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`bad environment variable name: ${JSON.stringify(k)}`);
  const envSh = Object.entries(env)
    .map(([k, v]) => `export ${k}=${shQuote(v)}\n`)
    .join("");
  const conf =
    `BPFBOOK_START=${shQuote(START)}\n` + `BPFBOOK_END=${shQuote(END)}\n` + `BPFBOOK_WATCHDOG_S=${Math.ceil(timeoutMs / 1000) + 30}\n` + `BPFBOOK_OUT=${opts.outDir ? 1 : 0}\n` +
    `BPFBOOK_CWD_DIR=${shQuote(cwd)}\n` + `BPFBOOK_PROJECT_DIR=${shQuote(PROJECT_ROOT)}\n`;
  // The per-run files go in a second (uncompressed) cpio appended to the cached one: the kernel unpacks both.
  const run = cpio([
    { name: "bpfbook", mode: DIR },
    { name: "bpfbook/run.conf", mode: FILE, data: Buffer.from(conf) },
    { name: "bpfbook/env.sh", mode: FILE, data: Buffer.from(envSh) },
    { name: "bpfbook/cmd.sh", mode: FILE, data: Buffer.from(command) },
  ]);
  mkdirSync(CACHE_DIR, { recursive: true });
  removeOrphanedRunFiles();
  const initrd = join(CACHE_DIR, `run-${process.pid}-${token}.cpio`);
  writeFileSync(initrd, Buffer.concat([base, run]));

  const args = [
    "-accel", "tcg",
    "-cpu", "max",
    "-m", String(memMb),
    "-smp", String(cpus),
    "-nographic",
    "-no-reboot",
    "-net", "none",
    "-kernel", image,
    "-initrd", initrd,
    "-append", [KERNEL_CMDLINE, opts.append].filter(Boolean).join(" "),
    "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
    ...(outDir ? ["-virtfs", `local,path=${outDir},mount_tag=out,security_model=none,multidevs=remap`] : []),
    ...(opts.qemuArgs ?? []),
  ];

  installExitHook();
  const t0 = performance.now();
  const child = spawn(QEMU, args, { stdio: ["pipe", "pipe", "pipe"] });
  live.add(child);

  return await new Promise<VmResult>((resolvePromise, reject) => {
    const last: string[] = [];
    const out: string[] = [];
    let state: "boot" | "cmd" | "done" = "boot";
    let bootMs = -1;
    let status: number | null = null;
    let pending = "";
    let stderr = "";
    let settled = false;

    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      live.delete(child);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      rmSync(initrd, { force: true });
      if (err) reject(err);
      else resolvePromise({ status: status!, output: out.join(""), bootMs, totalMs: performance.now() - t0 });
    };
    const tail = () => last.join("\n") + (pending ? "\n" + pending : "") + (stderr.trim() ? `\n[qemu stderr] ${stderr.trim()}` : "");

    const line = (raw: string) => {
      let l = raw.replace(/\r+$/, "");
      // SeaBIOS clears the screen with escape sequences: drop them from the boot noise (not from the command's output).
      if (state !== "cmd") l = l.replace(/\x1b(?:\[[0-9;?]*[A-Za-z]|c)/g, "");
      last.push(l);
      if (last.length > LAST_LINES) last.shift();
      opts.onConsole?.(l);
      if (state === "boot") {
        if (l.endsWith(START)) {
          state = "cmd";
          bootMs = performance.now() - t0;
        }
      } else if (state === "cmd") {
        const i = l.indexOf(END);
        if (i >= 0) {
          const m = / status=(\d+)@?$/.exec(l.slice(i)) ?? / status=(\d+)/.exec(l.slice(i));
          status = m ? Number(m[1]) : 255;
          // The command's last line may lack a newline: keep what precedes the marker.
          if (i > 0) {
            out.push(l.slice(0, i));
            opts.onOutput?.(l.slice(0, i));
          }
          state = "done";
        } else {
          out.push(l + "\n");
          opts.onOutput?.(l);
        }
      }
    };

    child.stdout!.setEncoding("utf8"); // decodes characters split across reads
    child.stdout!.on("data", (d: string) => {
      pending += d;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        line(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
      if (stderr.length > 8192) stderr = stderr.slice(-8192);
    });
    child.stdin!.on("error", () => {});
    child.on("error", (e) => finish(new Error(`could not start ${QEMU}: ${e.message}`)));
    child.on("exit", (code, signal) => {
      if (pending) {
        line(pending);
        pending = "";
      }
      if (status !== null) finish(null);
      else
        finish(
          new Error(
            `the VM stopped (qemu ${signal ? `signal ${signal}` : `exit ${code}`}) before the command finished` +
              (state === "boot" ? " (it never started: boot failed)" : "") +
              `; last console lines:\n${tail()}`,
          ),
        );
    });
    const timer = setTimeout(() => {
      finish(
        new Error(
          `the VM timed out after ${timeoutMs} ms (${state === "boot" ? "still booting" : "command still running"}); last console lines:\n${tail()}`,
        ),
      );
    }, timeoutMs);
  });
}
