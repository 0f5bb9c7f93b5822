// SPDX-License-Identifier: GPL-2.0
/* CPU profiling: attached to a cpu-clock sampling perf event on every CPU, it
 * records the kernel and user stacks of whatever was running (stack ids in a
 * BPF_MAP_TYPE_STACK_TRACE map) and counts samples per (pid, kernel stack, user
 * stack, comm). User space symbolizes the stacks afterwards
 * (bpf-lib/src/probes/profile/). Every sample is accounted for in `pstats`.
 *
 * The stack map keeps one stack per hash bucket: a new stack whose bucket holds
 * another one gets -EEXIST (bpf_get_stackid without BPF_F_REUSE_STACKID, which
 * would silently re-point older samples at the new stack). Such a stack is then
 * copied with bpf_get_stack into `spill`, keyed by a 64-bit hash of its frames, so
 * collisions cost a copy instead of the stack.
 *
 * Two more programs share the object: on_switch (off-CPU time, below) and
 * on_sample_read (sampled kernel state, at the end: a value read through kernel
 * pointers at each sample, aggregated through agg.h like any aggregation). One of
 * the three is loaded; the maps the others use are cut to one entry. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "event.h"
#include "stream.h"   /* cfg_pid (tgid to keep, 0 = all), `stats`, stat_inc */
#include "agg.h"
#include "key.h"
#include "derive.h"   /* `stacks`: the stack id map of every program here */

#define MAX_DEPTH 127 /* PERF_MAX_STACK_DEPTH */
#define EFAULT 14
#define EEXIST 17

/* Counters, per CPU. SAMPLES counts every sample kept (in the table); the rest say
 * why a sample or a stack is missing. */
enum pstat {
	PS_SAMPLES = 0,   /* samples counted into `counts` */
	PS_IDLE,          /* samples of the idle task (pid 0), when not kept */
	PS_FILTERED,      /* samples of other processes (pid filter) */
	PS_DROPPED,       /* samples not counted: `counts` was full */
	PS_KSTACK_LOST,   /* kernel stack not recorded (stack map full or hash collision) */
	PS_USTACK_LOST,   /* user stack not recorded (same) */
	PS_RECOVERED,     /* offcpu: periods whose return to the CPU the kernel did not report, rebuilt (below) */
	PS_UNSEEN,        /* offcpu: such periods that could not be rebuilt (no kernel reads, or a reused thread id) */
	PS_MAX,
};

const volatile __u32 cfg_kernel = 1;    /* record kernel stacks */
const volatile __u32 cfg_user = 1;      /* record user stacks */
const volatile __u32 cfg_idle = 0;      /* keep samples of the idle task */

struct pkey {
	__u32 pid;
	__s32 kstack; /* stack id, or -errno: -EFAULT means "no stack of this kind" (e.g. no user stack for a kernel thread) */
	__s32 ustack;
	__u32 _pad;
	char comm[COMM_LEN];
	__u64 khash;  /* kstack == -EEXIST: the stack's key in `spill` (0: not recorded) */
	__u64 uhash;
};

struct stack_buf {
	__u64 ips[MAX_DEPTH];
};

/* stacks that collided in `stacks`, by hash of their frames; allocated as used */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096); /* resized before load */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct stack_buf);
} spill SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_buf);
} sbuf SEC(".maps");

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

