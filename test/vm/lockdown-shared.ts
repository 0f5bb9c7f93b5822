/* What the lockdown checks' two halves share: the guest (test/vm/lockdown-guest.ts) and the
 * host's assertions (test/vm-sample.test.ts). */

/** The file the gated workload opens, and how many times; the names workload's calls. */
export const OPENED = "/tmp/bpfbook-lockdown-open";
export const N = 5;
/** The file the read workload reads. */
export const DATA = "/tmp/bpfbook-lockdown-data.txt";
/** The line the guest prints its report after. */
export const TAG = "@@LOCKDOWN";

/** What a check saw: its values, or the error it threw (name, code, message). */
export interface LockdownRun {
  error?: string;
  name?: string;
  code?: string;
  message?: string;
  [k: string]: unknown;
}

export interface LockdownReport {
  lockdown: string;
  kernel: string;
  support: Record<string, string | true>;
  /** The guest node process's cgroup v2 id and path (the workload's are the same). */
  cgroup: { id: number; path: string } | null;
  /** tracefs: mounted (per /proc/mounts), and what listing /sys/kernel/tracing gave. */
  tracefs?: { mounted: boolean; list: string };
  warnings: string[];
  runs: Record<string, LockdownRun>;
}
