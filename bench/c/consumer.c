// SPDX-License-Identifier: MIT
/* A C libbpf reference consumer: the yardstick the TypeScript stream reader is
 * benchmarked against. Prints one JSON line with its results on stdout.
 *
 *   consumer e2e --pid PID --events N --mode poll|busy|hold|limit [--ringbuf-mb 16]
 *                [--wakeup-bytes B] [--hold-ms 20] [--idle-ms 2000] [--start-timeout-s 60]
 *       Loads bpf-lib's tracepoint program (40-byte header-only events, filtered
 *       to PID), attaches it to syscalls:sys_enter_getppid, prints {"ready":true},
 *       then consumes until N events were received, or all produced events are
 *       accounted for (received + lost == produced) and nothing arrived for
 *       --idle-ms. If no event at all arrives within --start-timeout-s it gives up.
 *         poll   ring_buffer__poll, libbpf's usual loop
 *         busy   a ring_buffer__consume loop that never sleeps
 *         hold   bpfbook's reader policy: an edge-triggered epoll wait, a drain, then
 *                no drain for --hold-ms unless --wakeup-bytes are waiting
 *         limit  consumes nothing until all N were produced (its own ring: 128 MiB;
 *                a ring given by --ring-fd must hold N events too), then drains:
 *                the rate of the traced workload with no consumer running
 *       seconds: from the first event's kernel timestamp (CLOCK_MONOTONIC, as
 *       bpfbook measures) to the end of the drain that delivered the last event;
 *       limit: first to last event's timestamp.
 *
 *   consumer e2e --ring-fd FD --stats-fd FD --events N --mode ... [--str-off O --str-len L]
 *       Reads a program someone else loaded and attached (bpfbook itself, so both
 *       read the same program): its ring and stats maps are inherited fds. With
 *       --str-off, each event's string at byte O (a slot of L bytes) is interned.
 *
 *   consumer drain --events N [--ringbuf-mb 256] [--columns]
 *       Loads bpf-lib's burst program, runs it once (BPF_PROG_TEST_RUN) to emit N
 *       40-byte events, then times one ring_buffer__consume draining them all;
 *       --columns also copies what bpfbook keeps per event into fresh columns.
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
#include <sys/epoll.h>
#include <sys/mman.h>
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
		"usage: consumer e2e --events N --mode poll|busy|hold|limit [--pid PID]\n"
		"                    [--ringbuf-mb 16] [--wakeup-bytes B] [--hold-ms 20]\n"
		"                    [--ring-fd FD --stats-fd FD] [--str-off OFF --str-len LEN]\n"
		"                    [--idle-ms 2000] [--start-timeout-s 60] [-v]\n"
		"       consumer drain --events N [--ringbuf-mb 256] [--columns] [-v]\n");
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
static int read_stat(int stats_fd, __u32 idx, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	__u64 vals[ncpu];
	if (bpf_map_lookup_elem(stats_fd, &idx, vals))
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

/* Strings seen in events, interned: each distinct string is stored once in an
 * arena and an event keeps its 32-bit code (what bpfbook's dictionary columns
 * do). Open addressing on an FNV-1a hash; the table doubles at half full. */
struct intern {
	char *arena;
	size_t used, cap;
	__u32 *slots; /* 0 = empty, else code + 1 */
	__u32 nslots, count;
	__u64 *offs;  /* code -> offset in the arena */
	__u32 *hashes; /* code -> hash, so growing does not rehash the bytes */
};

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

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		fprintf(stderr, "consumer: out of memory\n");
		exit(1);
	}
	return q;
}

static void intern_init(struct intern *t)
{
	memset(t, 0, sizeof(*t));
	t->cap = 1 << 20;
	t->arena = xrealloc(NULL, t->cap);
	t->nslots = 1 << 10;
	t->slots = prealloc(t->nslots, sizeof(*t->slots));
	t->offs = xrealloc(NULL, (t->nslots / 2) * sizeof(*t->offs));
	t->hashes = xrealloc(NULL, (t->nslots / 2) * sizeof(*t->hashes));
}

static void intern_free(struct intern *t)
{
	free(t->arena); free(t->slots); free(t->offs); free(t->hashes);
}

static void intern_grow(struct intern *t)
{
	__u32 n = t->nslots * 2;
	__u32 *s = prealloc(n, sizeof(*s));
	for (__u32 code = 0; code < t->count; code++) {
		__u32 i = t->hashes[code] & (n - 1);
		while (s[i])
			i = (i + 1) & (n - 1);
		s[i] = code + 1;
	}
	free(t->slots);
	t->slots = s;
	t->nslots = n;
	t->offs = xrealloc(t->offs, (n / 2) * sizeof(*t->offs));
	t->hashes = xrealloc(t->hashes, (n / 2) * sizeof(*t->hashes));
}

