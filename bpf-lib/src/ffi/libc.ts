/* libc through koffi: memory-mapping ring buffers, waiting on fds, formatting
 * libbpf's varargs log lines, and perf_event_open. Only ffi/ sees addresses. */
import koffi from "koffi";

const libc = koffi.load("libc.so.6");

const f = {
  mmap: libc.func("void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)"),
  munmap: libc.func("int munmap(void *addr, size_t len)"),
  close: libc.func("int close(int fd)"),
  epoll_create1: libc.func("int epoll_create1(int flags)"),
  epoll_ctl: libc.func("int epoll_ctl(int epfd, int op, int fd, const uint8_t *event)"),
  epoll_wait: libc.func("int epoll_wait(int epfd, _Out_ uint8_t *events, int maxevents, int timeout)"),
  vsnprintf: libc.func("int vsnprintf(_Out_ uint8_t *buf, size_t n, const char *fmt, void *ap)"),
  syscall6: libc.func("long syscall(long nr, ...)"),
  sysconf: libc.func("long sysconf(int name)"),
  if_nametoindex: libc.func("unsigned int if_nametoindex(const char *name)"),
  // syscall(2) with membarrier's fixed arguments: a variadic call cannot go to the thread pool
  membarrier: libc.func("long syscall(long nr, int cmd, unsigned int flags, int cpu)"),
  eventfd: libc.func("int eventfd(unsigned int initval, int flags)"),
  write: libc.func("long write(int fd, const uint8_t *buf, size_t n)"),
  read: libc.func("long read(int fd, _Out_ uint8_t *buf, size_t n)"),
};

const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
const MAP_FAILED = (1n << 64n) - 1n;
const _SC_PAGESIZE = 30;

export const pageSize: number = Number(f.sysconf(_SC_PAGESIZE));

/**
 * A shared mapping of an fd, seen from JS as an ArrayBuffer; unmap() releases it. unmapInBackground()
 * does so on libuv's thread pool: tearing down a large mapping that was filled (a 256 MiB ring:
 * 13 ms here) would otherwise hold the event loop. Either way the buffer must not be read again.
 */
export interface Mapping { readonly buffer: ArrayBuffer; unmap(): void; unmapInBackground(): void }

export function mmapShared(fd: number, length: number, offset: number, writable: boolean): Mapping | { errno: number } {
  const prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  const ptr = f.mmap(null, length, prot, MAP_SHARED, fd, offset) as bigint | null;
  if (ptr === null || BigInt.asUintN(64, ptr) === MAP_FAILED) return { errno: koffi.errno() };
  let live = true;
  return {
    buffer: koffi.view(ptr, length),
    unmap() {
      if (live) f.munmap(ptr, length);
      live = false;
    },
    unmapInBackground() {
      if (live) f.munmap.async(ptr, length, () => {});
      live = false;
    },
  };
}

export function closeFd(fd: number): void {
  f.close(fd);
}

export function vsnprintf(buf: Buffer, fmt: bigint | string, ap: bigint): number {
  return f.vsnprintf(buf, buf.length, fmt, ap) as number;
}

export function errno(): number {
  return koffi.errno();
}

const EPOLLIN = 1, EPOLLET = 1 << 31, EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CLOEXEC = 0o2000000;
const EFD_CLOEXEC = 0o2000000, EFD_NONBLOCK = 0o4000;
/** struct epoll_event is packed on x86_64: u32 events, then the u64 tag at offset 4. */
const EV = 12, MAX_EVENTS = 64;
/** The tag of the set's own eventfd; rings get tags from 1. */
const KICK = 0;

/**
 * One epoll set and at most one epoll_wait on libuv's thread pool for every ring in
 * the process: a wait per ring held one of the pool's 4 threads each, so a few idle
 * traces starved fs calls and membarrier. Events are tagged by ring; an eventfd in
 * the set (KICK) ends the wait early when a sooner deadline arrives or nobody waits.
 */
class WaitSet {
  readonly #epfd: number;
  readonly #kickFd: number;
  readonly #events = Buffer.alloc(EV * MAX_EVENTS);
  readonly #one = Buffer.alloc(8);
  readonly #members = new Map<number, Readiness>();
  #nextTag = KICK + 1;
  #inFlight = false;
  /** performance.now() at which the wait on the pool times out. */
  #inFlightUntil = Infinity;
  #kicked = false;

