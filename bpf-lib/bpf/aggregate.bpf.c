// SPDX-License-Identifier: GPL-2.0
/* In-kernel aggregation for any tracepoint: builds a key from standard columns
 * and record fields, takes a value (1, a field, or the time since a matching
 * start event), and keeps count/sum/min/max per key — or per (key, histogram
 * bucket). One compiled program; every aggregation configures it through .rodata.
 *
 * Latency pairs two loads of this object: the start one records a timestamp per
 * pair key in `starts`; the end one (sharing that map) takes the difference. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "event.h"
#include "stream.h"
#include "record.h"
#include "agg.h"

#define MAX_PARTS 8

enum part_src { PART_NONE = 0, PART_PID, PART_TID, PART_COMM, PART_CPU, PART_CGROUP, PART_FIELD, PART_USTR, PART_BUCKET };
enum role { ROLE_AGG = 0, ROLE_START, ROLE_END };
enum value_src { VAL_ONE = 0, VAL_FIELD, VAL_DELTA };

struct key_part {
	__u16 src;
	__u16 woff;   /* offset in the window (fields, user pointers) */
	__u16 koff;   /* offset in the key */
	__u16 size;   /* bytes in the key */
};

const volatile __u32 cfg_role = ROLE_AGG;
const volatile __u32 cfg_nparts = 0;
const volatile struct key_part cfg_parts[MAX_PARTS] = {};
const volatile __u32 cfg_npair = 0; /* parts of the start/end pair key (tid by default) */
const volatile struct key_part cfg_pair[MAX_PARTS] = {};
const volatile __u32 cfg_value_src = VAL_ONE;
const volatile __u32 cfg_value_woff = 0;
const volatile __u32 cfg_value_size = 8;
const volatile __u32 cfg_value_signed = 0;
const volatile __u32 cfg_stream = 0; /* 1: also send each value as an event; 2: only send it */

struct scratch {
	__u8 win[MAX_WINDOW];
	__u8 key[MAX_KEY];
	__u8 pkey[MAX_KEY];
	__u8 slack[MAX_KEY]; /* room for a user string read at the end of a key */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* start timestamps by pair key; the end object reuses the start object's map */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct agg_key);
	__type(value, __u64);
} starts SEC(".maps");

/* Fills key[] from the configured parts. Returns false when a part cannot be read. */
static __always_inline bool build_key(__u8 *key, const volatile struct key_part *parts, __u32 n, const __u8 *win,
				      const struct stream_ident *id, __u32 bucket)
{
#pragma unroll
	for (int w = 0; w < MAX_KEY / 8; w++)
		((__u64 *)key)[w] = 0;
	for (int i = 0; i < MAX_PARTS; i++) {
		if (i >= n)
			break;
		__u32 src = parts[i].src, ko = parts[i].koff & (MAX_KEY - 1), wo = parts[i].woff & (MAX_WINDOW - 1), sz = parts[i].size;
		switch (src) {
		case PART_PID:
			*(__u32 *)(key + (ko & (MAX_KEY - 4))) = id->pid_tgid >> 32;
			break;
		case PART_TID:
			*(__u32 *)(key + (ko & (MAX_KEY - 4))) = (__u32)id->pid_tgid;
			break;
		case PART_CPU:
			*(__u32 *)(key + (ko & (MAX_KEY - 4))) = bpf_get_smp_processor_id();
			break;
		case PART_CGROUP:
			*(__u64 *)(key + (ko & (MAX_KEY - 8))) = bpf_get_current_cgroup_id();
			break;
		case PART_BUCKET:
			*(__u32 *)(key + (ko & (MAX_KEY - 4))) = bucket;
			break;
		case PART_COMM:
			for (int j = 0; j < COMM_LEN; j++)
				key[(ko + j) & (MAX_KEY - 1)] = id->comm[j];
			break;
		case PART_FIELD:
			for (int j = 0; j < 16; j++) {
				if (j >= sz)
					break;
				key[(ko + j) & (MAX_KEY - 1)] = win[(wo + j) & (MAX_WINDOW - 1)];
			}
			break;
		case PART_USTR: {
			const void *p = (const void *)*(const __u64 *)(win + (wo & (MAX_WINDOW - 8)));
			/* reads up to sz bytes; the scratch struct has slack after the key */
			bpf_probe_read_user_str(key + ko, sz & (MAX_KEY - 1), p);
			break;
		}
		default:
			break;
		}
	}
	return true;
}

static __always_inline __s64 field_value(const __u8 *win)
{
	__u32 o = cfg_value_woff & (MAX_WINDOW - 8);
	switch (cfg_value_size) {
	case 1: return cfg_value_signed ? (__s64)*(const __s8 *)(win + o) : (__s64)*(const __u8 *)(win + o);
	case 2: return cfg_value_signed ? (__s64)*(const __s16 *)(win + o) : (__s64)*(const __u16 *)(win + o);
	case 4: return cfg_value_signed ? (__s64)*(const __s32 *)(win + o) : (__s64)*(const __u32 *)(win + o);
	default: return *(const __s64 *)(win + o);
	}
}

SEC("tracepoint")
int on_aggregate(void *ctx)
{
	struct stream_ident id;
	__u32 zero = 0;
	struct scratch *s;
	__s64 v = 1;

	if (!stream_ident_match(&id))
		return 0;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	copy_window(s->win, ctx, cfg_window);
	if (!preds_match(s->win)) {
		stat_inc(STAT_FILTERED);
		return 0;
	}
	if (cfg_role == ROLE_START) {
		__u64 now = bpf_ktime_get_ns();
		build_key(s->pkey, cfg_pair, cfg_npair, s->win, &id, 0);
		if (bpf_map_update_elem(&starts, s->pkey, &now, BPF_ANY))
			stat_inc(STAT_START_DROPPED);
		return 0;
	}
	if (cfg_role == ROLE_END) {
		build_key(s->pkey, cfg_pair, cfg_npair, s->win, &id, 0);
		__u64 *t0 = bpf_map_lookup_elem(&starts, s->pkey);
		if (!t0) {
			stat_inc(STAT_UNMATCHED);
			return 0;
		}
		v = (__s64)(bpf_ktime_get_ns() - *t0);
		bpf_map_delete_elem(&starts, s->pkey);
	} else if (cfg_value_src == VAL_FIELD) {
		v = field_value(s->win);
	}
	stat_inc(STAT_PRODUCED);
	if (cfg_stream) {
		struct event_hdr *ev = bpf_ringbuf_reserve(&events, cfg_event_size, 0);
		if (!ev) {
			stat_inc(STAT_LOST);
		} else {
			stream_fill_hdr(ev, &id);
			*(__s64 *)(ev + 1) = v;
			stream_submit(ev);
		}
		if (cfg_stream == 2)
			return 0;
	}
	build_key(s->key, cfg_parts, cfg_nparts, s->win, &id, cfg_hist ? bucket_of(v) : 0);
	add(s->key, v);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
