/* What test/vm/reads.test.ts (host) and test/vm/reads-guest.ts (in the VM) agree on:
 * the kernel paths whose offsets both sides compute, the workload size, and the shape
 * of the report the guest prints. */
import type { LoadResult } from "../helpers/combos.js";

/** Calls each workload makes. */
export const READS_N = 20;

/** Kernel paths resolved on both kernels: `current` paths from the task, the others from a typed pointer. */
export const PATHS: Record<string, { root: string; path: string }> = {
  "current.real_parent.tgid": { root: "current", path: "real_parent.tgid" },
  "current.real_parent.comm": { root: "current", path: "real_parent.comm" },
  "file->f_path.dentry->d_name.name": { root: "struct file *", path: "f_path.dentry->d_name.name" },
};

/** One check's result, or the error it threw. */
export type RunResult = Record<string, unknown> & { error?: string };

export interface GuestReport {
  /** The guest's kernel release. */
  kernel: string;
  support: Record<string, true | string>;
  runs: Record<string, RunResult>;
  ms: Record<string, number>;
  /** Offsets (P(i+1) = *(P(i) + offsets[i]), leaf at the last) by PATHS name, or the error. */
  offsets: Record<string, number[] | string>;
  combos: (LoadResult | { kind: string; error: string })[];
  /** The guest process that spawned the workloads: their parent. */
  nodePid: number;
}