/* Copies the stack into `spill` under a hash of its frames; returns the hash, or 0 if it could not. */
static __always_inline __u64 spill_stack(void *ctx, __u64 flags)
{
	__u32 zero = 0;
	struct stack_buf *b = bpf_map_lookup_elem(&sbuf, &zero);
	if (!b)
		return 0;
	long n = bpf_get_stack(ctx, b->ips, sizeof(b->ips), flags); /* zero-fills the rest */
	if (n <= 0)
		return 0;
	__u64 h = 14695981039346656037ULL; /* FNV-1a over 64-bit words, with a final mix */
	__u32 nw = (__u32)n / 8;
	for (int i = 0; i < MAX_DEPTH; i++) {
		if (i >= nw)
			break;
		h = (h ^ b->ips[i]) * 1099511628211ULL;
		h ^= h >> 29;
	}
	h |= 1; /* never 0, which means "none" */
	if (bpf_map_update_elem(&spill, &h, b, BPF_NOEXIST) && !bpf_map_lookup_elem(&spill, &h))
		return 0; /* spill is full */
	return h;
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
		if (key.kstack == -EEXIST)
			key.khash = spill_stack(ctx, 0);
		if (key.kstack < 0 && key.kstack != -EFAULT && !key.khash)
			pstat_inc(PS_KSTACK_LOST);
	}
	if (cfg_user) {
		key.ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		if (key.ustack == -EEXIST)
			key.uhash = spill_stack(ctx, BPF_F_USER_STACK);
		if (key.ustack < 0 && key.ustack != -EFAULT && !key.uhash)
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

/* Off-CPU time (on_switch, loaded instead of on_sample): at sched_switch the task
 * leaving the CPU is still `current`, so its stacks are recorded with the time it
 * left; when the same thread is switched back in, the time it spent off the CPU
 * is added to its (pid, comm, stacks) key in `offcounts`.
 *
 * Some context switches are never reported: on the machine this was written on, a
 * task woken while one particular thread ran was put on the CPU with no
 * sched_switch at all (ftrace, perf and raw tracepoints all missed it; bpftrace's
 * counts show the same gap). The thread's next switch out then finds its previous
 * start still open. With kernel reads allowed (cfg_recover) the period is rebuilt:
 * the task's CPU time since it left (se.sum_exec_runtime, which the scheduler has
 * brought up to date before the tracepoint) is how long it has been back, so it
 * came back at now - that; exact unless it was also preempted unseen in between,
 * and counted in PS_RECOVERED. Without kernel reads it is counted in PS_UNSEEN. */
const volatile __u32 cfg_preempted = 0;   /* also count switches of runnable (preempted) tasks */
const volatile __u64 cfg_min_ns = 0;      /* ignore shorter off-CPU periods */
const volatile __u32 cfg_recover = 0;     /* rebuild unreported returns (reads task_struct) */

struct offval {
	__u64 ns;
	__u64 count;
};

struct offstart {
	__u64 ts;
	__u64 ran;  /* cfg_recover: the thread's se.sum_exec_runtime when it left */
	__u64 born; /* cfg_recover: its start_time, so a reused thread id is not taken for it */
	struct pkey key;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* sized before load when used */
	__type(key, struct pkey);
	__type(value, struct offval);
} offcounts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* sized before load when used */
	__type(key, __u32); /* tid */
	__type(value, struct offstart);
} offstarts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct offstart);
} offbuf SEC(".maps");

/* Adds one period of `delta` ns to the start's key; false if `offcounts` is full. */
static __always_inline bool off_add(struct pkey *key, __u64 delta)
{
	if (delta < cfg_min_ns)
		return true;
	struct offval *v = bpf_map_lookup_elem(&offcounts, key);
	if (!v) {
		struct offval init = { .ns = delta, .count = 1 };
		long err = bpf_map_update_elem(&offcounts, key, &init, BPF_NOEXIST);
		if (!err)
			goto counted;
		if (err != -EEXIST)
			return false;
		/* another CPU created it */
		v = bpf_map_lookup_elem(&offcounts, key);
		if (!v)
			return false;
	}
	__sync_fetch_and_add(&v->ns, delta);
	__sync_fetch_and_add(&v->count, 1);
counted:
	pstat_inc(PS_SAMPLES);
	return true;
}

/* The thread leaving still has an open start: its last return was not reported.
 * Returns whether there was one (the caller replaces or deletes it). */
static __always_inline bool off_unseen_return(__u32 tid, __u64 now)
{
	struct offstart *st = bpf_map_lookup_elem(&offstarts, &tid);
	if (!st)
		return false;
	if (!cfg_recover) {
		pstat_inc(PS_UNSEEN);
		return true;
	}
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u64 ran = BPF_CORE_READ(t, se.sum_exec_runtime);
	__u64 born = BPF_CORE_READ(t, start_time);
	if (born != st->born || ran < st->ran || now - (ran - st->ran) < st->ts) {
		pstat_inc(PS_UNSEEN);
		return true;
	}
	if (!off_add(&st->key, now - (ran - st->ran) - st->ts))
		pstat_inc(PS_DROPPED);
	else
		pstat_inc(PS_RECOVERED);
	return true;
}

