// SPDX-License-Identifier: GPL-2.0
/* Kernel function probes: one object for every kprobe/kretprobe/fentry/fexit
 * stream, aggregation and latency (bpf-lib/src/probes/fentry/).
 *
 * Four programs, of which a run autoloads one or two:
 *
 *   kp_entry  (kprobe)     arguments from the registers (PT_REGS_PARM1..6)
 *   kp_return (kretprobe)  the return value (PT_REGS_RC); arguments and the entry
 *                          time come from what kp_entry stored for the thread
 *   fe_entry  (fentry)     arguments from the trampoline's u64 array: ctx[i]
 *   fe_exit   (fexit)      arguments and the return value (ctx[nargs]) from the
 *                          same array; the entry time from what fe_entry stored
 *
 * fentry/fexit are BPF_PROG_TYPE_TRACING: the attach target is set at run time
 * (bpf_program__set_attach_target) and the verifier checks every context load
 * against the function's BTF prototype, so a load of ctx[i] for i beyond the
 * function's arguments would be refused. Each load below is guarded by a .rodata
 * constant (the function's argument slots), so the verifier prunes the others.
 *
 * Every program fills the same 64-byte window of 8-byte slots:
 *
 *   slot 0: ret   slot 1: latency (ns, entry -> return)   slots 2..7: argument slots 0..5
 *
 * which is what filters (record.h predicates), keys and values read, and what a
 * stream copies into its events (a contiguous run of slots), followed by the
 * requested strings (char * arguments, read from the saved pointers).
 *
 * Derived values (derive.h: uid, gid, cgroup, reads through an argument, the return
 * value or the current task, stack ids) follow the slots, from window offset 64, and
 * are derived once the window is complete, where the event is emitted; on a paired
 * return, the fields in cfg_derive_entry are derived at the entry instead (what an
 * argument pointed to when the call began) and carried to the return in the start:
 * the window's first cfg_carry_bytes (slot 0 the entry's faulted reads, slot 1 its
 * timestamp, the argument slots, the derived fields up to the last one read at
 * entry). A stream copies the derived values after its slots, before the strings
 * (`strings` are read where the event is emitted: at the return). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "event.h"
#include "stream.h"
#include "record.h"
#include "agg.h"

/* How a char pointer is read: user memory, kernel memory, or by its address
 * (x86-64 and arm64 kernel addresses have the top bit set). */
enum str_mode { STR_KERNEL = 0, STR_USER = 1, STR_AUTO = 2 };

static __always_inline long read_str(void *dst, __u32 size, const void *ptr, __u32 mode)
{
	if (mode == STR_USER || (mode == STR_AUTO && (__s64)(__u64)ptr >= 0))
		return bpf_probe_read_user_str(dst, size, ptr);
	return bpf_probe_read_kernel_str(dst, size, ptr);
}

#define KEY_READ_STR(dst, size, ptr, src) read_str((dst), (size), (ptr), (src) == PART_USTR ? STR_USER : (src) == PART_KSTR ? STR_KERNEL : STR_AUTO)
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
#define MAX_STR 4
#define MAX_STR_LEN 1024

enum value_src { VAL_ONE = 0, VAL_FIELD };

const volatile __u32 cfg_nargs = 0;      /* argument slots read at entry (0..6) */
const volatile __u32 cfg_has_ret = 0;    /* fexit: read the return value at ctx[cfg_ret_slot] */
const volatile __u32 cfg_ret_slot = 0;   /* fexit: the function's argument slot count */
const volatile __u32 cfg_store = 0;      /* entry: store {ts, args} by thread for the return, emit nothing */
const volatile __u32 cfg_paired = 0;     /* return: complete the window from the entry's {ts, args} */
const volatile __u32 cfg_start_args = 0; /* return: arguments come from the entry (kretprobe), not the context (fexit) */
const volatile __u32 cfg_aggregate = 0;  /* 0: stream events; 1: aggregate into agg0/agg1 */
const volatile __u32 cfg_first_slot = 0; /* stream: event payload = slots [first, first + nslots), then strings */
const volatile __u32 cfg_nslots = 0;
const volatile __u32 cfg_nstr = 0;
const volatile __u32 cfg_str_slot[MAX_STR] = {}; /* window slot holding each string's pointer */
const volatile __u32 cfg_str_mode[MAX_STR] = {};
const volatile __u32 cfg_str_len = 0;            /* bytes per string in the event */
const volatile __u32 cfg_nparts = 0;
const volatile struct key_part cfg_parts[MAX_PARTS] = {};
const volatile __u32 cfg_value_src = VAL_ONE;
const volatile __u32 cfg_value_woff = 0;
const volatile __u32 cfg_value_size = 8;
const volatile __u32 cfg_derive_bytes = 0; /* stream: derived bytes copied after the slots */
const volatile __u32 cfg_derive_entry = 0; /* paired: derived fields (a bit each) read at entry, carried to the return */
const volatile __u32 cfg_carry_bytes = 64; /* paired: window bytes a start holds (the starts map's value size) */

