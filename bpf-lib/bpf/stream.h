/* What every event-stream program shares: the ring buffer, the counters, the
 * pid/tid/comm filter and the header. Configured through .rodata at load. */
#ifndef BPFBOOK_STREAM_H
#define BPFBOOK_STREAM_H

const volatile __u32 cfg_pid = 0;          /* tgid to keep, 0 = any */
const volatile __u32 cfg_tid = 0;          /* tid to keep, 0 = any */
/* The tracer's own process, left out of whole-machine traces of what a process does
 * itself (syscalls, its functions): its reads and waits would otherwise show up in
 * (and feed) what it measures. 0 = keep it. The tgid as the tracer sees it: when
 * cfg_self_ns_ino is set, in the pid namespace with that nsfs dev/inode (a tracer
 * in a container), else in the initial one. */
const volatile __u32 cfg_exclude_tgid = 0;
const volatile __u64 cfg_self_ns_dev = 0;
const volatile __u64 cfg_self_ns_ino = 0;
const volatile __u32 cfg_comm_len = 0;     /* 0 = no comm filter */
const volatile char cfg_comm[COMM_LEN] = {};
const volatile __u32 cfg_event_size = 40;  /* bytes reserved per event */
/* Force a wakeup once this much data waits. Below it, the kernel's own rule applies
 * (flags 0): only the record at the consumer's position wakes, i.e. the first one
 * after each drain. So an idle ring costs no wakeups at all, a trickle one wakeup
 * per drain (the consumer holds off its next drain for a poll period), and a flood
 * one wakeup per threshold's worth of data. */
const volatile __u64 cfg_wakeup_bytes = 0;
/* Which probe of a group this object is (a list or wildcard of tracepoints, each
 * its own object sharing one ring buffer or one set of aggregation maps): written
 * into every event's header `flags` and into PART_PROBE key parts, so user space
 * knows which record layout (and which name) an event has. 0 for a lone probe. */
const volatile __u32 cfg_probe_id = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24); /* resized before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct stream_ident {
	__u64 pid_tgid;
	char comm[COMM_LEN];
};

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&stats, &idx);
	if (c)
		*c += 1;
}

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&stats, &idx);
	if (c)
		*c += n;
}

static __always_inline bool stream_is_self(__u64 pid_tgid)
{
	if (!cfg_self_ns_ino)
		return (__u32)(pid_tgid >> 32) == cfg_exclude_tgid;
	struct bpf_pidns_info ns = {};
	/* fails (non-zero) when the current task is not in that namespace: not us */
	if (bpf_get_ns_current_pid_tgid(cfg_self_ns_dev, cfg_self_ns_ino, &ns, sizeof(ns)))
		return false;
	return ns.tgid == cfg_exclude_tgid;
}

static __always_inline bool stream_ident_match(struct stream_ident *id)
{
	id->pid_tgid = bpf_get_current_pid_tgid();
	/* older kernels leave stack bytes after the name: zero it so comm keys compare equal */
	*(__u64 *)&id->comm[0] = 0;
	*(__u64 *)&id->comm[8] = 0;
	if (cfg_exclude_tgid && stream_is_self(id->pid_tgid)) {
		/* counted: leaving events out is never silent */
		stat_inc(STAT_EXCLUDED_SELF);
		return false;
	}
	if (cfg_pid && (__u32)(id->pid_tgid >> 32) != cfg_pid)
		return false;
	if (cfg_tid && (__u32)id->pid_tgid != cfg_tid)
		return false;
	bpf_get_current_comm(id->comm, COMM_LEN);
	if (cfg_comm_len) {
#pragma unroll
		for (int i = 0; i < COMM_LEN; i++) {
			if (i >= cfg_comm_len)
				break;
			if (id->comm[i] != cfg_comm[i]) {
				stat_inc(STAT_FILTERED);
				return false;
			}
		}
	}
	return true;
}

static __always_inline void stream_fill_hdr(struct event_hdr *ev, const struct stream_ident *id)
{
	ev->ts = bpf_ktime_get_ns();
	ev->pid = id->pid_tgid >> 32;
	ev->tid = (__u32)id->pid_tgid;
	ev->cpu = bpf_get_smp_processor_id();
	ev->flags = cfg_probe_id;
	__builtin_memcpy(ev->comm, id->comm, COMM_LEN);
}

static __always_inline void stream_submit(void *ev)
{
	__u64 flags = 0;
	if (cfg_wakeup_bytes)
		flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= cfg_wakeup_bytes
				? BPF_RB_FORCE_WAKEUP : 0;
	bpf_ringbuf_submit(ev, flags);
}

#endif
