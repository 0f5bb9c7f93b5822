/* mountsnoop: mount(2) and umount2(2) calls: what, where, which filesystem, which flags, and
 * the result. Both entries are starts of one pairing whose end is the syscall exit
 * (raw_syscalls:sys_exit filtered to those two syscall numbers in the kernel), so one
 * stream holds both, in order. */
import type { ColumnTable } from "arquero";
import { tracepoint } from "../probes/tracepoint/probe.js";
import { latency } from "../probes/latency.js";
import { errnoName, NotSupportedError } from "../errors.js";
import { bar } from "../plot/bar.js";
import { MOUNTSNOOP } from "./catalog.js";
import { eventsTool, filterOf, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface MountsnoopOptions extends ToolFilter {}

/** A row of mountsnoop. */
export interface MountsnoopRow {
  ts: number;
  pid: number;
  tid: number;
  comm: string;
  /** "mount" or "umount2". */
  call: string;
  /** What is mounted (a device, or any name for tmpfs/proc); null for umount2. */
  source: string | null;
  /** The mount point. */
  target: string;
  /** The filesystem type; null for umount2. */
  fstype: string | null;
  flags: number;
  /** MS_* (mount) or MNT_* (umount2) names, "|"-joined; "" for none. */
  flags_name: string;
  ret: number;
  ret_name: string | null;
  latency: number;
}

// x86_64 syscall numbers (the end is raw_syscalls:sys_exit, which has only the number).
const NR_MOUNT = 165;
const NR_UMOUNT2 = 166;

// uapi linux/mount.h: #defines, in neither BTF nor a print fmt.
const MS_FLAGS: readonly [number, string][] = [
  [1, "MS_RDONLY"], [2, "MS_NOSUID"], [4, "MS_NODEV"], [8, "MS_NOEXEC"], [16, "MS_SYNCHRONOUS"], [32, "MS_REMOUNT"],
  [64, "MS_MANDLOCK"], [128, "MS_DIRSYNC"], [256, "MS_NOSYMFOLLOW"], [1024, "MS_NOATIME"], [2048, "MS_NODIRATIME"],
  [4096, "MS_BIND"], [8192, "MS_MOVE"], [16384, "MS_REC"], [32768, "MS_SILENT"], [1 << 16, "MS_POSIXACL"],
  [1 << 17, "MS_UNBINDABLE"], [1 << 18, "MS_PRIVATE"], [1 << 19, "MS_SLAVE"], [1 << 20, "MS_SHARED"], [1 << 21, "MS_RELATIME"],
  [1 << 22, "MS_KERNMOUNT"], [1 << 23, "MS_I_VERSION"], [1 << 24, "MS_STRICTATIME"], [1 << 25, "MS_LAZYTIME"],
];
const UMOUNT_FLAGS: readonly [number, string][] = [[1, "MNT_FORCE"], [2, "MNT_DETACH"], [4, "MNT_EXPIRE"], [8, "UMOUNT_NOFOLLOW"]];

function flagNames(v: number, table: readonly [number, string][]): string {
  const names: string[] = [];
  let rest = v;
  for (const [bit, name] of table) if ((v & bit) !== 0) { names.push(name); rest &= ~bit; }
  if (rest !== 0) names.push(`0x${(rest >>> 0).toString(16)}`);
  return names.join("|");
}

/** Each mount(2) and umount2(2): source, target, filesystem, flags, result. */
export function mountsnoop(options?: MountsnoopOptions): EventsTool<MountsnoopRow> {
  const o = toolOptions(options, MOUNTSNOOP);
  // the exit is matched by syscall number, and the numbers are x86_64's
  if (process.arch !== "x64") throw new NotSupportedError("tools.mountsnoop()", `it matches mount and umount2 by their x86_64 syscall numbers; this machine is ${process.arch}`);
  const where = filterOf(o);
  // Every start carries the same names in the same shapes; umount2 has no source or type,
  // so it reads its one path into all three and shape() drops the two it lacks.
  const mount = tracepoint("syscalls:sys_enter_mount", {
    fields: ["flags"],
    read: { source: { from: "dev_name", string: 64 }, target: { from: "dir_name", string: 128 }, fstype: { from: "type", string: 32 } },
    where,
  });
  const umount = tracepoint("syscalls:sys_enter_umount", {
    fields: ["flags"],
    read: { source: { from: "name", string: 64 }, target: { from: "name", string: 128 }, fstype: { from: "name", string: 32 } },
    where,
  });
  const end = tracepoint("raw_syscalls:sys_exit", { fields: ["id", "ret"], where: { ...where, id: { ge: NR_MOUNT, le: NR_UMOUNT2 } } });
  const pairs = latency({ start: [mount, umount], end, carry: ["source", "target", "fstype", "flags"], fields: ["id", "ret"] });
  const source = {
    start: (stop?: Parameters<typeof pairs.startEvents>[0]) => pairs.startEvents(stop),
    collect: (opts: Parameters<typeof pairs.collectEvents>[0]) => pairs.collectEvents(opts),
    stream: (opts?: Parameters<typeof pairs.streamEvents>[0]) => pairs.streamEvents(opts),
  };
  const shape = (t: ColumnTable) => {
    const id = Array.from(t.array("id") as ArrayLike<number>, Number);
    const isMount = id.map((n) => n === NR_MOUNT);
    const flags = Array.from(t.array("flags") as ArrayLike<number>, Number);
    const ret = Array.from(t.array("ret") as ArrayLike<number>, Number);
    const src = Array.from(t.array("source") as ArrayLike<string>);
    const fs = Array.from(t.array("fstype") as ArrayLike<string>);
    return t
      .assign({
        call: isMount.map((m) => (m ? "mount" : "umount2")),
        source: src.map((s, i) => (isMount[i] ? s : null)),
        fstype: fs.map((s, i) => (isMount[i] ? s : null)),
        flags,
        flags_name: flags.map((f, i) => flagNames(f, isMount[i] ? MS_FLAGS : UMOUNT_FLAGS)),
        ret,
        ret_name: ret.map((r) => (r < 0 && r > -4096 ? errnoName(-r) : null)),
      })
      .select(...MOUNTSNOOP.columns);
  };
  return eventsTool<MountsnoopRow>(MOUNTSNOOP, source, shape, (t) => bar(t, { x: "target", title: "mounts and unmounts by target", horizontal: true }));
}
