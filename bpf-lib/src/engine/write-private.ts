/* Writing an export to a file: owner-only by default (exports hold what the trace
 * held: paths, arguments, command lines), and never through a symbolic link, as
 * saveTrace() writes. */
import { closeSync, constants, fchmodSync, openSync, writeSync } from "node:fs";

/** Where an export goes: a path, and its file mode (default 0600). */
export interface WriteOptions {
  /** File mode (default 0o600: readable and writable by the owner only). An existing file gets it too. */
  mode?: number;
}

/** Writes bytes (or UTF-8 text) to `path`, created or truncated with `mode` (0600 unless given); a symlink at `path` fails with ELOOP. */
export function writePrivate(path: string, data: Uint8Array | string, opts: WriteOptions = {}): void {
  const mode = opts.mode ?? 0o600;
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  // O_NOFOLLOW: a symlink planted at the path must not redirect a root-owned write.
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode);
  try {
    fchmodSync(fd, mode); // open() applies the mode only when it creates the file
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } finally {
    closeSync(fd);
  }
}
