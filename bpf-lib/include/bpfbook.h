/* bpfbook.h: what a BPF C cell includes. This kernel's types (vmlinux.h, CO-RE), libbpf's
 * helpers, and macros whose maps bpfbook reads back as typed tables:
 *
 *   RINGBUF(events, struct event);         a ring buffer of struct event records
 *   EMIT(events, &e);                      copies e into it (produced and lost are counted)
 *   struct event *e = RESERVE(events);     or reserve in place (NULL when full: counted lost),
 *   SUBMIT(events, e);                     fill it, then submit
 *   HASH(name, key_type, value_type, n);   a hash map (also PERCPU_HASH, LRU_HASH, ARRAY, PERCPU_ARRAY)
 *   ADD(name, &key, delta);                adds to a counter value, inserting it at 0 first
 *   HIST(name, key_type, n);               a log2 histogram per key (use u32 and key 0 for one)
 *   HIST_ADD(name, &key, value);           counts value into its power-of-two bucket
 *
 * The macros only declare ordinary libbpf maps; plain libbpf map definitions work too.
 * Type names in the macros are single C types (`struct event`, `u64`, `char[16]`). */
#ifndef BPFBOOK_H
#define BPFBOOK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bpfbook_log2.h"

/* Most tracing helpers are GPL-only. A cell's own LICENSE comes second in the section and
 * libbpf reads the first string, so declaring one is harmless. */
char __bpfbook_license[] SEC("license") = "GPL";

#define __BPFBOOK_CAT(a, b) a##b

/* Which counter of a RINGBUF's stats map: the same indexes as bpfbook's own programs. */
#define __BPFBOOK_PRODUCED 0
#define __BPFBOOK_LOST 1
#define __BPFBOOK_STATS 9

/* A ring buffer of `type` records (size rounded up by bpfbook to a power of two pages;
 * set it per run with the `bufferBytes` option), its per-CPU counters, and a read-only
 * global naming the record type, so its BTF (and so the table's columns) is in the object. */
#define RINGBUF(name, record_type)                                                                    \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_RINGBUF);                                                    \
		__uint(max_entries, 1 << 22);                                                          \
	} name SEC(".maps");                                                                       \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                               \
		__uint(max_entries, __BPFBOOK_STATS);                                                  \
		__type(key, __u32);                                                                    \
		__type(value, __u64);                                                                  \
	} __bpfbook_stats_##name SEC(".maps");                                                     \
	typedef typeof(record_type) __bpfbook_record_t_##name;                                            \
	const volatile __bpfbook_record_t_##name *const __bpfbook_record_##name = 0

static __always_inline void __bpfbook_count(void *stats, __u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(stats, &idx);
	if (c)
		*c += 1;
}

static __always_inline long __bpfbook_emit(void *ring, void *stats, void *data, __u64 size)
{
	__bpfbook_count(stats, __BPFBOOK_PRODUCED);
	long err = bpf_ringbuf_output(ring, data, size, 0);
	if (err)
		__bpfbook_count(stats, __BPFBOOK_LOST);
	return err;
}

static __always_inline void *__bpfbook_reserve(void *ring, void *stats, __u64 size)
{
	__bpfbook_count(stats, __BPFBOOK_PRODUCED);
	void *p = bpf_ringbuf_reserve(ring, size, 0);
	if (!p)
		__bpfbook_count(stats, __BPFBOOK_LOST);
	return p;
}

/* Copies *(ptr) into the ring: 0, or a negative error when the ring was full (counted). */
#define EMIT(name, ptr) __bpfbook_emit(&name, &__bpfbook_stats_##name, (ptr), sizeof(*(ptr)))
/* A record to fill in place, or NULL when the ring is full (counted); SUBMIT it (or DISCARD it). */
#define RESERVE(name) ((__bpfbook_record_t_##name *)__bpfbook_reserve(&name, &__bpfbook_stats_##name, sizeof(__bpfbook_record_t_##name)))
#define SUBMIT(name, ptr) bpf_ringbuf_submit((void *)(ptr), 0)
#define DISCARD(name, ptr) bpf_ringbuf_discard((void *)(ptr), 0)

#define __BPFBOOK_MAP(map_type, name, key_type, value_type, n)                                      \
	struct {                                                                                   \
		__uint(type, map_type);                                                                \
		__uint(max_entries, n);                                                                \
		__type(key, key_type);                                                                 \
		__type(value, value_type);                                                             \
	} name SEC(".maps")

#define HASH(name, key_type, value_type, n) __BPFBOOK_MAP(BPF_MAP_TYPE_HASH, name, key_type, value_type, n)
#define PERCPU_HASH(name, key_type, value_type, n) __BPFBOOK_MAP(BPF_MAP_TYPE_PERCPU_HASH, name, key_type, value_type, n)
#define LRU_HASH(name, key_type, value_type, n) __BPFBOOK_MAP(BPF_MAP_TYPE_LRU_HASH, name, key_type, value_type, n)
#define ARRAY(name, value_type, n) __BPFBOOK_MAP(BPF_MAP_TYPE_ARRAY, name, __u32, value_type, n)
#define PERCPU_ARRAY(name, value_type, n) __BPFBOOK_MAP(BPF_MAP_TYPE_PERCPU_ARRAY, name, __u32, value_type, n)

/* Adds delta to the integer value at key, creating it at 0 first (atomic: several CPUs may
 * add at once). Returns 0, or a negative error when the map is full. */
#define ADD(name, key, delta) __bpfbook_add(&name, (key), (__u64)(delta), sizeof(*(key)))

static __always_inline long __bpfbook_add(void *map, const void *key, __u64 delta, __u64 key_size)
{
	__u64 *v = bpf_map_lookup_elem(map, key);
	if (!v) {
		__u64 zero = 0;
		long err = bpf_map_update_elem(map, key, &zero, BPF_NOEXIST);
		if (err && err != -17 /* EEXIST: another CPU inserted it first */)
			return err;
		v = bpf_map_lookup_elem(map, key);
		if (!v)
			return -2;
	}
	__sync_fetch_and_add(v, delta);
	return 0;
}

/* A log2 histogram: one count per (key, bucket); bucket 0 holds 0, bucket b >= 1 holds
 * [2^(b-1), 2^b). bpfbook reads it back as key columns, bucket, low, high, count: the
 * tables plot.histogram() and percentiles() take. */
#define HIST(name, key_type, n)                                                                \
	struct __bpfbook_hist_key_##name {                                                         \
		typeof(key_type) key;                                                                  \
		__u32 bucket;                                                                          \
	};                                                                                         \
	__BPFBOOK_MAP(BPF_MAP_TYPE_HASH, name, struct __bpfbook_hist_key_##name, __u64, n)

static __always_inline __u32 __bpfbook_log2_bucket(__u64 v)
{
	return v == 0 ? 0 : bpfbook_log2_u64(v) + 1;
}

/* Counts value into key's histogram. Returns 0, or a negative error when the map is full. */
#define HIST_ADD(name, keyp, value)                                                            \
	({                                                                                         \
		struct __bpfbook_hist_key_##name __hk = {};                                            \
		__builtin_memcpy(&__hk.key, (keyp), sizeof(__hk.key));                                 \
		__hk.bucket = __bpfbook_log2_bucket((__u64)(value));                                   \
		__bpfbook_add(&name, &__hk, 1, sizeof(__hk));                                          \
	})

#endif /* BPFBOOK_H */
