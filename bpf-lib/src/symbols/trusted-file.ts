/* Reading files that another user may have planted, as root. /tmp/perf-PID.map is
 * writable by whoever owns /tmp entries of that name: a FIFO there would block a
 * plain read forever (with programs still attached), a symlink would make root read
 * something else, a huge file would exhaust memory. So, as perf does: open without
 * following symlinks and without blocking, then trust only a regular file owned by
 * the expected user (or root), not writable by others, nor by a group other than
 * its owner's own primary group (umask 002 makes JIT maps 0664 in a user's private
 * group: only the owner can write them), of bounded size. */
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from "node:fs";

export const MAX_TRUSTED_BYTES = 64 << 20;

export type TrustedRead = { text: string } | { skipped: string };

/**
 * The file's text, or why it was not read. `trusted`: the uids whose files are
 * trusted (root always is), or a function giving them. A missing file is `{ skipped: "missing" }`.
 */
export function readTrustedFile(path: string, trusted: readonly number[] | (() => readonly number[]), maxBytes = MAX_TRUSTED_BYTES): TrustedRead {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { skipped: code === "ENOENT" ? "missing" : code === "ELOOP" ? "it is a symbolic link" : `it cannot be opened (${code})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { skipped: `it is not a regular file (${kind(st.mode)})` };
    const owners = typeof trusted === "function" ? trusted() : trusted; // only looked up when there is a file
    if (st.uid !== 0 && !owners.includes(st.uid)) return { skipped: `it is owned by uid ${st.uid}, not by the process's user (${owners.join(", ")}) or root` };
    if (st.mode & 0o002) return { skipped: `it is writable by everyone (mode ${(st.mode & 0o7777).toString(8)})` };
    if (st.mode & 0o020 && st.gid !== primaryGid(st.uid)) return { skipped: `it is writable by group ${st.gid}, not its owner's own primary group (mode ${(st.mode & 0o7777).toString(8)})` };
    if (st.size > maxBytes) return { skipped: `it is ${st.size} bytes, more than the ${maxBytes} read at most` };
    const buf = Buffer.alloc(st.size);
    let n = 0;
    // bounded by the size seen: a file still growing is read up to that point
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, n);
      if (r <= 0) break;
      n += r;
    }
    return { text: buf.toString("utf8", 0, n) };
  } finally {
    closeSync(fd);
  }
}

/** A user's primary group from /etc/passwd (root's is 0), or undefined if the uid is not listed. */
export function primaryGid(uid: number, passwd?: string): number | undefined {
  if (uid === 0) return 0;
  let text = passwd;
  try {
    text ??= readFileSync("/etc/passwd", "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length >= 4 && Number(f[2]) === uid && f[2] !== "") return Number(f[3]);
  }
  return undefined;
}

function kind(mode: number): string {
  switch (mode & constants.S_IFMT) {
    case constants.S_IFIFO: return "a FIFO";
    case constants.S_IFSOCK: return "a socket";
    case constants.S_IFCHR: return "a character device";
    case constants.S_IFBLK: return "a block device";
    case constants.S_IFDIR: return "a directory";
    default: return `mode ${mode.toString(8)}`;
  }
}

/** The real and effective uids of a process (whose files it may have written), or [] if it is gone. */
export function processUids(pid: number, status?: string): number[] {
  try {
    const text = status ?? readStatus(pid);
    const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(text);
    return m ? [...new Set([Number(m[1]), Number(m[2])])] : [];
  } catch {
    return [];
  }
}

function readStatus(pid: number): string {
  // /proc files are safe to read plainly: the kernel makes them
  const fd = openSync(`/proc/${pid}/status`, "r");
  try {
    const b = Buffer.alloc(4096);
    const n = readSync(fd, b, 0, b.length, 0);
    return b.toString("utf8", 0, n);
  } finally {
    closeSync(fd);
  }
}
