// SPDX-License-Identifier: MIT
/* A C libbpf reference consumer: the yardstick the TypeScript stream reader is
 * benchmarked against. Prints one JSON line with its results on stdout.
 *
 *   consumer e2e --pid PID --events N --mode poll|busy [--ringbuf-mb 16]
 *                [--wakeup-bytes B] [--idle-ms 2000] [--start-timeout-s 60]
 *       Loads bpf-lib's tracepoint program (40-byte header-only events, filtered
 *       to PID), attaches it to syscalls:sys_enter_getppid, prints {"ready":true},
 *       then consumes with ring_buffer__poll (poll) or a busy ring_buffer__consume
 *       loop (busy) until N events were received, or all produced events are
 *       accounted for (received + lost == produced) and nothing arrived for
 *       --idle-ms. If no event at all arrives within --start-timeout-s it gives up.
 *
 *   consumer drain --events N [--ringbuf-mb 256]
 *       Loads bpf-lib's burst program, runs it once (BPF_PROG_TEST_RUN) to emit N
 *       40-byte events, then times one ring_buffer__consume draining them all.
 *
 * Diagnostics (and the verifier log if loading fails) go to stderr; -v adds
 * libbpf's debug output. Exit status 0 on success, 1 on error, 2 on bad usage. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <linux/types.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "event.h" /* struct event_hdr, struct pred (used by the skeleton), stat_idx */
#include "tracepoint.skel.h"
#include "burst.skel.h"

_Static_assert(sizeof(struct event_hdr) == 40, "event_hdr must be 40 bytes");

#define BPF_LOOP_MAX (1u << 23) /* bpf_loop refuses more iterations (-E2BIG) */

static int verbose;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: consumer e2e --pid PID --events N --mode poll|busy [--ringbuf-mb 16]\n"
		"                    [--wakeup-bytes B] [--idle-ms 2000] [--start-timeout-s 60] [-v]\n"
		"       consumer drain --events N [--ringbuf-mb 256] [-v]\n");
	exit(2);
}

static unsigned long long parse_u64(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, "consumer: %s: not a non-negative integer: %s\n", opt, s);
		exit(2);
	}
	return v;
}

/* Sum a per-CPU __u64 counter of the `stats` map. */
static int read_stat(struct bpf_map *stats, __u32 idx, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	__u64 vals[ncpu];
	if (bpf_map_lookup_elem(bpf_map__fd(stats), &idx, vals))
		return -errno;
	__u64 sum = 0;
	for (int i = 0; i < ncpu; i++)
		sum += vals[i];
	*out = sum;
	return 0;
}

/* A ring buffer size in MiB, checked: a power of two number of pages. */
static __u32 ringbuf_bytes(unsigned long long mb)
{
	unsigned long long b = mb << 20;
	if (mb == 0 || mb > 2048 || (b & (b - 1))) {
		fprintf(stderr, "consumer: --ringbuf-mb must be a power of two between 1 and 2048\n");
		exit(2);
	}
	return (__u32)b;
}

/* Load only the program we use: the object may hold variants (e.g. one that
 * needs bpf_probe_read_kernel, which lockdown=confidentiality refuses). */
static void only_autoload(struct bpf_object *obj, struct bpf_program *keep)
{
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, p == keep);
}

/* ---------------------------------------------------------------- e2e */

/* What a realistic consumer does with each event: copy the header fields out
 * into preallocated columns (the comm is kept as a pointer, not copied). */
struct e2e_ctx {
	__u64 cap, received;
	__u64 *ts;
	__u32 *pid, *tid, *cpu;
	const char **comm;
	double t_first;
};

static int e2e_event(void *ctx, void *data, size_t size)
{
	struct e2e_ctx *c = ctx;
	const struct event_hdr *h = data;
	(void)size;
	if (c->received == 0)
		c->t_first = now_s();
	if (c->received < c->cap) {
		__u64 i = c->received;
		c->ts[i] = h->ts;
		c->pid[i] = h->pid;
		c->tid[i] = h->tid;
		c->cpu[i] = h->cpu;
		c->comm[i] = h->comm;
	}
	c->received++;
	return 0;
}

