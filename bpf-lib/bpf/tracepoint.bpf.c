// SPDX-License-Identifier: GPL-2.0
/* One generic program for every tracepoint: it copies a window of the raw record
 * after the standard header, reads requested user-space strings, and filters in
 * the kernel. It is compiled once (CO-RE); each stream configures it through
 * .rodata before load, so the verifier prunes what a stream does not use. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "event.h"
#include "stream.h"

#include "record.h"
#include "derive.h"

const volatile __u32 cfg_window_slot = 0; /* bytes the window (and __data_loc data) takes in the event, 8-aligned */
const volatile __u32 cfg_dyn_bytes = 0;   /* on_tracepoint_dyn: bytes of __data_loc data read after the window */
const volatile __u32 cfg_nustr = 0;
const volatile __u32 cfg_ustr_off[MAX_USTR] = {}; /* window offset of each user pointer */
const volatile __u32 cfg_ustr_len = 0;            /* bytes per string slot */
/* derived fields live in the window at [cfg_derive_base, + cfg_derive_bytes), 8-aligned */
const volatile __u32 cfg_derive_base = 0;
const volatile __u32 cfg_derive_bytes = 0;

struct scratch {
	__u8 b[MAX_SPAN];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline int handle(void *ctx, bool dyn)
{
	__u32 w = cfg_window, np = cfg_npreds, ns = cfg_nustr, sl = cfg_ustr_len, nd = cfg_nderive;
	struct stream_ident id;
	struct scratch *s = NULL;
	__u8 *win;

	if (!stream_ident_match(&id))
		return 0;

	if (np) {
		__u32 zero = 0;
		s = bpf_map_lookup_elem(&scratch, &zero);
		if (!s)
			return 0;
		copy_window(s->b, ctx, w);
		/* filters may compare derived fields: derive once, here, and copy them below */
		if (nd)
			derive_all(ctx, s->b);
		if (!preds_match(s->b)) {
			if (nd)
				derive_faults_settle(false);
			stat_inc(STAT_FILTERED);
			return 0;
		}
		if (nd)
			derive_faults_settle(true);
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
	if (nd) {
		if (s) {
			__u32 base = cfg_derive_base, words = cfg_derive_bytes / 8;
			if (base <= MAX_SPAN - MAX_DERIVED_BYTES) {
				for (int k = 0; k < MAX_DERIVED_BYTES / 8; k++) {
					if (k >= words)
						break;
					*(__u64 *)(win + base + k * 8) = *(const __u64 *)(s->b + base + k * 8);
				}
			}
		} else {
			derive_all(ctx, win);
			derive_faults_settle(true);
		}
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
