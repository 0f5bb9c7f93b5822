/* CPU profiling: sample what runs on every CPU at `hz` (a cpu-clock perf event per
 * CPU running profile.bpf.c), count samples per (pid, comm, kernel stack, user
 * stack) in the kernel, and turn them into folded stacks (Brendan Gregg's
 * format: root→leaf frames joined by ";", kernel frames suffixed "_[k]") in an
 * Arquero table that plot.flamegraph() draws. User addresses are named from the
 * process's mappings, read while it runs (they are gone once it exits).
 * offcpu() is the same machinery on sched_switch: time off the CPU per stack. */
import { collectOptions } from "../../options/durations.js";
import type { OffcpuOptions, ProfileOptions, ProfileTable } from "./types.js";
import { checkOptions } from "./options.js";
import { ProfileRun } from "./run.js";

/** Starts sampling; stop it with stop()/table(), or let `seconds`/`signal` end it. */
export function startProfile(opts: ProfileOptions = {}): ProfileRun {
  return new ProfileRun(opts);
}

/** Starts recording off-CPU time per stack; stop it with stop()/table(), or let `seconds`/`signal` end it. */
export function startOffcpu(opts: OffcpuOptions = {}): ProfileRun {
  return new ProfileRun(opts, "offcpu");
}

/**
 * Off-CPU time per stack for `seconds` (or until `signal`): at each context switch
 * the stacks of the thread leaving the CPU are recorded, and when it comes back the
 * time it was away is added to them. Columns pid, comm, stack, ns (time off the
 * CPU), count (off-CPU periods), most time first; draw with
 * plot.flamegraph(t, { value: "ns" }).
 */
export async function offcpu(options: OffcpuOptions = {}): Promise<ProfileTable> {
  checkOptions(options, "offcpu()");
  const opts = collectOptions(options, "offcpu()", "{ seconds: 5 } or { signal }", "startOffcpu()");
  return startOffcpu(opts).finished();
}

/**
 * Profiles for `seconds` (or until `signal`) and returns folded stacks: columns pid,
 * comm, stack (root→leaf, ";"-joined, kernel frames suffixed "_[k]"), count.
 */
export async function profile(options: ProfileOptions = {}): Promise<ProfileTable> {
  checkOptions(options, "profile()");
  const opts = collectOptions(options, "profile()", "{ seconds: 5 } or { signal }", "startProfile()");
  return startProfile(opts).finished();
}
