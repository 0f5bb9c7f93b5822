/* floor(log2(v)) for v > 0, without a loop: the bucket arithmetic of every log2
 * histogram, bpfbook's own programs (agg.h) and users' (bpfbook.h's HIST_ADD) alike,
 * so both give the same buckets. */
#ifndef BPFBOOK_LOG2_H
#define BPFBOOK_LOG2_H

static __always_inline __u32 bpfbook_log2_u64(__u64 v)
{
	__u32 r = 0;
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

#endif /* BPFBOOK_LOG2_H */
