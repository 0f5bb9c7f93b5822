/* `npm run build:types`: writes bpf-lib/src/generated/tracepoints.ts for this kernel.
 * Without tracefs it writes an untyped fallback and warns, so builds keep working. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { PermissionError } from "../errors.js";
import { TracefsNotMountedError } from "./errors.js";
import { FALLBACK, generateTypes } from "./gen-types.js";

const OUTPUT = "bpf-lib/src/generated/tracepoints.ts";

/** The package root: found from this file, which runs from dist/ as often as from src/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === "bpfbook") {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json named "bpfbook" above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Leaves an identical file untouched so watchers and incremental builds do not rebuild. */
function write(path: string, text: string): boolean {
  if (existsSync(path) && readFileSync(path, "utf8") === text) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return true;
}

const root = packageRoot();
const path = join(root, OUTPUT);
try {
  const gen = generateTypes();
  const changed = write(path, gen.text);
  const skipped = gen.skipped.length > 0 ? `, skipped ${gen.skipped.length} unparsable (${gen.skipped.join(", ")})` : "";
  console.log(
    `${relative(process.cwd(), path)}: ${gen.tracepoints} tracepoints, ${gen.fields} fields, ` +
      `${Buffer.byteLength(gen.text)} bytes${changed ? "" : " (unchanged)"}${skipped}`,
  );
} catch (err) {
  if (!(err instanceof TracefsNotMountedError || err instanceof PermissionError)) throw err;
  write(path, FALLBACK);
  console.warn(`warning: ${err.message}\nwrote untyped fallback ${relative(process.cwd(), path)}`);
}