static void *prealloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p) {
		fprintf(stderr, "consumer: out of memory\n");
		exit(1);
	}
	memset(p, 0, n * size); /* fault the pages in now, not while consuming */
	return p;
}

static int run_e2e(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, 0, 'p' },
		{ "events", required_argument, 0, 'n' },
		{ "mode", required_argument, 0, 'm' },
		{ "ringbuf-mb", required_argument, 0, 'r' },
		{ "wakeup-bytes", required_argument, 0, 'w' },
		{ "idle-ms", required_argument, 0, 'i' },
		{ "start-timeout-s", required_argument, 0, 's' },
		{ "verbose", no_argument, 0, 'v' },
		{ 0 },
	};
	unsigned long long pid = 0, n = 0, mb = 16, wakeup = 0, idle_ms = 2000, start_to = 60;
	const char *mode = NULL;
	bool have_pid = false, have_n = false;
	int o;
	while ((o = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (o) {
		case 'p': pid = parse_u64("--pid", optarg); have_pid = true; break;
		case 'n': n = parse_u64("--events", optarg); have_n = true; break;
		case 'm': mode = optarg; break;
		case 'r': mb = parse_u64("--ringbuf-mb", optarg); break;
		case 'w': wakeup = parse_u64("--wakeup-bytes", optarg); break;
		case 'i': idle_ms = parse_u64("--idle-ms", optarg); break;
		case 's': start_to = parse_u64("--start-timeout-s", optarg); break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc || !have_pid || !have_n || !mode || pid > UINT32_MAX)
		usage();
	bool busy;
	if (strcmp(mode, "poll") == 0)
		busy = false;
	else if (strcmp(mode, "busy") == 0)
		busy = true;
	else
		usage();
	__u32 rb_bytes = ringbuf_bytes(mb);

	struct e2e_ctx c = { .cap = n };
	c.ts = prealloc(n, sizeof(*c.ts));
	c.pid = prealloc(n, sizeof(*c.pid));
	c.tid = prealloc(n, sizeof(*c.tid));
	c.cpu = prealloc(n, sizeof(*c.cpu));
	c.comm = prealloc(n, sizeof(*c.comm));

	struct tracepoint_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	int err, ret = 1;

	skel = tracepoint_bpf__open();
	if (!skel) {
		fprintf(stderr, "consumer: opening tracepoint.bpf.o: %s\n", strerror(errno));
		goto out;
	}
	skel->rodata->cfg_pid = (__u32)pid;
	skel->rodata->cfg_event_size = sizeof(struct event_hdr);
	skel->rodata->cfg_window = 0; /* no record window, no predicates, no strings */
	skel->rodata->cfg_wakeup_bytes = wakeup;
	only_autoload(skel->obj, skel->progs.on_tracepoint);
	if ((err = bpf_map__set_max_entries(skel->maps.events, rb_bytes))) {
		fprintf(stderr, "consumer: resizing the ring buffer: %s\n", strerror(-err));
		goto out;
	}
	if ((err = tracepoint_bpf__load(skel))) {
		fprintf(stderr, "consumer: loading tracepoint.bpf.o: %s\n", strerror(-err));
		goto out;
	}
	skel->links.on_tracepoint = bpf_program__attach_tracepoint(skel->progs.on_tracepoint,
								   "syscalls", "sys_enter_getppid");
	if (!skel->links.on_tracepoint) {
		fprintf(stderr, "consumer: attaching to syscalls:sys_enter_getppid: %s\n",
			strerror(errno));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), e2e_event, &c, NULL);
	if (!rb) {
		fprintf(stderr, "consumer: ring_buffer__new: %s\n", strerror(errno));
		goto out;
	}

	printf("{\"ready\":true}\n");
	fflush(stdout);

	double t_ready = now_s(), t_last = 0, t_activity = t_ready;
	__u64 produced = 0, lost = 0;
	bool timed_out = false;
	while (!stop && c.received < n) {
		int got = busy ? ring_buffer__consume(rb) : ring_buffer__poll(rb, 100);
		if (got == -EINTR)
			continue;
		/* a poll timeout: collect what waits without a wakeup (--wakeup-bytes) */
		if (got == 0 && !busy)
			got = ring_buffer__consume(rb);
		if (got < 0) {
			fprintf(stderr, "consumer: ring_buffer__%s: %s\n", busy ? "consume" : "poll",
				strerror(-got));
			goto out;
		}
		double t = now_s();
		if (got > 0) {
			t_last = t_activity = t;
			continue;
		}
		if ((t - t_activity) * 1000 < idle_ms)
			continue;
		/* idle: finished if every produced event was received or lost */
		if (read_stat(skel->maps.stats, STAT_PRODUCED, &produced) ||
		    read_stat(skel->maps.stats, STAT_LOST, &lost)) {
			fprintf(stderr, "consumer: reading stats: %s\n", strerror(errno));
			goto out;
		}
		if (produced > 0 && produced == c.received + lost)
			break;
		if (produced == 0 && t - t_ready >= start_to) {
			fprintf(stderr, "consumer: no event within %llu s\n", start_to);
			timed_out = true;
			break;
		}
		t_activity = t; /* check again after another idle period */
	}
	/* detach before the final count, so it is stable */
	bpf_link__destroy(skel->links.on_tracepoint);
	skel->links.on_tracepoint = NULL;
	if (read_stat(skel->maps.stats, STAT_PRODUCED, &produced) ||
	    read_stat(skel->maps.stats, STAT_LOST, &lost)) {
		fprintf(stderr, "consumer: reading stats: %s\n", strerror(errno));
		goto out;
	}

	/* a consistency check on what was copied out: every event is from the
	 * traced process */
	__u64 m = c.received < n ? c.received : n, bad_pid = 0;
	for (__u64 i = 0; i < m; i++)
		if (pid && c.pid[i] != pid)
			bad_pid++;
	if (bad_pid)
		fprintf(stderr, "consumer: %llu events from another pid\n", (unsigned long long)bad_pid);
	double kernel_s = m > 1 ? (c.ts[m - 1] - c.ts[0]) * 1e-9 : 0;

	double secs = c.received > 1 ? t_last - c.t_first : 0;
	printf("{\"mode\":\"%s\",\"received\":%llu,\"lost\":%llu,\"produced\":%llu,"
	       "\"seconds\":%.6f,\"events_per_sec\":%.1f,"
	       "\"kernel_seconds\":%.6f,\"ringbuf_mb\":%llu,\"wakeup_bytes\":%llu}\n",
	       mode, (unsigned long long)c.received, (unsigned long long)lost,
	       (unsigned long long)produced, secs, secs > 0 ? c.received / secs : 0.0,
	       kernel_s, mb, wakeup);
	fflush(stdout);
	ret = timed_out || stop ? 1 : 0;
out:
	ring_buffer__free(rb);
	tracepoint_bpf__destroy(skel);
	free(c.ts); free(c.pid); free(c.tid); free(c.cpu); free(c.comm);
	return ret;
}

