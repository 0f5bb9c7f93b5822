/* perf_event_open for sampling: a software cpu-clock event per CPU, in frequency
 * mode, opened disabled (libbpf enables it once the BPF program is attached). */
import { readFileSync } from "node:fs";
import { perfEventOpen, closeFd } from "../../ffi/libc.js";
import { NotSupportedError, PermissionError, BpfbookError, errnoName } from "../../errors.js";
import type { BpfProgram } from "../../libbpf/program.js";
import type { Link } from "../../libbpf/link.js";

export const PERF_TYPE_SOFTWARE = 1;
export const PERF_COUNT_SW_CPU_CLOCK = 0;
const PERF_ATTR_SIZE = 128; // PERF_ATTR_SIZE_VER7
const PERF_FLAG_FD_CLOEXEC = 8;
const FLAG_DISABLED = 1n << 0n;
const FLAG_FREQ = 1n << 10n;

/** A perf_event_attr image: type/config, sample_freq (freq mode), opened disabled. */
export function samplingAttr(type: number, config: number, hz: number): Uint8Array {
  const a = new Uint8Array(PERF_ATTR_SIZE);
  const dv = new DataView(a.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, PERF_ATTR_SIZE, true);
  dv.setBigUint64(8, BigInt(config), true);
  dv.setBigUint64(16, BigInt(hz), true); // sample_freq (with the freq flag)
  dv.setBigUint64(40, FLAG_DISABLED | FLAG_FREQ, true);
  return a;
}

/** CPUs that are online now (/sys/devices/system/cpu/online: "0-3,5"). */
export function onlineCpus(): number[] {
  let text = "";
  try {
    text = readFileSync("/sys/devices/system/cpu/online", "utf8").trim();
  } catch {
    return [0];
  }
  const out: number[] = [];
  for (const part of text.split(",")) {
    const [a, b] = part.split("-").map(Number);
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

function paranoid(): string {
  try {
    return readFileSync("/proc/sys/kernel/perf_event_paranoid", "utf8").trim();
  } catch {
    return "?";
  }
}

/**
 * Opens a cpu-clock sampling event on each CPU (all tasks). Returns the fds with
 * their CPUs; on failure closes what it opened and throws a typed error. Offline
 * CPUs (ENODEV) are skipped.
 */
export function openSamplingEvents(hz: number, cpus: readonly number[] = onlineCpus()): { cpu: number; fd: number }[] {
  const attr = samplingAttr(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, hz);
  const out: { cpu: number; fd: number }[] = [];
  try {
    for (const cpu of cpus) {
      const fd = perfEventOpen(attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
      if (fd >= 0) {
        out.push({ cpu, fd });
        continue;
      }
      const e = -fd;
      if (e === 19 /* ENODEV */) continue;
      if (e === 1 || e === 13) throw new PermissionError(`perf_event_open (cpu-clock sampling on CPU ${cpu}) was refused (${errnoName(e)}): system-wide sampling needs CAP_PERFMON (or root) with kernel.perf_event_paranoid = ${paranoid()}`, { errno: e });
      if (e === 2 || e === 95 || e === 22) throw new NotSupportedError("cpu-clock sampling", `perf_event_open failed with ${errnoName(e)} on CPU ${cpu}`, { errno: e });
      if (e === 24 /* EMFILE */) throw new BpfbookError("EMFILE", `perf_event_open on CPU ${cpu}: too many open files (one event per CPU is needed); raise the fd limit (ulimit -n)`, { errno: e });
      throw new BpfbookError("EPERF", `perf_event_open on CPU ${cpu} failed: ${errnoName(e)}`, { errno: e });
    }
  } catch (err) {
    for (const o of out) closeFd(o.fd);
    throw err;
  }
  if (out.length === 0) throw new NotSupportedError("cpu-clock sampling", "no online CPU accepted a sampling event");
  return out;
}

/**
 * Opens a sampling event on each CPU and attaches `prog` to every one; each link owns
 * its event's fd from then on (libbpf closes it on detach). On failure, what was
 * attached is detached and what was opened is closed before the error propagates.
 */
export function attachSampling(prog: BpfProgram, hz: number, cpus: readonly number[]): Link[] {
  const fds = openSamplingEvents(hz, cpus);
  const links: Link[] = [];
  try {
    while (fds.length) {
      const { cpu, fd } = fds[0];
      links.push(prog.attachPerfEvent(fd, `cpu-clock ${hz} Hz on CPU ${cpu}`));
      fds.shift();
    }
  } catch (e) {
    for (const l of links) l.dispose();
    for (const { fd } of fds) closeFd(fd);
    throw e;
  }
  return links;
}
