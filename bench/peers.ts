/* The C libbpf consumer (bench/c/consumer.c) reading *bpfbook's own program*: the
 * library loads the probe exactly as a trace would (streamSetup: the same object,
 * the same .rodata), the consumer inherits its ring and stats maps as fds 3 and 4,
 * and the program is attached only once the consumer is ready. So a peer row
 * differs from bpfbook's in the consumer alone. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { packageRoot } from "../bpf-lib/src/paths.js";
import type { StreamSetup } from "../bpf-lib/src/engine/trace.js";

const CONSUMER = join(packageRoot(), "bench", "build", "consumer");

/** What the consumer prints when done (its JSON line). */
export interface CResult {
  mode: string;
  received: number;
  lost: number;
  produced: number;
  seconds: number;
  events_per_sec: number;
  kernel_seconds: number;
  distinct_strings: number;
  string_arena_bytes: number;
}

/** The consumer's modes (see consumer.c): hold is bpfbook's wait policy. */
export type CMode = "poll" | "busy" | "hold" | "limit";

/**
 * Loads `probe` through the library, runs the C consumer on its maps in `mode` until
 * `events` arrived, attaching just before `go()` releases the workload.
 * `extra`: more consumer options (e.g. --str-off / --str-len).
 */
export async function cOnBpfbookProgram(probe: { streamSetup(): StreamSetup }, mode: CMode, events: number, go: () => Promise<void>, extra: string[] = []): Promise<CResult> {
  const setup = probe.streamSetup();
  const links: { dispose(): void }[] = [];
  try {
    const ring = setup.object.map("events").fd, stats = setup.object.map("stats").fd;
    // the hold threshold bpfbook's reader uses for this ring (Trace #pump); 0: none
    const threshold = setup.wakeupBytes === 0 ? 0 : setup.wakeupBytes ?? Math.min(setup.bufferBytes / 4, 1 << 20);
    const args = ["e2e", "--ring-fd", "3", "--stats-fd", "4", "--events", String(events), "--mode", mode, "--wakeup-bytes", String(threshold), ...extra];
    const cp = spawn(CONSUMER, args, { stdio: ["ignore", "pipe", "inherit", ring, stats] });
    const exited = new Promise((r) => cp.once("exit", r));
    const it = createInterface({ input: cp.stdout! })[Symbol.asyncIterator]();
    const ready = await it.next();
    if (!String(ready.value).includes("ready")) throw new Error(`C consumer did not get ready: ${ready.value}`);
    links.push(...setup.attach());
    await go();
    const line = await it.next();
    await exited;
    if (line.done) throw new Error(`C consumer (${mode}) ended without a result (exit ${cp.exitCode})`);
    return JSON.parse(String(line.value)) as CResult;
  } finally {
    for (const l of links) l.dispose();
    setup.object.dispose();
  }
}
