/* Reading a tracepoint record: the window copy and the field predicates that
 * every tracepoint program (event streams, aggregations) shares. */
#ifndef BPFBOOK_RECORD_H
#define BPFBOOK_RECORD_H

/* Offset in the record where copying starts: tracepoint programs may not read the
 * first 8 bytes (common_* fields; for syscall tracepoints they hold a pt_regs pointer). */
#define RECORD_BASE 8

const volatile __u32 cfg_window = 0;  /* bytes copied from RECORD_BASE: up to the last fixed field */
const volatile __u32 cfg_npreds = 0;
const volatile struct pred cfg_preds[MAX_PREDS] = {};

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

	if (off > MAX_SPAN - 16)
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

/* Whether the window passes every configured predicate. */
static __always_inline bool preds_match(const __u8 *win)
{
	__u32 np = cfg_npreds;
	for (int i = 0; i < MAX_PREDS; i++) {
		if (i >= np)
			break;
		if (!pred_match(&cfg_preds[i], win))
			return false;
	}
	return true;
}

#endif
