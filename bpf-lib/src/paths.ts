/* Where the package's built artifacts live, found from this module's own location. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BpfbookError } from "./errors.js";

let root: string | null = null;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "bpfbook") return (root = dir);
      } catch {
        // not ours; keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new BpfbookError("ENOPKG", "cannot find the bpfbook package root above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** A compiled BPF object shipped with the package (built by `make -C bpf-lib`). */
export function bpfObjectPath(name: string): string {
  const p = join(packageRoot(), "bpf-lib", "build", `${name}.bpf.o`);
  if (!existsSync(p)) throw new BpfbookError("ENOOBJ", `the BPF object ${p} is missing: build it with \`npm run build:bpf\` (or ./install.sh)`);
  return p;
}