#define MAX_CARRY (64 + MAX_DERIVED_BYTES)

struct scratch {
	__u8 win[MAX_SPAN]; /* the first 64 bytes are the slots; predicates and keys may address up to MAX_SPAN */
	__u8 key[MAX_KEY];
	__u8 slack[MAX_KEY]; /* room for a string read at the end of a key */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* The entry's window start (faults, timestamp, arguments, derived fields read at
 * entry) by thread (pid_tgid), for the return. Untyped, so its size is set before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* resized before load */
	__type(key, __u64);
	__uint(value_size, 64); /* cfg_carry_bytes, set before load */
} starts SEC(".maps");


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
		__u64 *dst = (__u64 *)(ev + 1);
		const __u64 *src = (const __u64 *)s->win;
		__u32 first = cfg_first_slot, ns = cfg_nslots, nstr = cfg_nstr, sl = cfg_str_len;
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
		__u8 *strs = (__u8 *)(ev + 1) + ns * 8 + dw * 8;
		for (int k = 0; k < MAX_STR; k++) {
			if (k >= nstr)
				break;
			const void *p = (const void *)src[cfg_str_slot[k] & (NSLOTS - 1)];
			read_str(strs + k * sl, sl, p, cfg_str_mode[k]);
		}
		stream_submit(ev);
		return 0;
	}
	__s64 v = cfg_value_src == VAL_FIELD ? window_int(s->win, cfg_value_woff, cfg_value_size, cfg_value_signed) : 1;
	build_key(s->key, cfg_parts, cfg_nparts, s->win, id, cfg_hist ? bucket_of(v) : 0);
	add(s->key, v);
	return 0;
}

static __always_inline struct scratch *begin(struct stream_ident *id)
{
	__u32 zero = 0;
	/* bpf_get_current_comm pads with NULs only since Linux 6.x (strscpy_pad): on 6.1 the
	 * bytes after the name are whatever the stack held, and a comm key would split. */
	__builtin_memset(id, 0, sizeof(*id));
	if (!stream_ident_match(id))
		return NULL;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return NULL;
	__u64 *w = (__u64 *)s->win;
	w[SLOT_RET] = 0;
	w[SLOT_LAT] = 0;
	return s;
}

/* The arguments are in the window: store them for the return, or emit. */
static __always_inline int entry_done(void *ctx, struct scratch *s, const struct stream_ident *id)
{
	if (cfg_store) {
		__u64 *w = (__u64 *)s->win;
		if (cfg_derive_entry) {
			derive_masked(ctx, s->win, cfg_derive_entry);
			w[SLOT_RET] = derive_faults_take();
		}
		w[SLOT_LAT] = bpf_ktime_get_ns();
		if (bpf_map_update_elem(&starts, &id->pid_tgid, s->win, BPF_ANY))
			stat_inc(STAT_START_DROPPED);
		return 0;
	}
	return emit(ctx, s, id, ~0U);
}

/* The return value (and, for fexit, the arguments) are in the window: pair, then emit. */
static __always_inline int return_done(void *ctx, struct scratch *s, const struct stream_ident *id)
{
	__u64 *w = (__u64 *)s->win;
	if (cfg_paired) {
		const __u64 *st = bpf_map_lookup_elem(&starts, &id->pid_tgid);
		if (!st) {
			stat_inc(STAT_UNMATCHED);
			return 0;
		}
		__u64 ret = w[SLOT_RET], now = bpf_ktime_get_ns();
		/* fexit has the arguments from its context already: the same values the entry saw */
		__u32 words = cfg_carry_bytes / 8;
		for (int k = 0; k < MAX_CARRY / 8; k++) {
			if (k >= words)
				break;
			if (k >= SLOT_ARG0 && k < SLOT_ARG0 + MAX_ARGS && !cfg_start_args)
				continue;
			w[k] = st[k];
		}
		if (w[SLOT_RET])
			derive_faults_add(w[SLOT_RET]);
		w[SLOT_RET] = ret;
		w[SLOT_LAT] = now - w[SLOT_LAT];
		bpf_map_delete_elem(&starts, &id->pid_tgid);
		return emit(ctx, s, id, ~cfg_derive_entry);
	}
	return emit(ctx, s, id, ~0U);
}