/* ---------------------------------------------------------------- drain */

struct drain_ctx {
	__u64 count, sum;
};

static int drain_event(void *ctx, void *data, size_t size)
{
	struct drain_ctx *c = ctx;
	(void)size;
	c->count++;
	c->sum += ((const struct event_hdr *)data)->flags; /* the sequence number */
	return 0;
}

static int run_drain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "events", required_argument, 0, 'n' },
		{ "ringbuf-mb", required_argument, 0, 'r' },
		{ "verbose", no_argument, 0, 'v' },
		{ 0 },
	};
	unsigned long long n = 0, mb = 256;
	bool have_n = false;
	int o;
	while ((o = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (o) {
		case 'n': n = parse_u64("--events", optarg); have_n = true; break;
		case 'r': mb = parse_u64("--ringbuf-mb", optarg); break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc || !have_n)
		usage();
	if (n > BPF_LOOP_MAX) {
		fprintf(stderr, "consumer: --events at most %u (bpf_loop's limit)\n", BPF_LOOP_MAX);
		exit(2);
	}
	__u32 rb_bytes = ringbuf_bytes(mb);

	struct burst_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct drain_ctx c = { 0 };
	int err, ret = 1;

	skel = burst_bpf__open();
	if (!skel) {
		fprintf(stderr, "consumer: opening burst.bpf.o: %s\n", strerror(errno));
		goto out;
	}
	skel->rodata->cfg_count = (__u32)n;
	skel->rodata->cfg_event_size = sizeof(struct event_hdr);
	only_autoload(skel->obj, skel->progs.burst);
	if ((err = bpf_map__set_max_entries(skel->maps.events, rb_bytes))) {
		fprintf(stderr, "consumer: resizing the ring buffer: %s\n", strerror(-err));
		goto out;
	}
	if ((err = burst_bpf__load(skel))) {
		fprintf(stderr, "consumer: loading burst.bpf.o: %s\n", strerror(-err));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), drain_event, &c, NULL);
	if (!rb) {
		fprintf(stderr, "consumer: ring_buffer__new: %s\n", strerror(errno));
		goto out;
	}

	LIBBPF_OPTS(bpf_test_run_opts, run);
	double t0 = now_s();
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.burst), &run);
	double t1 = now_s();
	if (err) {
		fprintf(stderr, "consumer: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		goto out;
	}

	int got = ring_buffer__consume(rb);
	double t2 = now_s();
	if (got < 0) {
		fprintf(stderr, "consumer: ring_buffer__consume: %s\n", strerror(-got));
		goto out;
	}

	__u64 produced = 0, lost = 0;
	if (read_stat(skel->maps.stats, STAT_PRODUCED, &produced) ||
	    read_stat(skel->maps.stats, STAT_LOST, &lost)) {
		fprintf(stderr, "consumer: reading stats: %s\n", strerror(errno));
		goto out;
	}
	/* if nothing was lost, the sequence numbers are exactly 0..n-1 */
	if (lost == 0 && c.count == n && c.sum != (n ? (__u64)n * (n - 1) / 2 : 0))
		fprintf(stderr, "consumer: sequence checksum mismatch (%llu)\n",
			(unsigned long long)c.sum);
	if (c.count + lost != produced)
		fprintf(stderr, "consumer: drained %llu + lost %llu != produced %llu\n",
			(unsigned long long)c.count, (unsigned long long)lost,
			(unsigned long long)produced);

	double ps = t1 - t0, ds = t2 - t1;
	printf("{\"mode\":\"drain\",\"produce_seconds\":%.6f,\"drain_seconds\":%.6f,"
	       "\"events\":%llu,\"events_per_sec\":%.1f,\"lost\":%llu,"
	       "\"produced\":%llu,\"produce_events_per_sec\":%.1f,\"ringbuf_mb\":%llu}\n",
	       ps, ds, (unsigned long long)c.count, ds > 0 ? c.count / ds : 0.0,
	       (unsigned long long)lost, (unsigned long long)produced,
	       ps > 0 ? produced / ps : 0.0, mb);
	fflush(stdout);
	ret = 0;
out:
	ring_buffer__free(rb);
	burst_bpf__destroy(skel);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	libbpf_set_print(libbpf_print);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	const char *cmd = argv[1];
	/* getopt sees the subcommand's arguments, with the subcommand as argv[0] */
	if (strcmp(cmd, "e2e") == 0)
		return run_e2e(argc - 1, argv + 1);
	if (strcmp(cmd, "drain") == 0)
		return run_drain(argc - 1, argv + 1);
	usage();
}
