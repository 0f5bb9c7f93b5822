/* Derived fields: values a probe computes in the kernel and writes into its window
 * next to the fields it copied, so filters (record.h), keys and values (key.h) and
 * the stream decoder read them like any other field. One description serves every
 * program kind; the TypeScript planner is bpf-lib/src/engine/derive.ts.
 *
 * A derived field is a standard column the context does not carry (uid, gid, cgroup
 * id), a stack id, or a read through pointers: from the current task, from a kernel
 * pointer in the window (a tracepoint's `skaddr`, a function argument) or from a
 * user pointer in the window (execve's argv). The chain is P1 = *(P0 + off[0]), ...,
 * then `size` bytes (or a string of up to `size` bytes) at Pn + off[n]. Offsets come
 * from this kernel's BTF at load time: the same thing CO-RE relocations do.
 *
 * A read that faults (unmapped user memory, a bad address) leaves zeros and is counted in
 * STAT_READ_FAILED by the caller, for events its filters keep; a NULL
 * pointer on the way is a value, not a fault (argv ends with one): zeros, uncounted.
 *
 * Kernel reads (bpf_probe_read_kernel*) are refused under lockdown=confidentiality:
 * the loop is unrolled and every cfg_derive entry is a frozen .rodata constant, so
 * the verifier only sees the helpers a probe's own entries reach, and a probe that
 * derives nothing (or only uid/gid/cgroup/user reads) loads there.
 *
 * Needs event.h and stream.h first. */
#ifndef BPFBOOK_DERIVE_H
#define BPFBOOK_DERIVE_H

#include "window.h"

/* MAX_DERIVED, enum derive_src, struct derive: in event.h, which user-space C includes too. */

const volatile __u32 cfg_nderive = 0;
const volatile struct derive cfg_derive[MAX_DERIVED] = {};
/* Kernel stack frames to skip at the leaf: a program run from an fentry/fexit trampoline
 * sees itself and the trampoline first (2), which are the tracer's, not the traced code's. */
const volatile __u32 cfg_kstack_skip = 0;

/* Stack ids for DER_KSTACK / DER_USTACK: 1 entry unless a probe asks for stacks
 * (resized before load), so the map costs nothing when unused. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

/* Zeroes `size` bytes at dst. A user read of a kernel-half address fails access_ok()
 * before touching memory (address 0 would take a page fault: ~6 µs per event in a VM),
 * and the helper clears its destination when it fails: one call clears a slot whose size
 * is only known at load time, with no loop, on every kernel (user reads are never locked down). */
static __always_inline void derive_zero(__u8 *dst, __u32 size)
{
	bpf_probe_read_user(dst, size, (const void *)~0UL);
}

/* Fills derived field i of `win` (MAX_SPAN bytes). ctx is the program's context (for
 * stack ids). i is a constant at every call (derive_all), so each cfg_derive entry is
 * a known .rodata value and the verifier follows only the branches it takes. */
/* Faulted reads of the event being derived, held in memory rather than summed in a
 * register: a register sum would differ on every path through 16 reads and keep the
 * verifier from pruning any of them. The caller takes them once it knows whether its
 * filters keep the event (derive_faults_take). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} derive_faults SEC(".maps");

static __always_inline void derive_fault(void)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&derive_faults, &zero);
	if (c)
		*c += 1;
}

/* The faults since the last take, zeroing the count. */
static __always_inline __u64 derive_faults_take(void)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&derive_faults, &zero);
	if (!c)
		return 0;
	__u64 n = *c;
	*c = 0;
	return n;
}

