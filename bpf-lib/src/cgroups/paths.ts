/* cgroup ids to paths. bpf_get_current_cgroup_id() gives the id of the task's cgroup
 * in the cgroup2 hierarchy, which is the inode number of its directory under the
 * cgroup2 mount (kernfs). Walking that tree once gives every id; a miss (a cgroup made
 * after the walk) walks again, at most once a second. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** Where cgroup2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems); null if nowhere. */
export function cgroup2Mount(): string | null {
  let info = "";
  try {
    info = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return null;
  }
  for (const line of info.split("\n")) {
    // "36 25 0:31 / /sys/fs/cgroup/unified rw,... shared:10 - cgroup2 cgroup2 rw"
    const [pre, post] = line.split(" - ");
    if (post?.startsWith("cgroup2 ")) return pre!.split(" ")[4]!.replace(/\\040/g, " ");
  }
  return null;
}

const RESCAN_MS = 1000;

/** Resolves cgroup ids (as BPF sees them) to paths like "/system.slice/nginx.service". */
export class CgroupPaths {
  readonly #mount: string | null;
  #byId = new Map<bigint, string>();
  #scannedAt = 0;

  constructor(mount: string | null = cgroup2Mount()) {
    this.#mount = mount;
  }

  /** The path of cgroup `id` relative to the cgroup2 root ("/" for the root), or null when unknown (removed, or no cgroup2). */
  path(id: bigint | number): string | null {
    const key = BigInt(id);
    const hit = this.#byId.get(key);
    if (hit !== undefined || !this.#mount) return hit ?? null;
    if (Date.now() - this.#scannedAt < RESCAN_MS && this.#scannedAt !== 0) return null;
    this.#scan();
    return this.#byId.get(key) ?? null;
  }

  #scan(): void {
    this.#scannedAt = Date.now();
    const root = this.#mount!;
    const walk = (dir: string, rel: string): void => {
      try {
        this.#byId.set(statSync(dir, { bigint: true }).ino, rel);
      } catch {
        return; // removed while walking
      }
      let entries: import("node:fs").Dirent[] = [];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) if (e.isDirectory()) walk(join(dir, e.name), rel === "/" ? `/${e.name}` : `${rel}/${e.name}`);
    };
    walk(root, "/");
  }
}