/* The code of the NUL-terminated string at p (at most max bytes). */
static __u32 intern(struct intern *t, const char *p, size_t max)
{
	size_t len = strnlen(p, max);
	__u32 h = 2166136261u;
	for (size_t k = 0; k < len; k++)
		h = (h ^ (unsigned char)p[k]) * 16777619u;
	__u32 i = h & (t->nslots - 1);
	for (__u32 s; (s = t->slots[i]); i = (i + 1) & (t->nslots - 1)) {
		const char *q = t->arena + t->offs[s - 1];
		if (t->hashes[s - 1] == h && strncmp(q, p, len) == 0 && q[len] == 0)
			return s - 1;
	}
	if (t->used + len + 1 > t->cap) {
		while (t->used + len + 1 > t->cap)
			t->cap *= 2;
		t->arena = xrealloc(t->arena, t->cap);
	}
	__u32 code = t->count++;
	memcpy(t->arena + t->used, p, len);
	t->arena[t->used + len] = 0;
	t->offs[code] = t->used;
	t->hashes[code] = h;
	t->used += len + 1;
	t->slots[i] = code + 1;
	if (t->count * 2 >= t->nslots)
		intern_grow(t);
	return code;
}

/* What a realistic consumer does with each event: copy the header fields out
 * into preallocated columns (the comm is kept as a pointer, not copied) and,
 * with --str-off, intern the user string the event carries. */
struct e2e_ctx {
	__u64 cap, received;
	__u64 *ts;
	__u32 *pid, *tid, *cpu;
	const char **comm;
	__u32 *str;          /* with --str-off: the string's code */
	__u32 str_off, str_len;
	struct intern strings;
	__u64 ts_first, ts_last; /* kernel timestamps (CLOCK_MONOTONIC) of the first and last event */
};

static int e2e_event(void *ctx, void *data, size_t size)
{
	struct e2e_ctx *c = ctx;
	const struct event_hdr *h = data;
	if (c->received == 0)
		c->ts_first = h->ts;
	c->ts_last = h->ts;
	if (c->received < c->cap) {
		__u64 i = c->received;
		c->ts[i] = h->ts;
		c->pid[i] = h->pid;
		c->tid[i] = h->tid;
		c->cpu[i] = h->cpu;
		c->comm[i] = h->comm;
		if (c->str && c->str_off + c->str_len <= size)
			c->str[i] = intern(&c->strings, (const char *)data + c->str_off, c->str_len);
	}
	c->received++;
	return 0;
}

/* Bytes waiting in a ring: its producer minus its consumer position, read from
 * the ring's own pages (libbpf 1.1 has no ring__avail_data_size). */
struct ring_pos {
	const volatile unsigned long *cons, *prod;
};

static int ring_pos_map(int fd, struct ring_pos *r)
{
	long page = sysconf(_SC_PAGESIZE);
	void *c = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	if (c == MAP_FAILED)
		return -errno;
	void *p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
	if (p == MAP_FAILED) {
		munmap(c, page);
		return -errno;
	}
	r->cons = c;
	r->prod = p;
	return 0;
}

static unsigned long ring_pending(const struct ring_pos *r)
{
	return __atomic_load_n(r->prod, __ATOMIC_ACQUIRE) - __atomic_load_n(r->cons, __ATOMIC_ACQUIRE);
}

static int epoll_ms(int epfd, double ms)
{
	struct epoll_event ev;
	int t = ms <= 0 ? 0 : ms < 1 ? 1 : (int)(ms + 0.5);
	int r = epoll_wait(epfd, &ev, 1, t);
	return r < 0 && errno != EINTR ? -errno : 0;
}

enum e2e_mode { M_POLL, M_BUSY, M_HOLD, M_LIMIT };