SEC("tracepoint/sched/sched_switch")
int on_switch(struct trace_event_raw_sched_switch *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 zero = 0;
	__u32 prev_tid = ctx->prev_pid, next_tid = ctx->next_pid;
	long prev_state = ctx->prev_state;

	/* The task leaving: remember when, and where (its stacks). A task exiting
	 * (X, Z: 0x10, 0x20) never comes back, so it is not remembered. */
	if (prev_tid != 0) {
		__u64 pid_tgid = bpf_get_current_pid_tgid();
		__u32 pid = pid_tgid >> 32;
		if (!cfg_pid || pid == cfg_pid) {
			bool open = off_unseen_return(prev_tid, now);
			if ((cfg_preempted || (prev_state & 0xff) != 0) && !(prev_state & 0x30)) {
				struct offstart *st = bpf_map_lookup_elem(&offbuf, &zero);
				if (st) {
					__builtin_memset(st, 0, sizeof(*st));
					st->ts = now;
					if (cfg_recover) {
						struct task_struct *t = (struct task_struct *)bpf_get_current_task();
						st->ran = BPF_CORE_READ(t, se.sum_exec_runtime);
						st->born = BPF_CORE_READ(t, start_time);
					}
					st->key.pid = pid;
					st->key.kstack = -EFAULT;
					st->key.ustack = -EFAULT;
					if (cfg_kernel) {
						st->key.kstack = bpf_get_stackid(ctx, &stacks, 0);
						if (st->key.kstack == -EEXIST)
							st->key.khash = spill_stack(ctx, 0);
						if (st->key.kstack < 0 && st->key.kstack != -EFAULT && !st->key.khash)
							pstat_inc(PS_KSTACK_LOST);
					}
					if (cfg_user) {
						st->key.ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
						if (st->key.ustack == -EEXIST)
							st->key.uhash = spill_stack(ctx, BPF_F_USER_STACK);
						if (st->key.ustack < 0 && st->key.ustack != -EFAULT && !st->key.uhash)
							pstat_inc(PS_USTACK_LOST);
					}
					bpf_get_current_comm(st->key.comm, COMM_LEN);
					if (bpf_map_update_elem(&offstarts, &prev_tid, st, BPF_ANY))
						pstat_inc(PS_DROPPED);
				}
			} else if (open) {
				/* not remembered: a start left open would be taken for an unseen return */
				bpf_map_delete_elem(&offstarts, &prev_tid);
			}
		} else if (cfg_preempted || (prev_state & 0xff) != 0) {
			pstat_inc(PS_FILTERED);
		}
	}

	/* The task arriving: if we saw it leave, it was off the CPU until now. */
	struct offstart *st = bpf_map_lookup_elem(&offstarts, &next_tid);
	if (!st)
		return 0;
	if (!off_add(&st->key, now - st->ts))
		pstat_inc(PS_DROPPED);
	bpf_map_delete_elem(&offstarts, &next_tid);
	return 0;
}

/* Sampled kernel state (on_sample_read, loaded instead of on_sample): at each sample
 * the derived fields (derive.h: reads through kernel pointers from the current task,
 * such as current->se.cfs_rq->nr_queued) are written into a window, and one of them
 * is aggregated per key (key.h: cpu, pid, comm, other derived fields) into agg0/agg1
 * as count/sum/min/max or histogram buckets (agg.h), which AggregationRun reads.
 * Counters are stream.h's `stats`: PRODUCED samples counted, FILTERED samples of
 * other processes (cfg_pid), READ_FAILED samples left out because a read faulted
 * (derive.h counts the fault; the zeros it leaves are not a value), DROPPED samples
 * whose key did not fit in the map. */
enum value_adjust {
	ADJ_NONE = 0,
	ADJ_LESS_ONE,       /* v - 1 when v > 0 (bcc runqlen: the running task leaves the queue length) */
	ADJ_LESS_RUNNING,   /* v - 1 unless the idle task (pid 0) runs: a count that includes the running task, if any */
};

const volatile __u32 cfg_nparts = 0;
const volatile struct key_part cfg_parts[MAX_PARTS] = {};
const volatile __u32 cfg_value_src = 0;   /* 0: count samples (value 1); 1: the window field at cfg_value_woff */
const volatile __u32 cfg_value_woff = 0;
const volatile __u32 cfg_value_size = 8;
const volatile __u32 cfg_value_adjust = ADJ_NONE;

struct read_scratch {
	__u8 win[MAX_SPAN];
	__u8 key[MAX_KEY];
	__u8 slack[MAX_KEY]; /* key.h may read a string up to the end of a key */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct read_scratch);
} rscratch SEC(".maps");

SEC("perf_event")
int on_sample_read(struct bpf_perf_event_data *ctx)
{
	struct stream_ident id;
	__u32 zero = 0;
	__s64 v = 1;

	id.pid_tgid = bpf_get_current_pid_tgid();
	if (cfg_pid && (__u32)(id.pid_tgid >> 32) != cfg_pid) {
		stat_inc(STAT_FILTERED);
		return 0;
	}
	struct read_scratch *s = bpf_map_lookup_elem(&rscratch, &zero);
	if (!s)
		return 0;
	/* older kernels leave stack bytes after the name: zero it so comm keys compare equal */
	*(__u64 *)&id.comm[0] = 0;
	*(__u64 *)&id.comm[8] = 0;
	bpf_get_current_comm(id.comm, COMM_LEN);
	if (cfg_nderive) {
		derive_all(ctx, s->win);
		__u64 bad = derive_faults_take();
		if (bad) {
			/* a sample whose read faulted is left out, and counted */
			stat_add(STAT_READ_FAILED, bad);
			return 0;
		}
	}
	if (cfg_value_src) {
		v = window_int(s->win, cfg_value_woff, cfg_value_size, cfg_value_signed);
		if (cfg_value_adjust == ADJ_LESS_ONE && v > 0)
			v -= 1;
		else if (cfg_value_adjust == ADJ_LESS_RUNNING && id.pid_tgid != 0 && v > 0)
			v -= 1;
	}
	stat_inc(STAT_PRODUCED);
	build_key(s->key, cfg_parts, cfg_nparts, s->win, &id, cfg_hist ? bucket_of(v) : 0);
	add(s->key, v);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
