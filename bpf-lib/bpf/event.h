/* Layout shared by every event-stream program and the TypeScript decoder
 * (bpf-lib/src/engine/layout.ts mirrors it; test/layout.test.ts checks both agree via BTF). */
#ifndef BPFBOOK_EVENT_H
#define BPFBOOK_EVENT_H

#define COMM_LEN 16
#define MAX_WINDOW 512 /* bytes of a tracepoint record that can be copied */
/* A program's whole window: the copied record (or arguments), __data_loc data, then
 * derived fields (derive.h) and carried ones. Offsets in keys, filters and values
 * address all of it. */
#define MAX_SPAN 2048
#define MAX_PREDS 8
#define MAX_USTR 4
#define MAX_USTR_LEN 1024

/* Every event starts with this 40-byte header. */
struct event_hdr {
	__u64 ts;   /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 pid;  /* tgid */
	__u32 tid;
	__u32 cpu;
	__u32 flags;
	char comm[COMM_LEN];
};

/* A field comparison evaluated in the kernel. Values are compared after
 * sign- or zero-extension to 64 bits, and after masking when mask != 0. */
enum pred_op { PRED_EQ = 0, PRED_NE, PRED_LT, PRED_LE, PRED_GT, PRED_GE, PRED_STREQ, PRED_STRNE };

struct pred {
	__u64 value[2];  /* integers use value[0]; strings up to 16 bytes use both */
	__u64 mask[2];   /* integers: 0 = no mask; strings: the bytes compared */
	__u16 off;       /* offset in the copied window */
	__u8 size;       /* 1, 2, 4 or 8 for integers */
	__u8 op;
	__u8 is_signed;
	__u8 _pad[3];
};

/* Per-CPU counters, indexed by these. Streams: received + lost == produced.
 * Aggregations: DROPPED counts events whose key did not fit in the map, UNMATCHED
 * end events with no start, START_DROPPED starts that did not fit. Both:
 * EXCLUDED_SELF events of the tracer's own process left out (stream.h), READ_FAILED
 * derived reads that faulted, EVICTED pairing starts overwritten before their end. */
enum stat_idx { STAT_PRODUCED = 0, STAT_LOST, STAT_FILTERED, STAT_DROPPED, STAT_UNMATCHED, STAT_START_DROPPED, STAT_EXCLUDED_SELF,
	STAT_READ_FAILED, /* derived reads that faulted (derive.h): the value is left zero */
	STAT_EVICTED,     /* pairing: starts replaced by a newer start of the same key before their end came */
	STAT_MAX };

/* Derived fields (derive.h): the description each program reads from .rodata. */
#define MAX_DERIVED 16
#define MAX_DEREFS 4
#define MAX_DERIVED_BYTES 1024 /* room derived values take after the record window */

enum derive_src {
	DER_NONE = 0,
	DER_UID,      /* u32: bpf_get_current_uid_gid() low half */
	DER_GID,      /* u32: high half */
	DER_CGROUP,   /* u64: bpf_get_current_cgroup_id() */
	DER_TASK,     /* a kernel read chain from the current task_struct */
	DER_KPTR,     /* a kernel read chain from the 8-byte pointer at window offset woff */
	DER_UPTR,     /* a user read chain from the 8-byte pointer at window offset woff */
	DER_KSTACK,   /* s32: kernel stack id in `stacks` (negative: the helper's error) */
	DER_USTACK,   /* s32: user stack id */
	DER_WORD,     /* copy `size` bytes from window offset woff (pairing: a carried field) */
	DER_APTR,     /* a read chain from the pointer at woff, through user memory if it is a user
	               * address (upper half clear on x86-64), else kernel memory: pointers whose BTF
	               * has no __user tags (kernels built with GCC) */
};

enum derive_leaf {
	LEAF_BYTES = 0, /* exactly `size` bytes */
	LEAF_STR,       /* a NUL-terminated string of up to `size` bytes (size counts the NUL) */
};
/* In `leaf`: this value continues a list (argv[i]): when the slot before it is empty (the
 * list ended, or could not be read), it is left empty without reading past the end. */
#define LEAF_LIST_NEXT 0x80

struct derive {
	__u8 src;
	__u8 leaf;
	__u8 nderef;  /* pointers followed before the leaf read */
	__u8 lsize;   /* LEAF_BYTES: 0, or the size of a length field at window offset loff: read min(length, size) bytes */
	__u16 woff;   /* DER_KPTR / DER_UPTR / DER_APTR / DER_WORD: window offset of the base */
	__u16 doff;   /* window offset the value is written to */
	__u16 size;   /* bytes written at doff */
	__u16 loff;
	__u16 off[MAX_DEREFS + 1];
};

#endif