static __always_inline void derive_one(void *ctx, __u8 *win, const int i)
{
	if (i >= cfg_nderive)
		return;
	const volatile struct derive *d = &cfg_derive[i];
	__u32 src = d->src, nd = d->nderef, size = d->size;
	__u32 doff = d->doff;
	__u64 p = 0;
	long err = 0;
	bool null = false;

	if (doff > MAX_SPAN - 8 || size > MAX_SPAN - doff || nd > MAX_DEREFS)
		return; /* the planner never writes this; the verifier wants it said */
	__u8 *dst = win + doff;
	switch (src) {
	case DER_UID:
		*(__u32 *)dst = (__u32)bpf_get_current_uid_gid();
		return;
	case DER_GID:
		*(__u32 *)dst = (__u32)(bpf_get_current_uid_gid() >> 32);
		return;
	case DER_CGROUP:
		*(__u64 *)dst = bpf_get_current_cgroup_id();
		return;
	case DER_KSTACK:
	case DER_USTACK:
		*(__s32 *)dst = bpf_get_stackid(ctx, &stacks, src == DER_USTACK ? BPF_F_USER_STACK : (cfg_kstack_skip & BPF_F_SKIP_FIELD_MASK));
		/* -EFAULT: no user stack (a kernel thread): a value, not a failure */
		if (*(__s32 *)dst < 0 && *(__s32 *)dst != -14)
			derive_fault();
		return;
	case DER_WORD: {
		/* whole 8-byte words: the planner gives every carried field an 8-aligned slot */
		__u32 wo = d->woff;
		if (wo > MAX_SPAN - 64)
			return;
		for (int j = 0; j < 8; j++) {
			if (j * 8 >= size)
				break;
			*(__u64 *)(dst + j * 8) = *(const __u64 *)(win + wo + j * 8);
		}
		return;
	}
	case DER_TASK:
		p = bpf_get_current_task();
		break;
	case DER_KPTR:
	case DER_UPTR:
	case DER_APTR:
		/* byte by byte: a pointer field of a packed record may sit at any offset */
		p = window_uint(win, d->woff, 8);
		break;
	default:
		return;
	}
	if (d->leaf & LEAF_LIST_NEXT) {
		/* the previous slot of this list is the 8-aligned slot of the same size just before */
		__u32 prev = doff - ((size + 7) & ~7U);
		if (prev > MAX_SPAN - 8 || !win[prev]) {
			derive_zero(dst, size);
			return;
		}
	}
	if (!p)
		null = true; /* a NULL base (argv == NULL): a value, like a NULL on the way */
	bool user = src == DER_UPTR || (src == DER_APTR && (__s64)p >= 0);
	for (int j = 0; j < MAX_DEREFS; j++) {
		if (j >= nd || null)
			break;
		const void *at = (const void *)(p + d->off[j]);
		err = user ? bpf_probe_read_user(&p, sizeof(p), at) : bpf_probe_read_kernel(&p, sizeof(p), at);
		if (err || !p) {
			null = !err;
			break;
		}
	}
	if (!err && !null) {
		const void *at = (const void *)(p + d->off[nd]);
		if ((d->leaf & ~LEAF_LIST_NEXT) == LEAF_STR) {
			/* keys compare every byte of the slot: nothing may follow the NUL */
			derive_zero(dst, size);
			err = user ? bpf_probe_read_user_str(dst, size, at) : bpf_probe_read_kernel_str(dst, size, at);
			err = err < 0 ? err : 0;
		} else {
			__u32 n = size;
			if (d->lsize) {
				/* a buffer with its length in another field: the first min(length, size) bytes */
				__u64 len = window_uint(win, d->loff, d->lsize);
				if (len < n) {
					derive_zero(dst, size);
					n = len;
				}
			}
			if (n > 0 && n <= size)
				err = user ? bpf_probe_read_user(dst, n, at) : bpf_probe_read_kernel(dst, n, at);
		}
	} else {
		derive_zero(dst, size); /* the slot holds an earlier event's bytes */
	}
	if (err)
		derive_fault();
}

/* Every configured derived field, in order (a later one may read an earlier one's result).
 * Faulted reads are held for the caller: derive_faults_take(). */
static __always_inline void derive_all(void *ctx, __u8 *win)
{
	derive_one(ctx, win, 0); derive_one(ctx, win, 1); derive_one(ctx, win, 2); derive_one(ctx, win, 3);
	derive_one(ctx, win, 4); derive_one(ctx, win, 5); derive_one(ctx, win, 6); derive_one(ctx, win, 7);
	derive_one(ctx, win, 8); derive_one(ctx, win, 9); derive_one(ctx, win, 10); derive_one(ctx, win, 11);
	derive_one(ctx, win, 12); derive_one(ctx, win, 13); derive_one(ctx, win, 14); derive_one(ctx, win, 15);
}

/* Only the derived fields whose bit is set in `mask` (a .rodata value at every call, so
 * the verifier prunes the rest): a paired entry probe derives the fields read at entry
 * and carries them to its return, which derives the others (uprobe.bpf.c, kprobe.bpf.c). */
static __always_inline void derive_masked(void *ctx, __u8 *win, __u32 mask)
{
#define DERIVE_IF(i) if (mask & (1U << (i))) derive_one(ctx, win, (i))
	DERIVE_IF(0); DERIVE_IF(1); DERIVE_IF(2); DERIVE_IF(3); DERIVE_IF(4); DERIVE_IF(5); DERIVE_IF(6); DERIVE_IF(7);
	DERIVE_IF(8); DERIVE_IF(9); DERIVE_IF(10); DERIVE_IF(11); DERIVE_IF(12); DERIVE_IF(13); DERIVE_IF(14); DERIVE_IF(15);
#undef DERIVE_IF
}

/* Faults an entry probe's reads took, carried to the return that settles them (the
 * return may run on another CPU, whose count this is then added to). */
static __always_inline void derive_faults_add(__u64 n)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&derive_faults, &zero);
	if (c)
		*c += n;
}

/* Counts the event's faulted reads in STAT_READ_FAILED if its filters kept it (keep),
 * else forgets them: other processes' faults never show up in a trace's stats. */
static __always_inline void derive_faults_settle(bool keep)
{
	__u64 n = derive_faults_take();
	if (keep && n)
		stat_add(STAT_READ_FAILED, n);
}

#endif
