/* The aggregation maps and the arithmetic every aggregating program shares
 * (tracepoints, uprobes, XDP...): per-key count/sum/min/max or histogram buckets in
 * two per-CPU hash maps, one live at a time (`ctl`), so user space reads intervals
 * without tearing, each fronted by a small per-CPU cache of hot keys (`agg_cache`)
 * when the loader turns it on. The TypeScript side is bpf-lib/src/engine/aggregation-run.ts
 * (AggregationRun) and aggregation-cache.ts. */
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

/* The key's size in 8-byte words (the maps' key size, set before load): keys are
 * built, hashed and compared over these words only. */
const volatile __u32 cfg_key_words = MAX_KEY / 8;
/* 1: count through the per-CPU front cache below (its reader must merge it). */
const volatile __u32 cfg_cache = 0;

/* A per-CPU front cache of the hash maps, one per buffer (index = the live map): a
 * few slots, each holding one key's totals on this CPU. Counting a key already in a
 * slot touches only this CPU's slot: no hash map lookup, the bulk of an event's cost.
 * A slot is claimed by the first key that lands in it after a clear and keeps it;
 * other keys of that slot count in the map. User space adds each slot to its key's
 * map entry when it reads a buffer, and clears the slots of a buffer it drains
 * (engine/aggregation-cache.ts). */
#define CACHE_SLOTS_LOG2 3
#define CACHE_SLOTS (1 << CACHE_SLOTS_LOG2)
enum slot_state { SLOT_FREE = 0, SLOT_CLAIMED, SLOT_READY };
struct cache_slot {
	__u64 state;
	struct agg_val val;
	__u64 key[MAX_KEY / 8];
};
struct agg_cache_val {
	struct cache_slot slot[CACHE_SLOTS];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct agg_cache_val);
} agg_cache SEC(".maps");

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

/* Updates `map` (agg0 or agg1, a constant at each call site: the verifier then calls
 * the hash map's own lookup, inlined, instead of the generic helper's indirect call
 * that a map chosen at run time needs). Returns whether the key is in the map. */
static __always_inline bool add_to(void *map, __u8 *key, __s64 v)
{
	struct agg_val *val = bpf_map_lookup_elem(map, key);
	if (val) {
		accumulate(val, v);
		return true;
	}
	struct agg_val init = { .count = 1, .sum = v, .min = v, .max = v };
	long err = bpf_map_update_elem(map, key, &init, BPF_NOEXIST);
	if (err == -17 /* EEXIST: another CPU created it */) {
		val = bpf_map_lookup_elem(map, key);
		if (val)
			accumulate(val, v);
		return true;
	}
	if (err) {
		stat_inc(STAT_DROPPED); /* the map is full: counted, never silent */
		return false;
	}
	return true;
}

/* The slot of the front cache a key belongs in: its words folded, then a
 * multiplicative hash's top bits. */
static __always_inline __u32 slot_of(const __u8 *key)
{
	__u64 h = 0;
	for (int w = 0; w < MAX_KEY / 8; w++) {
		if (w >= cfg_key_words)
			break;
		h ^= ((const __u64 *)key)[w];
	}
	return (__u32)((h * 0x9E3779B97F4A7C15ULL) >> (64 - CACHE_SLOTS_LOG2));
}

static __always_inline bool slot_holds(const struct cache_slot *c, const __u8 *key)
{
	for (int w = 0; w < MAX_KEY / 8; w++) {
		if (w >= cfg_key_words)
			break;
		if (c->key[w] != ((const __u64 *)key)[w])
			return false;
	}
	return true;
}

/* Counts v under key in the live buffer: in this CPU's cache slot when the key holds
 * it, else in the hash map, after which the key claims its slot if free. A key only
 * claims a slot once the map holds it, so maxKeys bounds the keys as before. */
static __always_inline void add(__u8 *key, __s64 v)
{
	__u32 zero = 0;
	__u32 *active = bpf_map_lookup_elem(&ctl, &zero);
	__u32 live = active && *active ? 1 : 0;
	struct cache_slot *c = NULL;
	if (cfg_cache) {
		struct agg_cache_val *cv = bpf_map_lookup_elem(&agg_cache, &live);
		if (cv) {
			c = &cv->slot[slot_of(key) & (CACHE_SLOTS - 1)];
			if (c->state == SLOT_READY && slot_holds(c, key)) {
				accumulate(&c->val, v);
				return;
			}
		}
	}
	if (!(live ? add_to(&agg1, key, v) : add_to(&agg0, key, v)))
		return;
	/* the state word makes the claim safe against a run that interrupts this one on
	 * this CPU: only the run that moves it from free writes the key */
	if (c && c->state == SLOT_FREE && __sync_val_compare_and_swap(&c->state, SLOT_FREE, SLOT_CLAIMED) == SLOT_FREE) {
		for (int w = 0; w < MAX_KEY / 8; w++) {
			if (w >= cfg_key_words)
				break;
			c->key[w] = ((const __u64 *)key)[w];
		}
		c->state = SLOT_READY;
	}
}

#endif
