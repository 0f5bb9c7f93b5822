/* Syscall numbers → names, from the architecture's table (the kernel headers'
 * asm/unistd_64.h, which libc's development package ships). */
import { readFileSync } from "node:fs";
import { arch } from "node:os";

const HEADERS: Record<string, string[]> = {
  x64: ["/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"],
  arm64: ["/usr/include/aarch64-linux-gnu/asm/unistd.h", "/usr/include/asm-generic/unistd.h"],
};

let table: Map<number, string> | null = null;

function load(): Map<number, string> {
  const t = new Map<number, string>();
  for (const path of HEADERS[arch()] ?? []) {
    try {
      for (const m of readFileSync(path, "utf8").matchAll(/^#define __NR_(\w+)\s+(\d+)\s*$/gm)) t.set(Number(m[2]), m[1]);
      if (t.size) break;
    } catch {
      // try the next place
    }
  }
  return t;
}

/** The name of syscall `nr` on this architecture ("syscall_<nr>" when unknown). */
export function syscallName(nr: number): string {
  table ??= load();
  return table.get(nr) ?? `syscall_${nr}`;
}

/** The number of a syscall by name, or undefined. */
export function syscallNumber(name: string): number | undefined {
  table ??= load();
  for (const [nr, n] of table) if (n === name) return nr;
  return undefined;
}
