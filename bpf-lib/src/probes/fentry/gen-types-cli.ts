/* `npm run build:types`: writes the kernel function types of this kernel's BTF.
 * Without kernel BTF it writes an untyped fallback and warns, so builds keep working.
 *
 * The output is a declaration file, bpf-lib/src/generated/kernel-functions.d.ts: with 56 000
 * functions, type-checking it as a .ts source doubled the build's time and memory,
 * while a .d.ts is only read for the names a program uses (skipLibCheck). tsc does
 * not copy .d.ts sources to dist/, so the same file is also written next to the
 * compiled modules (dist/bpf-lib/src/generated/), where the emitted declarations
 * of probes/fentry/*.d.ts import it from. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { NotSupportedError } from "../../errors.js";
import { packageRoot } from "../../paths.js";
import { KERNEL_FUNCTION_FALLBACK, generateKernelFunctionTypes } from "./gen-types.js";

const OUTPUT = "bpf-lib/src/generated/kernel-functions.d.ts";
/** Where this module's compiled siblings are: dist/bpf-lib/src/generated/ when run from dist. */
const COMPILED = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "generated", "kernel-functions.d.ts");

/** Leaves an identical file untouched so watchers and incremental builds do not rebuild. */
function write(path: string, text: string): boolean {
  if (existsSync(path) && readFileSync(path, "utf8") === text) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return true;
}

const path = join(packageRoot(), OUTPUT);
const t0 = performance.now();
try {
  const gen = generateKernelFunctionTypes();
  const changed = write(path, gen.text);
  if (COMPILED !== path) write(COMPILED, gen.text);
  console.log(
    `${relative(process.cwd(), path)}: ${gen.functions} kernel functions, ${gen.signatures} distinct signatures, ` +
      `${Buffer.byteLength(gen.text)} bytes${changed ? "" : " (unchanged)"}${gen.skipped ? `, ${gen.skipped} duplicates skipped` : ""} ` +
      `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
} catch (err) {
  if (!(err instanceof NotSupportedError)) throw err;
  write(path, KERNEL_FUNCTION_FALLBACK);
  if (COMPILED !== path) write(COMPILED, KERNEL_FUNCTION_FALLBACK);
  console.warn(`warning: ${err.message}\nwrote untyped fallback ${relative(process.cwd(), path)}`);
}
