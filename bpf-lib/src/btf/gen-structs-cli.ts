/* `npm run build:types`: writes the kernel struct types of this kernel's BTF
 * (bpf-lib/src/generated/kernel-structs.d.ts), with the structs tracepoint fields point
 * to as extra roots. Without kernel BTF it writes an untyped fallback and warns.
 *
 * Like generated/kfuncs.d.ts it is a declaration file, which tsc does not copy to dist/,
 * so it is also written next to the compiled modules (dist/bpf-lib/src/generated/). */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { NotSupportedError } from "../errors.js";
import { packageRoot } from "../paths.js";
import { BtfBlob } from "./blob.js";
import { STRUCTS_FALLBACK, generateStructTypes } from "./gen-structs.js";

const OUTPUT = "bpf-lib/src/generated/kernel-structs.d.ts";
const COMPILED = resolve(dirname(fileURLToPath(import.meta.url)), "..", "generated", "kernel-structs.d.ts");
const TRACEFS = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/** Leaves an identical file untouched so watchers and incremental builds do not rebuild. */
function write(path: string, text: string): boolean {
  if (existsSync(path) && readFileSync(path, "utf8") === text) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return true;
}

/** Structs that tracepoint fields point to (`field:const struct sk_buff * skbaddr;`); none when tracefs is unreadable. */
function tracepointStructs(): string[] {
  const found = new Set<string>();
  const events = TRACEFS.map((d) => join(d, "events")).find((d) => existsSync(d));
  if (!events) return [];
  try {
    for (const group of readdirSync(events, { withFileTypes: true })) {
      if (!group.isDirectory()) continue;
      for (const ev of readdirSync(join(events, group.name), { withFileTypes: true })) {
        if (!ev.isDirectory()) continue;
        let text: string;
        try {
          text = readFileSync(join(events, group.name, ev.name, "format"), "utf8");
        } catch {
          continue;
        }
        for (const m of text.matchAll(/field:(?:const |volatile )*(?:struct|union) (\w+) ?\*/g)) found.add(m[1]!);
      }
    }
  } catch {
    // tracefs unreadable (not root): the fixed roots still make a useful file
  }
  return [...found].sort();
}

const path = join(packageRoot(), OUTPUT);
const t0 = performance.now();
try {
  const btf = BtfBlob.vmlinux();
  const extra = tracepointStructs();
  const gen = generateStructTypes(btf, btf.source, extra);
  const changed = write(path, gen.text);
  if (COMPILED !== path) write(COMPILED, gen.text);
  console.log(
    `${relative(process.cwd(), path)}: ${gen.structs} kernel structs (${extra.length} tracepoint roots), ${gen.members} members, ` +
      `${Buffer.byteLength(gen.text)} bytes${changed ? "" : " (unchanged)"}${gen.missing.length ? `, roots missing here: ${gen.missing.join(", ")}` : ""} ` +
      `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
} catch (err) {
  if (!(err instanceof NotSupportedError)) throw err;
  write(path, STRUCTS_FALLBACK);
  if (COMPILED !== path) write(COMPILED, STRUCTS_FALLBACK);
  console.warn(`warning: ${err.message}\nwrote untyped fallback ${relative(process.cwd(), path)}`);
}
