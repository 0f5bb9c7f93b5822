/* `npm run docs:tools`: rewrites the reference part of docs/tools.md from the catalog. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../paths.js";
import { withReference } from "./reference.js";

const file = join(packageRoot(), "docs", "tools.md");
writeFileSync(file, withReference(readFileSync(file, "utf8")));
console.log(`wrote the tools reference into ${file}`);
