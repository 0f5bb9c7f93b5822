/* Disk names for the block tools: the block tracepoints carry the kernel's dev_t
 * (MAJOR << 20 | MINOR); sysfs names it (/sys/dev/block/MAJ:MIN/uevent, DEVNAME). */
import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "../errors.js";

const MINOR_BITS = 20;

/** "MAJ:MIN" of a kernel dev_t. */
export function majorMinor(devt: number): string {
  return `${Math.floor(devt / 2 ** MINOR_BITS)}:${devt % 2 ** MINOR_BITS}`;
}

// Names are read once per device: a tool names every row of a table with them.
const names = new Map<number, string>();

/** The disk's name ("sda", "loop0") from sysfs, or "MAJ:MIN" when sysfs does not know it (a device removed since). */
export function diskName(devt: number): string {
  const known = names.get(devt);
  if (known !== undefined) return known;
  let name = majorMinor(devt);
  try {
    const m = /^DEVNAME=(.+)$/m.exec(readFileSync(`/sys/dev/block/${majorMinor(devt)}/uevent`, "utf8"));
    if (m) name = m[1]!;
  } catch {
    // gone (a loop device detached): keep MAJ:MIN, and look again next time
    return name;
  }
  names.set(devt, name);
  return name;
}

/** The kernel dev_t of a disk named as lsblk names it ("sda", "loop0", or "/dev/loop0"). */
export function diskDevt(name: string, what: string): number {
  if (typeof name !== "string" || name === "" || name.includes("..")) throw new InvalidArgumentError(`${what}: disk must be a block device's name, e.g. "sda" or "loop0"; got ${JSON.stringify(name)}`);
  const base = name.replace(/^\/dev\//, "");
  let text: string;
  try {
    text = readFileSync(`/sys/class/block/${base}/dev`, "utf8");
  } catch {
    throw new InvalidArgumentError(`${what}: no block device named ${JSON.stringify(name)} (not in /sys/class/block)`);
  }
  const [major, minor] = text.trim().split(":").map(Number);
  return major! * 2 ** MINOR_BITS + minor!;
}
