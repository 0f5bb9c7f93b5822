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

/** A shared mapping of an fd, seen from JS as an ArrayBuffer; unmap() releases it. */
export interface Mapping { readonly buffer: ArrayBuffer; unmap(): void }

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

const EPOLLIN = 1, EPOLLET = 1 << 31, EPOLL_CTL_ADD = 1, EPOLL_CLOEXEC = 0o2000000;
const EFD_CLOEXEC = 0o2000000, EFD_NONBLOCK = 0o4000;

/**
 * Waits, off the JS thread, for the kernel to *signal* an fd, not for it to be
 * readable. A BPF ring buffer polls readable whenever any byte waits, so a
 * level-triggered wait returns at once for every event, including the events the
 * waiting itself causes when the tracer traces its own syscalls. Edge-triggered,
 * epoll reports only the producer's wakeups (the first record after a drain, or
 * the wakeup threshold: stream.h), and an eventfd in the same set lets cancel()
 * end a wait early.
 */
export class Readiness {
  private readonly epfd: number;
  private readonly cancelFd: number;
  private readonly events = Buffer.alloc(12 * 4);
  private readonly one = Buffer.alloc(8);
  private closed = false;
  private inFlight = false;
  constructor(fd: number) {
    this.epfd = f.epoll_create1(EPOLL_CLOEXEC) as number;
    if (this.epfd < 0) throw new Error(`epoll_create1 failed: errno ${koffi.errno()}`);
    this.cancelFd = f.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) as number;
    if (this.cancelFd < 0 || !this.add(fd, EPOLLIN | EPOLLET) || !this.add(this.cancelFd, EPOLLIN)) {
      const e = koffi.errno();
      if (this.cancelFd >= 0) f.close(this.cancelFd);
      f.close(this.epfd);
      throw new Error(`cannot set up epoll on the ring buffer: errno ${e}`);
    }
    this.one.writeBigUInt64LE(1n);
  }
  private add(fd: number, events: number): boolean {
    const ev = Buffer.alloc(12);
    ev.writeUInt32LE(events >>> 0, 0);
    ev.writeUInt32LE(fd, 4);
    return (f.epoll_ctl(this.epfd, EPOLL_CTL_ADD, fd, ev) as number) >= 0;
  }
  /** Resolves with true on a wakeup, false on timeout or cancel; runs epoll_wait on libuv's thread pool. */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    this.inFlight = true;
    return new Promise((resolve) => {
      f.epoll_wait.async(this.epfd, this.events, 4, Math.max(0, Math.ceil(timeoutMs)), (err: unknown, n: number) => {
        this.inFlight = false;
        let woke = false;
        for (let i = 0; !err && i < n; i++) {
          if (this.events.readUInt32LE(12 * i + 4) === this.cancelFd) f.read(this.cancelFd, Buffer.alloc(8), 8);
          else woke = true;
        }
        if (this.closed) this.release();
        resolve(woke);
      });
    });
  }
  /** Ends a pending wait now (it resolves false); a wait started later is not affected. */
  cancel(): void {
    if (!this.closed && this.inFlight) this.kick();
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // a wait still running on the pool owns the fds until it returns
    if (this.inFlight) this.kick();
    else this.release();
  }
  private kick(): void {
    f.write(this.cancelFd, this.one, 8);
  }
  private release(): void {
    f.close(this.cancelFd);
    f.close(this.epfd);
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
