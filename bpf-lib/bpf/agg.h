/* The aggregation maps and the arithmetic every aggregating program shares
 * (tracepoints, uprobes, XDP...): per-key count/sum/min/max or histogram buckets in
 * two per-CPU hash maps, one live at a time (`ctl`), so user space reads intervals
 * without tearing. The TypeScript side is bpf-lib/src/engine/aggregation-run.ts (AggregationRun). */
#ifndef BPFBOOK_AGG_H
#define BPFBOOK_AGG_H

#include "bpfbook_log2.h"

#define MAX_KEY 128 /* bytes; bpf-lib/src/engine/keys.ts MAX_KEY */

enum hist_kind { HIST_NONE = 0, HIST_LOG2, HIST_LINEAR };

struct agg_val {
	__u64 count;
	__u64 sum;
	__s64 min;
	__s64 max;
};

const volatile __u32 cfg_hist = HIST_NONE;
const volatile __s64 cfg_lmin = 0;
const volatile __s64 cfg_lmax = 0;
const volatile __s64 cfg_lstep = 1;
/* The value is a signed integer (1) or an unsigned one (0): an unsigned 64-bit value
 * of 2^63 or more is negative as an __s64, so min/max and buckets compare it unsigned. */
const volatile __u32 cfg_value_signed = 1;

struct agg_key {
	__u8 b[MAX_KEY];
};

/* Two maps, so user space can read one interval's totals while the next interval
 * counts into the other: no tearing, no lost updates. `ctl` says which is live. */
struct agg_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 10240); /* resized before load */
	__type(key, struct agg_key); /* key size set before load */
	__type(value, struct agg_val);
};
struct agg_map agg0 SEC(".maps");
struct agg_map agg1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ctl SEC(".maps");

static __always_inline __u32 bucket_of(__s64 v)
{
	if (cfg_hist == HIST_LOG2) {
		if (!cfg_value_signed)
			return v == 0 ? 0 : bpfbook_log2_u64((__u64)v) + 1;
		return v <= 0 ? 0 : bpfbook_log2_u64((__u64)v) + 1; /* bucket b >= 1 holds [2^(b-1), 2^b) */
	}
	if (!cfg_value_signed && v < 0) /* an unsigned value of 2^63 or more: past any s64 max */
		return (__u32)((__u64)(cfg_lmax - cfg_lmin) / (__u64)cfg_lstep) + 1;
	if (v < cfg_lmin)
		return 0;
	/* unsigned division: clang 14's BPF target has no signed divide, and both are >= 0 here */
	if (v >= cfg_lmax)
		return (__u32)((__u64)(cfg_lmax - cfg_lmin) / (__u64)cfg_lstep) + 1;
	return (__u32)((__u64)(v - cfg_lmin) / (__u64)cfg_lstep) + 1;
}

/* A per-CPU hash element created on one CPU starts zeroed on every other CPU: a
 * slot that has counted nothing takes v as its min and max, or min(0, v) would
 * report 0 as soon as a key is updated on two CPUs. */
static __always_inline void accumulate(struct agg_val *val, __s64 v)
{
	if (val->count == 0) {
		val->min = v;
		val->max = v;
	} else {
		if (cfg_value_signed ? v < val->min : (__u64)v < (__u64)val->min)
			val->min = v;
		if (cfg_value_signed ? v > val->max : (__u64)v > (__u64)val->max)
			val->max = v;
	}
	val->count += 1;
	val->sum += v;
}

static __always_inline void add(__u8 *key, __s64 v)
{
	__u32 zero = 0;
	__u32 *active = bpf_map_lookup_elem(&ctl, &zero);
	void *map = (active && *active) ? (void *)&agg1 : (void *)&agg0;
	struct agg_val *val = bpf_map_lookup_elem(map, key);
	if (val) {
		accumulate(val, v);
		return;
	}
	struct agg_val init = { .count = 1, .sum = v, .min = v, .max = v };
	long err = bpf_map_update_elem(map, key, &init, BPF_NOEXIST);
	if (err == -17 /* EEXIST: another CPU created it */) {
		val = bpf_map_lookup_elem(map, key);
		if (val)
			accumulate(val, v);
	} else if (err) {
		stat_inc(STAT_DROPPED); /* the map is full: counted, never silent */
	}
}

#endif
