// SPDX-License-Identifier: GPL-2.0
/* User-space function probes: one object for every uprobe stream and aggregation.
 *
 * on_entry (uprobe) reads up to six integer arguments from the registers
 * (x86_64 calling convention: PT_REGS_PARM1..6); on_return (uretprobe) reads the
 * return value. Both fill the same 64-byte "window" of 8-byte slots:
 *
 *   slot 0: ret   slot 1: latency (ns, entry → return)   slots 2..7: arg0..arg5
 *
 * which is what filters (record.h predicates), keys and values read, so the
 * TypeScript side describes them as fields of a fixed layout. When the return
 * needs what the entry saw (arguments on a uretprobe, latency), the entry stores
 * {ts, args} by thread in `starts` and the return completes the window (paired
 * mode, like the start/end roles of aggregate.bpf.c).
 *
 * Derived values (derive.h: uid, gid, cgroup, reads through an argument, the return
 * value or the current task, stack ids) follow the slots, from window offset 64, and
 * are derived once the window is complete, where the event is emitted; on a paired
 * return, the fields in cfg_derive_entry are derived at the entry instead (what an
 * argument pointed to when the call began, as bpftrace's @s[tid] = str(arg0) keeps
 * it) and carried to the return in the start, which is the window's first
 * cfg_carry_bytes: slot 0 the entry's faulted reads, slot 1 its timestamp, the
 * argument slots, then the derived fields up to the last one read at entry. A stream
 * copies the derived values after its slots.
 *
 * Several functions (a list or a wildcard, cfg_multi) share one object: each is
 * attached with its index in the list as BPF cookie, which the program keeps at
 * window offset WOFF_PROBE (past anything derived) for PART_PROBE key parts and writes
 * into the event header's flags, so user space names the function of every row.
 *
 * The registers are read straight from the context (PT_REGS_PARMn, not the _CORE
 * variants): uprobe programs may load pt_regs fields directly, and that needs no
 * bpf_probe_read_kernel, which lockdown=confidentiality refuses. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "event.h"
#include "stream.h"
#include "record.h"
#include "agg.h"
/* the attach cookie of the function that fired (cfg_multi), where no derived field reaches */
#define WOFF_PROBE (MAX_SPAN - 8)
#define KEY_PROBE_ID(win) (*(const __u32 *)((win) + WOFF_PROBE))
#include "key.h"
#include "derive.h"

/* libbpf 1.1's bpf_tracing.h stops at PARM5; the sixth integer argument is r9 on x86_64. */
#if !defined(PT_REGS_PARM6) && defined(bpf_target_x86)
#define PT_REGS_PARM6(x) (((const struct pt_regs *)(x))->r9)
#endif

#define NSLOTS 8
#define MAX_ARGS 6
#define SLOT_RET 0
#define SLOT_LAT 1
#define SLOT_ARG0 2

enum value_src { VAL_ONE = 0, VAL_FIELD };

const volatile __u32 cfg_nargs = 0;       /* arguments read at entry */
const volatile __u32 cfg_paired = 0;      /* entry stores {ts, args}; return completes the window */
const volatile __u32 cfg_aggregate = 0;   /* 0: stream events; 1: aggregate into agg0/agg1 */
const volatile __u32 cfg_first_slot = 0;  /* stream: event payload = slots [first, first + nslots) */
const volatile __u32 cfg_nslots = 0;
const volatile __u32 cfg_nparts = 0;
const volatile struct key_part cfg_parts[MAX_PARTS] = {};
const volatile __u32 cfg_value_src = VAL_ONE;
const volatile __u32 cfg_value_woff = 0;
const volatile __u32 cfg_value_size = 8;
const volatile __u32 cfg_derive_bytes = 0; /* stream: derived bytes copied after the slots */
const volatile __u32 cfg_derive_entry = 0; /* paired: derived fields (a bit each) read at entry, carried to the return */
const volatile __u32 cfg_carry_bytes = 64; /* paired: window bytes a start holds (the starts map's value size) */
const volatile __u32 cfg_multi = 0;        /* several functions: the attach cookie says which (kernel 5.15+) */

#define MAX_CARRY (64 + MAX_DERIVED_BYTES)

struct scratch {
	__u8 win[MAX_SPAN]; /* the first 64 bytes are the slots; predicates and keys may address up to MAX_SPAN */
	__u8 key[MAX_KEY];
	__u8 slack[MAX_KEY]; /* key.h may read a string up to the end of a key */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* The entry's window start (faults, timestamp, arguments, derived fields read at
 * entry) by thread (pid_tgid; with several functions, and function: start_key), for the return. Untyped, so its size is set before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* resized before load */
	__type(key, __u64);
	__uint(value_size, 64); /* cfg_carry_bytes, set before load */
} starts SEC(".maps");

/* The start of a thread's call. With several functions, one per function and thread, so a
 * matched function called from another pairs with its own return: tgids stay below 2^22
 * (PID_MAX_LIMIT), leaving the top 10 bits for the function's index (at most 1024). */
static __always_inline __u64 start_key(void *ctx, __u64 pid_tgid)
{
	if (!cfg_multi)
		return pid_tgid;
	return pid_tgid | ((bpf_get_attach_cookie(ctx) & 1023) << 54);
}