static int run_e2e(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, 0, 'p' },
		{ "events", required_argument, 0, 'n' },
		{ "mode", required_argument, 0, 'm' },
		{ "ringbuf-mb", required_argument, 0, 'r' },
		{ "wakeup-bytes", required_argument, 0, 'w' },
		{ "hold-ms", required_argument, 0, 'H' },
		{ "idle-ms", required_argument, 0, 'i' },
		{ "start-timeout-s", required_argument, 0, 's' },
		{ "ring-fd", required_argument, 0, 'R' },
		{ "stats-fd", required_argument, 0, 'S' },
		{ "str-off", required_argument, 0, 'o' },
		{ "str-len", required_argument, 0, 'l' },
		{ "verbose", no_argument, 0, 'v' },
		{ 0 },
	};
	unsigned long long pid = 0, n = 0, mb = 0, wakeup = 0, hold_ms = 20, idle_ms = 2000, start_to = 60;
	long long ring_fd = -1, stats_fd = -1, str_off = -1, str_len = 0;
	const char *mode_name = NULL;
	bool have_pid = false, have_n = false;
	int o;
	while ((o = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (o) {
		case 'p': pid = parse_u64("--pid", optarg); have_pid = true; break;
		case 'n': n = parse_u64("--events", optarg); have_n = true; break;
		case 'm': mode_name = optarg; break;
		case 'r': mb = parse_u64("--ringbuf-mb", optarg); break;
		case 'w': wakeup = parse_u64("--wakeup-bytes", optarg); break;
		case 'H': hold_ms = parse_u64("--hold-ms", optarg); break;
		case 'i': idle_ms = parse_u64("--idle-ms", optarg); break;
		case 's': start_to = parse_u64("--start-timeout-s", optarg); break;
		case 'R': ring_fd = (long long)parse_u64("--ring-fd", optarg); break;
		case 'S': stats_fd = (long long)parse_u64("--stats-fd", optarg); break;
		case 'o': str_off = (long long)parse_u64("--str-off", optarg); break;
		case 'l': str_len = (long long)parse_u64("--str-len", optarg); break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	bool external = ring_fd >= 0;
	/* a program loaded elsewhere comes with both maps and its own pid filter */
	if (optind != argc || !have_n || !mode_name || pid > UINT32_MAX || external != (stats_fd >= 0) ||
	    (!external && !have_pid) || (str_off >= 0) != (str_len > 0))
		usage();
	enum e2e_mode mode;
	if (strcmp(mode_name, "poll") == 0)
		mode = M_POLL;
	else if (strcmp(mode_name, "busy") == 0)
		mode = M_BUSY;
	else if (strcmp(mode_name, "hold") == 0)
		mode = M_HOLD;
	else if (strcmp(mode_name, "limit") == 0)
		mode = M_LIMIT;
	else
		usage();
	if (!mb)
		mb = mode == M_LIMIT ? 128 : 16;
	__u32 rb_bytes = ringbuf_bytes(mb);
	/* hold: the reader's pacing threshold; bpfbook's default for a 16 MiB ring */
	__u64 threshold = wakeup ? wakeup : UINT64_MAX;

	struct e2e_ctx c = { .cap = n };
	c.ts = prealloc(n, sizeof(*c.ts));
	c.pid = prealloc(n, sizeof(*c.pid));
	c.tid = prealloc(n, sizeof(*c.tid));
	c.cpu = prealloc(n, sizeof(*c.cpu));
	c.comm = prealloc(n, sizeof(*c.comm));
	if (str_off >= 0) {
		c.str = prealloc(n, sizeof(*c.str));
		c.str_off = (__u32)str_off;
		c.str_len = (__u32)str_len;
		intern_init(&c.strings);
	}

	struct tracepoint_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct ring_pos pos = { 0 };
	int err, ret = 1, epfd = -1;
	int events_fd = (int)ring_fd, st_fd = (int)stats_fd;

	if (!external) {
		skel = tracepoint_bpf__open();
		if (!skel) {
			fprintf(stderr, "consumer: opening tracepoint.bpf.o: %s\n", strerror(errno));
			goto out;
		}
		skel->rodata->cfg_pid = (__u32)pid;
		skel->rodata->cfg_event_size = sizeof(struct event_hdr);
		skel->rodata->cfg_window = 0; /* no record window, no predicates, no strings */
		/* limit: nothing consumes, so no forced wakeup may cost the producer either */
		skel->rodata->cfg_wakeup_bytes = mode == M_LIMIT ? 0 : wakeup;
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
		events_fd = bpf_map__fd(skel->maps.events);
		st_fd = bpf_map__fd(skel->maps.stats);
	}
	rb = ring_buffer__new(events_fd, e2e_event, &c, NULL);
	if (!rb) {
		fprintf(stderr, "consumer: ring_buffer__new: %s\n", strerror(errno));
		goto out;
	}
	if (mode == M_HOLD) {
		/* edge-triggered, as bpfbook's reader: only the producer's wakeups end a wait */
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
		epfd = epoll_create1(EPOLL_CLOEXEC);
		if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, events_fd, &ev) ||
		    (err = ring_pos_map(events_fd, &pos))) {
			fprintf(stderr, "consumer: epoll on the ring: %s\n", strerror(errno));
			goto out;
		}
	}

	printf("{\"ready\":true}\n");
	fflush(stdout);

	double t_ready = now_s(), t_last = 0, t_activity = t_ready;
	__u64 produced = 0, lost = 0;
	bool timed_out = false;
	if (mode == M_LIMIT) {
		/* consume nothing while the workload runs: wait for all N, then drain */
		while (!stop) {
			if (read_stat(st_fd, STAT_PRODUCED, &produced))
				goto stats_err;
			if (produced >= n)
				break;
			if (produced == 0 && now_s() - t_ready >= start_to) {
				fprintf(stderr, "consumer: no event within %llu s\n", start_to);
				timed_out = true;
				break;
			}
			usleep(50000);
		}
		if (ring_buffer__consume(rb) < 0)
			goto out;
	}
	while (mode != M_LIMIT && !stop && c.received < n) {
		int got;
		if (mode == M_HOLD) {
			got = ring_buffer__consume(rb);
		} else {
			got = mode == M_BUSY ? ring_buffer__consume(rb) : ring_buffer__poll(rb, 100);
			if (got == -EINTR)
				continue;
			/* a poll timeout: collect what waits without a wakeup (--wakeup-bytes) */
			if (got == 0 && mode == M_POLL)
				got = ring_buffer__consume(rb);
		}
		if (got < 0) {
			fprintf(stderr, "consumer: ring_buffer__%s: %s\n", mode == M_POLL ? "poll" : "consume",
				strerror(-got));
			goto out;
		}
		double t = now_s();
		if (got > 0) {
			t_last = t_activity = t;
			if (c.received >= n)
				break;
		}
		if (mode == M_HOLD) {
			/* bpfbook's pump: wait for a wakeup (a poll period if bytes are already
			 * pending, which sent none), then hold the next drain until a poll
			 * period after this one unless the threshold is crossed */
			if ((err = epoll_ms(epfd, ring_pending(&pos) > 0 ? hold_ms : 500)))
				goto epoll_err;
			for (;;) {
				double hold = t + hold_ms / 1e3 - now_s();
				if (stop || hold <= 0 || ring_pending(&pos) >= threshold)
					break;
				if ((err = epoll_ms(epfd, hold * 1e3)))
					goto epoll_err;
			}
		}
		if (got > 0 || (t - t_activity) * 1000 < idle_ms)
			continue;
		/* idle: finished if every produced event was received or lost */
		if (read_stat(st_fd, STAT_PRODUCED, &produced) || read_stat(st_fd, STAT_LOST, &lost))
			goto stats_err;
		if (produced > 0 && produced == c.received + lost)
			break;
		if (produced == 0 && t - t_ready >= start_to) {
			fprintf(stderr, "consumer: no event within %llu s\n", start_to);
			timed_out = true;
			break;
		}
		t_activity = t; /* check again after another idle period */
	}
	/* detach before the final count, so it is stable (a program loaded
	 * elsewhere is detached by its owner after this reports) */
	if (skel) {
		bpf_link__destroy(skel->links.on_tracepoint);
		skel->links.on_tracepoint = NULL;
	}
	if (read_stat(st_fd, STAT_PRODUCED, &produced) || read_stat(st_fd, STAT_LOST, &lost))
		goto stats_err;

	/* a consistency check on what was copied out: every event is from the
	 * traced process */
	__u64 m = c.received < n ? c.received : n, bad_pid = 0;
	for (__u64 i = 0; i < m; i++)
		if (pid && c.pid[i] != pid)
			bad_pid++;
	if (bad_pid)
		fprintf(stderr, "consumer: %llu events from another pid\n", (unsigned long long)bad_pid);
	double kernel_s = c.received > 1 ? (c.ts_last - c.ts_first) * 1e-9 : 0;
	/* from the first event's kernel timestamp (as bpfbook measures) to the end
	 * of the drain that delivered the last; limit: first to last event */
	double secs = mode == M_LIMIT ? kernel_s : c.received > 1 ? t_last - c.ts_first * 1e-9 : 0;
	printf("{\"mode\":\"%s\",\"received\":%llu,\"lost\":%llu,\"produced\":%llu,"
	       "\"seconds\":%.6f,\"events_per_sec\":%.1f,"
	       "\"kernel_seconds\":%.6f,\"ringbuf_mb\":%llu,\"wakeup_bytes\":%llu,\"hold_ms\":%llu,"
	       "\"distinct_strings\":%u,\"string_arena_bytes\":%zu}\n",
	       mode_name, (unsigned long long)c.received, (unsigned long long)lost,
	       (unsigned long long)produced, secs, secs > 0 ? c.received / secs : 0.0,
	       kernel_s, mb, wakeup, mode == M_HOLD ? hold_ms : 0, c.strings.count, c.strings.used);
	fflush(stdout);
	ret = timed_out || stop ? 1 : 0;
	goto out;
stats_err:
	fprintf(stderr, "consumer: reading stats: %s\n", strerror(errno));
	goto out;
epoll_err:
	fprintf(stderr, "consumer: epoll_wait: %s\n", strerror(-err));
out:
	if (epfd >= 0)
		close(epfd);
	ring_buffer__free(rb);
	tracepoint_bpf__destroy(skel);
	free(c.ts); free(c.pid); free(c.tid); free(c.cpu); free(c.comm); free(c.str);
	if (c.str)
		intern_free(&c.strings);
	return ret;
}

