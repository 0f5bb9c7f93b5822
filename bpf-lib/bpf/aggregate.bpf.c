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
#include "key.h"
#include "derive.h"

#define MAX_CARRY 512 /* bytes of start-side fields carried to the end */

enum role { ROLE_AGG = 0, ROLE_START, ROLE_END };
enum value_src { VAL_ONE = 0, VAL_FIELD, VAL_DELTA };

const volatile __u32 cfg_role = ROLE_AGG;
const volatile __u32 cfg_nparts = 0;
const volatile struct key_part cfg_parts[MAX_PARTS] = {};
const volatile __u32 cfg_npair = 0; /* parts of the start/end pair key (tid by default) */
const volatile struct key_part cfg_pair[MAX_PARTS] = {};
const volatile __u32 cfg_pair_words = MAX_KEY / 8; /* the pair key's size (the `starts` key) in words */
const volatile __u32 cfg_value_src = VAL_ONE;
const volatile __u32 cfg_value_woff = 0;
const volatile __u32 cfg_value_size = 8;
const volatile __u32 cfg_stream = 0; /* 1: also send each value as an event; 2: only send it */
/* Stream events carry the value, then the first cfg_stream_bytes of the window (end
 * fields, derived fields, carried start fields): one row per pair. */
const volatile __u32 cfg_stream_bytes = 0;
/* Pairing: the start gathers cfg_carry_bytes / 8 words into its `starts` entry, word k
 * from offset cfg_carry_src[k] of its window followed by its ident (so a start field at
 * any offset, or the starting task's pid/tid/comm, can be carried); the end puts them
 * back, contiguous, at [cfg_carry_off, + cfg_carry_bytes) of its own window, where its
 * keys and stream events read them like its own fields. */
const volatile __u32 cfg_carry_off = 0;
const volatile __u32 cfg_carry_bytes = 0;
const volatile __u16 cfg_carry_src[MAX_CARRY / 8] = {};

#define IDENT_BYTES 32 /* struct stream_ident (24 bytes), rounded up */

struct scratch {
	__u8 win[MAX_SPAN];
	__u8 ident[IDENT_BYTES]; /* right after win: carried words address both as one span */
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

struct start {
	__u64 ts;
	__u8 carry[MAX_CARRY];
};
/* Start timestamps (and carried fields) by pair key; the end object reuses the start
 * object's map. The value size is cut to 8 + carried bytes before load, so plain
 * latency keeps 8-byte values: no BTF type, so libbpf may resize it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(key_size, MAX_KEY);
	__uint(value_size, sizeof(struct start));
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct start);
} start_scratch SEC(".maps");

/* Copies `bytes` (a multiple of 8) from src to dst in 8-byte words. */
static __always_inline void copy_words(__u8 *dst, const __u8 *src, __u32 bytes)
{
	for (int k = 0; k < MAX_CARRY / 8; k++) {
		if (k >= bytes / 8)
			break;
		*(__u64 *)(dst + k * 8) = *(const __u64 *)(src + k * 8);
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
	if (cfg_nderive)
		derive_all(ctx, s->win);
	if (!preds_match(s->win)) {
		if (cfg_nderive)
			derive_faults_settle(false);
		stat_inc(STAT_FILTERED);
		return 0;
	}
	if (cfg_nderive)
		derive_faults_settle(true);
	if (cfg_role == ROLE_START) {
		struct start *st = bpf_map_lookup_elem(&start_scratch, &zero);
		if (!st)
			return 0;
		st->ts = bpf_ktime_get_ns();
		__u32 cb = cfg_carry_bytes;
		if (cb) {
			__builtin_memcpy(s->ident, &id, sizeof(id));
			for (int k = 0; k < MAX_CARRY / 8; k++) {
				if (k >= cb / 8)
					break;
				__u32 o = cfg_carry_src[k];
				if (o > MAX_SPAN + IDENT_BYTES - 8)
					o = 0; /* the planner never writes this; the verifier wants it said */
				*(__u64 *)(st->carry + k * 8) = *(const __u64 *)(s->win + o);
			}
		}
		build_key_words(s->pkey, cfg_pair, cfg_npair, s->win, &id, 0, cfg_pair_words);
		long err = bpf_map_update_elem(&starts, s->pkey, st, BPF_NOEXIST);
		if (!err)
			return 0;
		if (err != -17 /* EEXIST */) {
			stat_inc(STAT_START_DROPPED); /* the map is full */
			return 0;
		}
		/* a start already waiting under this key never saw its end: counted as evicted */
		stat_inc(STAT_EVICTED);
		if (bpf_map_update_elem(&starts, s->pkey, st, BPF_ANY))
			stat_inc(STAT_START_DROPPED);
		return 0;
	}
	if (cfg_role == ROLE_END) {
		build_key_words(s->pkey, cfg_pair, cfg_npair, s->win, &id, 0, cfg_pair_words);
		struct start *st = bpf_map_lookup_elem(&starts, s->pkey);
		if (!st) {
			stat_inc(STAT_UNMATCHED);
			return 0;
		}
		v = (__s64)(bpf_ktime_get_ns() - st->ts);
		__u32 co = cfg_carry_off, cb = cfg_carry_bytes;
		if (cb && co <= MAX_SPAN - MAX_CARRY)
			copy_words(s->win + co, st->carry, cb);
		bpf_map_delete_elem(&starts, s->pkey);
	} else if (cfg_value_src == VAL_FIELD) {
		v = window_int(s->win, cfg_value_woff, cfg_value_size, cfg_value_signed);
	}
	stat_inc(STAT_PRODUCED);
	if (cfg_stream) {
		struct event_hdr *ev = bpf_ringbuf_reserve(&events, cfg_event_size, 0);
		if (!ev) {
			stat_inc(STAT_LOST);
		} else {
			stream_fill_hdr(ev, &id);
			*(__s64 *)(ev + 1) = v;
			__u32 sb = cfg_stream_bytes;
			if (sb <= MAX_SPAN)
				for (int k = 0; k < MAX_SPAN / 8; k++) {
					if (k >= sb / 8)
						break;
					((__u64 *)(ev + 1))[1 + k] = ((const __u64 *)s->win)[k];
				}
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
