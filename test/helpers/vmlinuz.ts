/* The ELF vmlinux inside a compressed x86 kernel image (bzImage), so the BTF of a kernel
 * that is not running (the VM harness's Debian kernel) can be read without booting it:
 * the boot header gives the payload's place, its magic the compressor. */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/** Writes the vmlinux ELF of `image` to `out`; returns null and why when it cannot. */
export function extractVmlinux(image: string, out: string): { path: string } | { skip: string } {
  let d: Buffer;
  try {
    d = readFileSync(image);
  } catch (e) {
    return { skip: `${image} cannot be read (${(e as NodeJS.ErrnoException).code})` };
  }
  if (d.length < 0x250 || d.toString("latin1", 0x202, 0x206) !== "HdrS") return { skip: `${image} is not an x86 bzImage (no HdrS boot header)` };
  const setupSects = d[0x1f1] || 4;
  const payload = (setupSects + 1) * 512 + d.readUInt32LE(0x248);
  const length = d.readUInt32LE(0x24c);
  const data = d.subarray(payload, payload + length);
  const magic = data.subarray(0, 6).toString("hex");
  let elf: Buffer;
  try {
    if (magic.startsWith("1f8b")) elf = gunzipSync(data);
    else if (magic === "fd377a585a00") elf = decompress("xz", data);
    else if (magic.startsWith("28b52ffd")) elf = decompress("zstd", data);
    else return { skip: `${image}'s payload uses a compressor this helper does not know (magic ${magic})` };
  } catch (e) {
    return { skip: `cannot decompress ${image}: ${(e as Error).message.split("\n")[0]}` };
  }
  if (elf.toString("latin1", 0, 4) !== "\x7fELF") return { skip: `${image}'s payload did not decompress to an ELF file` };
  writeFileSync(out, elf);
  return { path: out };
}

/** `xz -dc` / `zstd -dc`, keeping the output when they complain about the size word the kernel appends. */
function decompress(tool: string, data: Buffer): Buffer {
  try {
    return execFileSync(tool, ["-dc"], { input: data, maxBuffer: 1 << 30, stdio: ["pipe", "pipe", "ignore"] });
  } catch (e) {
    const out = (e as { stdout?: Buffer }).stdout;
    if (out && out.length > 0) return out;
    throw e;
  }
}