/* The window is complete: filter, then stream it or count it. */
static __always_inline int emit(void *ctx, struct scratch *s, const struct stream_ident *id, __u32 mask)
{
	if (cfg_nderive)
		derive_masked(ctx, s->win, mask);
	if (!preds_match(s->win)) {
		if (cfg_nderive)
			derive_faults_settle(false);
		stat_inc(STAT_FILTERED);
		return 0;
	}
	if (cfg_nderive)
		derive_faults_settle(true);
	stat_inc(STAT_PRODUCED);
	if (!cfg_aggregate) {
		struct event_hdr *ev = bpf_ringbuf_reserve(&events, cfg_event_size, 0);
		if (!ev) {
			stat_inc(STAT_LOST);
			return 0;
		}
		stream_fill_hdr(ev, id);
		if (cfg_multi)
			ev->flags = KEY_PROBE_ID(s->win);
		__u64 *dst = (__u64 *)(ev + 1);
		const __u64 *src = (const __u64 *)s->win;
		__u32 first = cfg_first_slot, ns = cfg_nslots;
		for (int k = 0; k < NSLOTS; k++) {
			if (k >= ns)
				break;
			dst[k] = src[(first + k) & (NSLOTS - 1)];
		}
		__u32 dw = cfg_derive_bytes / 8;
		for (int k = 0; k < MAX_DERIVED_BYTES / 8; k++) {
			if (k >= dw)
				break;
			dst[ns + k] = src[NSLOTS + k];
		}
		stream_submit(ev);
		return 0;
	}
	__s64 v = cfg_value_src == VAL_FIELD ? window_int(s->win, cfg_value_woff, cfg_value_size, cfg_value_signed) : 1;
	build_key(s->key, cfg_parts, cfg_nparts, s->win, id, cfg_hist ? bucket_of(v) : 0);
	add(s->key, v);
	return 0;
}

SEC("uprobe")
int on_entry(struct pt_regs *ctx)
{
	struct stream_ident id;
	__u32 zero = 0;
	struct scratch *s;

	if (!stream_ident_match(&id))
		return 0;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	__u64 *w = (__u64 *)s->win;
	__u32 na = cfg_nargs;
	w[SLOT_RET] = 0;
	w[SLOT_LAT] = 0;
	/* registers by argument position: constant context offsets, as the verifier wants */
	if (na > 0) w[SLOT_ARG0 + 0] = PT_REGS_PARM1(ctx);
	if (na > 1) w[SLOT_ARG0 + 1] = PT_REGS_PARM2(ctx);
	if (na > 2) w[SLOT_ARG0 + 2] = PT_REGS_PARM3(ctx);
	if (na > 3) w[SLOT_ARG0 + 3] = PT_REGS_PARM4(ctx);
	if (na > 4) w[SLOT_ARG0 + 4] = PT_REGS_PARM5(ctx);
	if (na > 5) w[SLOT_ARG0 + 5] = PT_REGS_PARM6(ctx);
	if (cfg_paired) {
#pragma unroll
		for (int k = 0; k < MAX_ARGS; k++)
			if (k >= na)
				w[SLOT_ARG0 + k] = 0;
		if (cfg_derive_entry) {
			derive_masked(ctx, s->win, cfg_derive_entry);
			w[SLOT_RET] = derive_faults_take();
		}
		w[SLOT_LAT] = bpf_ktime_get_ns();
		__u64 key = start_key(ctx, id.pid_tgid);
		if (bpf_map_update_elem(&starts, &key, s->win, BPF_ANY))
			stat_inc(STAT_START_DROPPED);
		return 0;
	}
	if (cfg_multi)
		*(__u32 *)(s->win + WOFF_PROBE) = bpf_get_attach_cookie(ctx);
	return emit(ctx, s, &id, ~0U);
}

SEC("uretprobe")
int on_return(struct pt_regs *ctx)
{
	struct stream_ident id;
	__u32 zero = 0;
	struct scratch *s;

	if (!stream_ident_match(&id))
		return 0;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	__u64 *w = (__u64 *)s->win;
	w[SLOT_RET] = PT_REGS_RC(ctx);
	w[SLOT_LAT] = 0;
	if (cfg_multi)
		*(__u32 *)(s->win + WOFF_PROBE) = bpf_get_attach_cookie(ctx);
	if (cfg_paired) {
		__u64 key = start_key(ctx, id.pid_tgid);
		const __u64 *st = bpf_map_lookup_elem(&starts, &key);
		if (!st) {
			stat_inc(STAT_UNMATCHED);
			return 0;
		}
		__u64 ret = w[SLOT_RET], now = bpf_ktime_get_ns();
		__u32 words = cfg_carry_bytes / 8;
		for (int k = 0; k < MAX_CARRY / 8; k++) {
			if (k >= words)
				break;
			w[k] = st[k];
		}
		if (w[SLOT_RET])
			derive_faults_add(w[SLOT_RET]);
		w[SLOT_RET] = ret;
		w[SLOT_LAT] = now - w[SLOT_LAT];
		bpf_map_delete_elem(&starts, &key);
		return emit(ctx, s, &id, ~cfg_derive_entry);
	}
	return emit(ctx, s, &id, ~0U);
}

char LICENSE[] SEC("license") = "GPL";
