/* What test/vm/reads.test.ts (host) and test/vm/reads-guest.ts (in the VM) agree on:
 * the kernel paths whose offsets both sides compute, the workload size, the user's BPF C
 * the host compiles and the guest loads, and the shape of the report the guest prints. */
import type { LoadResult } from "../helpers/combos.js";

/** Calls each workload makes. */
export const READS_N = 20;

/** Kernel paths resolved on both kernels: `current` paths from the task, the others from a typed pointer. */
export const PATHS: Record<string, { root: string; path: string }> = {
  "current.real_parent.tgid": { root: "current", path: "real_parent.tgid" },
  "current.real_parent.comm": { root: "current", path: "real_parent.comm" },
  "file->f_path.dentry->d_name.name": { root: "struct file *", path: "f_path.dentry->d_name.name" },
};

/**
 * A user's BPF C (docs/custom-bpf.md) counting vfs_read calls of one process, by fentry or
 * by kprobe (VIA_FENTRY 1 or 0): compiled here against this host's vmlinux.h with
 * compileBpf(), loaded in the guest with bpf.object(), where CO-RE relocates
 * file->f_path.dentry->d_name.name to 6.1's offsets. Ring "reads", hash "by_pid", global "target".
 */
export const CUSTOM_C = String.raw`
#include "bpfbook.h"
struct read_ev { u32 pid; u32 count; char name[32]; };
RINGBUF(reads, struct read_ev);
HASH(by_pid, u32, u64, 64);
const volatile u32 target = 0;

static __always_inline int on_read(struct file *file, size_t count)
{
	u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (pid != target)
		return 0;
	struct read_ev e = { .pid = pid, .count = count };
	bpf_probe_read_kernel_str(e.name, sizeof(e.name), BPF_CORE_READ(file, f_path.dentry, d_name.name));
	EMIT(reads, &e);
	ADD(by_pid, &pid, 1);
	return 0;
}

#if VIA_FENTRY
SEC("fentry/vfs_read")
int BPF_PROG(custom_fentry, struct file *file, char *buf, size_t count)
{
	return on_read(file, count);
}
#else
SEC("kprobe/vfs_read")
int BPF_KPROBE(custom_kprobe, struct file *file, char *buf, size_t count)
{
	return on_read(file, count);
}
#endif
`;

/** The environment variables that carry the compiled objects' paths into the guest. */
export const CUSTOM_ENV = { fentry: "BPFBOOK_VM_CUSTOM_FENTRY", kprobe: "BPFBOOK_VM_CUSTOM_KPROBE" } as const;

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
