#!/usr/bin/env node
/* node dist/test/vm/run.js [options] '<command>'
 * Runs a shell command in the Debian-kernel VM (see docs/vm.md), streams its
 * output, and exits with its status. Timing goes to stderr. */
import { killAllVms, runInVm, vmUnavailableReason } from "./vm.js";

const usage = `usage: node dist/test/vm/run.js [options] '<command>'
  --timeout SECONDS   kill the VM after this long, boot included (default 300)
  --mem MB            guest memory (default 2048)
  --cpus N            guest CPUs (default 2)
  --env NAME=VALUE    extra environment for the command (repeatable)
  --cwd DIR           directory the command starts in (default: this checkout)
  --out DIR           host directory shared read-write at /tmp/out in the VM
  --console           also show the whole serial console (kernel messages) on stderr
  --quiet             no timing line on stderr
The host's root is visible read-only in the VM: write to /tmp.`;

function main(): void {
  const argv = process.argv.slice(2);
  let timeoutMs = 300_000;
  let memMb: number | undefined;
  let cpus: number | undefined;
  let cwd: string | undefined;
  let outDir: string | undefined;
  let showConsole = false;
  let quiet = false;
  const env: Record<string, string> = {};
  const words: string[] = [];
  const value = (i: number, name: string): string => {
    const v = argv[i];
    if (v === undefined) fail(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (words.length === 0 && a.startsWith("--")) {
      if (a === "--timeout") timeoutMs = Number(value(++i, a)) * 1000;
      else if (a === "--mem") memMb = Number(value(++i, a));
      else if (a === "--cpus") cpus = Number(value(++i, a));
      else if (a === "--cwd") cwd = value(++i, a);
      else if (a === "--out") outDir = value(++i, a);
      else if (a === "--env") {
        const kv = value(++i, a);
        const eq = kv.indexOf("=");
        if (eq <= 0) fail(`--env wants NAME=VALUE, not ${kv}`);
        env[kv.slice(0, eq)] = kv.slice(eq + 1);
      } else if (a === "--console") showConsole = true;
      else if (a === "--quiet") quiet = true;
      else if (a === "--help" || a === "-h") {
        console.log(usage);
        process.exit(0);
      } else if (a === "--") {
        words.push(...argv.slice(i + 1));
        break;
      } else fail(`unknown option ${a}`);
    } else words.push(a);
  }
  if (words.length === 0) fail("no command given");
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) fail("bad --timeout");
  const why = vmUnavailableReason();
  if (why) fail(`cannot run the VM: ${why}`);

  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.on(sig, () => {
      killAllVms();
      process.exit(130);
    });

  runInVm(words.join(" "), {
    timeoutMs,
    memMb,
    cpus,
    cwd,
    outDir,
    env,
    onOutput: (l) => process.stdout.write(l.endsWith("\n") ? l : l + "\n"),
    onConsole: showConsole ? (l) => process.stderr.write(`[console] ${l}\n`) : undefined,
  }).then(
    (r) => {
      if (!quiet) process.stderr.write(`vm: status ${r.status}, boot ${(r.bootMs / 1000).toFixed(1)} s, total ${(r.totalMs / 1000).toFixed(1)} s\n`);
      process.exitCode = r.status;
    },
    (e: Error) => {
      process.stderr.write(`vm: ${e.message}\n`);
      process.exitCode = 125;
    },
  );
}

function fail(msg: string): never {
  process.stderr.write(`${msg}\n${usage}\n`);
  process.exit(2);
}

main();