/* ---------------------------------------------------------------- drain */

struct drain_ctx {
	__u64 count, sum, cap;
	/* --columns: what bpfbook's decoder keeps per event, in fresh memory sized for N
	 * (first touched during the drain, as bpfbook's columns are): ts, cpu, pid, tid,
	 * and comm as a 32-bit code (one string so far: compared against the last) */
	double *ts;
	__u16 *cpu;
	__u32 *pid, *tid, *comm;
	char last_comm[16];
};

static int drain_event(void *ctx, void *data, size_t size)
{
	struct drain_ctx *c = ctx;
	const struct event_hdr *h = data;
	(void)size;
	if (c->ts && c->count < c->cap) {
		__u64 i = c->count;
		c->ts[i] = (double)h->ts;
		c->cpu[i] = (__u16)h->cpu;
		c->pid[i] = h->pid;
		c->tid[i] = h->tid;
		if (memcmp(c->last_comm, h->comm, sizeof(c->last_comm)))
			memcpy(c->last_comm, h->comm, sizeof(c->last_comm));
		c->comm[i] = 0;
	}
	c->count++;
	c->sum += h->flags; /* the sequence number */
	return 0;
}

static int run_drain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "events", required_argument, 0, 'n' },
		{ "ringbuf-mb", required_argument, 0, 'r' },
		{ "columns", no_argument, 0, 'c' },
		{ "verbose", no_argument, 0, 'v' },
		{ 0 },
	};
	unsigned long long n = 0, mb = 256;
	bool have_n = false, columns = false;
	int o;
	while ((o = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (o) {
		case 'n': n = parse_u64("--events", optarg); have_n = true; break;
		case 'r': mb = parse_u64("--ringbuf-mb", optarg); break;
		case 'c': columns = true; break;
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
	if (columns) {
		/* calloc of this size maps fresh zero pages: they fault in during the drain */
		c.cap = n;
		c.ts = calloc(n ? n : 1, sizeof(*c.ts));
		c.cpu = calloc(n ? n : 1, sizeof(*c.cpu));
		c.pid = calloc(n ? n : 1, sizeof(*c.pid));
		c.tid = calloc(n ? n : 1, sizeof(*c.tid));
		c.comm = calloc(n ? n : 1, sizeof(*c.comm));
		if (!c.ts || !c.cpu || !c.pid || !c.tid || !c.comm) {
			fprintf(stderr, "consumer: out of memory\n");
			goto out;
		}
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
	if (read_stat(bpf_map__fd(skel->maps.stats), STAT_PRODUCED, &produced) ||
	    read_stat(bpf_map__fd(skel->maps.stats), STAT_LOST, &lost)) {
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
	printf("{\"mode\":\"%s\",\"produce_seconds\":%.6f,\"drain_seconds\":%.6f,"
	       "\"events\":%llu,\"events_per_sec\":%.1f,\"lost\":%llu,"
	       "\"produced\":%llu,\"produce_events_per_sec\":%.1f,\"ringbuf_mb\":%llu}\n",
	       columns ? "drain-columns" : "drain", ps, ds, (unsigned long long)c.count, ds > 0 ? c.count / ds : 0.0,
	       (unsigned long long)lost, (unsigned long long)produced,
	       ps > 0 ? produced / ps : 0.0, mb);
	fflush(stdout);
	ret = 0;
out:
	free(c.ts);
	free(c.cpu);
	free(c.pid);
	free(c.tid);
	free(c.comm);
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
