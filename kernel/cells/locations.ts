/* Where this package lives, so "bpfbook" means this library whatever the notebook's directory is. */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The compiled tree: this file is dist/kernel/cells/locations.js. */
const distDir = resolve(here, "..", "..");

/** The package root (package.json, node_modules). */
export const projectRoot = resolve(distDir, "..");

/** The library's compiled entry point, what `import ... from "bpfbook"` loads at run time. */
export const bpfbookEntry = join(distDir, "bpf-lib", "src", "index.js");

/** The package whose node_modules back notebooks that have none of their own. */
export const projectNodeModules = join(projectRoot, "node_modules");

/** The package name cells import this library by. */
export const bpfbookName = "bpfbook";