SEC("kprobe")
int kp_entry(struct pt_regs *ctx)
{
	struct stream_ident id;
	struct scratch *s = begin(&id);
	if (!s)
		return 0;
	__u64 *w = (__u64 *)s->win;
	__u32 na = cfg_nargs;
	/* registers by argument position: constant context offsets, as the verifier wants */
	w[SLOT_ARG0 + 0] = na > 0 ? PT_REGS_PARM1(ctx) : 0;
	w[SLOT_ARG0 + 1] = na > 1 ? PT_REGS_PARM2(ctx) : 0;
	w[SLOT_ARG0 + 2] = na > 2 ? PT_REGS_PARM3(ctx) : 0;
	w[SLOT_ARG0 + 3] = na > 3 ? PT_REGS_PARM4(ctx) : 0;
	w[SLOT_ARG0 + 4] = na > 4 ? PT_REGS_PARM5(ctx) : 0;
	w[SLOT_ARG0 + 5] = na > 5 ? PT_REGS_PARM6(ctx) : 0;
	return entry_done(ctx, s, &id);
}

SEC("kretprobe")
int kp_return(struct pt_regs *ctx)
{
	struct stream_ident id;
	struct scratch *s = begin(&id);
	if (!s)
		return 0;
	__u64 *w = (__u64 *)s->win;
	w[SLOT_RET] = PT_REGS_RC(ctx);
#pragma unroll
	for (int k = 0; k < MAX_ARGS; k++)
		w[SLOT_ARG0 + k] = 0;
	return return_done(ctx, s, &id);
}

/* ctx[i] of a tracing program as one load at a constant offset from the unmodified
 * context pointer. Written in asm because clang otherwise merges the loads of a
 * switch into `ctx += 8 * i; load`, which the verifier refuses (modified ctx ptr). */
#define CTX_U64(ctx, i) ({							\
	__u64 __v;								\
	asm volatile("%0 = *(u64 *)(%1 + " #i " * 8)" : "=r"(__v) : "r"(ctx));	\
	__v;									\
})

/* ctx[i], only for the slots the function has: the verifier refuses a load past
 * the prototype even in code that would never run, unless it can prove (from
 * .rodata) that it never runs. */
static __always_inline void tracing_args(__u64 *w, const __u64 *ctx)
{
	__u32 na = cfg_nargs;
	w[SLOT_ARG0 + 0] = na > 0 ? CTX_U64(ctx, 0) : 0;
	w[SLOT_ARG0 + 1] = na > 1 ? CTX_U64(ctx, 1) : 0;
	w[SLOT_ARG0 + 2] = na > 2 ? CTX_U64(ctx, 2) : 0;
	w[SLOT_ARG0 + 3] = na > 3 ? CTX_U64(ctx, 3) : 0;
	w[SLOT_ARG0 + 4] = na > 4 ? CTX_U64(ctx, 4) : 0;
	w[SLOT_ARG0 + 5] = na > 5 ? CTX_U64(ctx, 5) : 0;
}

SEC("fentry")
int fe_entry(__u64 *ctx)
{
	struct stream_ident id;
	struct scratch *s = begin(&id);
	if (!s)
		return 0;
	tracing_args((__u64 *)s->win, ctx);
	return entry_done(ctx, s, &id);
}

SEC("fexit")
int fe_exit(__u64 *ctx)
{
	struct stream_ident id;
	struct scratch *s = begin(&id);
	if (!s)
		return 0;
	__u64 *w = (__u64 *)s->win;
	tracing_args(w, ctx);
	if (cfg_has_ret) {
		/* the return value follows the arguments: ctx[slots], at a constant offset */
		switch (cfg_ret_slot) {
		case 0: w[SLOT_RET] = CTX_U64(ctx, 0); break;
		case 1: w[SLOT_RET] = CTX_U64(ctx, 1); break;
		case 2: w[SLOT_RET] = CTX_U64(ctx, 2); break;
		case 3: w[SLOT_RET] = CTX_U64(ctx, 3); break;
		case 4: w[SLOT_RET] = CTX_U64(ctx, 4); break;
		case 5: w[SLOT_RET] = CTX_U64(ctx, 5); break;
		default: w[SLOT_RET] = CTX_U64(ctx, 6); break;
		}
	}
	return return_done(ctx, s, &id);
}

char LICENSE[] SEC("license") = "GPL";
