#!/usr/bin/env node
/* The kernel process: `node dist/kernel/main.js <connection-file>`, as the kernelspec says. */
import { readConnection } from "./wire/connection.js";
import { Kernel } from "./kernel.js";
import { sessionFromEnv } from "./replay.js";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: bpfbook-kernel <connection-file>\n");
  process.exit(2);
}
// BPFBOOK_RECORD / BPFBOOK_REPLAY (bpfbook run --record / --replay): before any cell imports bpfbook
await sessionFromEnv(process.cwd());
const kernel = new Kernel({ connection: readConnection(file), cwd: process.cwd() });
await kernel.ready();
process.on("SIGTERM", () => void kernel.shutdown());
