/* A loop device over a small file in /tmp, for the block I/O tests: made at the start of a
 * suite, detached and removed after it; or the reason there cannot be one here (to skip on). */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { basename } from "node:path";

export interface Loop {
  /** /dev/loopN */
  dev: string;
  /** loopN, as lsblk and the tools name it */
  name: string;
  /** The kernel's dev_t, as block tracepoints carry it: MAJOR << 20 | MINOR. */
  devt: number;
  file: string;
}

/** A 4 MiB loop device, or why there cannot be one here. `tag` names its backing file. */
export function makeLoop(tag: string): Loop | string {
  if (!existsSync("/dev/loop-control")) spawnSync("modprobe", ["loop"], { stdio: "ignore" });
  if (!existsSync("/dev/loop-control")) return "no /dev/loop-control, and modprobe loop did not make one";
  const file = `/tmp/bpfbook-test-${tag}-${process.pid}.img`;
  execFileSync("truncate", ["-s", "4M", file]);
  const r = spawnSync("losetup", ["-f", "--show", file], { encoding: "utf8" });
  if (r.status !== 0) {
    rmSync(file, { force: true });
    return `losetup -f --show failed: ${(r.stderr || r.error?.message || "").trim()}`;
  }
  const dev = r.stdout.trim();
  const [major, minor] = readFileSync(`/sys/block/${basename(dev)}/dev`, "utf8").trim().split(":").map(Number);
  return { dev, name: basename(dev), devt: (major! << 20) | minor!, file };
}

/** Detaches and removes what makeLoop made (nothing for a reason). */
export function removeLoop(loop: Loop | string): void {
  if (typeof loop === "string") return;
  spawnSync("losetup", ["-d", loop.dev]);
  rmSync(loop.file, { force: true });
}

/** Direct writes of each size, one dd per size: every write is its own request (O_DIRECT, synchronous, one at a time). */
export const WRITES = [
  { bs: 4096, count: 5, seek: 0 },
  { bs: 65536, count: 3, seek: 1 },
  { bs: 512, count: 7, seek: 1024 },
] as const;
export const REQUESTS = WRITES.reduce((n, w) => n + w.count, 0);
export const BYTES = WRITES.reduce((n, w) => n + w.bs * w.count, 0);

/** Makes WRITES on `dev`. */
export function writeAll(dev: string): void {
  for (const w of WRITES) execFileSync("dd", ["if=/dev/zero", `of=${dev}`, "oflag=direct", `bs=${w.bs}`, `count=${w.count}`, `seek=${w.seek}`], { stdio: "ignore" });
}
