/* What runs in a cgroup, read from its path: container ids of the usual runtimes
 * (docker, containerd/CRI, CRI-O, podman), systemd-nspawn machines, and the systemd
 * unit (service or scope) for everything else. Pure: the paths are what
 * bpf_get_current_cgroup_id() resolves to under the cgroup2 mount. */

export interface CgroupOwner {
  /** A container id (64 hex digits, as the runtime names it) or an nspawn machine name; null when the path shows none. */
  container: string | null;
  /** Which runtime's naming matched. */
  runtime: "docker" | "containerd" | "cri-o" | "podman" | "kubepods" | "nspawn" | null;
  /** The innermost systemd unit (`nginx.service`, `session-3.scope`), or null. */
  unit: string | null;
}

const HEX64 = "[0-9a-f]{64}";
// Most specific first: a kubepods path also ends in the runtime's own scope name.
const PATTERNS: { runtime: NonNullable<CgroupOwner["runtime"]>; re: RegExp }[] = [
  { runtime: "containerd", re: new RegExp(`(?:^|/)cri-containerd-(${HEX64})\\.scope(?:/|$)`) },
  { runtime: "cri-o", re: new RegExp(`(?:^|/)crio-(${HEX64})\\.scope(?:/|$)`) },
  { runtime: "podman", re: new RegExp(`(?:^|/)libpod-(${HEX64})\\.scope(?:/|$)`) },
  { runtime: "docker", re: new RegExp(`(?:^|/)docker-(${HEX64})\\.scope(?:/|$)`) },
  { runtime: "docker", re: new RegExp(`(?:^|/)docker/(${HEX64})(?:/|$)`) },
  { runtime: "kubepods", re: new RegExp(`(?:^|/)kubepods[^/]*/(?:[^/]+/)*?(${HEX64})(?:/|$)`) },
  { runtime: "nspawn", re: /(?:^|\/)machine-([^/]+)\.scope(?:\/|$)/ },
];

/** The container (and systemd unit) a cgroup path belongs to. */
export function cgroupOwner(path: string): CgroupOwner {
  let container: string | null = null;
  let runtime: CgroupOwner["runtime"] = null;
  for (const p of PATTERNS) {
    const m = p.re.exec(path);
    if (m) {
      // systemd escapes "-" in machine names as \x2d
      container = p.runtime === "nspawn" ? m[1]!.replace(/\\x2d/g, "-") : m[1]!;
      runtime = p.runtime;
      break;
    }
  }
  const units = path.split("/").filter((s) => /\.(service|scope)$/.test(s));
  return { container, runtime, unit: units.at(-1) ?? null };
}
