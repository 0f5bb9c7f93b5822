// SPDX-License-Identifier: GPL-2.0
/* CPU profiling: attached to a cpu-clock sampling perf event on every CPU, it
 * records the kernel and user stacks of whatever was running (stack ids in a
 * BPF_MAP_TYPE_STACK_TRACE map) and counts samples per (pid, kernel stack, user
 * stack, comm). User space symbolizes the stacks afterwards
 * (bpf-lib/src/profile/). Every sample is accounted for in `pstats`. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define COMM_LEN 16
#define MAX_DEPTH 127 /* PERF_MAX_STACK_DEPTH */
#define EFAULT 14

/* Counters, per CPU. SAMPLES counts every sample kept (in the table); the rest say
 * why a sample or a stack is missing. */
enum pstat {
	PS_SAMPLES = 0,   /* samples counted into `counts` */
	PS_IDLE,          /* samples of the idle task (pid 0), when not kept */
	PS_FILTERED,      /* samples of other processes (pid filter) */
	PS_DROPPED,       /* samples not counted: `counts` was full */
	PS_KSTACK_LOST,   /* kernel stack not recorded (stack map full or hash collision) */
	PS_USTACK_LOST,   /* user stack not recorded (same) */
	PS_MAX,
};

const volatile __u32 cfg_pid = 0;       /* tgid to keep, 0 = all */
const volatile __u32 cfg_kernel = 1;    /* record kernel stacks */
const volatile __u32 cfg_user = 1;      /* record user stacks */
const volatile __u32 cfg_idle = 0;      /* keep samples of the idle task */

struct pkey {
	__u32 pid;
	__s32 kstack; /* stack id, or -errno: -EFAULT means "no stack of this kind" (e.g. no user stack for a kernel thread) */
	__s32 ustack;
	__u32 _pad;
	char comm[COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384); /* resized before load */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 40960); /* resized before load */
	__type(key, struct pkey);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} pstats SEC(".maps");

static __always_inline void pstat_inc(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&pstats, &idx);
	if (c)
		*c += 1;
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 pid = pid_tgid >> 32;
	struct pkey key = {};

	if (cfg_pid && pid != cfg_pid) {
		pstat_inc(PS_FILTERED);
		return 0;
	}
	if (pid == 0 && !cfg_idle) {
		pstat_inc(PS_IDLE);
		return 0;
	}
	key.pid = pid;
	key.kstack = -EFAULT;
	key.ustack = -EFAULT;
	if (cfg_kernel) {
		key.kstack = bpf_get_stackid(ctx, &stacks, 0);
		if (key.kstack < 0 && key.kstack != -EFAULT)
			pstat_inc(PS_KSTACK_LOST);
	}
	if (cfg_user) {
		key.ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		if (key.ustack < 0 && key.ustack != -EFAULT)
			pstat_inc(PS_USTACK_LOST);
	}
	bpf_get_current_comm(key.comm, COMM_LEN);

	__u64 *n = bpf_map_lookup_elem(&counts, &key);
	if (n) {
		__sync_fetch_and_add(n, 1);
	} else {
		__u64 one = 1;
		long err = bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
		if (err == -17 /* EEXIST: another CPU created it */) {
			n = bpf_map_lookup_elem(&counts, &key);
			if (n)
				__sync_fetch_and_add(n, 1);
		} else if (err) {
			pstat_inc(PS_DROPPED);
			return 0;
		}
	}
	pstat_inc(PS_SAMPLES);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
