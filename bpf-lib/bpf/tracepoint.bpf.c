// SPDX-License-Identifier: GPL-2.0
/* One generic program for every tracepoint: it copies a window of the raw record
 * after the standard header, reads requested user-space strings, and filters in
 * the kernel. It is compiled once (CO-RE); each stream configures it through
 * .rodata before load, so the verifier prunes what a stream does not use. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "event.h"
#include "stream.h"

/* Offset in the record where copying starts: tracepoint programs may not read the
 * first 8 bytes (common_* fields; for syscall tracepoints they hold a pt_regs pointer). */
#define RECORD_BASE 8

const volatile __u32 cfg_window = 0;  /* bytes copied from RECORD_BASE: up to the last fixed field */
const volatile __u32 cfg_window_slot = 0; /* bytes the window (and __data_loc data) takes in the event, 8-aligned */
const volatile __u32 cfg_dyn_bytes = 0;   /* on_tracepoint_dyn: bytes of __data_loc data read after the window */
const volatile __u32 cfg_npreds = 0;
const volatile struct pred cfg_preds[MAX_PREDS] = {};
const volatile __u32 cfg_nustr = 0;
const volatile __u32 cfg_ustr_off[MAX_USTR] = {}; /* window offset of each user pointer */
const volatile __u32 cfg_ustr_len = 0;            /* bytes per string slot */

struct scratch {
	__u8 b[MAX_WINDOW];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* Copies the first w bytes of the record (from RECORD_BASE). The kernel refuses
 * programs that read past the last fixed field (perf_event_set_bpf_prog checks
 * max_ctx_offset), so the copy ends exactly there: 8-byte words, then a 4/2/1-byte
 * tail. Context loads need constant offsets, hence the full unroll; w comes from
 * .rodata, so the verifier prunes every branch but the ones this stream takes. */
#define CTX_LOAD(type, off) (*(const type *)((const __u8 *)ctx + RECORD_BASE + (off)))

static __always_inline void copy_window(__u8 *dst, const void *ctx, __u32 w)
{
#pragma unroll
	for (int i = 0; i < MAX_WINDOW / 8; i++) {
		const int o = i * 8;
		if (o + 8 <= w) {
			*(__u64 *)(dst + o) = CTX_LOAD(__u64, o);
		} else if (o < w) {
			/* the 1..7-byte tail, each load at a constant offset */
			__u32 t = w - o;
			if (t >= 4) {
				*(__u32 *)(dst + o) = CTX_LOAD(__u32, o);
				if (t >= 6) {
					*(__u16 *)(dst + o + 4) = CTX_LOAD(__u16, o + 4);
					if (t == 7)
						dst[o + 6] = CTX_LOAD(__u8, o + 6);
				} else if (t == 5) {
					dst[o + 4] = CTX_LOAD(__u8, o + 4);
				}
			} else if (t >= 2) {
				*(__u16 *)(dst + o) = CTX_LOAD(__u16, o);
				if (t == 3)
					dst[o + 2] = CTX_LOAD(__u8, o + 2);
			} else {
				dst[o] = CTX_LOAD(__u8, o);
			}
		}
	}
}

static __always_inline bool pred_match(const volatile struct pred *p, const __u8 *win)
{
	__u32 off = p->off;
	__u64 v;
	__s64 sv;

	if (off > MAX_WINDOW - 16)
		return false;
	if (p->op >= PRED_STREQ) {
		/* a fixed char array of up to 16 bytes, compared as two masked words */
		__u64 a = *(const __u64 *)(win + off), b = *(const __u64 *)(win + off + 8);
		bool eq = (a & p->mask[0]) == p->value[0] && (b & p->mask[1]) == p->value[1];
		return p->op == PRED_STREQ ? eq : !eq;
	}
	switch (p->size) {
	case 1: v = *(const __u8 *)(win + off); sv = (__s8)v; break;
	case 2: v = *(const __u16 *)(win + off); sv = (__s16)v; break;
	case 4: v = *(const __u32 *)(win + off); sv = (__s32)v; break;
	default: v = *(const __u64 *)(win + off); sv = (__s64)v; break;
	}
	if (p->mask[0]) {
		v &= p->mask[0];
		sv = (__s64)v;
	}
	if (p->is_signed) {
		__s64 c = (__s64)p->value[0];
		switch (p->op) {
		case PRED_EQ: return sv == c;
		case PRED_NE: return sv != c;
		case PRED_LT: return sv < c;
		case PRED_LE: return sv <= c;
		case PRED_GT: return sv > c;
		default: return sv >= c;
		}
	}
	__u64 c = p->value[0];
	switch (p->op) {
	case PRED_EQ: return v == c;
	case PRED_NE: return v != c;
	case PRED_LT: return v < c;
	case PRED_LE: return v <= c;
	case PRED_GT: return v > c;
	default: return v >= c;
	}
}

static __always_inline int handle(void *ctx, bool dyn)
{
	__u32 w = cfg_window, np = cfg_npreds, ns = cfg_nustr, sl = cfg_ustr_len;
	struct stream_ident id;
	__u8 *win;

	if (!stream_ident_match(&id))
		return 0;

	if (np) {
		__u32 zero = 0;
		struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
		if (!s)
			return 0;
		copy_window(s->b, ctx, w);
		for (int i = 0; i < MAX_PREDS; i++) {
			if (i >= np)
				break;
			if (!pred_match(&cfg_preds[i], s->b)) {
				stat_inc(STAT_FILTERED);
				return 0;
			}
		}
	}

	stat_inc(STAT_PRODUCED);
	struct event_hdr *ev = bpf_ringbuf_reserve(&events, cfg_event_size, 0);
	if (!ev) {
		stat_inc(STAT_LOST);
		return 0;
	}
	stream_fill_hdr(ev, &id);
	win = (__u8 *)(ev + 1);
	copy_window(win, ctx, w);
	if (dyn) {
		/* __data_loc data lies past the fixed fields, where context loads may not
		 * go: read it as kernel memory (refused under lockdown=confidentiality). */
		__u32 db = cfg_dyn_bytes;
		const __u8 *src = ctx;
		/* hide the provenance from clang, or it shares ctx+8 with the context
		 * loads above, which the verifier refuses ("modified ctx ptr") */
		asm volatile("" : "+r"(src));
		if (w <= MAX_WINDOW && db <= MAX_WINDOW)
			bpf_probe_read_kernel(win + w, db, src + RECORD_BASE + w);
	}

	for (int k = 0; k < MAX_USTR; k++) {
		if (k >= ns)
			break;
		__u32 off = cfg_ustr_off[k];
		if (off > MAX_WINDOW - 8)
			break;
		const void *uptr = (const void *)*(const __u64 *)(win + off);
		bpf_probe_read_user_str(win + cfg_window_slot + k * sl, sl, uptr);
	}
	stream_submit(ev);
	return 0;
}

SEC("tracepoint")
int on_tracepoint(void *ctx)
{
	return handle(ctx, false);
}

/* Loaded instead of on_tracepoint when a stream decodes __data_loc fields. */
SEC("tracepoint")
int on_tracepoint_dyn(void *ctx)
{
	return handle(ctx, true);
}

char LICENSE[] SEC("license") = "GPL";
