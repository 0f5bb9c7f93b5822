/* The one key builder and value reader of every windowed program (tracepoints,
 * uprobes, kernel functions): a key is up to MAX_PARTS parts, each copied from a
 * standard column or from the program's window into its place in the key bytes.
 * The TypeScript side that plans the parts is bpf-lib/src/engine/keys.ts.
 *
 * Needs event.h, stream.h (struct stream_ident) and agg.h (MAX_KEY) first. A program
 * that reads kernel strings defines KEY_READ_STR(dst, size, ptr, src) before including
 * this; without it only user strings are read, so programs that must load under
 * lockdown=confidentiality never reference bpf_probe_read_kernel_str. */
#ifndef BPFBOOK_KEY_H
#define BPFBOOK_KEY_H

#include "window.h"

#define MAX_PARTS 8

enum part_src { PART_NONE = 0, PART_PID, PART_TID, PART_COMM, PART_CPU, PART_CGROUP, PART_FIELD, PART_USTR, PART_BUCKET, PART_KSTR, PART_ASTR, PART_PROBE, PART_CHARS };

struct key_part {
	__u16 src;
	__u16 woff;   /* offset in the window (fields, string pointers) */
	__u16 koff;   /* offset in the key */
	__u16 size;   /* bytes in the key */
};

#ifndef KEY_READ_STR
#define KEY_READ_STR(dst, size, ptr, src) bpf_probe_read_user_str((dst), (size), (ptr))
#endif
/* The probe id a PART_PROBE part holds: a group member's cfg_probe_id, unless the program
 * knows it per event (uprobe.bpf.c: the attach cookie, kept in the window). */
#ifndef KEY_PROBE_ID
#define KEY_PROBE_ID(win) cfg_probe_id
#endif

/* Fills key[] (its first `words` words, zeroed first so padding never splits a key;
 * the map the key goes to is that size, and reads no further) from the configured
 * parts. A string that fills its part has no NUL in it: user space counts it as
 * truncated. */
static __always_inline void build_key_words(__u8 *key, const volatile struct key_part *parts, __u32 n, const __u8 *win,
					    const struct stream_ident *id, __u32 bucket, __u32 words)
{
	for (int w = 0; w < MAX_KEY / 8; w++) {
		if (w >= words)
			break;
		/* volatile: clang would make a variable-length memset of it, which BPF lacks */
		*(volatile __u64 *)(key + w * 8) = 0;
	}
	for (int i = 0; i < MAX_PARTS; i++) {
		if (i >= n)
			break;
		__u32 src = parts[i].src, ko = parts[i].koff & (MAX_KEY - 1), wo = parts[i].woff & (MAX_SPAN - 1), sz = parts[i].size;
		switch (src) {
		case PART_PID:
			*(__u32 *)(key + (ko & (MAX_KEY - 4))) = id->pid_tgid >> 32;
			break;
		case PART_TID:
			*(__u32 *)(key + (ko & (MAX_KEY - 4))) = (__u32)id->pid_tgid;
			break;
		case PART_CPU:
			*(__u32 *)(key + (ko & (MAX_KEY - 4))) = bpf_get_smp_processor_id();
			break;
		case PART_CGROUP:
			*(__u64 *)(key + (ko & (MAX_KEY - 8))) = bpf_get_current_cgroup_id();
			break;
		case PART_PROBE: /* the probe of a group (stream.h cfg_probe_id, or KEY_PROBE_ID) */
			*(__u32 *)(key + (ko & (MAX_KEY - 4))) = KEY_PROBE_ID(win);
			break;
		case PART_BUCKET:
			*(__u32 *)(key + (ko & (MAX_KEY - 4))) = bucket;
			break;
		case PART_COMM:
			/* two words: the planner places every part at a multiple of 8 (keys.ts) */
			*(__u64 *)(key + (ko & (MAX_KEY - 8))) = *(const __u64 *)&id->comm[0];
			*(__u64 *)(key + ((ko + 8) & (MAX_KEY - 8))) = *(const __u64 *)&id->comm[8];
			break;
		case PART_FIELD:
			/* whole fields, up to the key's size: a cut field would merge distinct keys */
			for (int j = 0; j < MAX_KEY; j++) {
				if (j >= sz)
					break;
				key[(ko + j) & (MAX_KEY - 1)] = win[(wo + j) & (MAX_SPAN - 1)];
			}
			break;
		case PART_CHARS:
			/* a char array up to its NUL: the bytes after it are whatever the record's buffer
			 * held before (tracepoint records are not cleared), and must not split a key */
			for (int j = 0; j < MAX_KEY; j++) {
				if (j >= sz)
					break;
				__u8 c = win[(wo + j) & (MAX_SPAN - 1)];
				if (!c)
					break;
				key[(ko + j) & (MAX_KEY - 1)] = c;
			}
			break;
		case PART_USTR:
		case PART_KSTR:
		case PART_ASTR: {
			const void *p = (const void *)window_uint(win, wo, 8);
			/* up to sz bytes; every scratch struct has MAX_KEY bytes of slack after the key */
			KEY_READ_STR(key + ko, sz & (MAX_KEY - 1), p, src);
			break;
		}
		default:
			break;
		}
	}
}

/* An aggregation key (agg.h cfg_key_words words). */
static __always_inline void build_key(__u8 *key, const volatile struct key_part *parts, __u32 n, const __u8 *win,
				      const struct stream_ident *id, __u32 bucket)
{
	build_key_words(key, parts, n, win, id, bucket, cfg_key_words);
}

#endif