  constructor() {
    this.#epfd = f.epoll_create1(EPOLL_CLOEXEC) as number;
    if (this.#epfd < 0) throw new Error(`epoll_create1 failed: errno ${koffi.errno()}`);
    this.#kickFd = f.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) as number;
    if (this.#kickFd < 0 || !this.#ctl(EPOLL_CTL_ADD, this.#kickFd, EPOLLIN, KICK)) {
      const e = koffi.errno();
      if (this.#kickFd >= 0) f.close(this.#kickFd);
      f.close(this.#epfd);
      throw new Error(`cannot set up epoll: errno ${e}`);
    }
    this.#one.writeBigUInt64LE(1n);
  }

  #ctl(op: number, fd: number, events: number, tag: number): boolean {
    const ev = Buffer.alloc(EV);
    ev.writeUInt32LE(events >>> 0, 0);
    ev.writeUInt32LE(tag, 4);
    return (f.epoll_ctl(this.#epfd, op, fd, ev) as number) >= 0;
  }

  /** Watches fd for the producer's wakeups (edge-triggered); returns its tag, or -errno. */
  add(fd: number, member: Readiness): number {
    const tag = this.#nextTag++;
    if (!this.#ctl(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET, tag)) return -koffi.errno();
    this.#members.set(tag, member);
    return tag;
  }

  remove(tag: number, fd: number): void {
    // safe while a wait is on the pool: epoll drops the fd from the set and its ready list
    this.#ctl(EPOLL_CTL_DEL, fd, 0, tag);
    this.#members.delete(tag);
    this.schedule();
  }

  /** Starts, shortens or ends the wait on the pool to match the members' deadlines. */
  schedule(): void {
    let next = Infinity;
    for (const m of this.#members.values()) next = Math.min(next, m.deadline);
    if (this.#inFlight) {
      // a sooner deadline, or nobody waiting (free the pool thread): end the wait now
      if ((next < this.#inFlightUntil - 1 || next === Infinity) && !this.#kicked) {
        this.#kicked = true;
        f.write(this.#kickFd, this.#one, 8);
      }
      return;
    }
    if (next === Infinity) return;
    this.#inFlight = true;
    this.#inFlightUntil = next;
    const timeout = Math.max(0, Math.ceil(next - performance.now()));
    f.epoll_wait.async(this.#epfd, this.#events, MAX_EVENTS, timeout, (err: unknown, n: number) => {
      this.#inFlight = false;
      this.#inFlightUntil = Infinity;
      for (let i = 0; !err && i < n; i++) {
        const tag = this.#events.readUInt32LE(EV * i + 4);
        if (tag === KICK) {
          f.read(this.#kickFd, Buffer.alloc(8), 8);
          this.#kicked = false;
        } else this.#members.get(tag)?.signal();
      }
      const now = performance.now();
      for (const m of this.#members.values()) m.expire(now);
      this.schedule();
    });
  }
}

let waitSet: WaitSet | undefined;

/**
 * Waits, off the JS thread, for the kernel to *signal* a ring buffer's fd, not for
 * it to be readable. A BPF ring buffer polls readable whenever any byte waits, so a
 * level-triggered wait returns at once for every event, including the events the
 * waiting itself causes when the tracer traces its own syscalls. Edge-triggered,
 * epoll reports only the producer's wakeups (the first record after a drain, or the
 * wakeup threshold: stream.h). A wakeup that arrives between waits is kept for the
 * next wait(), as a per-ring epoll set's ready list would keep it.
 */
export class Readiness {
  readonly #fd: number;
  readonly #tag: number;
  #signaled = false;
  #resolve: ((woke: boolean) => void) | null = null;
  /** @internal performance.now() at which the pending wait times out (Infinity: none). */
  deadline = Infinity;
  #closed = false;

  constructor(fd: number) {
    waitSet ??= new WaitSet();
    this.#fd = fd;
    this.#tag = waitSet.add(fd, this);
    if (this.#tag < 0) throw new Error(`cannot set up epoll on the ring buffer: errno ${-this.#tag}`);
  }

  /** Resolves with true on a wakeup, false on timeout or cancel; the epoll_wait runs on libuv's thread pool, shared. */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    this.#end(false); // one wait at a time
    if (this.#signaled) {
      this.#signaled = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.deadline = performance.now() + Math.max(0, timeoutMs);
      waitSet!.schedule();
    });
  }

  /** @internal the producer woke this ring */
  signal(): void {
    if (this.#resolve) this.#end(true);
    else this.#signaled = true;
  }

  /** @internal the set's wait returned at `now`: time out a wait that is due */
  expire(now: number): void {
    // epoll_wait's timeout is in whole ms and may return a little early
    if (this.#resolve && this.deadline <= now + 1) this.#end(false);
  }

  #end(woke: boolean): void {
    const r = this.#resolve;
    this.#resolve = null;
    this.deadline = Infinity;
    r?.(woke);
  }

  /** Ends a pending wait now (it resolves false); a wait started later is not affected. */
  cancel(): void {
    if (!this.#resolve) return;
    this.#end(false);
    waitSet!.schedule();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#end(false);
    waitSet!.remove(this.#tag, this.#fd);
  }
}

const SYS_membarrier = 324; // x86_64
const MEMBARRIER_CMD_QUERY = 0, MEMBARRIER_CMD_GLOBAL = 1;
let globalBarrier: boolean | undefined;

/**
 * Waits, on libuv's thread pool, until every CPU has passed through a quiescent
 * state: membarrier(MEMBARRIER_CMD_GLOBAL) is synchronize_rcu() in the kernel, so
 * every BPF program run that began before the call (they run inside RCU read-side
 * sections) has finished when it resolves. Resolves false where the kernel lacks
 * the command (CONFIG_MEMBARRIER off, nohz_full): the caller must fall back.
 */
export function waitForRunningPrograms(): Promise<boolean> {
  globalBarrier ??= (() => {
    const mask = Number(f.membarrier(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0));
    return mask > 0 && (mask & MEMBARRIER_CMD_GLOBAL) !== 0;
  })();
  if (!globalBarrier) return Promise.resolve(false);
  return new Promise((resolve) => {
    f.membarrier.async(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0, (err: unknown, r: number | bigint) => resolve(!err && Number(r) === 0));
  });
}

const SYS_perf_event_open = 298; // x86_64
/** perf_event_open(2) with a raw perf_event_attr image; returns the fd or -errno. */
export function perfEventOpen(attr: Uint8Array, pid: number, cpu: number, groupFd: number, flags: number): number {
  const r = Number(f.syscall6(SYS_perf_event_open, "uint8_t *", attr, "int", pid, "int", cpu, "int", groupFd, "unsigned long", flags));
  return r < 0 ? -koffi.errno() : r;
}

export function ifNameToIndex(name: string): number {
  return f.if_nametoindex(name) as number;
}
