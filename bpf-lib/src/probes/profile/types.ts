/* The profilers' options and result types (profile(), offcpu()). */
import type { ColumnTable } from "arquero";
import type { StoppedBy } from "../../engine/running.js";
import type { StopOptions } from "../../engine/trace.js";

export interface ProfileOptions extends StopOptions {
  /** Samples per second on each CPU (default 99: not a divisor of common timer rates, so it does not beat with them). */
  hz?: number;
  /** Only this process (tgid): other samples are dropped in the kernel. Default: every process. */
  pid?: number;
  /** Record kernel stacks (default true). */
  kernel?: boolean;
  /** Record user stacks (default true). */
  user?: boolean;
  /** Keep samples of the idle task (pid 0, "swapper/N"); default false: counted in stats.idle only. */
  idle?: boolean;
  /** Distinct stacks the kernel's stack map holds (default 16384; stacks that collide in it are copied to a second map of the same size); more are counted as lost. */
  maxStacks?: number;
  /** Distinct (pid, comm, stacks) keys counted (default 40960); more are counted as dropped. */
  maxKeys?: number;
  /** CPUs to sample (default: every online CPU). */
  cpus?: readonly number[];
  /** Demangle C++ names (`_ZN2v88internal4Heap8ScavengeEv` → `v8::internal::Heap::Scavenge`) with c++filt when it is installed. Default true. */
  demangle?: boolean;
}

export interface OffcpuOptions extends Omit<ProfileOptions, "hz" | "idle" | "cpus"> {
  /** Also count time a runnable task spent preempted (waiting for a CPU), not only time blocked (sleeping, waiting for I/O or a lock). Default false. */
  preempted?: boolean;
  /** Ignore off-CPU periods shorter than this many ns (default 1000). */
  minNs?: number;
  /** Threads off the CPU at once that can be tracked (default 65536); more are counted in stats.dropped. */
  maxThreads?: number;
}

export interface ProfileStats {
  source: string;
  /** "cpu": sampled on-CPU stacks (profile); "offcpu": time off the CPU per stack (offcpu). */
  kind: "cpu" | "offcpu";
  /** Samples in the table (the sum of `count`); for offcpu, the off-CPU periods counted. */
  samples: number;
  /** offcpu: the total time off the CPU in the table, ns (the sum of `ns`). */
  ns?: number;
  /** Samples in the table whose kernel or user stack could not be recorded (the stack maps were full): their frames show as "[lost stack]". */
  lost: number;
  /** Samples not counted at all because the counts map was full (raise maxKeys). */
  dropped: number;
  /** Samples of the idle task left out (see the idle option). */
  idle: number;
  /** Samples of other processes (with a pid filter). */
  filtered: number;
  /**
   * offcpu: periods whose end the kernel never reported (the thread was put back on
   * a CPU with no sched_switch event, which some machines do), rebuilt from the
   * thread's CPU time and counted in the table (see docs/probes.md, Off-CPU time).
   */
  recovered?: number;
  /** offcpu: such periods that could not be rebuilt (no kernel reads under lockdown=confidentiality): not in the table. */
  unseen?: number;
  seconds: number;
  /** Samples per second per CPU (0 for offcpu). */
  hz: number;
  /** CPUs sampled. */
  cpus: number;
  /** Distinct stacks recorded. */
  stacks: number;
  /** Of those, stacks that collided in the kernel's stack map and were copied aside instead (see docs/probes.md). */
  spilled: number;
  /** "ok"; "hidden" when /proc/kallsyms shows zeros (kptr_restrict: kernel frames stay addresses); "off" without kernel stacks. */
  kernelSymbols: "ok" | "hidden" | "off";
  /** Processes whose mappings could not be read (they exited before they were looked at): their user frames stay addresses. */
  exited: number[];
  startNs: number;
  epochOffsetNs: number;
  stoppedBy: StoppedBy;
}

/** Folded stacks: pid, comm, stack, (ns,) count, most samples (time) first; `.stats` says what was sampled and what was lost. */
export type ProfileTable = ColumnTable & { readonly stats: ProfileStats };
