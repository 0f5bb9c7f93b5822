// SPDX-License-Identifier: GPL-2.0
/* Feature probes for `bpfbook doctor`: one trivial program per attach kind.
 * The doctor opens this object, autoloads exactly one program, loads it,
 * attaches it to something real, and disposes it again, so whatever the
 * kernel refuses (at load or at attach) names a missing feature. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* perf_event sampling with stacks: the probe really calls bpf_get_stackid. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} f_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} f_events SEC(".maps");

SEC("tracepoint")
int f_tracepoint(void *ctx)
{
	return 0;
}

SEC("raw_tracepoint")
int f_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	return 0;
}

SEC("kprobe")
int f_kprobe(struct pt_regs *ctx)
{
	return 0;
}

SEC("kretprobe")
int f_kretprobe(struct pt_regs *ctx)
{
	return 0;
}

SEC("fentry/do_nanosleep")
int f_fentry(void *ctx)
{
	return 0;
}

SEC("fexit/do_nanosleep")
int f_fexit(void *ctx)
{
	return 0;
}

SEC("uprobe")
int f_uprobe(struct pt_regs *ctx)
{
	return 0;
}

SEC("perf_event")
int f_perf_event(struct bpf_perf_event_data *ctx)
{
	bpf_get_stackid(ctx, &f_stacks, 0);
	return 0;
}

SEC("xdp")
int f_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* Reads kernel memory: the calling task's tgid, compared with what
 * bpf_get_current_pid_tgid says. lockdown=confidentiality removes
 * bpf_probe_read_kernel from the helpers a program may call (load fails). */
const volatile __u32 cfg_tgid = 0;

struct read_kernel_result {
	__s64 ret;       /* bpf_probe_read_kernel's return value */
	__u32 read_tgid; /* task->tgid as read */
	__u32 tgid;      /* from bpf_get_current_pid_tgid */
	__u64 hits;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct read_kernel_result);
} f_read_result SEC(".maps");

SEC("tracepoint")
int f_read_kernel(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0;
	struct task_struct *task;
	struct read_kernel_result *r;
	int read_tgid = 0;

	if (tgid != cfg_tgid)
		return 0;
	r = bpf_map_lookup_elem(&f_read_result, &zero);
	if (!r)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	r->ret = bpf_probe_read_kernel(&read_tgid, sizeof(read_tgid), &task->tgid);
	r->read_tgid = read_tgid;
	r->tgid = tgid;
	r->hits++;
	return 0;
}

/* Run once with BPF_PROG_TEST_RUN: returns 0 when a record went through the ring buffer. */
SEC("syscall")
int f_ringbuf(void *ctx)
{
	__u64 *rec = bpf_ringbuf_reserve(&f_events, sizeof(*rec), 0);

	if (!rec)
		return 1;
	*rec = 0x62706662 /* "bpfb" */;
	bpf_ringbuf_submit(rec, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
