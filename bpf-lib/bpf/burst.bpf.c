// SPDX-License-Identifier: GPL-2.0
/* A burst producer for benchmarks and loss tests: run once with BPF_PROG_TEST_RUN,
 * it emits cfg_count standard events into the ring buffer as fast as the kernel can. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "event.h"
#include "stream.h"

const volatile __u32 cfg_count = 1000;

static long emit(__u64 i, void *ctx)
{
	struct stream_ident *id = ctx;
	stat_inc(STAT_PRODUCED);
	struct event_hdr *ev = bpf_ringbuf_reserve(&events, cfg_event_size, 0);
	if (!ev) {
		stat_inc(STAT_LOST);
		return 0;
	}
	stream_fill_hdr(ev, id);
	ev->flags = (__u32)i; /* sequence number, so a reader can check order */
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("syscall")
int burst(void *ctx)
{
	struct stream_ident id = {};
	id.pid_tgid = bpf_get_current_pid_tgid();
	bpf_get_current_comm(id.comm, COMM_LEN);
	bpf_loop(cfg_count, emit, &id, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
