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

/** An epoll set waiting for one fd to become readable, off the JS thread. */
export class Readiness {
  private readonly epfd: number;
  private readonly events = Buffer.alloc(12 * 4);
  constructor(fd: number) {
    this.epfd = f.epoll_create1(0o2000000 /* EPOLL_CLOEXEC */) as number;
    if (this.epfd < 0) throw new Error(`epoll_create1 failed: errno ${koffi.errno()}`);
    const ev = Buffer.alloc(12);
    ev.writeUInt32LE(1 /* EPOLLIN */, 0);
    ev.writeUInt32LE(fd, 4);
    if ((f.epoll_ctl(this.epfd, 1 /* EPOLL_CTL_ADD */, fd, ev) as number) < 0) {
      const e = koffi.errno();
      f.close(this.epfd);
      throw new Error(`epoll_ctl failed: errno ${e}`);
    }
  }
  /** Resolves with true when readable, false on timeout; runs epoll_wait on libuv's thread pool. */
  wait(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      f.epoll_wait.async(this.epfd, this.events, 4, timeoutMs, (err: unknown, n: number) => resolve(!err && n > 0));
    });
  }
  close(): void {
    f.close(this.epfd);
  }
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
